# ParC-ResNet-50 with mmdet's ResNet-50 detection recipe (stem + stage 1
# frozen, BN statistics frozen), starting from torchvision's ImageNet
# ResNet-50 (its ParC bottlenecks from their init). Use: README.md here.
backbone = dict(
    _delete_=True, type='mmplug.ParCResNet', arch='50',
    out_indices=(0, 1, 2, 3), frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True,
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.pytorch.org/models/'
        'resnet50-0676ba61.pth'))
