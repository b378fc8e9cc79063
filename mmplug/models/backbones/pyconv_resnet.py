"""PyConvResNet: ResNet with pyramidal convolutions.

Paper: Duta et al., "Pyramidal Convolution: Rethinking Convolutional Neural
Networks for Visual Recognition" (https://arxiv.org/abs/2006.11538).
Written from the paper and our notes on the official code (iduta/pyconv,
``pyconvresnet.py``). Besides the pyramidal 3x3 of every bottleneck (4/3/2/1
levels in stages 1-4), the network differs from ResNet: no max-pool in the
stem, stage 1 strides instead, and a striding shortcut is a 3x3/2 max-pool
(then 1x1 conv + BN when the channels change).
"""
from typing import Union

from torch import nn

from mmplug.models.layers.pyconv import PyConv2d
from mmplug.models.utils.resnet import Bottleneck, ResNetBackbone
from mmplug.registry import MODELS

#: per stage: kernels, groups and the share of the width of each level
PYCONV_LEVELS = (
    ((3, 5, 7, 9), (1, 4, 8, 16), (1, 1, 1, 1)),
    ((3, 5, 7), (1, 4, 8), (1, 1, 2)),
    ((3, 5), (1, 4), (1, 1)),
    ((3, ), (1, ), (1, )),
)


@MODELS.register_module()
class PyConvResNet(ResNetBackbone):
    """PyConvResNet backbone (and ImageNet classifier), names as
    torchvision's ResNet (``conv1``, ``bn1``, ``layer{i}``, ``fc``) with the
    pyramidal conv's branches at ``conv2.levels.{k}``.

    Args:
        arch (str | int | dict, optional): ``50`` (default), ``101`` or
            ``152``, or a dict with ``depths`` (and optionally ``levels``,
            per stage the pyramid's kernels, groups and width shares);
            ``depth``/``depths`` are accepted too.
        **kwargs: :class:`ResNetBackbone`'s arguments.

    Example:
        >>> import torch
        >>> from mmplug.models import PyConvResNet
        >>> model = PyConvResNet(depths=[1, 1, 1, 1]).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 256, 16, 24), (1, 512, 8, 12), (1, 1024, 4, 6), (1, 2048, 2, 3)]
    """
    arch_zoo = {'50': dict(depths=(3, 4, 6, 3)),
                '101': dict(depths=(3, 4, 23, 3)),
                '152': dict(depths=(3, 8, 36, 3))}
    arch_defaults = dict(levels=PYCONV_LEVELS)
    stage_keys = ('depths', 'levels')
    arch_name = 'PyConvResNet'
    stem_pool = False

    def __init__(self, arch: Union[str, int, dict, None] = None, **kwargs):
        super().__init__(arch, **kwargs)
        self._build()

    def make_block(self, stage: int, index: int, in_channels: int,
                   mid_channels: int, out_channels: int,
                   stride: int) -> nn.Module:
        """A bottleneck whose conv2 is the stage's :class:`PyConv2d` and
        whose striding shortcut max-pools."""
        kernels, groups, shares = self.arch['levels'][stage]

        def pyconv(channels, stride):
            splits = [channels * s // sum(shares) for s in shares]
            return PyConv2d(channels, channels, kernels, groups, splits,
                            stride)

        return Bottleneck(in_channels, mid_channels, out_channels, stride,
                          conv2=pyconv, shortcut='pool',
                          norm_cfg=self.norm_cfg, with_cp=self.with_cp)
