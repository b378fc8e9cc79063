# Demo: UPerNet with a shallow Group Ensemble ResNet (bottlenecks 1/1/2/1 per
# stage, stem and stages 1-2 shared, stages 3-4 as 4 groups twice as wide,
# their maps concatenated: 256/512/2048/4096 channels) on the synthetic demo
# data, trained from scratch with the R-18 demo's recipe (SGD 0.02, poly, 160
# iterations); BatchNorms trained.
_base_ = ['./upernet_r18_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.GroupEnsembleResNet',
        depths=(1, 1, 2, 1),
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[256, 512, 2048, 4096]),
    auxiliary_head=dict(in_channels=2048))
