from .backbone import (BaseBackbone, BottleneckBase, ResNetFamilyBackbone,
                       normalize_out_indices)

__all__ = [
    'BaseBackbone', 'BottleneckBase', 'ResNetFamilyBackbone',
    'normalize_out_indices',
]
