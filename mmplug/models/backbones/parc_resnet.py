"""ParC-ResNet: ResNet-50 whose late bottlenecks use dense ParC.

Paper: ParC-Net (Zhang et al., ECCV 2022, https://arxiv.org/abs/2203.03952),
applied to ResNet as in the official ``ParC_ConvNets/ParC_resnet50.py``
(hkzhang91/ParC-Net). Parameter names are torchvision's and mmdet's
(``conv1``, ``bn1``, ``layer{i}.{j}.conv1/bn1/conv2/bn2/conv3/bn3``,
``downsample.0/1``), so ResNet-50 checkpoints load; a ParC bottleneck has
``parc.parc_h``/``parc.parc_w`` in place of ``conv2``.
"""
import re
from typing import Dict, Iterator, Optional, Sequence, Union

import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from mmplug.models.layers.parc import (ParC, ParCMixer,
                                      rename_official_parc_key)
from mmplug.models.utils.backbone import (ResNetFamilyBackbone,
                                          normalize_out_indices)
from mmplug.registry import MODELS


def convert_parc_resnet(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Official ParC-ResNet (both ParC layouts), torchvision, mmdet or
    mmpretrain ResNet keys -> ours: ``backbone.`` removed, mmpretrain's
    ``head.fc`` -> ``fc``, ParC keys as :func:`rename_official_parc_key`.

    Args:
        state_dict (dict): checkpoint keys.

    Returns:
        dict: a new dict with mmplug's keys.
    """
    converted = {}
    for key, value in state_dict.items():
        key = re.sub(r'^head\.fc\.', 'fc.', re.sub(r'^backbone\.', '', key))
        converted[rename_official_parc_key(key)] = value
    return converted


class Bottleneck(nn.Module):
    """ResNet bottleneck (stride on the 3x3 conv, as torchvision), with a
    dense :class:`ParCMixer` instead of the 3x3 conv when ``parc_kernel`` is
    given.

    Args:
        in_channels (int): input channels.
        width (int): channels of the middle layer; the output has
            ``4 * width``.
        stride (int): stride of the middle layer (1 for ParC blocks).
        downsample (nn.Module, optional): projection of the shortcut.
        parc_kernel (int, optional): meta kernel length of a ParC block.
        impl (str): ParC implementation.
        norm_cfg (dict): the BatchNorms.
        with_cp (bool): activation checkpointing.
    """
    expansion = 4

    def __init__(self,
                 in_channels: int,
                 width: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 parc_kernel: Optional[int] = None,
                 impl: str = 'auto',
                 norm_cfg: Optional[dict] = None,
                 with_cp: bool = False):
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN')
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, width)[1]
        if parc_kernel:
            if stride != 1:
                raise ValueError('a ParC bottleneck cannot downsample')
            self.parc = ParCMixer(width, parc_kernel, impl, dense=True)
        else:
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, width)[1]
        self.conv3 = nn.Conv2d(width, width * self.expansion, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, width * self.expansion)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    def _inner_forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        mixer = self.parc if hasattr(self, 'parc') else self.conv2
        out = self.relu(self.bn2(mixer(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, 4 * width, H / stride, W / stride)."""
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._inner_forward, x, use_reentrant=False)
        else:
            out = self._inner_forward(x)
        return self.relu(out)


@MODELS.register_module()
class ParCResNet(ResNetFamilyBackbone):
    """ParC-ResNet backbone (ResNet-50 by default, pytorch style).

    The last ``parc_blocks[i]`` bottlenecks of stage ``i`` replace their 3x3
    conv by a dense ParC mixer (half the width H-ParC, half W-ParC, full
    C/2 -> C/2 kernels) whose meta kernel is the stage's feature size at
    ``pretrain_img_size``: as the official ParC-ResNet50, the last three
    bottlenecks of layer3 (K = 14) and the last of layer4 (K = 7).

    Args:
        arch (str | dict): ``'50'`` or a dict with ``depths`` (4 values) and
            optionally ``parc_blocks`` (4 values; default (0, 0, 3, 1)).
        in_channels (int): input channels. Defaults to 3.
        out_indices (int | Sequence[int]): stages to output.
            Defaults to (0, 1, 2, 3).
        pretrain_img_size (int): image size the meta kernels are sized for.
        impl (str): ParC implementation (``'auto'``, ``'spatial'``,
            ``'fft'``).
        frozen_stages (int): -1 none, 0 the stem, k the stem + stages 1..k.
        norm_cfg (dict): the BatchNorms. Defaults to BN.
        norm_eval (bool): keep BatchNorms in eval mode while training.
        with_cp (bool): activation checkpointing in every bottleneck.
        zero_init_residual (bool): zero the last BN of each bottleneck in
            :meth:`init_from_scratch`. Defaults to True (as mmdet).
        num_classes (int): classifier classes (``fc``); 0 (default) for none.
        init_cfg (dict, optional): e.g. ``dict(type='Pretrained',
            checkpoint=...)``: official ParC-ResNet50 (both ParC layouts) or
            ResNet-50 (torchvision, mmdet, mmpretrain) checkpoints; ParC
            bottlenecks then start from their init; unmatched keys are
            reported.

    Example:
        >>> import torch
        >>> from mmplug.models import ParCResNet
        >>> model = ParCResNet(arch=dict(depths=[1, 1, 2, 1]))
        >>> [tuple(o.shape) for o in model.eval()(torch.rand(1, 3, 97, 131))]
        [(1, 256, 25, 33), (1, 512, 13, 17), (1, 1024, 7, 9), (1, 2048, 4, 5)]
    """
    arch_zoo = {'50': dict(depths=[3, 4, 6, 3])}
    default_parc_blocks = (0, 0, 3, 1)
    out_strides = (4, 8, 16, 32)
    num_stages = 4

    def __init__(self,
                 arch: Union[str, int, dict] = '50',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 pretrain_img_size: int = 224,
                 impl: str = 'auto',
                 frozen_stages: int = -1,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 num_classes: int = 0,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self._parse_arch(arch)
        self.out_indices = normalize_out_indices(out_indices, self.num_stages)
        self.zero_init_residual = zero_init_residual
        norm_cfg = dict(norm_cfg or dict(type='BN'))
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 64)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels = 64
        self.embed_dims = []
        for i, depth in enumerate(self.arch['depths']):
            width, stride = 64 * 2**i, 1 if i == 0 else 2
            first_parc = depth - self.arch['parc_blocks'][i]
            kernel = pretrain_img_size // self.out_strides[i]
            blocks = []
            for j in range(depth):
                downsample = None
                if j == 0 and (stride != 1 or channels != width * 4):
                    downsample = nn.Sequential(
                        nn.Conv2d(channels, width * 4, 1, stride, bias=False),
                        build_norm_layer(norm_cfg, width * 4)[1])
                blocks.append(Bottleneck(
                    channels, width, stride if j == 0 else 1, downsample,
                    kernel if j >= first_parc else None, impl, norm_cfg,
                    with_cp))
                channels = width * 4
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            self.embed_dims.append(channels)
        self._build_classifier(channels, num_classes)
        self._setup_freezing(frozen_stages, norm_eval, self.num_stages)

    def _parse_arch(self, arch: Union[str, int, dict]) -> dict:
        if not isinstance(arch, dict):
            if str(arch) not in self.arch_zoo:
                raise ValueError(f'unknown ParC-ResNet arch {arch!r}; choose '
                                 f'one of {sorted(self.arch_zoo)} or give a '
                                 'dict')
            arch = self.arch_zoo[str(arch)]
        arch = {'parc_blocks': self.default_parc_blocks, **arch}
        for key in ('depths', 'parc_blocks'):
            if len(arch[key]) != self.num_stages:
                raise ValueError(f'ParC-ResNet arch {key} needs '
                                 f'{self.num_stages} values, got {arch[key]}')
        for i, (depth, parc) in enumerate(zip(arch['depths'],
                                              arch['parc_blocks'])):
            if not 0 <= parc <= depth - (i > 0):
                raise ValueError(
                    f'stage {i}: {parc} ParC blocks do not fit {depth} '
                    'bottlenecks (the downsampling first one stays a conv)')
        return arch

    def convert_state_dict(self, state_dict: Dict) -> Dict:
        return convert_parc_resnet(state_dict)

    def init_from_scratch(self) -> None:
        """torchvision's initialisation, ParC as :meth:`ParC.reset_parameters`,
        the last BN of each bottleneck 0 with ``zero_init_residual``."""
        super().init_from_scratch()
        for m in self.modules():
            if isinstance(m, ParC):
                m.reset_parameters()
            elif isinstance(m, Bottleneck) and self.zero_init_residual:
                nn.init.zeros_(m.bn3.weight)

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield the outputs of ``layer1..4``: (N, 256 * 2**i, H_i, W_i) at
        strides 4, 8, 16, 32."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(self.num_stages):
            x = getattr(self, f'layer{i + 1}')(x)
            yield x
