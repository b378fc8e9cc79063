from .norm import LayerNorm2d
from .parc import ParC, ParCMixer
from .smt_mixers import GlobalAttention, ScaleAwareModulation

__all__ = [
    'GlobalAttention', 'LayerNorm2d', 'ParC', 'ParCMixer',
    'ScaleAwareModulation'
]
