# UPerNet on ADE20K with a PyConvResNet-50 backbone (SyncBN, all stages
# trained); otherwise configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py.
# Expects checkpoints/pyconvresnet50.pth (see the Mask R-CNN config).
_base_ = [
    '../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
    '../_base_/models/pyconv-r50.py',
]
model = dict(
    pretrained=None,
    backbone=dict(_base_.pop('backbone'),
                  norm_cfg=dict(type='SyncBN', requires_grad=True)))
