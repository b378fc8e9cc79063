# PyConvResNet-50; expects the official ImageNet weights converted to
# checkpoints/pyconvresnet50.pth (README "Pretrained weights"). Use:
# README.md here.
backbone = dict(
    _delete_=True,
    type='mmplug.PyConvResNet',
    depth=50,
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/pyconvresnet50.pth'))
