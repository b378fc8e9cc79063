# COCO boxes with the DETR-style multi-scale + crop training pipeline
# (ms_crop_aug.py), for box-only detectors such as RetinaNet.
_base_ = ['mmdet::_base_/datasets/coco_detection.py', './ms_crop_aug.py']

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomFlip', prob=0.5),
    _base_.pop('ms_crop_aug'),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
