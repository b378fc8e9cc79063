from .dca_fpn import DCAFPN
from .fpt import FPT

__all__ = ['DCAFPN', 'FPT']
