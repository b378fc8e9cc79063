# Demo: Mask R-CNN with a shallow ParC-ResNet (the ParC-ResNet-50 widths,
# bottlenecks 1/1/2/2 per stage, the last one of stages 3 and 4 a ParC
# bottleneck) on the synthetic demo data, trained from scratch with the R-18
# demo's recipe (SGD 0.02, 4 epochs); BatchNorms trained.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.ParCResNet',
        arch=dict(depths=[1, 1, 2, 2], parc_blocks=[0, 0, 1, 1]),
        out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
