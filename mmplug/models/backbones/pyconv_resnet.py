"""PyConvResNet: ResNet with pyramidal convolutions.

Paper: Duta et al., "Pyramidal Convolution: Rethinking Convolutional Neural
Networks for Visual Recognition" (https://arxiv.org/abs/2006.11538).
Written from the paper and our notes on the official code (iduta/pyconv,
``pyconvresnet.py``). Besides the pyramidal 3x3 of every bottleneck (4/3/2/1
levels in stages 1-4), the network differs from ResNet: no max-pool in the
stem, stage 1 strides instead, and a striding shortcut is a 3x3/2 max-pool
(then 1x1 conv + BN when the channels change).
"""
from typing import List, Optional, Sequence, Union

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from mmplug.models.layers.pyconv import PyConv2d
from mmplug.models.utils.backbone import (BottleneckBase,
                                          ResNetFamilyBackbone,
                                          normalize_out_indices)
from mmplug.registry import MODELS

#: per stage: kernels, groups and the share of the width of each level
PYCONV_STAGES = [
    ((3, 5, 7, 9), (1, 4, 8, 16), (1, 1, 1, 1)),
    ((3, 5, 7), (1, 4, 8), (1, 1, 2)),
    ((3, 5), (1, 4), (1, 1)),
    ((3, ), (1, ), (1, )),
]


class PyConvBottleneck(BottleneckBase):
    """1x1 -> PyConv (with the stride) -> 1x1 (x4), BN after each, ReLU
    after the first two and after the residual sum."""
    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int,
                 stage: int, downsample: Optional[nn.Module],
                 norm_cfg: dict, with_cp: bool = False):
        super().__init__()
        kernels, groups, shares = PYCONV_STAGES[stage]
        splits = [planes * s // sum(shares) for s in shares]
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, planes)[1]
        self.conv2 = PyConv2d(planes, planes, kernels, groups, splits, stride)
        self.bn2 = build_norm_layer(norm_cfg, planes)[1]
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, planes * 4)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp


@MODELS.register_module()
class PyConvResNet(ResNetFamilyBackbone):
    """PyConvResNet backbone (and ImageNet classifier), names as
    torchvision's ResNet (``conv1``, ``bn1``, ``layer{i}``, ``fc``) with the
    pyramidal conv's branches at ``conv2.levels.{k}``.

    Args:
        depth (int): 50, 101 or 152.
        in_channels (int): input channels. Defaults to 3.
        out_indices (int | Sequence[int]): stages to output.
        frozen_stages (int): -1 none, 0 the stem, k the stem + stages 1..k.
        norm_cfg (dict): the BatchNorms.
        norm_eval (bool): keep BatchNorms in eval mode while training.
        with_cp (bool): activation checkpointing in every block.
        num_classes (int): classifier classes (``fc``); 0 for none.
        depths (Sequence[int], optional): blocks per stage (overrides
            ``depth``).
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained', ...)``.

    Example:
        >>> import torch
        >>> from mmplug.models import PyConvResNet
        >>> model = PyConvResNet(depths=[1, 1, 1, 1]).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 256, 16, 24), (1, 512, 8, 12), (1, 1024, 4, 6), (1, 2048, 2, 3)]
    """
    arch_settings = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3),
                     152: (3, 8, 36, 3)}
    arch_name = 'PyConvResNet'
    num_stages = 4

    def __init__(self,
                 depth: int = 50,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 num_classes: int = 0,
                 depths: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        depths = self._stage_depths(depth, depths)
        self.out_indices = normalize_out_indices(out_indices, 4)
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 64)[1]
        self.relu = nn.ReLU(inplace=True)
        self.embed_dims: List[int] = []
        channels = 64
        for i, blocks in enumerate(depths):
            planes = 64 * 2**i
            layer = []
            for b in range(blocks):
                stride = 2 if b == 0 else 1
                layer.append(PyConvBottleneck(
                    channels, planes, stride, i,
                    self._shortcut(channels, planes * 4, stride, norm_cfg),
                    norm_cfg, with_cp))
                channels = planes * 4
            self.add_module(f'layer{i + 1}', nn.Sequential(*layer))
            self.embed_dims.append(channels)
        self._build_classifier(channels, num_classes)
        self._setup_freezing(frozen_stages, norm_eval, 4)

    @staticmethod
    def _shortcut(in_channels: int, out_channels: int, stride: int,
                  norm_cfg: dict) -> Optional[nn.Module]:
        layers = []
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        if in_channels != out_channels:
            layers += [nn.Conv2d(in_channels, out_channels, 1, bias=False),
                       build_norm_layer(norm_cfg, out_channels)[1]]
        return nn.Sequential(*layers) if layers else None

    def stage_outputs(self, x: Tensor):
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(4):
            x = getattr(self, f'layer{i + 1}')(x)
            yield x
