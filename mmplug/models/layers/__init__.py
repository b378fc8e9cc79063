from .smt_mixers import GlobalAttention, ScaleAwareModulation

__all__ = ['GlobalAttention', 'ScaleAwareModulation']
