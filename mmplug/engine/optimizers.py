"""Layer-wise learning-rate decay through the backbone's
``get_layer_depth`` (mmpretrain's protocol), not through its class name."""
from typing import List

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmplug.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimizerConstructor(DefaultOptimWrapperConstructor):
    """mmdet's ``LearningRateDecayOptimizerConstructor`` (same
    ``paramwise_cfg`` and parameter groups) whose layer ids come from
    ``model.backbone.get_layer_depth(name, 'backbone.')`` instead of a
    ``'ConvNeXt' in type(backbone).__name__`` test: any backbone that
    declares its layers (every mmplug backbone, mmpretrain's) works, and a
    backbone that does not is an error.

    A parameter of layer ``i`` of ``L`` gets ``lr = base_lr * decay_rate **
    (L - i - 1)``; 1-d parameters and biases get no weight decay.

    ``paramwise_cfg``:

    - ``decay_rate`` (float): the per-layer factor.
    - ``decay_type`` (str): ``'layer_wise'`` (the only one: mmdet's
      ``'stage_wise'`` is ConvNeXt-specific, use mmdet's constructor).
    - ``num_layers`` (int, optional): mmdet's argument; if given it must
      equal the backbone's layer count less 2.

    Example:
        >>> optim_wrapper = dict(
        ...     type='OptimWrapper',
        ...     constructor='mmplug.LayerDecayOptimizerConstructor',
        ...     paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise',
        ...                        num_layers=6),
        ...     optimizer=dict(type='AdamW', lr=2e-4, weight_decay=0.05))
    """

    def add_params(self, params: List[dict], module: nn.Module,
                   **kwargs) -> None:
        cfg = self.paramwise_cfg
        decay_rate = cfg.get('decay_rate')
        if decay_rate is None:
            raise ValueError('LayerDecayOptimizerConstructor needs '
                             'paramwise_cfg.decay_rate')
        decay_type = cfg.get('decay_type', 'layer_wise')
        if decay_type != 'layer_wise':
            raise ValueError(
                f"decay_type={decay_type!r}: only 'layer_wise' goes through "
                "get_layer_depth; for mmdet's ConvNeXt 'stage_wise' use "
                "mmdet's LearningRateDecayOptimizerConstructor")
        backbone = getattr(module, 'backbone', None)
        if not hasattr(backbone, 'get_layer_depth'):
            raise TypeError(
                f'{type(backbone).__name__} has no get_layer_depth(name, '
                'prefix): layer-wise lr decay needs the backbone to declare '
                'its layers')
        groups = {}
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            layer, num_layers = backbone.get_layer_depth(name, 'backbone.')
            if cfg.get('num_layers') is not None and \
                    cfg['num_layers'] + 2 != num_layers:
                raise ValueError(
                    f"paramwise_cfg.num_layers={cfg['num_layers']} does not "
                    f'fit {type(backbone).__name__}: it has {num_layers - 2} '
                    '(plus the stem and the rest)')
            no_decay = param.ndim == 1 or name.endswith('.bias')
            key = f"layer_{layer}_{'no_decay' if no_decay else 'decay'}"
            if key not in groups:
                scale = decay_rate**(num_layers - layer - 1)
                groups[key] = dict(
                    params=[], param_names=[], group_name=key,
                    weight_decay=0. if no_decay else self.base_wd,
                    lr_scale=scale, lr=scale * self.base_lr)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        print_log(f'LayerDecayOptimizerConstructor: {len(groups)} groups, '
                  + ', '.join(f"{k} lr x{g['lr_scale']:.4g}"
                              for k, g in sorted(groups.items())),
                  logger='current')
        params.extend(groups.values())
