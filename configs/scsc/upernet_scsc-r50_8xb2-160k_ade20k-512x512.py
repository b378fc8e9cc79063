# SCSC-ResNet-50 UPerNet on ADE20K with the Swin-T recipe (AdamW 6e-5,
# weight decay 0.01, 1500-iteration warmup then poly, 160k iterations):
# the SCSC-Swin config with the ResNet form; BatchNorms synchronised and
# trained, as for UPerNet R-50.
_base_ = ['./upernet_scsc-swin-t_8xb2-160k_ade20k-512x512.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SCSCResNet',
        depth=50,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/scsc_resnet50.pth')),
    decode_head=dict(in_channels=[288, 576, 1152, 1536]),
    auxiliary_head=dict(in_channels=1152))
