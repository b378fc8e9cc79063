# PS-ResNet-50: every bottleneck's 3x3 conv of mmdet's ResNet-50 a PSConv (4
# parts, dilations 1 / 2 / 4) through the dcn slot, from the official
# ImageNet PS-ResNet-50 (https://github.com/d-li14/PSConv) as
# checkpoints/ps_resnet50.pth. Merged into a ResNet-50 backbone: README.md
# here.
backbone = dict(
    dcn=dict(type='mmplug.PSConv2d', parts=4, ps_dilation=2,
             fallback_on_stride=False),
    stage_with_dcn=(True, True, True, True),
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/ps_resnet50.pth'))
