# Baseline: upernet_parc-convnext-xt_8xb2-160k_ade20k-512x512 with the plain ConvNeXt-XT of
# mmpretrain (as mmdet's and mmseg's ConvNeXt configs build it) instead of
# ParC-ConvNeXt; everything else equal. Needs mmpretrain.models to import
# (it requires torchvision).
_base_ = ['./upernet_parc-convnext-xt_8xb2-160k_ade20k-512x512.py']

custom_imports = dict(imports=['mmplug.models', 'mmpretrain.models'],
                      allow_failed_imports=False)
model = dict(backbone={{_base_.convnext_xt_backbone}})
