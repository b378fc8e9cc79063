# UPerNet R-50 (V1c) on ADE20K with WeightNet (M = G = 2) as the 3x3 conv of
# every bottleneck of stages 2-4 (mmseg ResNet's dcn slot); otherwise
# configs/upernet/upernet_r50_4xb4-160k_ade20k-512x512.py.
_base_ = ['../upernet/upernet_r50_4xb4-160k_ade20k-512x512.py']
model = dict(
    backbone=dict(
        dcn=dict(type='mmplug.WeightNetConv2d', fallback_on_stride=False),
        stage_with_dcn=(False, True, True, True)))
