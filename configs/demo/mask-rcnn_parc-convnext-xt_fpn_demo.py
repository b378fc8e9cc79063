# Demo: Mask R-CNN with a ParC-ConvNeXt-XT backbone on the synthetic demo
# data, trained from scratch on CPU (the R-18 demo with the backbone of
# configs/parc_convnext/mask-rcnn_parc-convnext-xt_fpn_1x_coco.py, AdamW at
# a higher lr for 6 epochs). Two changes from the paper's recipe, both for
# training from scratch on the small synthetic data:
# - BatchNorms instead of ConvNeXt's LayerNorms (norm_cfg): the LayerNorms
#   normalise every position on its own and amplify the flat background up
#   to 1000x, so the demo detector does not learn with them (0.002 bbox mAP
#   after 80 iterations where R-18 reaches 0.18, with BatchNorms 0.17; see
#   the learning page of the docs and benchmarks/demo_learning_study.py);
# - no layer-wise lr decay (stem lr x 0.7^7 only slows training without
#   pretrained weights), layer scale starting at 1.0.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

max_epochs = 6

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.ParCConvNeXt',
        arch='xt',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        layer_scale_init_value=1.0,
        norm_cfg=dict(type='BN')),
    neck=dict(in_channels=[48, 96, 192, 384]))
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
