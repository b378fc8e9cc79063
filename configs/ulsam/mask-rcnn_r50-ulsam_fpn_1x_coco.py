# Mask R-CNN R-50 1x with ULSAM (8 subspaces) after the 3x3 conv of every
# bottleneck of stages 2-4, as an mmdet ResNet plugin; otherwise
# configs/mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py. The ImageNet ResNet-50
# loads; the ULSAM layers start from their init (reported as missing keys).
_base_ = ['../mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
          '../_base_/models/r50-ulsam.py']
model = dict(backbone=_base_.pop('backbone'))
