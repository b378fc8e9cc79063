# UPerNet R-50 (V1c) on ADE20K with ULSAM (8 subspaces) after the 3x3 conv
# of every bottleneck of stages 2-4 (one plugin per position: mmseg 1.2.2's
# ResNet does not chain several); otherwise
# configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py.
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
          '../_base_/models/r50-ulsam.py']
model = dict(backbone=_base_.pop('backbone'))
