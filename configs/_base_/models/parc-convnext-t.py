# ParC-ConvNeXt-T: the XT recipe of parc-convnext-xt.py (which a config
# inherits first) with the T arch, starting from mmpretrain's ImageNet
# ConvNeXt-T (its ParC blocks from their init, reported when loading).
# Use: README.md here.
backbone = dict(
    arch='t',
    init_cfg=dict(
        checkpoint='https://download.openmmlab.com/mmclassification/v0/'
        'convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_'
        '20220301-795e9634.pth',
        prefix='backbone.'))
