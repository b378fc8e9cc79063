"""ULSAM: ultra-lightweight subspace attention.

Paper: Saini et al., "ULSAM: Ultra-Lightweight Subspace Attention Module
for Compact Convolutional Neural Networks", WACV 2020
(https://arxiv.org/abs/2006.15102). Written from the paper and our notes on
the official code (Nandan91/ULSAM): the channels are split into ``g``
subspaces; each gets one spatial attention map from a depthwise 1x1 conv,
BN, ReLU, a 3x3 max-pool, a 1x1 conv to one channel, BN, ReLU and a softmax
over all positions; ``out = x * att + x``. All subspaces run at once here
(a grouped 1x1 conv), which equals the official per-subspace loop. BN
momentum is PyTorch's default (the official 0.9 weighs the batch at 90%).
"""
import torch.nn.functional as F
from torch import Tensor, nn

from mmplug.registry import MODELS


@MODELS.register_module()
class ULSAM(nn.Module):
    """Subspace attention, an mmdet/mmseg ResNet ``plugins`` entry::

        plugins=[dict(cfg=dict(type='mmplug.ULSAM', num_splits=8),
                      stages=(False, True, True, True),
                      position='after_conv2')]

    Parameters: ``5 C + 3 g`` (depthwise weight and bias, BN, the grouped
    1x1's weight, its bias and BN per subspace).

    Note: the softmax is over all H x W positions, so at detection
    resolutions each weight is ~1/(HW) and the module is close to the
    identity; mmseg 1.2.2's ResNet does not chain two plugins at one
    position (each gets the block's input), so use one per position there.

    Args:
        in_channels (int): C, divisible by ``num_splits``.
        num_splits (int): g subspaces. Defaults to 4.

    Example:
        >>> import torch
        >>> from mmplug.models.layers import ULSAM
        >>> ULSAM(32, num_splits=4)(torch.rand(2, 32, 7, 9)).shape
        torch.Size([2, 32, 7, 9])
    """
    _abbr_ = 'ulsam'

    def __init__(self, in_channels: int, num_splits: int = 4):
        super().__init__()
        if in_channels % num_splits:
            raise ValueError(f'ULSAM: in_channels={in_channels} is not '
                             f'divisible by num_splits={num_splits}')
        self.num_splits = num_splits
        self.dw = nn.Conv2d(in_channels, in_channels, 1, groups=in_channels)
        self.dw_norm = nn.BatchNorm2d(in_channels)
        self.pw = nn.Conv2d(in_channels, num_splits, 1, groups=num_splits)
        self.pw_norm = nn.BatchNorm2d(num_splits)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        n, c, h, w = x.shape
        y = F.relu(self.dw_norm(self.dw(x)))
        y = F.max_pool2d(y, 3, stride=1, padding=1)
        y = F.relu(self.pw_norm(self.pw(y)))  # (N, g, H, W)
        att = y.flatten(2).softmax(dim=-1).view(n, self.num_splits, 1, h, w)
        x = x.view(n, self.num_splits, c // self.num_splits, h, w)
        return (x * att + x).view(n, c, h, w)
