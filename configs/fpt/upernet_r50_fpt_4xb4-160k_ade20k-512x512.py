# UPerNet R-50 on ADE20K with an FPT neck between the backbone and the
# UPerHead (mmseg's EncoderDecoder neck): four 256-channel levels, so the
# decode head reads [256] * 4 and the auxiliary head FPT's third level. The
# rest is configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py (the
# baseline; SGD 0.01, poly, 16 images per iteration).
_base_ = [
    '../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
    '../_base_/models/fpt.py',
]
model = dict(
    neck=_base_.pop('neck'),
    decode_head=dict(in_channels=[256, 256, 256, 256]),
    auxiliary_head=dict(in_channels=256))
