from .dca import DCACBAM, DCAGC, DCASE
from .norm import LayerNorm2d
from .parc import ParC, ParCMixer
from .scsc import SCSC
from .smt_mixers import GlobalAttention, ScaleAwareModulation

__all__ = [
    'DCACBAM', 'DCAGC', 'DCASE', 'GlobalAttention', 'LayerNorm2d', 'ParC', 'ParCMixer', 'SCSC',
    'ScaleAwareModulation'
]
