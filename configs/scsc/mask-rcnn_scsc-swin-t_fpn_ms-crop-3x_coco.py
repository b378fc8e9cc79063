# SCSC-Swin-T Mask R-CNN FPN 3x with mmdet's Swin-T 3x recipe (multi-scale +
# crop, AdamW 1e-4, weight decay 0.05, 36 epochs, steps 27/33).
_base_ = [
    'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py',
    '../_base_/mmplug.py',
    '../_base_/models/scsc-swin-t.py',
]

model = dict(backbone=_base_.pop('backbone'))
