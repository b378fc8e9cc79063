# SCSC-ResNet-50 Mask R-CNN FPN 1x with AdamW (lr 2e-4, weight decay 0.05,
# none on norms) instead of SGD.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/coco_instance.py',
    '../_base_/schedules/adamw_1x.py',
    '../_base_/default_runtime_det.py',
    '../_base_/models/scsc.py',
]

model = dict(
    backbone={{_base_.scsc_r50_backbone}},
    neck=dict(in_channels=[288, 576, 1152, 1536]))
