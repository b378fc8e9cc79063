# Demo: Mask R-CNN with a shallow SCSC-ResNet (the SCSC-ResNet-50 widths
# and kernel sets, one SCSC unit per stage except two in stage 3) on the
# synthetic demo data, trained from scratch on CPU with the R-18 demo's
# schedule (SGD 0.02, 4 epochs); BatchNorms trained.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SCSCResNet',
        depths=(1, 1, 2, 1),
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True)),
    neck=dict(in_channels=[288, 576, 1152, 1536]))
