# Demo: UPerNet with a ParC-ConvNeXt-XT backbone on the synthetic demo data,
# trained from scratch with the recipe of the ParC-ConvNeXt-XT Mask R-CNN
# demo (BatchNorms, AdamW 1e-3, layer scale 1.0, drop path 0.1) on the R-18
# demo's schedule (160 iterations, 20 of warm-up, poly).
_base_ = ['./upernet_r18_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.ParCConvNeXt',
        arch='xt',
        drop_path_rate=0.1,
        layer_scale_init_value=1.0,
        norm_cfg=dict(type='BN'),
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[48, 96, 192, 384]),
    auxiliary_head=dict(in_channels=192))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=1e-3, betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
