# SCSC-ResNet-50 (the official cbtnet50) Mask R-CNN FPN 1x, with mmdet's
# ResNet-50 recipe (SGD 0.02, 12 epochs, 1333x800). No official detection
# recipe or COCO result exists.
_base_ = [
    '../_base_/models/mask-rcnn_scsc-r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime_det.py',
]
