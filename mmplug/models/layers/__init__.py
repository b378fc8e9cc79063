from .parc import ParC
from .smt_mixers import GlobalAttention, ScaleAwareModulation

__all__ = ['GlobalAttention', 'ParC', 'ScaleAwareModulation']
