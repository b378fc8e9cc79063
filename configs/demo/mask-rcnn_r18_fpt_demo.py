# Demo: the R-18 demo (mask-rcnn_r18_fpn_demo.py: synthetic data, from
# scratch, 4 epochs of SGD 0.02) with the FPT neck instead of FPN, at the
# demo's 128 channels and FPT's default memory bounds.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

model = dict(
    neck=dict(
        type='mmplug.FPT',
        in_channels=[64, 128, 256, 512],
        out_channels=128,
        num_outs=5))
