# SMT-S Cascade Mask R-CNN FPN 3x (paper: 51.9 box AP / 44.7 mask AP, 78M,
# 744G): 4conv1fc bbox heads with GIoU loss, multi-scale + crop training,
# AdamW lr 1e-4, weight decay 0.05. mmdet's ConvNeXt Cascade config provides
# the heads and the pipeline; the backbone and optimizer are SMT's.
# Needs checkpoints/smt_small.pth.
_base_ = [
    'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',  # noqa
    '../_base_/models/smt-s.py',
]
# mmdet's config imports mmpretrain.models: ours instead (../_base_/mmplug.py
# cannot be a second base, both set custom_imports)
custom_imports = dict(imports=['mmplug.models'], allow_failed_imports=False)
model = dict(
    backbone=_base_.pop('backbone'),
    neck=dict(in_channels=[64, 128, 256, 512]))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                   weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True,
         milestones=[27, 33], gamma=0.1),
]
