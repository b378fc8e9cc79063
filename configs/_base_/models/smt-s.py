# The SMT-S backbone of the SMT configs (drop path 0.2). Expects the
# official ImageNet-1K SMT-S weights, `smt_small.pth` from the v1.0.0 release
# of https://github.com/AFeng-x/SMT, in checkpoints/ (README "Pretrained
# weights"); they load as they are. Use: README.md here.
backbone = dict(
    _delete_=True, type='mmplug.SMT', arch='small', out_indices=(0, 1, 2, 3),
    drop_path_rate=0.2,
    init_cfg=dict(type='Pretrained', checkpoint='checkpoints/smt_small.pth'))
