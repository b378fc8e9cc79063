"""DCA-ResNet: ResNet-50 with SE or GC attention connected across all
bottlenecks (DCANet).

Paper: Ma et al., "DCANet: Learning Connected Attentions for Convolutional
Neural Networks" (https://arxiv.org/abs/2007.05099). Written from the paper
and notes on the official code (ma-xu/DCANet, ``resnet_se_dca.py``,
``resnet_gc_dca.py``); parameter names are the official ones (``se.*``,
``rgc.*``), so the official ImageNet checkpoints load. One difference: the
official first block (``layer1.0``) builds message layers it never uses
(no message reaches it), which breaks DDP without
``find_unused_parameters``; they are not built here and their checkpoint
keys are ignored.
"""
import re
from typing import Iterator, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from mmplug.models.utils.backbone import (ResNetFamilyBackbone,
                                          normalize_out_indices)
from mmplug.registry import MODELS


class SEDCA(nn.Module):
    """Official SE-DCA: ``z = ReLU(LN(w1 * gap + w2 * p + b))`` with ``p``
    the previous message (through ``att_fc``: Linear + LN + ReLU when the
    channels change), ``a = sigmoid(MLP(z))`` (plain SE without a message);
    output ``x * a``, message ``gap * a``.

    Args:
        in_channels (int): the previous message's channels.
        channels (int): C.
        connected (bool): a message reaches this block.
        reduction (int): SE reduction. Defaults to 16.
    """

    def __init__(self, in_channels: int, channels: int, connected: bool,
                 reduction: int = 16):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(channels, channels // reduction), nn.ReLU(inplace=True),
            nn.Linear(channels // reduction, channels), nn.Sigmoid())
        self.att_fc = nn.Sequential(
            nn.Linear(in_channels, channels), nn.LayerNorm(channels),
            nn.ReLU(inplace=True)) \
            if connected and in_channels != channels else None
        self.conv = nn.Sequential(
            nn.Conv2d(2, 1, 1), nn.LayerNorm(channels),
            nn.ReLU(inplace=True)) if connected else None

    def forward(self, x: Tensor, message: Optional[Tensor]
                ) -> Tuple[Tensor, Tensor]:
        """(N, C, H, W), (N, C_prev) or None -> (N, C, H, W), (N, C)."""
        n, c = x.shape[:2]
        gap = x.mean(dim=(2, 3))
        z = gap
        if self.conv is not None:
            prev = message if self.att_fc is None else self.att_fc(message)
            z = torch.stack([gap, prev], dim=1).view(n, 2, 1, c)
            z = self.conv[2](self.conv[1](self.conv[0](z).view(n, c)))
        a = self.fc(z)
        return x * a[:, :, None, None], gap * a


class GCDCA(nn.Module):
    """Official GC-DCA: softmax-pooled context ``+ weight * p`` (``p`` the
    previous transform, through ``att_fc`` when the channels change), then
    ``T = conv(ReLU(LN(conv(.))))``; output ``x + T``, message ``T``.

    Args:
        in_channels (int): the previous message's channels.
        channels (int): C.
        connected (bool): a message reaches this block.
        ratio (int): bottleneck reduction. Defaults to 16.
    """

    def __init__(self, in_channels: int, channels: int, connected: bool,
                 ratio: int = 16):
        super().__init__()
        hidden = channels // ratio

        def transform(c_in):
            return nn.Sequential(
                nn.Conv2d(c_in, hidden, 1), nn.LayerNorm([hidden, 1, 1]),
                nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1))

        self.weight = nn.Parameter(torch.zeros(1)) if connected else None
        self.conv_mask = nn.Conv2d(channels, 1, 1)
        self.channel_add_conv = transform(channels)
        self.att_fc = transform(in_channels) \
            if connected and in_channels != channels else None

    def forward(self, x: Tensor, message: Optional[Tensor]
                ) -> Tuple[Tensor, Tensor]:
        """(N, C, H, W), (N, C_prev, 1, 1) or None -> (N, C, H, W),
        (N, C, 1, 1)."""
        n, c = x.shape[:2]
        mask = F.softmax(self.conv_mask(x).view(n, 1, -1), dim=-1)
        context = torch.bmm(x.view(n, c, -1), mask.transpose(1, 2)).view(
            n, c, 1, 1)
        if self.weight is not None:
            prev = message if self.att_fc is None else self.att_fc(message)
            context = context + self.weight * prev
        t = self.channel_add_conv(context)
        return x + t, t


class DCABottleneck(nn.Module):
    """torchvision's bottleneck (stride on conv2) with the attention after
    ``bn3``, before the residual sum.

    Args:
        in_channels (int): input channels.
        width (int): middle channels; the output has ``4 * width``.
        stride (int): stride of conv2.
        downsample (nn.Module, optional): shortcut projection.
        attention (str): ``'se'`` or ``'gc'``.
        message_channels (int): channels of the incoming message.
        connected (bool): a message reaches this block.
        norm_cfg (dict): the BatchNorms.
        with_cp (bool): activation checkpointing.
    """

    def __init__(self, in_channels: int, width: int, stride: int,
                 downsample: Optional[nn.Module], attention: str,
                 message_channels: int, connected: bool,
                 norm_cfg: dict, with_cp: bool = False):
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, width)[1]
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, width)[1]
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        name, cls = ('se', SEDCA) if attention == 'se' else ('rgc', GCDCA)
        self.attention_name = name
        self.add_module(name, cls(message_channels, out, connected))
        self.with_cp = with_cp

    def _inner_forward(self, x: Tensor, message: Optional[Tensor]):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out, message = getattr(self, self.attention_name)(
            self.bn3(self.conv3(out)), message)
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity), message

    def forward(self, x: Tensor, message: Optional[Tensor]):
        """(N, C_in, H, W), message -> (N, 4 * width, H / s, W / s),
        message."""
        if self.with_cp and x.requires_grad and message is not None:
            return cp.checkpoint(self._inner_forward, x, message,
                                 use_reentrant=False)
        return self._inner_forward(x, message)


@MODELS.register_module()
class DCAResNet(ResNetFamilyBackbone):
    """DCA-SE-ResNet / DCA-GC-ResNet backbone (pytorch style).

    ResNet whose every bottleneck carries SE or GC attention, connected
    DCANet-style: each block's attention takes the previous block's message,
    through all stages (channel changes go through ``att_fc``).

    Args:
        depth (int): 50 or 101.
        attention (str): ``'se'`` or ``'gc'``.
        in_channels (int): input channels. Defaults to 3.
        out_indices (int | Sequence[int]): stages to output.
        frozen_stages (int): -1 none, 0 the stem, k the stem + stages 1..k.
        norm_cfg (dict): the BatchNorms. Defaults to BN.
        norm_eval (bool): keep BatchNorms in eval mode while training.
        with_cp (bool): activation checkpointing in every block.
        num_classes (int): classifier classes (``fc``); 0 for none.
        depths (Sequence[int], optional): blocks per stage (overrides
            ``depth``).
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=...)``;
            the official DCA ImageNet checkpoints load (a ``module.`` or
            ``backbone.`` prefix is removed; ``layer1.0``'s unused message
            layers and ``fc`` are ignored).

    Example:
        >>> import torch
        >>> from mmplug.models import DCAResNet
        >>> model = DCAResNet(attention='gc', depths=[1, 1, 1, 1]).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 256, 16, 24), (1, 512, 8, 12), (1, 1024, 4, 6), (1, 2048, 2, 3)]
    """
    arch_settings = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
    arch_name = 'DCA-ResNet'
    out_strides = (4, 8, 16, 32)
    num_stages = 4

    def __init__(self,
                 depth: int = 50,
                 attention: str = 'se',
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 num_classes: int = 0,
                 depths: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if attention not in ('se', 'gc'):
            raise ValueError(f"attention must be 'se' or 'gc', got "
                             f'{attention!r}')
        depths = self._stage_depths(depth, depths)
        self.attention = attention
        self.out_indices = normalize_out_indices(out_indices, self.num_stages)
        norm_cfg = dict(norm_cfg or dict(type='BN'))
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 64)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels, message_channels = 64, 64
        self.embed_dims = []
        for i, depth_i in enumerate(depths):
            width, stride = 64 * 2**i, 1 if i == 0 else 2
            blocks = []
            for j in range(depth_i):
                downsample = None
                if j == 0:
                    downsample = nn.Sequential(
                        nn.Conv2d(channels, width * 4, 1, stride, bias=False),
                        build_norm_layer(norm_cfg, width * 4)[1])
                blocks.append(DCABottleneck(
                    channels, width, stride if j == 0 else 1, downsample,
                    attention, message_channels, not (i == 0 and j == 0),
                    norm_cfg, with_cp))
                channels = message_channels = width * 4
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            self.embed_dims.append(channels)
        self.ignored_pretrained_keys = tuple(
            f'layer1.0.{"se" if attention == "se" else "rgc"}.{k}'
            for k in ('att_fc.', 'conv.', 'weight'))
        self._build_classifier(channels, num_classes)
        self._setup_freezing(frozen_stages, norm_eval, self.num_stages)

    def convert_state_dict(self, state_dict):
        """Remove a ``module.`` (the official apex-DDP checkpoints) or
        ``backbone.`` prefix."""
        return {re.sub(r'^(module|backbone)\.', '', k): v
                for k, v in state_dict.items()}

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield the outputs of ``layer1..4`` (N, 256 * 2**i, H_i, W_i) at
        strides 4, 8, 16, 32, the attention message threaded through every
        block."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        message = None
        for i in range(self.num_stages):
            for block in getattr(self, f'layer{i + 1}'):
                x, message = block(x, message)
            yield x
