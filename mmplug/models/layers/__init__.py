from .norm import LayerNorm2d
from .parc import ParC, ParCMixer
from .scsc import SCSC
from .smt_mixers import GlobalAttention, ScaleAwareModulation

__all__ = [
    'GlobalAttention', 'LayerNorm2d', 'ParC', 'ParCMixer', 'SCSC',
    'ScaleAwareModulation'
]
