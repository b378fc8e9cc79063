"""The ResNet kit: one stem, one bottleneck, one ``make_res_layer`` and the
base of the ResNet-family backbones (ParC-, DCA-, PyConv-, SCSC-ResNet,
Group Ensemble ResNet), with torchvision's and mmdet's parameter names
(``conv1``, ``bn1``, ``layer{i}.{j}.conv1/bn1/conv2/.../bn3``,
``downsample.*``, ``fc``), so ResNet checkpoints load into what they share.
"""
from typing import (Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from .arch import parse_arch
from .backbone import BaseBackbone, checkpoint_if

def make_shortcut(kind: str, in_channels: int, out_channels: int,
                  stride: int, norm_cfg: dict,
                  groups: int = 1) -> Optional[nn.Sequential]:
    """The projection shortcut of a block that strides or changes the
    channels (else None): ``kind='conv'``, a strided 1x1 conv (``groups``) +
    norm (torchvision); ``'pool'``, a 3x3 max-pool with the stride, then a
    1x1 conv + norm if the channels change (PyConvResNet)."""
    if stride == 1 and in_channels == out_channels:
        return None
    layers = []
    if kind == 'pool' and stride != 1:
        layers.append(nn.MaxPool2d(3, stride, 1))
    if kind == 'conv' or in_channels != out_channels:
        layers += [nn.Conv2d(in_channels, out_channels, 1,
                             stride if kind == 'conv' else 1, groups=groups,
                             bias=False),
                   build_norm_layer(norm_cfg, out_channels)[1]]
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    """ResNet bottleneck (stride on the 3x3 conv, as torchvision):
    ``ReLU(att(BN(conv3(ReLU(BN(conv2(ReLU(BN(conv1(x))))))))) + sc(x))``.

    Args:
        in_channels, mid_channels, out_channels (int): channels of the
            input, the middle layers and the output.
        stride (int): stride of the block (on conv2). Defaults to 1.
        groups (int): groups of conv2 and conv3, and of conv1 and the
            shortcut unless ``in_groups`` (the convs that read the input).
        conv2 (callable, optional): ``conv2(mid_channels, stride)`` builds
            the middle layer (default a 3x3 conv), named ``conv2_name``.
        attention (callable, optional): ``attention(out_channels)`` builds
            a module applied after ``bn3``, named ``attention_name``.
        shortcut (str): ``'conv'`` or ``'pool'`` (:func:`make_shortcut`).
        norm_cfg (dict): the norms. Defaults to BN.
        with_cp (bool): activation checkpointing.

    ``conv2`` and ``attention`` are factories called in place, so random
    initialisation draws in the layers' order.
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 groups: int = 1,
                 in_groups: Optional[int] = None,
                 conv2: Optional[Callable[[int, int], nn.Module]] = None,
                 conv2_name: str = 'conv2',
                 attention: Optional[Callable[[int], nn.Module]] = None,
                 attention_name: str = 'attention',
                 shortcut: str = 'conv',
                 norm_cfg: Optional[dict] = None,
                 with_cp: bool = False):
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN')
        in_groups = groups if in_groups is None else in_groups
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1,
                               groups=in_groups, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv2_name = conv2_name
        self.add_module(conv2_name, nn.Conv2d(
            mid_channels, mid_channels, 3, stride, 1, groups=groups,
            bias=False) if conv2 is None else conv2(mid_channels, stride))
        self.bn2 = build_norm_layer(norm_cfg, mid_channels)[1]
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, groups=groups,
                               bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = make_shortcut(shortcut, in_channels, out_channels,
                                        stride, norm_cfg, in_groups)
        self.attention_name = None if attention is None else attention_name
        if attention is not None:
            self.add_module(attention_name, attention(out_channels))
        self.with_cp = with_cp

    def residual(self, x: Tensor) -> Tensor:
        """The branch up to ``bn3``."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(getattr(self, self.conv2_name)(out)))
        return self.bn3(self.conv3(out))

    def shortcut(self, x: Tensor) -> Tensor:
        """``x`` or its projection ``downsample(x)``."""
        return x if self.downsample is None else self.downsample(x)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, ceil(H / s), ceil(W / s))."""

        def inner(x):
            out = self.residual(x)
            if self.attention_name is not None:
                out = getattr(self, self.attention_name)(out)
            return out + self.shortcut(x)

        return self.relu(checkpoint_if(self.with_cp, inner, x))


def make_res_layer(make_block: Callable[[int, int, int], nn.Module],
                   num_blocks: int, in_channels: int, out_channels: int,
                   stride: int) -> nn.Sequential:
    """A stage: ``make_block(j, block_in_channels, block_stride)`` for
    ``j < num_blocks``; block 0 reads ``in_channels`` and strides, the
    others read ``out_channels`` at stride 1."""
    return nn.Sequential(*(
        make_block(j, in_channels if j == 0 else out_channels,
                   stride if j == 0 else 1) for j in range(num_blocks)))


class ResNetBackbone(BaseBackbone):
    """Base of the ResNet-family backbones: a stem ``conv1``
    (``stem_kernel``, stride 2) / ``bn1`` / ReLU (/ 3x3 stride-2
    ``maxpool`` if ``stem_pool``), stages ``layer{i}`` of :meth:`make_block`
    blocks with :meth:`stage_widths` channels, an ``fc`` head;
    torchvision's initialisation. A variant states only what differs (its
    ``arch_zoo``, stem, widths, blocks), calls ``super().__init__(arch,
    **kwargs)``, sets what its blocks need and calls :meth:`_build`.

    Args:
        arch (str | int | dict, optional): a key of ``arch_zoo`` (the depth,
            e.g. 50) or a dict with ``depths`` (blocks per stage); ``depth``
            and ``depths`` (mmdet's names) are the same.
        norm_cfg (dict, optional): the norms. Defaults to BN.
        **kwargs: the backbone contract (:class:`BaseBackbone`); the head
            is ``fc``.
    """
    arch_zoo: Dict[str, dict] = {}
    essential_keys = {'depths'}
    arch_defaults: Dict[str, object] = {}
    stage_keys: Tuple[str, ...] = ('depths', )  # one value per stage
    arch_name = 'ResNet'  # in error messages
    default_arch = '50'
    stem_channels = 64
    stem_kernel = 7
    stem_pool = True
    base_channels = 64
    expansion = 4

    def __init__(self,
                 arch: Union[str, int, dict, None] = None,
                 depth: Optional[int] = None,
                 depths: Optional[Sequence[int]] = None,
                 norm_cfg: Optional[dict] = None,
                 **kwargs):
        super().__init__(**kwargs)
        if sum(v is not None for v in (arch, depth, depths)) > 1:
            raise ValueError(f'{self.arch_name}: give one of arch, depth and '
                             f'depths, got {arch!r}, {depth!r}, {depths!r}')
        arch = dict(depths=list(depths)) if depths is not None else next(
            (v for v in (arch, depth) if v is not None), self.default_arch)
        self.arch = parse_arch(arch, self.arch_zoo, self.essential_keys,
                               self.arch_name, self.arch_defaults,
                               self.stage_keys)
        self._set_stages(len(self.arch['depths']))
        self.norm_cfg = dict(norm_cfg or dict(type='BN'))

    def stage_widths(self, stage: int) -> Tuple[int, int]:
        """(middle, output) channels of the blocks of ``stage``."""
        mid = self.base_channels * 2**stage
        return mid, mid * self.expansion

    def make_block(self, stage: int, index: int, in_channels: int,
                   mid_channels: int, out_channels: int,
                   stride: int) -> nn.Module:
        """Block ``index`` of ``stage`` (default a :class:`Bottleneck`)."""
        return Bottleneck(in_channels, mid_channels, out_channels, stride,
                          norm_cfg=self.norm_cfg, with_cp=self.with_cp)

    def _build(self, head: Optional[Callable[[int, int], nn.Module]] = None
               ) -> None:
        """Stem, stages, classifier (``head(channels, num_classes)``,
        default ``nn.Linear``), freezing: the end of ``__init__``."""
        self.conv1 = nn.Conv2d(self.in_channels, self.stem_channels,
                               self.stem_kernel, 2, self.stem_kernel // 2,
                               bias=False)
        self.bn1 = build_norm_layer(self.norm_cfg, self.stem_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        if self.stem_pool:
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        # the stem strides 2 (4 with its pool), stage 0 then 1 (2), others 2
        self.stage_strides = [4 * 2**i for i in range(self.num_stages)]
        self.stage_channels = [self.stage_widths(i)[1]
                               for i in range(self.num_stages)]
        channels = self.stem_channels
        for i, num_blocks in enumerate(self.arch['depths']):
            mid, out = self.stage_widths(i)

            def block(j, c_in, s, i=i, mid=mid, out=out):
                return self.make_block(i, j, c_in, mid, out, s)

            self.add_module(f'layer{i + 1}', make_res_layer(
                block, num_blocks, channels, out,
                1 if i == 0 and self.stem_pool else 2))
            channels = out
        self._build_classifier(channels, head=head)
        self._setup_freezing()

    @property
    def res_layers(self) -> List[nn.Module]:
        """The stages ``layer1..``."""
        return [getattr(self, f'layer{i + 1}')
                for i in range(self.num_stages)]

    def stem(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, stem_channels, H / 2 (or 4), W / 2)."""
        x = self.relu(self.bn1(self.conv1(x)))
        return self.maxpool(x) if self.stem_pool else x

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield the outputs of ``layer1..``: (N, C_i, ceil(H / s_i),
        ceil(W / s_i))."""
        x = self.stem(x)
        for layer in self.res_layers:
            x = layer(x)
            yield x

    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        return [self.conv1, self.bn1] + self.res_layers[:frozen_stages]

    def init_from_scratch(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out',
                                        nonlinearity='relu')
            elif isinstance(m, _BatchNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
