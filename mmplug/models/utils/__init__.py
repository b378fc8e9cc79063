from .arch import count_indices, parse_arch
from .backbone import (BaseBackbone, checkpoint_if, normalize_out_indices,
                       pretrained_to_init_cfg)
from .resnet import Bottleneck, ResNetBackbone, make_res_layer, make_shortcut

__all__ = [
    'BaseBackbone', 'Bottleneck', 'ResNetBackbone', 'checkpoint_if',
    'count_indices', 'make_res_layer', 'make_shortcut',
    'normalize_out_indices', 'parse_arch', 'pretrained_to_init_cfg',
]
