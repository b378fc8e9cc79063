# SCSC backbones for detection and segmentation. No SCSC weights have been
# published (megvii-research/SCSC ships code only): the configs expect your
# ImageNet checkpoints of the official cbtnet50 / SCSC_Swin (their state
# dicts load as they are). See README "Pretrained weights".
scsc_r50_backbone = dict(
    _delete_=True,
    type='mmplug.SCSCResNet',
    depth=50,
    out_indices=(0, 1, 2, 3),
    # as mmdet's ResNet-50 recipe: stem + stage 1 frozen, BN statistics
    # frozen (pretrained weights)
    frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=True,
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/scsc_resnet50.pth'))
scsc_swin_t_backbone = dict(
    _delete_=True,
    type='mmplug.SCSCSwin',
    embed_dims=96,
    depths=(2, 2, 6, 2),
    out_indices=(0, 1, 2, 3),
    drop_path_rate=0.2,
    # as Swin-T, every stage trains; its BatchNorms synchronised
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/scsc_swin_t.pth'))
