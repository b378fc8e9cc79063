# Demo: UPerNet with a shallow DCA-SE-ResNet (the DCA-ResNet-50 widths,
# bottlenecks 1/1/2/1 per stage, SE attention connected across blocks) on
# the synthetic demo data, trained from scratch with the R-18 demo's recipe
# (SGD 0.02, poly, 160 iterations); BatchNorms trained.
_base_ = ['./upernet_r18_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.DCAResNet',
        depths=(1, 1, 2, 1),
        attention='se',
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[256, 512, 1024, 2048]),
    auxiliary_head=dict(in_channels=1024))
