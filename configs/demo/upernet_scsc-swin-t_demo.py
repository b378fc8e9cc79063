# Demo: UPerNet with an SCSC-Swin-T backbone (Swin-T's stages with SCSC
# instead of window attention) on the synthetic demo data, trained from
# scratch with the R-18 demo's recipe (SGD 0.02, poly, 160 iterations).
# As in the Mask R-CNN demo, BatchNorms replace the LayerNorms of the patch
# embedding, the patch mergings and the outputs (embed_norm_cfg), and there
# is no drop path.
_base_ = ['./upernet_r18_demo.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmplug.SCSCSwin',
        arch='tiny',
        drop_path_rate=0.,
        embed_norm_cfg=dict(type='BN'),
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384))
