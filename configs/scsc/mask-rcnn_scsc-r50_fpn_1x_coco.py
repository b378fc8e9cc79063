# SCSC-ResNet-50 (the official cbtnet50) Mask R-CNN FPN 1x, with mmdet's
# ResNet-50 recipe (SGD 0.02, 12 epochs, 1333x800). No official detection
# recipe or COCO result exists.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime_det.py',
    '../_base_/models/scsc.py',
]

model = dict(
    backbone={{_base_.scsc_r50_backbone}},
    neck=dict(in_channels=[288, 576, 1152, 1536]))
