# 12 epochs of AdamW (lr 2e-4, weight decay 0.05, none on norm layers) for 16
# images (8 GPUs x 2), 500-iteration linear warmup, steps at 8 and 11: the
# SMT detection recipe.
_base_ = './schedule_1x.py'

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        _delete_=True, type='AdamW', lr=2e-4, betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
