# Demo: Mask R-CNN with an SCSC-Swin backbone (Swin-T's stages with SCSC
# instead of window attention; SCSC-Swin-T's widths with 1/1/2/1 blocks
# instead of 2/2/6/2, as the ResNet-style demos) on the synthetic demo data,
# trained from scratch with AdamW at 2e-4 (Swin's detection recipe uses
# 1e-4) for 2 epochs after a 20-iteration warm-up, as the SMT-T demo. Two
# changes from the paper's model, for training from scratch on the small
# synthetic data:
# - BatchNorms instead of the LayerNorms of the patch embedding, the patch
#   mergings and the outputs (embed_norm_cfg): with the LayerNorms the demo
#   detector does not learn (0.001 bbox mAP after 60 iterations where R-18
#   reaches 0.16, with BatchNorms 0.14; see the learning page of the docs
#   and benchmarks/demo_learning_study.py);
# - no drop path (0.17 instead of 0.14 after the same 60 iterations).
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

max_epochs = 2

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SCSCSwin',
        arch='tiny',
        depths=(1, 1, 2, 1),  # SCSC-Swin-T's widths, fewer blocks
        drop_path_rate=0.,
        embed_norm_cfg=dict(type='BN'),
        out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[96, 192, 384, 768]))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=2e-4, betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
train_cfg = dict(max_epochs=max_epochs, val_begin=max_epochs + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs], gamma=0.1),
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
