# SMT-B Mask R-CNN FPN 3x with multi-scale + crop training (paper: 49.8 box
# AP / 44.0 mask AP, 52M, 328G). Needs checkpoints/smt_base.pth (official
# ImageNet-1K SMT-B, release v1.0.0 of AFeng-x/SMT).
_base_ = './mask-rcnn_smt-s_fpn_ms-crop-3x_coco.py'

model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/smt_base.pth')))
