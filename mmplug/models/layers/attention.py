"""Squeeze-excitation and the DCA blocks: attention connected across the
blocks of a network (DCA-ResNet) or the levels of a pyramid (DCA-FPN).

Paper: Ma et al., "DCANet: Learning Connected Attentions for Convolutional
Neural Networks" (https://arxiv.org/abs/2007.05099); written from the paper
and notes on the official code (ma-xu/DCANet), whose parameter names these
blocks keep. A DCA block is ``forward(x, message) -> (out, message)`` (a
message is a tuple of tensors); the first of a chain (``connected=False``)
has no fusion parameters (none unused under DDP). mmcv's ``ContextBlock``
has GC's names but is not used: its pooling (a broadcast ``matmul``) differs
in the last bits and its init draws random numbers for ``conv_mask``.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmplug.registry import MODELS

Message = Optional[Tuple[Tensor, ...]]


class SELayer(nn.Module):
    """Squeeze-excitation: ``x * sigmoid(fc2(ReLU(fc1(mean(x)))))`` (keys
    ``fc.0``, ``fc.2``), hidden width ``max(C // reduction, min_channels)``.

    Args:
        channels (int): C.
        reduction (int): MLP reduction. Defaults to 16.
        min_channels (int): smallest hidden width. Defaults to 1.
        bias (bool): biases in the MLP. Defaults to True.
    """

    def __init__(self, channels: int, reduction: int = 16,
                 min_channels: int = 1, bias: bool = True):
        super().__init__()
        hidden = max(channels // reduction, min_channels)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden, bias=bias), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels, bias=bias), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        return x * self.fc(x.mean(dim=(2, 3)))[:, :, None, None]


def _transform(in_channels: int, hidden: int, channels: int) -> nn.Module:
    """GC's transform: ``conv1x1(ReLU(LN(conv1x1(x))))`` on (N, C, 1, 1)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden, 1), nn.LayerNorm([hidden, 1, 1]),
        nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1))


@MODELS.register_module()
class DCASE(SELayer):
    """Squeeze-excitation with a DCA connection.

    ``z = fuse(gap(x), m_prev)``, ``a = sigmoid(MLP(z))``, output ``x * a``,
    message ``m = gap(x) * a`` (the official SE-DCA message). The fusion:

    - ``'add'``: ``z = gap + beta * m_prev`` (``beta`` starts at 0, so a
      chain starts as independent SE blocks; DCA-FPN);
    - ``'conv'``: the official DCA-SE-ResNet's, ``z = ReLU(LN(conv1x1([gap,
      p])))`` over the two stacked descriptors, ``p`` the previous message
      through ``att_fc`` (Linear + LN + ReLU) when the channels change.

    Args:
        channels (int): C.
        reduction (int): MLP reduction. Defaults to 16.
        connected (bool): takes a message (has fusion parameters).
        in_channels (int, optional): the message's channels (default C).
        fusion (str): ``'add'`` or ``'conv'``.
    """

    def __init__(self, channels: int, reduction: int = 16,
                 connected: bool = True, in_channels: Optional[int] = None,
                 fusion: str = 'add'):
        super().__init__(channels, reduction)
        if fusion not in ('add', 'conv'):
            raise ValueError(f"DCASE fusion must be 'add' or 'conv', got "
                             f'{fusion!r}')
        in_channels = in_channels or channels
        self.fusion = fusion
        if fusion == 'add':
            self.beta = nn.Parameter(torch.zeros(1)) if connected else None
            return
        self.att_fc = nn.Sequential(
            nn.Linear(in_channels, channels), nn.LayerNorm(channels),
            nn.ReLU(inplace=True)) \
            if connected and in_channels != channels else None
        self.conv = nn.Sequential(
            nn.Conv2d(2, 1, 1), nn.LayerNorm(channels),
            nn.ReLU(inplace=True)) if connected else None

    def fuse(self, gap: Tensor, prev: Tensor) -> Tensor:
        """(N, C) descriptor, (N, C_prev) message -> (N, C)."""
        if self.fusion == 'add':
            return gap if self.beta is None else gap + self.beta * prev
        if self.conv is None:
            return gap
        n, c = gap.shape
        prev = prev if self.att_fc is None else self.att_fc(prev)
        if torch.compiler.is_compiling():
            # the 1x1 conv over the two descriptors as their weighted sum:
            # inductor (torch 2.13, CPU) miscompiles mean -> stack -> conv
            # when the product of gap and the attention is also an output
            # (wrong values, not rounding); eager keeps the conv, which
            # rounds as the official model does
            w = self.conv[0].weight.view(2)
            z = gap * w[0] + prev * w[1] + self.conv[0].bias
        else:
            z = torch.stack([gap, prev], dim=1).view(n, 2, 1, c)
            z = self.conv[0](z).view(n, c)
        return self.conv[2](self.conv[1](z))

    def forward(self, x: Tensor, message: Message = None
                ) -> Tuple[Tensor, Tuple[Tensor]]:
        """(N, C, H, W), message ((N, C_prev),) or None -> (N, C, H, W),
        ((N, C),)."""
        gap = x.mean(dim=(2, 3))
        z = gap if message is None else self.fuse(gap, message[0])
        a = self.fc(z)
        return x * a[:, :, None, None], (gap * a, )


@MODELS.register_module()
class DCAGC(nn.Module):
    """Global-context block with a DCA connection (as the official GC-DCA).

    ``ctx = softmax-pooled context + w * T_prev`` (``T_prev`` through
    ``att_fc``, GC's transform, when the channels change), ``T = conv(ReLU(
    LN(conv(ctx))))``, output ``x + T``, message ``T``.

    Args:
        channels (int): C.
        ratio (float): bottleneck ratio. Defaults to 1/16.
        connected (bool): takes a message (has ``w``, init 0).
        in_channels (int, optional): the message's channels (default C).
        zero_init (bool): zero the last transform conv: the block starts as
            identity (GCNet; default); DCA-GC-ResNet leaves it to its init.
    """

    def __init__(self, channels: int, ratio: float = 1. / 16,
                 connected: bool = True, in_channels: Optional[int] = None,
                 zero_init: bool = True):
        super().__init__()
        hidden = max(int(channels * ratio), 1)
        in_channels = in_channels or channels
        self.conv_mask = nn.Conv2d(channels, 1, 1)
        self.channel_add_conv = _transform(channels, hidden, channels)
        self.weight = nn.Parameter(torch.zeros(1)) if connected else None
        self.att_fc = _transform(in_channels, hidden, channels) \
            if connected and in_channels != channels else None
        self.zero_init = zero_init
        self.init_weights()

    def init_weights(self) -> None:
        """With ``zero_init``, zero the last transform conv: the block
        starts as identity (run again by :class:`DCAFPN` after its
        ``init_cfg``)."""
        if not self.zero_init:
            return
        nn.init.zeros_(self.channel_add_conv[-1].weight)
        nn.init.zeros_(self.channel_add_conv[-1].bias)

    def forward(self, x: Tensor, message: Message = None
                ) -> Tuple[Tensor, Tuple[Tensor]]:
        """(N, C, H, W), message ((N, C_prev, 1, 1),) or None ->
        (N, C, H, W), ((N, C, 1, 1),)."""
        n, c, h, w = x.shape
        mask = F.softmax(self.conv_mask(x).view(n, 1, h * w), dim=-1)
        ctx = torch.bmm(x.view(n, c, h * w), mask.transpose(1, 2)).view(
            n, c, 1, 1)
        if self.weight is not None and message is not None:
            prev = message[0] if self.att_fc is None else \
                self.att_fc(message[0])
            ctx = ctx + self.weight * prev
        t = self.channel_add_conv(ctx)
        return x + t, (t, )


@MODELS.register_module()
class DCACBAM(nn.Module):
    """CBAM with DCA connections on both gates.

    Channel gate: ``a = sigmoid(MLP(avg + b * m_c) + MLP(max + b * m_c))``
    with the previous channel message ``m_c``; spatial gate: ``s =
    sigmoid(BN(conv7x7([max, mean](x') + p * resize([max, mean] message))))``
    (the official p2, init 0; the previous map resized to this one).
    Messages: the pooled channel descriptor and the [max, mean] map of the
    output.

    Args:
        channels (int): C.
        reduction (int): MLP reduction. Defaults to 16.
        connected (bool): takes a message (has ``b`` and ``p``, init 0).
    """

    def __init__(self, channels: int, reduction: int = 16,
                 connected: bool = True):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels))
        self.spatial = nn.Sequential(
            nn.Conv2d(2, 1, 7, padding=3, bias=False), nn.BatchNorm2d(1))
        if connected:
            self.channel_weight = nn.Parameter(torch.zeros(1))
            self.spatial_weight = nn.Parameter(torch.zeros(1))
        else:
            self.channel_weight = self.spatial_weight = None

    @staticmethod
    def _compress(x: Tensor) -> Tensor:
        return torch.cat([x.amax(dim=1, keepdim=True),
                          x.mean(dim=1, keepdim=True)], dim=1)

    def forward(self, x: Tensor, message: Message = None
                ) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        """(N, C, H, W), message ((N, C), (N, 2, h, w)) -> (N, C, H, W),
        message."""
        avg, mx = x.mean(dim=(2, 3)), x.amax(dim=(2, 3))
        connected = self.channel_weight is not None and message is not None
        if connected:
            avg = avg + self.channel_weight * message[0]
            mx = mx + self.channel_weight * message[0]
        x = x * torch.sigmoid(self.mlp(avg) + self.mlp(mx))[:, :, None, None]
        comp = self._compress(x)
        if connected:
            prev = message[1]
            if prev.shape[-2:] != comp.shape[-2:]:
                prev = F.interpolate(prev, comp.shape[-2:], mode='bilinear',
                                     align_corners=False)
            comp = comp + self.spatial_weight * prev
        out = x * torch.sigmoid(self.spatial(comp))
        return out, (out.mean(dim=(2, 3)), self._compress(out))
