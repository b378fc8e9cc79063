# DGC (4 heads, each finally keeping 25% of its input channels) as the 3x3
# conv of every bottleneck of stages 2-4 of mmdet's ResNet-50, through the
# dcn slot; configs add custom_hooks=[dict(type='mmplug.DGCProgressHook')].
# Merged into a ResNet-50 backbone: README.md here.
backbone = dict(
    dcn=dict(type='mmplug.DGConv2d', heads=4, fallback_on_stride=False),
    stage_with_dcn=(False, True, True, True))
