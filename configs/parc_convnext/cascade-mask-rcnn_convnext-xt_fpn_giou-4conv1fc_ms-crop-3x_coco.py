# Baseline: cascade-mask-rcnn_parc-convnext-xt_fpn_giou-4conv1fc_ms-crop-3x_coco with the plain ConvNeXt-XT of
# mmpretrain (as mmdet's and mmseg's ConvNeXt configs build it) instead of
# ParC-ConvNeXt; everything else equal. Needs mmpretrain.models to import
# (it requires torchvision).
_base_ = ['./cascade-mask-rcnn_parc-convnext-xt_fpn_giou-4conv1fc_ms-crop-3x_coco.py']

custom_imports = dict(imports=['mmplug.models', 'mmpretrain.models'],
                      allow_failed_imports=False)
model = dict(backbone={{_base_.convnext_xt_backbone}})
