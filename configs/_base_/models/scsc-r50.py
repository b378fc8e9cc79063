# SCSC-ResNet-50 (the official cbtnet50) with mmdet's ResNet-50 detection
# recipe: stem + stage 1 frozen, BN statistics frozen. No SCSC weights have
# been published (megvii-research/SCSC ships code only): it expects your
# ImageNet checkpoint of the official cbtnet50, whose state dict loads as it
# is (README "Pretrained weights"). Use: README.md here.
backbone = dict(
    _delete_=True, type='mmplug.SCSCResNet', depth=50,
    out_indices=(0, 1, 2, 3), frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True,
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/scsc_resnet50.pth'))
