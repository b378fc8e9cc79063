# MobileNeXt-1.0 with synchronised BatchNorms; expects the official ImageNet
# weights as checkpoints/mobilenext_1.0.pth (README "Pretrained weights").
# Use: README.md here.
backbone = dict(
    _delete_=True,
    type='mmplug.MobileNeXt',
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/mobilenext_1.0.pth'))
