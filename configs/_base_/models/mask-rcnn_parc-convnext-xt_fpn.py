# Mask R-CNN FPN with a ParC-ConvNeXt-XT backbone (48-384 channels).
_base_ = ['./mask-rcnn_r50_fpn.py', './parc-convnext-xt.py']

model = dict(
    backbone=_base_.pop('backbone'),
    neck=dict(in_channels=[48, 96, 192, 384]))
