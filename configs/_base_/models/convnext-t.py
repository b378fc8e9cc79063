# The plain ConvNeXt-T baseline of the ParC-ConvNeXt configs (mmpretrain's
# ImageNet ConvNeXt-T, as mmdet's and mmseg's ConvNeXt configs). Use:
# README.md here.
backbone = dict(
    _delete_=True,
    type='mmpretrain.ConvNeXt',
    arch='tiny',
    out_indices=[0, 1, 2, 3],
    drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    gap_before_final_norm=False,
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.openmmlab.com/mmclassification/v0/'
        'convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_'
        '20220301-795e9634.pth',
        prefix='backbone.'))
# mmpretrain's ConvNeXt needs mmpretrain.models (and torchvision) imported
# besides mmplug's: `custom_imports = _base_.pop('mmpretrain_imports')`
mmpretrain_imports = dict(imports=['mmplug.models', 'mmpretrain.models'],
                          allow_failed_imports=False)
