from .dca_resnet import DCAResNet
from .group_ensemble_resnet import GroupEnsembleResNet
from .mobilenext import MobileNeXt
from .parc_convnext import ParCConvNeXt
from .parc_resnet import ParCResNet
from .pyconv_resnet import PyConvResNet
from .scsc_resnet import SCSCResNet
from .scsc_swin import SCSCSwin
from .smt import SMT

__all__ = [
    'DCAResNet', 'GroupEnsembleResNet', 'MobileNeXt', 'ParCConvNeXt',
    'ParCResNet', 'PyConvResNet', 'SCSCResNet', 'SCSCSwin', 'SMT',
]
