# UPerNet on ADE20K with a Group Ensemble ResNet-50 (see
# configs/group_ensemble/mask-rcnn_ge-r50_fpn_1x_coco.py; SyncBN, all
# stages trained); otherwise
# configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py.
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py']
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmplug.GroupEnsembleResNet',
        depth=50,
        num_groups=4,
        shared_stages=2,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://download.pytorch.org/models/'
            'resnet50-0676ba61.pth')),
    decode_head=dict(in_channels=[256, 512, 2048, 4096]),
    auxiliary_head=dict(in_channels=2048))
