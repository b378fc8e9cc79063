# UPerNet R-50 (V1c) on ADE20K with ULSAM (8 subspaces) after the 3x3 conv
# of every bottleneck of stages 2-4 (one plugin per position: mmseg 1.2.2's
# ResNet does not chain several); otherwise
# configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py.
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py']
model = dict(
    backbone=dict(plugins=[
        dict(cfg=dict(type='mmplug.ULSAM', num_splits=8),
             stages=(False, True, True, True),
             position='after_conv2')
    ]))
