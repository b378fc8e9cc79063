# Demo: the R-18 demo (mask-rcnn_r18_fpn_demo.py: synthetic data, from
# scratch, 4 epochs of SGD 0.02) with the FPT neck instead of FPN, at 64
# channels (FPT's fusion convs over the concatenated transformer outputs
# make the demo's 128 channels three times slower per iteration than the
# R-18 demo on two CPU cores) and FPT's default memory bounds.
_base_ = ['./mask-rcnn_r18_fpn_demo.py']

channels = 64  # FPT and head width

model = dict(
    neck=dict(
        type='mmplug.FPT',
        in_channels=[64, 128, 256, 512],
        out_channels=channels,
        num_outs=5),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(in_channels=channels, conv_out_channels=channels)))
