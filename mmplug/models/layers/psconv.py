"""PSConv: poly-scale convolution.

Paper: Li, Yao, Chen, "PSConv: Squeezing Feature Pyramid into One Compact
Poly-Scale Convolutional Layer", ECCV 2020
(https://arxiv.org/abs/2007.06191). Written from the paper and our notes on
the official mmdet-v1 code (d-li14/PSConv): one 3x3 conv whose dilation
varies cyclically over (output group, input group) blocks. With ``P =
parts`` channel groups on each side, block ``(o, i)`` has dilation
``d`` when ``o == i``, ``2 d`` when ``o == i + P/2 (mod P)`` and the slot's
dilation (normally 1) elsewhere. As the official layer it is computed as a
group conv (dilation d), a group conv on the half-swapped input (2 d) and a
dense conv whose weight is masked on those two block diagonals (official
parameter names, so its checkpoints load); the mask is applied in
``forward``, so no init or optimiser step can revive the masked weights.
Compute is about ``1 + 2 / P`` times a 3x3 conv (1.5x at P = 4); the
parameters in effect (unmasked) equal a 3x3 conv's, those stored are
``1 + 2 / P`` times as many.
"""
from typing import Union

import torch
from torch import Tensor, nn
import torch.nn.functional as F

from mmplug.models.utils.conv import set_conv_attributes
from mmplug.registry import MODELS


@MODELS.register_module()
class PSConv2d(nn.Module):
    """Poly-scale 3x3 conv for mmdet/mmseg ResNet's ``dcn`` slot (conv2 of
    every bottleneck), as the official detectors::

        backbone=dict(dcn=dict(type='mmplug.PSConv2d', parts=4, ps_dilation=2,
                               fallback_on_stride=False),
                      stage_with_dcn=(True, True, True, True))

    Args:
        in_channels, out_channels (int): both divisible by ``parts`` (and
            ``parts`` even).
        kernel_size (int): the kernel (3 in the slot).
        stride (int): stride of all three convs.
        padding (int): padding of the dense conv (= its dilation).
        dilation (int): the slot's dilation (normally 1), the dense conv's.
        groups (int): 1 only (the ResNeXt variant is not provided).
        bias (bool): biases on the three convs.
        parts (int): P, channel groups. Defaults to 4.
        ps_dilation (int): d, the diagonal blocks' dilation factor over the
            slot's (official detectors: 2, i.e. dilations 1 / 2 / 4).

    Example:
        >>> import torch
        >>> from mmplug.models.layers import PSConv2d
        >>> conv = PSConv2d(16, 32, 3, stride=2, padding=1)
        >>> conv(torch.rand(1, 16, 15, 20)).shape
        torch.Size([1, 32, 8, 10])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Union[int, tuple] = 3,
                 stride: int = 1,
                 padding: int = 1,
                 dilation: int = 1,
                 groups: int = 1,
                 bias: bool = False,
                 parts: int = 4,
                 ps_dilation: int = 2):
        super().__init__()
        if groups != 1:
            raise ValueError(f'PSConv supports groups=1 only, got {groups}')
        if parts % 2 or in_channels % parts or out_channels % parts:
            raise ValueError(
                f'PSConv: parts={parts} must be even and divide in_channels='
                f'{in_channels} and out_channels={out_channels}')
        d = ps_dilation * dilation
        k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        half = (k - 1) // 2
        self.gwconv = nn.Conv2d(in_channels, out_channels, k, stride,
                                half * d, d, groups=parts, bias=bias)
        self.gwconv_shift = nn.Conv2d(in_channels, out_channels, k, stride,
                                      half * 2 * d, 2 * d, groups=parts,
                                      bias=bias)
        self.conv = nn.Conv2d(in_channels, out_channels, k, stride, padding,
                              dilation, bias=bias)
        set_conv_attributes(self, in_channels, out_channels, k, stride,
                            padding, dilation, groups)
        self.parts = parts
        out_g, in_g = out_channels // parts, in_channels // parts
        o = torch.arange(out_channels)[:, None] // out_g
        i = torch.arange(in_channels)[None, :] // in_g
        covered = (o == i) | (o == (i + parts // 2) % parts)
        self.register_buffer('mask', ~covered[:, :, None, None],
                             persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, H', W')."""
        x1, x2 = x.chunk(2, dim=1)
        dense = F.conv2d(x, self.conv.weight * self.mask, self.conv.bias,
                         self.conv.stride, self.conv.padding,
                         self.conv.dilation)
        return self.gwconv(x) + self.gwconv_shift(torch.cat((x2, x1), 1)) \
            + dense
