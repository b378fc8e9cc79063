# Mask R-CNN 1x on COCO with a Group Ensemble ResNet-50 (our design; no
# official code exists): stem and stages 1-2 shared and loaded from
# torchvision's ResNet-50, stages 3-4 as 4 independent tails (group convs,
# twice as wide: about ResNet-50's FLOPs) from their init, their maps
# concatenated for the FPN (256/512/2048/4096 channels); stem and stage 1
# frozen, BN statistics frozen, as mmdet's R-50. Otherwise
# configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py.
_base_ = [
    '../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/models/ge-r50.py',
]
model = dict(
    backbone=dict(_base_.pop('backbone'), frozen_stages=1, norm_eval=True),
    neck=dict(in_channels=[256, 512, 2048, 4096]))
