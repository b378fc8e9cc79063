# SCSC-ResNet-50 Mask R-CNN FPN 1x with AdamW (lr 2e-4, weight decay 0.05,
# none on norms) instead of SGD.
_base_ = [
    '../_base_/models/mask-rcnn_scsc-r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/adamw_1x.py',
    '../_base_/default_runtime_det.py',
]
