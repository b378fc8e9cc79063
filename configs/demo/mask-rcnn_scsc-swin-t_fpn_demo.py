# Demo: Mask R-CNN with an SCSC-Swin-T backbone (Swin-T's stages with SCSC
# instead of window attention, BatchNorms) on the synthetic demo data,
# trained from scratch with AdamW at 2e-4 (Swin's detection recipe uses
# 1e-4) on the R-18 demo's schedule. It learns slowly here: in the learning
# matrix's 180 s (40 iterations) its loss falls from 4.3 to 3.35 and stays
# there (0.004 bbox mAP, where R-18 reaches 0.24); with the R-18 demo's SGD
# 0.02, or AdamW at 1e-3 as the SMT-T demo, the loss climbs back above its
# start after the warm-up while the gradient norm grows from 20 to over 100.
# In the demo UPerNet the same backbone reaches 74 % of R-18's mIoU.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SCSCSwin',
        arch='tiny',
        drop_path_rate=0.1,
        out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[96, 192, 384, 768]))
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True, type='AdamW', lr=2e-4, betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
