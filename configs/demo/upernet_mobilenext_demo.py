# Demo: UPerNet with a MobileNeXt-1.0 backbone (stages 1, 2, 4, 7:
# 144/192/384/1280 channels at strides 4/8/16/32) on the synthetic demo
# data, trained from scratch with the R-18 demo's recipe (SGD 0.02, poly, 160
# iterations); BatchNorms trained.
_base_ = ['./upernet_r18_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.MobileNeXt',
        arch='1.0',
        out_indices=(1, 2, 4, 7)),
    decode_head=dict(in_channels=[144, 192, 384, 1280]),
    auxiliary_head=dict(in_channels=384))
