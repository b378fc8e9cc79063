# SCSC-Swin-T Mask R-CNN FPN 1x with mmdet's Swin-T recipe (AdamW 1e-4,
# weight decay 0.05, 12 epochs); drop path 0.2 as Swin-T.
_base_ = [
    'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
    '../_base_/mmplug.py',
    '../_base_/models/scsc-swin-t.py',
]

model = dict(backbone=_base_.pop('backbone'))
