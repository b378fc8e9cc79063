# Demo: the COCO Mask R-CNN R-18 config on the synthetic demo data
# (tools/misc/make_demo_data.py), trained from scratch on CPU in minutes.
# Only data root, image size and schedule differ from the real config.
_base_ = ['../mask_rcnn/mask-rcnn_r18_fpn_1x_coco.py']

data_root = 'data/demo/coco/'
classes = ('circle', 'square', 'triangle', 'star')
metainfo = dict(classes=classes)
img_scale = (256, 256)
max_epochs = 4

channels = 128  # FPN and head width (256 in the real config)

model = dict(
    # no pretrained weights: everything trains from scratch
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(out_channels=channels),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(
            in_channels=channels, fc_out_channels=512,
            num_classes=len(classes)),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(
            in_channels=channels, conv_out_channels=channels,
            num_classes=len(classes))),
    # fewer proposals and sampled RoIs for images with at most 5 objects
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
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
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

# schedule: 160 images / 4 per batch = 40 iterations per epoch
# no validation while training: tools/test.py evaluates the result
train_cfg = dict(max_epochs=max_epochs, val_begin=max_epochs + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[3], gamma=0.1),
]
optim_wrapper = dict(clip_grad=dict(max_norm=10, norm_type=2))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=4)
randomness = dict(seed=0)  # repeatable demo figures
