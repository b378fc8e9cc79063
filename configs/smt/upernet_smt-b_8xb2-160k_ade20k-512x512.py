# SMT-B UPerNet on ADE20K, 160k iterations at 512x512 (paper: 49.6 / 50.6
# mIoU, 62M, 1004G at 512x2048); drop path 0.3. Needs
# checkpoints/smt_base.pth.
_base_ = './upernet_smt-s_8xb2-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(
        arch='base', drop_path_rate=0.3,
        init_cfg=dict(checkpoint='checkpoints/smt_base.pth')))
