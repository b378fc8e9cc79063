# The FPT neck (mmplug.FPT) at C=256 with its default memory bounds (ST keys
# and values pooled 8/4/2/2 on P2-P5, GT within a 7x7 window of the coarser
# level), replacing a base config's neck: `model = dict(neck=_base_.pop(
# 'neck'))` (README.md here; it sets every key of mmdet's FPN neck, so no
# _delete_ is needed). The transformers' norms are SyncBN (BN in a
# single-process run); the laterals and fusion convs have biases and no
# norm, as mmdet's FPN.
neck = dict(
    type='mmplug.FPT',
    in_channels=[256, 512, 1024, 2048],
    out_channels=256,
    num_outs=5,
    trans_norm_cfg=dict(type='SyncBN', requires_grad=True))
