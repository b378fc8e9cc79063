# Demo: the UPerNet R-18 demo (upernet_r18_demo.py: synthetic data, from
# scratch, 160 iterations of SGD 0.02) with an FPT neck between the backbone
# and the UPerHead: four 64-channel levels (FPT's fusion convs over the
# concatenated transformer outputs make 128 channels three times slower per
# iteration than the plain R-18 on two CPU cores), FPT's default memory
# bounds.
_base_ = ['./upernet_r18_demo.py']

fpt_channels = 64

model = dict(
    neck=dict(
        type='mmplug.FPT',
        in_channels=[64, 128, 256, 512],
        out_channels=fpt_channels,
        num_outs=4),
    decode_head=dict(in_channels=[fpt_channels] * 4),
    auxiliary_head=dict(in_channels=fpt_channels))
