# Demo: the ADE20K UPerNet R-18 config on the synthetic demo data
# (tools/misc/make_demo_data.py), trained from scratch on CPU in minutes.
# Only data root, class subset, image/crop/head sizes and schedule differ
# from the real config.
_base_ = ['../upernet/upernet_r18_4xb4-160k_ade20k-512x512.py']

data_root = 'data/demo/ade/ADEChallengeData2016'
# ADE20K class names: mmseg maps the original label ids onto this subset
classes = ('wall', 'floor', 'sky', 'box', 'ball')
metainfo = dict(classes=classes)
crop_size = (256, 256)
img_scale = (1280, 320)
max_iters = 160
channels = 128  # decode-head width (512 in the real config)

model = dict(
    pretrained=None,  # no pretrained weights: trains from scratch
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(channels=channels, num_classes=len(classes)),
    auxiliary_head=dict(channels=channels // 2, num_classes=len(classes)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader

# no validation while training: tools/test.py evaluates the result
train_cfg = dict(max_iters=max_iters, val_begin=max_iters + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=20),
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=20, end=max_iters,
         by_epoch=False),
]
optim_wrapper = dict(optimizer=dict(lr=0.02))
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
randomness = dict(seed=0)  # repeatable demo figures
