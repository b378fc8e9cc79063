# ParC-ConvNeXt-XT Cascade Mask R-CNN FPN 3x, the authors' COCO recipe
# (official: 47.7 box AP / 41.5 mask AP; ConvNeXt-XT 47.2 / 41.0): 4conv1fc
# bbox heads with GIoU loss, multi-scale 480-800 + crop, AdamW lr 2e-4,
# weight decay 0.05, layer-wise lr decay 0.7 over 6 layers, drop path 0.4,
# 36 epochs with steps at 27 and 33, fp32. mmdet's ConvNeXt Cascade config
# provides the heads, pipeline and schedule.
_base_ = [
    'mmdet::convnext/cascade-mask-rcnn_convnext-t-p4-w7_fpn_4conv1fc-giou_amp-ms-crop-3x_coco.py',  # noqa
    '../_base_/models/parc-convnext-xt.py',
    '../_base_/schedules/layer-decay_adamw.py',
]
# mmdet's config imports mmpretrain.models: ours instead (../_base_/mmplug.py
# cannot be a second base, both set custom_imports)
custom_imports = dict(imports=['mmplug.models'], allow_failed_imports=False)
model = dict(
    backbone=_base_.pop('backbone'),
    neck=dict(in_channels=[48, 96, 192, 384]))
optim_wrapper = _base_.pop('layer_decay_optim_wrapper')
