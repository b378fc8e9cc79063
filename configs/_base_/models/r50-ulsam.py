# ULSAM (8 subspaces) after the 3x3 conv of every bottleneck of stages 2-4
# of mmdet's ResNet-50, as a plugin. Merged into a ResNet-50 backbone:
# README.md here.
backbone = dict(plugins=[
    dict(cfg=dict(type='mmplug.ULSAM', num_splits=8),
         stages=(False, True, True, True), position='after_conv2')
])
