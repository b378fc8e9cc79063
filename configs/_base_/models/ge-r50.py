# Group Ensemble ResNet-50 (G = 4 tails after two shared stages), its shared
# base from torchvision's ImageNet ResNet-50 (the split stages start from
# their init). Use: README.md here.
backbone = dict(
    _delete_=True,
    type='mmplug.GroupEnsembleResNet',
    depth=50,
    num_groups=4,
    shared_stages=2,
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/'
        'resnet50-0676ba61.pth'))
