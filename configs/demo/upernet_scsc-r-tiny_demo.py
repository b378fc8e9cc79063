# Demo: UPerNet with a shallow SCSC-ResNet (the SCSC-ResNet-50 widths and
# kernel sets, one SCSC unit per stage except two in stage 3) on the
# synthetic demo data, trained from scratch with the R-18 demo's recipe (SGD
# 0.02, poly, 160 iterations); BatchNorms trained.
_base_ = ['./upernet_r18_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SCSCResNet',
        depths=(1, 1, 2, 1),
        norm_cfg=dict(type='BN', requires_grad=True),
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[288, 576, 1152, 1536]),
    auxiliary_head=dict(in_channels=1152))
