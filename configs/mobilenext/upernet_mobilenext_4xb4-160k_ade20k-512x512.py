# UPerNet on ADE20K with a MobileNeXt-1.0 backbone (stages 1, 2, 4, 7:
# 144/192/384/1280 channels at strides 4/8/16/32), SyncBN; otherwise
# configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py. Expects your own
# ImageNet MobileNeXt at checkpoints/mobilenext_1.0.pth (see the RetinaNet
# config).
_base_ = [
    '../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
    '../_base_/models/mobilenext.py',
]
model = dict(
    pretrained=None,
    backbone=dict(_base_.pop('backbone'), out_indices=(1, 2, 4, 7)),
    decode_head=dict(in_channels=[144, 192, 384, 1280]),
    auxiliary_head=dict(in_channels=384))
