# Baseline: cascade-mask-rcnn_parc-convnext-xt_fpn_giou-4conv1fc_ms-crop-3x_
# coco with the plain ConvNeXt-XT of mmpretrain (as mmdet's and mmseg's
# ConvNeXt configs build it) instead of ParC-ConvNeXt; everything else equal.
# Needs mmpretrain.models to import (it requires torchvision).
_base_ = ['./cascade-mask-rcnn_parc-convnext-xt_fpn_giou-4conv1fc_ms-crop-3x_coco.py',  # noqa
          '../_base_/models/convnext-xt.py']
custom_imports = _base_.pop('mmpretrain_imports')
model = dict(backbone=_base_.pop('backbone'))
