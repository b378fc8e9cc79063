from .parc_convnext import ParCConvNeXt
from .parc_resnet import ParCResNet
from .smt import SMT

__all__ = ['ParCConvNeXt', 'ParCResNet', 'SMT']
