# SCSC-Swin-T, trained as Swin-T (every stage, BatchNorms synchronised,
# drop path 0.2). It expects your ImageNet checkpoint of the official
# SCSC_Swin, whose state dict loads as it is (README "Pretrained weights").
# Use: README.md here.
backbone = dict(
    _delete_=True,
    type='mmplug.SCSCSwin',
    embed_dims=96,
    depths=(2, 2, 6, 2),
    out_indices=(0, 1, 2, 3),
    drop_path_rate=0.2,
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/scsc_swin_t.pth'))
