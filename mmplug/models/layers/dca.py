"""Connected attention blocks (DCANet) for chaining across levels or blocks.

Paper: Ma et al., "DCANet: Learning Connected Attentions for Convolutional
Neural Networks" (https://arxiv.org/abs/2007.05099). Written from the paper
and notes on the official code (ma-xu/DCANet). Each block is
``forward(x, message) -> (out, message)``: the previous block's attention
message is fused into this block's extracted descriptor with a learnable
weight that starts at zero, so a chain starts as independent attention
blocks. The first block of a chain (``connected=False``) has no message
weight at all (no unused parameters under DDP).
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmplug.registry import MODELS

Message = Optional[Tuple[Tensor, ...]]


@MODELS.register_module()
class DCASE(nn.Module):
    """Squeeze-excitation with a DCA connection.

    ``z = gap(x) + beta * m_prev``, ``a = sigmoid(MLP(z))``, output
    ``x * a``, message ``m = gap(x) * a`` (the official SE-DCA message).

    Args:
        channels (int): C.
        reduction (int): MLP reduction. Defaults to 16.
        connected (bool): takes a message (has ``beta``, init 0).
    """

    def __init__(self, channels: int, reduction: int = 16,
                 connected: bool = True):
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, channels), nn.Sigmoid())
        self.beta = nn.Parameter(torch.zeros(1)) if connected else None

    def forward(self, x: Tensor, message: Message = None
                ) -> Tuple[Tensor, Tuple[Tensor]]:
        """(N, C, H, W), message ((N, C),) -> (N, C, H, W), ((N, C),)."""
        gap = x.mean(dim=(2, 3))
        z = gap if self.beta is None or message is None else \
            gap + self.beta * message[0]
        a = self.fc(z)
        return x * a[:, :, None, None], (gap * a, )


@MODELS.register_module()
class DCAGC(nn.Module):
    """Global-context block with a DCA connection (as the official GC-DCA).

    ``ctx = softmax-pooled context + w * T_prev``, ``T = conv(ReLU(LN(
    conv(ctx))))`` (last conv zero-initialised, as GCNet), output ``x + T``,
    message ``T``.

    Args:
        channels (int): C.
        ratio (float): bottleneck ratio. Defaults to 1/16.
        connected (bool): takes a message (has ``w``, init 0).
    """

    def __init__(self, channels: int, ratio: float = 1. / 16,
                 connected: bool = True):
        super().__init__()
        hidden = max(int(channels * ratio), 1)
        self.conv_mask = nn.Conv2d(channels, 1, 1)
        self.channel_add_conv = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.LayerNorm([hidden, 1, 1]),
            nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1))
        self.weight = nn.Parameter(torch.zeros(1)) if connected else None
        self.init_weights()

    def init_weights(self) -> None:
        """Zero the last transform conv: the block starts as identity (run
        again by :class:`DCAFPN` after its ``init_cfg``)."""
        nn.init.zeros_(self.channel_add_conv[-1].weight)
        nn.init.zeros_(self.channel_add_conv[-1].bias)

    def forward(self, x: Tensor, message: Message = None
                ) -> Tuple[Tensor, Tuple[Tensor]]:
        """(N, C, H, W), message ((N, C, 1, 1),) -> (N, C, H, W), (T,)."""
        n, c = x.shape[:2]
        mask = F.softmax(self.conv_mask(x).view(n, 1, -1), dim=-1)
        ctx = torch.bmm(x.view(n, c, -1), mask.transpose(1, 2)).view(
            n, c, 1, 1)
        if self.weight is not None and message is not None:
            ctx = ctx + self.weight * message[0]
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
