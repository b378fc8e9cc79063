# UPerNet R-50 (V1c) on ADE20K with every ResNet conv a DO-Conv (1x1s stay
# plain): only the backbone's conv_cfg differs from
# configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py; the ImageNet
# weights load as they are (D = 0).
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py']
model = dict(backbone=dict(conv_cfg=dict(type='mmplug.DOConv')))
