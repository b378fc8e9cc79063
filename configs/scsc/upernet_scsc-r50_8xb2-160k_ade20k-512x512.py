# SCSC-ResNet-50 UPerNet on ADE20K with the Swin-T recipe (AdamW 6e-5,
# weight decay 0.01, 1500-iteration warmup then poly, 160k iterations):
# the SCSC-Swin config with the ResNet form; BatchNorms synchronised and
# trained, as for UPerNet R-50.
_base_ = [
    './upernet_scsc-swin-t_8xb2-160k_ade20k-512x512.py',
    '../_base_/models/scsc-r50.py',
]
# every stage trains, BatchNorms synchronised (as the SCSC-Swin config)
model = dict(
    backbone=dict(_base_.pop('backbone'), frozen_stages=-1, norm_eval=False,
                  norm_cfg=dict(type='SyncBN', requires_grad=True)),
    decode_head=dict(in_channels=[288, 576, 1152, 1536]),
    auxiliary_head=dict(in_channels=1152))
