# UPerNet on ADE20K with PSConv (4 parts, dilations 1 / 2 / 4) as the 3x3
# conv of every bottleneck of the ResNet-50 (V1c), through mmseg ResNet's
# dcn slot; otherwise configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py
# (no official segmentation recipe exists). Needs the official ImageNet
# PS-ResNet-50 as checkpoints/ps_resnet50.pth (its stem is ResNet's 7x7, so
# the V1c deep stem starts from its init).
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
          '../_base_/models/r50-psconv.py']
model = dict(
    pretrained=None,
    backbone=_base_.pop('backbone'))
