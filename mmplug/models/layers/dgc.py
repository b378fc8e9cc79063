"""DGC: dynamic group convolution.

Paper: Su et al., "Dynamic Group Convolution for Accelerating Convolutional
Neural Networks", ECCV 2020 (https://arxiv.org/abs/2007.04242). Written from
the paper and our notes on the official code (zhuogege1943/dgc,
``DynamicMultiHeadConv``): ``heads`` heads each see the input through a
per-sample channel saliency from their own generator (global pooling, two
linear layers, ReLUs) with the least salient channels zeroed; each head's
conv gives ``C_out / heads`` channels. The outputs stay in head order
(the official code interleaves them for the group convs that follow in
CondenseNet): output channel ``r`` is weight row ``r``, so a plain conv's
checkpoint maps onto ``weight`` channel for channel. The number of zeroed
channels grows with training progress (0 before 1/12 of training, then
linearly to ``C_in * (1 - gate_factor)`` at 3/4, then constant), set by
:class:`mmplug.engine.DGCProgressHook`, which also adds the L1 ("lasso")
penalty on the saliencies, weighted ``lasso_weight``, to the training losses
as ``loss_dgc_lasso`` (logged, and scaled by mixed precision and gradient
accumulation like any loss).

This is the dense form (as the official code): the masked input is
multiplied, not skipped, so **it saves no FLOPs or time**, and it holds
``heads`` copies of its input.
"""
import math
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmplug.models.utils.conv import set_conv_attributes
from mmplug.registry import MODELS


def inactive_channels(progress: float, channels: int,
                      gate_factor: float) -> int:
    """Channels each head zeroes at training ``progress`` in [0, 1]."""
    final = int(channels * (1 - gate_factor))
    start, end = 1 / 12, 3 / 4
    if progress < start:
        return 0
    return round(final * min(1.0, (progress - start) / (end - start)))


@MODELS.register_module()
class DGConv2d(nn.Module):
    """Dynamic group conv for ResNet's ``dcn`` slot or ``conv_cfg``::

        backbone=dict(dcn=dict(type='mmplug.DGConv2d', heads=4,
                               fallback_on_stride=False),
                      stage_with_dcn=(False, True, True, True))
        custom_hooks = [dict(type='mmplug.DGCProgressHook')]

    The training progress is the buffer ``progress`` (saved with the
    checkpoint, so a trained model tests with its final pruning), set with
    :meth:`set_progress`. In training, each forward leaves the saliency
    penalty ``lasso_weight * mean(saliency)`` in :attr:`penalty` for the
    hook to add to the losses.

    Args:
        in_channels, out_channels (int): channels (``out_channels``
            divisible by ``heads``).
        kernel_size, stride, padding, dilation: as ``nn.Conv2d``.
        groups (int): 1 only.
        bias (bool): a bias on the output.
        heads (int): heads. Defaults to 4.
        squeeze_rate (int): the generators' reduction (halved below 80
            input channels, as the official code). Defaults to 16.
        gate_factor (float): share of the channels each head finally keeps.
        lasso_weight (float): weight of the saliency L1 penalty.
        pre_activation (bool): the official BN + ReLU on the input first
            (off for a post-activation ResNet slot, whose input is already
            normalised and rectified).

    Example:
        >>> import torch
        >>> from mmplug.models.layers import DGConv2d
        >>> conv = DGConv2d(16, 32, 3, padding=1).eval()
        >>> conv.set_progress(1.0)  # end of training: 75% of 16 zeroed
        >>> conv(torch.rand(2, 16, 8, 8)).shape, conv.inactive
        (torch.Size([2, 32, 8, 8]), 12)
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Union[int, tuple] = 3,
                 stride: Union[int, tuple] = 1,
                 padding: Union[int, tuple] = 0,
                 dilation: Union[int, tuple] = 1,
                 groups: int = 1,
                 bias: bool = False,
                 heads: int = 4,
                 squeeze_rate: int = 16,
                 gate_factor: float = 0.25,
                 lasso_weight: float = 1e-5,
                 pre_activation: bool = False):
        super().__init__()
        if groups != 1:
            raise ValueError(f'DGConv supports groups=1 only, got {groups}')
        if out_channels % heads:
            raise ValueError(f'DGConv: out_channels={out_channels} is not '
                             f'divisible by heads={heads}')
        set_conv_attributes(self, in_channels, out_channels, kernel_size,
                            stride, padding, dilation, groups)
        self.heads = heads
        self.gate_factor, self.lasso_weight = gate_factor, lasso_weight
        squeeze = squeeze_rate // 2 if in_channels < 80 else squeeze_rate
        hidden = max(in_channels // squeeze, 1)
        self.pre_norm = nn.BatchNorm2d(in_channels) if pre_activation \
            else None
        self.gate_w1 = nn.Parameter(torch.empty(heads, hidden, in_channels))
        self.gate_w2 = nn.Parameter(torch.empty(heads, in_channels, hidden))
        self.gate_b2 = nn.Parameter(torch.empty(heads, in_channels))
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.register_buffer('progress', torch.tensor(0.0))
        # the progress as a Python float: no device sync per forward
        self.progress_value = 0.0
        self.register_load_state_dict_post_hook(_sync_progress)
        #: ``lasso_weight * mean(saliency)`` of the last training forward
        self.penalty = None
        self.init_weights()

    def init_weights(self) -> None:
        """Kaiming-uniform (as ``nn.Conv2d``) conv and generator weights;
        the generators' last bias at 1 (official), so every channel starts
        salient."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        for w in (self.gate_w1, self.gate_w2):
            for h in range(self.heads):
                nn.init.kaiming_uniform_(w[h], a=math.sqrt(5))
        nn.init.ones_(self.gate_b2)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def set_progress(self, progress: float) -> None:
        """Set the training progress in [0, 1] (``iter / max_iters``)."""
        self.progress.fill_(progress)
        self.progress_value = float(progress)

    @property
    def inactive(self) -> int:
        """Input channels each head zeroes now."""
        return inactive_channels(self.progress_value, self.in_channels,
                                 self.gate_factor)

    def saliency(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> per-head saliencies (N, heads, C_in) >= 0."""
        ctx = x.mean(dim=(2, 3))
        hid = F.relu(torch.einsum('hjc,nc->nhj', self.gate_w1, ctx))
        return F.relu(torch.einsum('hcj,nhj->nhc', self.gate_w2, hid)
                      + self.gate_b2)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C_in, H, W) -> (N, C_out, H', W')."""
        if self.pre_norm is not None:
            x = F.relu(self.pre_norm(x))
        n, c, h, w = x.shape
        s = self.saliency(x)
        k = self.inactive
        gated = s
        if k > 0:  # zero each head's k least salient channels per sample
            low = s.topk(k, dim=-1, largest=False).indices
            gated = s.scatter(-1, low, 0.0)
        stacked = (x[:, None] * gated[..., None, None]).reshape(
            n, self.heads * c, h, w)
        out = F.conv2d(stacked, self.weight, None, self.stride, self.padding,
                       self.dilation, groups=self.heads)
        if self.bias is not None:
            out = out + self.bias[:, None, None]
        self.penalty = self.lasso_weight * s.mean() \
            if self.training and self.lasso_weight else None
        return out


def _sync_progress(module: DGConv2d, incompatible_keys) -> None:
    """After ``load_state_dict``: the float copy of the loaded progress."""
    module.progress_value = float(module.progress)
