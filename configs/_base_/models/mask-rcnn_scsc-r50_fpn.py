# Mask R-CNN FPN with an SCSC-ResNet-50 backbone (288-1536 channels).
_base_ = ['./mask-rcnn_r50_fpn.py', './scsc-r50.py']

model = dict(
    backbone=_base_.pop('backbone'),
    neck=dict(in_channels=[288, 576, 1152, 1536]))
