# UPerNet on ADE20K with a Group Ensemble ResNet-50 (see
# configs/group_ensemble/mask-rcnn_ge-r50_fpn_1x_coco.py; SyncBN, all
# stages trained); otherwise
# configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py.
_base_ = [
    '../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
    '../_base_/models/ge-r50.py',
]
model = dict(
    pretrained=None,
    backbone=dict(_base_.pop('backbone'),
                  norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(in_channels=[256, 512, 2048, 4096]),
    auxiliary_head=dict(in_channels=2048))
