# ParC-ConvNeXt backbones of the authors' det/seg recipes (drop path 0.4,
# layer scale 1.0). No ParC-ConvNeXt weights are published: XT needs your
# ImageNet checkpoint converted with tools/model_converters/parc_to_mmplug.py;
# T starts from mmpretrain's ImageNet ConvNeXt-T (its ParC blocks from their
# init, reported when loading). See README "Pretrained weights".
parc_convnext_xt_backbone = dict(
    _delete_=True,
    type='mmplug.ParCConvNeXt',
    arch='xt',
    out_indices=(0, 1, 2, 3),
    drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/parc_convnext_xt.pth'))
convnext_t_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_20220301-795e9634.pth'  # noqa
parc_convnext_t_backbone = dict(
    _delete_=True,
    type='mmplug.ParCConvNeXt',
    arch='t',
    out_indices=(0, 1, 2, 3),
    drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    init_cfg=dict(type='Pretrained', checkpoint=convnext_t_checkpoint,
                  prefix='backbone.'))
# The plain ConvNeXt baselines, as mmdet's/mmseg's ConvNeXt configs build
# them (mmpretrain; XT is not in its arch zoo, so given as a dict).
convnext_xt_backbone = dict(
    _delete_=True,
    type='mmpretrain.ConvNeXt',
    arch=dict(depths=[3, 3, 9, 3], channels=[48, 96, 192, 384]),
    out_indices=[0, 1, 2, 3],
    drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    gap_before_final_norm=False,
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/convnext_xt.pth',
                  prefix='backbone.'))
convnext_t_backbone = dict(
    _delete_=True,
    type='mmpretrain.ConvNeXt',
    arch='tiny',
    out_indices=[0, 1, 2, 3],
    drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    gap_before_final_norm=False,
    init_cfg=dict(type='Pretrained', checkpoint=convnext_t_checkpoint,
                  prefix='backbone.'))
# AdamW with ConvNeXt's layer-wise lr decay (mmdet's constructor; it keys on
# the class name containing "ConvNeXt" and on downsample_layers/stages).
parc_det_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise',
                       num_layers=6),
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999),
                   weight_decay=0.05))
