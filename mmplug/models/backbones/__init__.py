from .dca_resnet import DCAResNet
from .parc_convnext import ParCConvNeXt
from .parc_resnet import ParCResNet
from .scsc_resnet import SCSCResNet
from .scsc_swin import SCSCSwin
from .smt import SMT

__all__ = ['DCAResNet', 'ParCConvNeXt', 'ParCResNet', 'SCSCResNet', 'SCSCSwin', 'SMT']
