# The DETR-style multi-scale + crop augmentation of the 3x Swin/SMT recipes,
# shared by coco_instance_ms-crop.py and coco_detection_ms-crop.py: shorter
# side 480-800 (step 32, longer <= 1333), or 400/500/600 then an absolute
# crop of 384-600 then 480-800. Taken with `_base_.pop('ms_crop_aug')` (as
# ../models/README.md); mmengine drops double-underscore names, so that no
# variable of this file stays in the config.
__ms_scales = [(480, 1333), (512, 1333), (544, 1333), (576, 1333),
               (608, 1333), (640, 1333), (672, 1333), (704, 1333),
               (736, 1333), (768, 1333), (800, 1333)]
ms_crop_aug = dict(
    type='RandomChoice',
    transforms=[
        [dict(type='RandomChoiceResize', scales=__ms_scales, keep_ratio=True)],
        [
            dict(type='RandomChoiceResize',
                 scales=[(400, 1333), (500, 1333), (600, 1333)],
                 keep_ratio=True),
            dict(type='RandomCrop', crop_type='absolute_range',
                 crop_size=(384, 600), allow_negative_crop=True),
            dict(type='RandomChoiceResize', scales=__ms_scales,
                 keep_ratio=True),
        ],
    ])
