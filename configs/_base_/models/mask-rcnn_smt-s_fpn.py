# Mask R-CNN FPN with an SMT-S backbone (strides 4-32, 64-512 channels).
# Expects the official ImageNet-1K SMT-S weights, `smt_small.pth` from the
# v1.0.0 release of https://github.com/AFeng-x/SMT, in checkpoints/
# (README "Pretrained weights"); they load as they are.
_base_ = './mask-rcnn_r50_fpn.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SMT',
        arch='small',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained',
                      checkpoint='checkpoints/smt_small.pth')),
    neck=dict(in_channels=[64, 128, 256, 512]))
