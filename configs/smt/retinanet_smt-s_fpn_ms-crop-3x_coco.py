# SMT-S RetinaNet FPN 3x with multi-scale + crop training (paper: 47.3 box
# AP, 30M, 247G): FPN from stage 2 (start_level=1) with extra convs on the
# input, AdamW lr 1e-4, weight decay 0.05. Needs checkpoints/smt_small.pth.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/coco_detection_ms-crop.py',
    '../_base_/schedules/adamw_3x.py',
    '../_base_/default_runtime_det.py',
    '../_base_/models/smt-s.py',
]
model = dict(
    backbone=_base_.pop('backbone'),
    neck=dict(in_channels=[64, 128, 256, 512], start_level=1,
              add_extra_convs='on_input'))
optim_wrapper = dict(optimizer=dict(lr=1e-4), paramwise_cfg=None)
