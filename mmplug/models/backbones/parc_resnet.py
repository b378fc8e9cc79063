"""ParC-ResNet: ResNet-50 whose late bottlenecks use dense ParC.

Paper: ParC-Net (Zhang et al., ECCV 2022, https://arxiv.org/abs/2203.03952),
applied to ResNet as in the official ``ParC_ConvNets/ParC_resnet50.py``
(hkzhang91/ParC-Net). Parameter names are torchvision's and mmdet's
(``conv1``, ``bn1``, ``layer{i}.{j}.conv1/bn1/conv2/bn2/conv3/bn3``,
``downsample.0/1``), so ResNet-50 checkpoints load; a ParC bottleneck has
``parc.parc_h``/``parc.parc_w`` in place of ``conv2``.
"""
import re
from typing import Dict, Union

from torch import Tensor, nn

from mmplug.models.layers.parc import (ParC, ParCMixer,
                                      rename_official_parc_key)
from mmplug.models.utils.arch import count_indices
from mmplug.models.utils.resnet import Bottleneck, ResNetBackbone
from mmplug.registry import MODELS


def convert_parc_resnet(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Official ParC-ResNet (both ParC layouts), torchvision, mmdet or
    mmpretrain ResNet keys -> ours: mmpretrain's ``head.fc`` -> ``fc``,
    ParC keys as :func:`rename_official_parc_key`.

    Args:
        state_dict (dict): checkpoint keys (without a ``backbone.`` prefix).

    Returns:
        dict: a new dict with mmplug's keys.
    """
    return {rename_official_parc_key(re.sub(r'^head\.fc\.', 'fc.', k)): v
            for k, v in state_dict.items()}


def infer_parc_resnet_arch(state_dict: Dict[str, Tensor]) -> dict:
    """:class:`ParCResNet`'s ``arch`` (ParC blocks per stage: the default
    ones for a plain ResNet) and ``num_classes`` from a (ParC-)ResNet state
    dict (after :func:`convert_parc_resnet`); ValueError if it is none."""
    if 'conv1.weight' not in state_dict or \
            not any(k.startswith('layer1.') for k in state_dict):
        raise ValueError('not a ResNet state dict: no conv1/layer1.* keys')
    num_stages = count_indices(state_dict, r'layer(\d+)\.')
    depths = [count_indices(state_dict, rf'layer{i}\.(\d+)\.')
              for i in range(1, num_stages + 1)]
    parc = [count_indices(state_dict, rf'layer{i}\.(\d+)\.parc\.')
            for i in range(1, num_stages + 1)]
    fc = state_dict.get('fc.weight')
    return dict(arch=dict(depths=depths, parc_blocks=parc if any(parc) else
                          list(ParCResNet.arch_defaults['parc_blocks'])),
                num_classes=0 if fc is None else fc.shape[0])


@MODELS.register_module()
class ParCResNet(ResNetBackbone):
    """ParC-ResNet backbone (ResNet-50 by default, pytorch style).

    The last ``parc_blocks[i]`` bottlenecks of stage ``i`` replace their 3x3
    conv by a dense ParC mixer (half the width H-ParC, half W-ParC, full
    C/2 -> C/2 kernels) whose meta kernel is the stage's feature size at
    ``pretrain_img_size``: as the official ParC-ResNet50, the last three
    bottlenecks of layer3 (K = 14) and the last of layer4 (K = 7).

    Args:
        arch (str | int | dict): ``'50'`` or a dict with ``depths`` and
            optionally ``parc_blocks`` (one value per stage; default
            (0, 0, 3, 1)); ``depth``/``depths`` are accepted too.
        pretrain_img_size (int): image size the meta kernels are sized for.
        impl (str): ParC implementation (``'auto'``, ``'spatial'``,
            ``'fft'``).
        zero_init_residual (bool): zero the last BN of each bottleneck in
            :meth:`init_from_scratch`. Defaults to True (as mmdet).
        **kwargs: :class:`ResNetBackbone`'s arguments. With
            ``init_cfg=dict(type='Pretrained', checkpoint=...)``: official
            ParC-ResNet50 (both ParC layouts) or ResNet-50 (torchvision,
            mmdet, mmpretrain) checkpoints; ParC bottlenecks then start from
            their init; unmatched keys are reported.

    Example:
        >>> import torch
        >>> from mmplug.models import ParCResNet
        >>> model = ParCResNet(arch=dict(depths=[1, 1, 2, 2],
        ...                               parc_blocks=[0, 0, 1, 1]))
        >>> [tuple(o.shape) for o in model.eval()(torch.rand(1, 3, 97, 131))]
        [(1, 256, 25, 33), (1, 512, 13, 17), (1, 1024, 7, 9), (1, 2048, 4, 5)]
    """
    arch_zoo = {'50': dict(depths=(3, 4, 6, 3))}
    arch_defaults = dict(parc_blocks=(0, 0, 3, 1))
    stage_keys = ('depths', 'parc_blocks')
    arch_name = 'ParC-ResNet'

    def __init__(self,
                 arch: Union[str, int, dict, None] = None,
                 pretrain_img_size: int = 224,
                 impl: str = 'auto',
                 zero_init_residual: bool = True,
                 **kwargs):
        super().__init__(arch, **kwargs)
        for i, (blocks, parc) in enumerate(zip(self.arch['depths'],
                                               self.arch['parc_blocks'])):
            if not 0 <= parc <= blocks - (i > 0):
                raise ValueError(
                    f'stage {i}: {parc} ParC blocks do not fit {blocks} '
                    'bottlenecks (the downsampling first one stays a conv)')
        self.pretrain_img_size, self.impl = pretrain_img_size, impl
        self.zero_init_residual = zero_init_residual
        self._build()

    def make_block(self, stage: int, index: int, in_channels: int,
                   mid_channels: int, out_channels: int,
                   stride: int) -> nn.Module:
        """The last ``parc_blocks[stage]`` blocks of a stage are ParC
        blocks (``parc`` instead of ``conv2``)."""
        blocks = self.arch['depths'][stage]
        if index < blocks - self.arch['parc_blocks'][stage]:
            return Bottleneck(in_channels, mid_channels, out_channels,
                              stride, norm_cfg=self.norm_cfg,
                              with_cp=self.with_cp)
        kernel = self.pretrain_img_size // self.stage_strides[stage]
        return Bottleneck(
            in_channels, mid_channels, out_channels, stride,
            conv2=lambda c, s: ParCMixer(c, kernel, self.impl, dense=True),
            conv2_name='parc', norm_cfg=self.norm_cfg, with_cp=self.with_cp)

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
