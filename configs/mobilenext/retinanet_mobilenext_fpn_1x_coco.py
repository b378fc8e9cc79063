# RetinaNet 1x on COCO with a MobileNeXt-1.0 backbone (C3-C5 from stages 2,
# 4 and 7: 192/384/1280 channels at strides 8/16/32) and mmdet's RetinaNet
# FPN with P6/P7 from C5; SyncBN trained, nothing frozen. The authors
# published no weights in mmplug's layout: train MobileNeXt on ImageNet
# (e.g. mmpretrain with type='mmplug.MobileNeXt', num_classes=1000) and put
# the checkpoint at checkpoints/mobilenext_1.0.pth, or train from scratch
# with --cfg-options model.backbone.init_cfg=None.
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    '../_base_/mmplug.py',
    '../_base_/models/mobilenext.py',
]
model = dict(
    backbone=dict(_base_.pop('backbone'), out_indices=(2, 4, 7)),
    neck=dict(in_channels=[192, 384, 1280], start_level=0))
