# ParC-ConvNeXt-T UPerNet on ADE20K: the XT recipe with the T backbone,
# initialised from mmpretrain's ImageNet ConvNeXt-T (ParC blocks from init).
_base_ = [
    './upernet_parc-convnext-xt_8xb2-160k_ade20k-512x512.py',
    '../_base_/models/parc-convnext-t.py',
]
model = dict(
    backbone=_base_.pop('backbone'),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384))
