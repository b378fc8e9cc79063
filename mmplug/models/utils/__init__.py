from .backbone import (BaseBackbone, ResNetFamilyBackbone,
                       normalize_out_indices)

__all__ = ['BaseBackbone', 'ResNetFamilyBackbone', 'normalize_out_indices']
