# Demo: Mask R-CNN with an SMT-T backbone on the synthetic demo data, trained
# from scratch on CPU (the R-18 demo with the backbone of
# configs/smt_maskrcnn_1x.py at its smallest size, and its AdamW optimizer,
# for 2 epochs).
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

max_epochs = 2

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SMT',
        arch='tiny',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1),
    neck=dict(in_channels=[64, 128, 256, 512]))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=1e-3, betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
train_cfg = dict(max_epochs=max_epochs, val_begin=max_epochs + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs], gamma=0.1),
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
