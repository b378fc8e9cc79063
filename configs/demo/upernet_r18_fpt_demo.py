# Demo: the UPerNet R-18 demo (upernet_r18_demo.py: synthetic data, from
# scratch, 160 iterations of SGD 0.02) with an FPT neck between the backbone
# and the UPerHead: four 128-channel levels, FPT's default memory bounds.
_base_ = ['./upernet_r18_demo.py']

model = dict(
    neck=dict(
        type='mmplug.FPT',
        in_channels=[64, 128, 256, 512],
        out_channels=128,
        num_outs=4),
    decode_head=dict(in_channels=[128, 128, 128, 128]),
    auxiliary_head=dict(in_channels=128))
