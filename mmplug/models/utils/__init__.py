from .backbone import BaseBackbone, normalize_out_indices

__all__ = ['BaseBackbone', 'normalize_out_indices']
