# Mask R-CNN 1x on COCO with a PyConvResNet-50 backbone (24.85M parameters
# with the ImageNet head, as the paper): stem and stage 1 frozen, BN
# statistics frozen, as mmdet's R-50; otherwise
# configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py. Expects an ImageNet
# PyConvResNet-50 in mmplug's layout (torchvision's names, the pyramid's
# branches at conv2.levels.{k}) as checkpoints/pyconvresnet50.pth.
_base_ = [
    '../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    '../_base_/models/pyconv-r50.py',
]
model = dict(
    backbone=dict(_base_.pop('backbone'), frozen_stages=1, norm_eval=True))
