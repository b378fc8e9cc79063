# Demo: Mask R-CNN with a shallow DCA-SE-ResNet (the DCA-ResNet-50 widths,
# bottlenecks 1/1/2/1 per stage, SE attention connected across blocks) on
# the synthetic demo data, trained from scratch with the R-18 demo's recipe
# (SGD 0.02, 4 epochs); BatchNorms trained.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.DCAResNet',
        depths=(1, 1, 2, 1),
        attention='se',
        out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[256, 512, 1024, 2048]))
