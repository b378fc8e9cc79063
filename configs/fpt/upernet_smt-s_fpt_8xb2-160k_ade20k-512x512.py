# SMT-S UPerNet on ADE20K (configs/smt/upernet_smt-s_8xb2-160k_ade20k-
# 512x512.py: AdamW 6e-5, 160k iterations) with the FPT neck of
# configs/_base_/models/fpt.py on the SMT-S stages (64/128/256/512
# channels), giving four 256-channel levels to the UPerHead. Needs
# checkpoints/smt_small.pth.
_base_ = [
    '../smt/upernet_smt-s_8xb2-160k_ade20k-512x512.py',
    '../_base_/models/fpt.py',
]
model = dict(
    neck=dict(_base_.pop('neck'), in_channels=[64, 128, 256, 512],
              num_outs=4),
    decode_head=dict(in_channels=[256, 256, 256, 256]),
    auxiliary_head=dict(in_channels=256))
