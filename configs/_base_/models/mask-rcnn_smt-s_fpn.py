# Mask R-CNN FPN with an SMT-S backbone (strides 4-32, 64-512 channels).
_base_ = ['./mask-rcnn_r50_fpn.py', './smt-s.py']

model = dict(
    backbone=_base_.pop('backbone'),
    neck=dict(in_channels=[64, 128, 256, 512]))
