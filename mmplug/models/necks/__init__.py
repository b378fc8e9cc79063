from .dca_fpn import DCAFPN

__all__ = ['DCAFPN']
