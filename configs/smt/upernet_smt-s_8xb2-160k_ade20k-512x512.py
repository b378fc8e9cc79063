# SMT-S UPerNet on ADE20K, 160k iterations at 512x512, 8 GPUs x 2 images
# (paper: 49.2 / 50.2 mIoU single / multi-scale, 50M, 935G at 512x2048):
# AdamW lr 6e-5, weight decay 0.01, 1500-iteration linear warmup, then
# linear (poly 1.0) decay; drop path 0.2. Needs checkpoints/smt_small.pth.
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
          '../_base_/models/smt-s.py']
model = dict(
    pretrained=None,
    backbone=_base_.pop('backbone'),
    decode_head=dict(in_channels=[64, 128, 256, 512]),
    auxiliary_head=dict(in_channels=256))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999),
                   weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
         end=1500),
    dict(type='PolyLR', eta_min=0.0, power=1.0, begin=1500, end=160000,
         by_epoch=False),
]
train_dataloader = dict(batch_size=2)
