# Baseline: mask-rcnn_parc-convnext-t_fpn_1x_coco with the plain ConvNeXt-T of
# mmpretrain (as mmdet's and mmseg's ConvNeXt configs build it) instead of
# ParC-ConvNeXt; everything else equal. Needs mmpretrain.models to import (it
# requires torchvision).
_base_ = ['./mask-rcnn_parc-convnext-t_fpn_1x_coco.py',
          '../_base_/models/convnext-t.py']
custom_imports = _base_.pop('mmpretrain_imports')
model = dict(backbone=_base_.pop('backbone'))
