# DCA-SE-ResNet-50 with the detection recipe of the DCANet repository
# (stem + stage 1 frozen, BN statistics frozen); needs the official ImageNet
# checkpoint as checkpoints/dca_se_resnet50.pth.tar (DCA-GC: attention='gc'
# and its checkpoint). Use: README.md here.
backbone = dict(
    _delete_=True, type='mmplug.DCAResNet', depth=50, attention='se',
    out_indices=(0, 1, 2, 3), frozen_stages=1,
    norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True,
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/dca_se_resnet50.pth.tar'))
