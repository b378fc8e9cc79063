from .attention import DCACBAM, DCAGC, DCASE, SELayer
from .dgc import DGConv2d
from .do_conv import DOConv2d
from .norm import LayerNorm2d
from .parc import ParC, ParCMixer
from .psconv import PSConv2d
from .pyconv import PyConv2d
from .scsc import SCSC
from .smt_mixers import GlobalAttention, ScaleAwareModulation
from .ulsam import ULSAM
from .weightnet import WeightNetConv2d

__all__ = [
    'DCACBAM', 'DCAGC', 'DCASE', 'DGConv2d', 'DOConv2d', 'GlobalAttention',
    'LayerNorm2d', 'ParC', 'ParCMixer', 'PSConv2d', 'PyConv2d', 'SCSC',
    'ScaleAwareModulation', 'SELayer', 'ULSAM', 'WeightNetConv2d',
]
