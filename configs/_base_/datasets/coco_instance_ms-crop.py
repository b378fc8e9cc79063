# COCO instances with the DETR-style multi-scale + crop training pipeline of
# the 3x recipes (ms_crop_aug.py). Test: 1333x800.
_base_ = ['./coco_instance.py', './ms_crop_aug.py']

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    _base_.pop('ms_crop_aug'),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
