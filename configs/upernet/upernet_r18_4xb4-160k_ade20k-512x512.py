# UPerNet with a ResNet-18 (V1c) on ADE20K, 160k iterations at 512x512: the
# stock baseline the demo runs on its synthetic data
# (configs/demo/upernet_r18_demo.py); the R-50 config with R-18 widths.
_base_ = ['./upernet_r50_4xb4-160k_ade20k-512x512.py']
model = dict(
    pretrained='open-mmlab://resnet18_v1c',
    backbone=dict(depth=18),
    decode_head=dict(in_channels=[64, 128, 256, 512]),
    auxiliary_head=dict(in_channels=256))
