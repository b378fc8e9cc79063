# ParC-ConvNeXt-XT of the authors' det/seg recipes (drop path 0.4, layer
# scale 1.0). No ParC-ConvNeXt weights are published: it needs your ImageNet
# checkpoint converted with tools/model_converters/parc_to_mmplug.py (README
# "Pretrained weights"). Use: README.md here.
backbone = dict(
    _delete_=True, type='mmplug.ParCConvNeXt', arch='xt',
    out_indices=(0, 1, 2, 3), drop_path_rate=0.4, layer_scale_init_value=1.0,
    init_cfg=dict(type='Pretrained',
                  checkpoint='checkpoints/parc_convnext_xt.pth'))
