# ParC-ConvNeXt-T Mask R-CNN FPN ms-crop-3x: the XT config with the T backbone,
# initialised from mmpretrain's ImageNet ConvNeXt-T (ParC blocks from init).
_base_ = [
    './mask-rcnn_parc-convnext-xt_fpn_ms-crop-3x_coco.py',
    '../_base_/models/parc-convnext-t.py',
]
model = dict(
    backbone=_base_.pop('backbone'),
    neck=dict(in_channels=[96, 192, 384, 768]))
