# The plain ConvNeXt-XT baseline of the ParC-ConvNeXt configs, as mmdet's
# and mmseg's ConvNeXt configs build it (mmpretrain; XT is not in its arch
# zoo, so given as a dict). Use: README.md here.
backbone = dict(
    _delete_=True,
    type='mmpretrain.ConvNeXt',
    arch=dict(depths=[3, 3, 9, 3], channels=[48, 96, 192, 384]),
    out_indices=[0, 1, 2, 3],
    drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    gap_before_final_norm=False,
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/convnext_xt.pth',
                  prefix='backbone.'))
# mmpretrain's ConvNeXt needs mmpretrain.models (and torchvision) imported
# besides mmplug's: `custom_imports = _base_.pop('mmpretrain_imports')`
mmpretrain_imports = dict(imports=['mmplug.models', 'mmpretrain.models'],
                          allow_failed_imports=False)
