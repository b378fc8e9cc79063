# AdamW with ConvNeXt's layer-wise lr decay (0.7 over 6 layers), the
# ParC-ConvNeXt detection recipe, through the backbone's get_layer_depth
# (mmplug.LayerDecayOptimizerConstructor). A config takes it with
# `optim_wrapper = _base_.pop('layer_decay_optim_wrapper')` (see
# ../models/README.md: it replaces the optimizer of a schedule base).
layer_decay_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='mmplug.LayerDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise',
                       num_layers=6),
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999),
                   weight_decay=0.05))
