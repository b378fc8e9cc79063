# Demo: Mask R-CNN with an SCSC-Swin backbone (Swin-T's stages with SCSC
# instead of window attention; SCSC-Swin-T's widths with 1/1/2/1 blocks
# instead of 2/2/6/2, as the ResNet-style demos) on the synthetic demo data,
# trained from scratch on the SMT-T demo's schedule (2 epochs after a
# 20-iteration warm-up) with AdamW at 2e-4 (Swin's detection recipe uses
# 1e-4). Two changes from the paper's model, for training from scratch on
# the small synthetic data:
# - BatchNorms instead of the LayerNorms of the patch embedding, the patch
#   mergings and the outputs (embed_norm_cfg): with the LayerNorms the demo
#   detector does not learn (0.001 bbox mAP after 60 iterations where R-18
#   reaches 0.16, with BatchNorms 0.14; see the learning page of the docs
#   and benchmarks/demo_learning_study.py);
# - no drop path (0.17 instead of 0.14 after the same 60 iterations).
_base_ = ['./mask-rcnn_smt-t_fpn_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SCSCSwin',
        arch='tiny',
        depths=(1, 1, 2, 1),  # SCSC-Swin-T's widths, fewer blocks
        drop_path_rate=0.,
        embed_norm_cfg=dict(type='BN'),
        out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[96, 192, 384, 768]))
optim_wrapper = dict(optimizer=dict(lr=2e-4))
