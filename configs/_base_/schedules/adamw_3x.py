# 36 epochs of AdamW (lr 2e-4, weight decay 0.05, none on norm layers) for 16
# images, 500-iteration linear warmup, steps at 27 and 33: the 3x recipe.
_base_ = './adamw_1x.py'

max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[27, 33], gamma=0.1),
]
