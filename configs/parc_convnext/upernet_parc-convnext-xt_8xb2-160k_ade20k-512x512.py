# ParC-ConvNeXt-XT UPerNet on ADE20K, the authors' recipe (official: 42.32
# mIoU; ConvNeXt-XT 42.17): 160k iterations at 512x512 on 8 GPUs x 2 images,
# AdamW lr 1e-4, weight decay 0.05, stage-wise lr decay 0.9, 1500-iteration
# linear warmup then poly, drop path 0.4, slide test 512 / stride 341.
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
          '../_base_/models/parc-convnext-xt.py']
model = dict(
    pretrained=None,
    backbone=_base_.pop('backbone'),
    decode_head=dict(in_channels=[48, 96, 192, 384]),
    auxiliary_head=dict(in_channels=192),
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise',
                       num_layers=6),
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                   weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=160000,
         by_epoch=False),
]
train_dataloader = dict(batch_size=2)
