from .dca_resnet import DCAResNet
from .mobilenext import MobileNeXt
from .parc_convnext import ParCConvNeXt
from .parc_resnet import ParCResNet
from .scsc_resnet import SCSCResNet
from .scsc_swin import SCSCSwin
from .smt import SMT

__all__ = [
    'DCAResNet', 'MobileNeXt', 'ParCConvNeXt', 'ParCResNet', 'SCSCResNet', 'SCSCSwin', 'SMT'
]
