"""Channels-first LayerNorm (ConvNeXt's downsampling and output norms)."""
import torch.nn.functional as F
from torch import Tensor, nn

from mmplug.registry import MODELS


@MODELS.register_module(name='LN2d')
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an (N, C, H, W) map.

    Same parameters as ``nn.LayerNorm(C)`` (keys ``weight``, ``bias``), so
    ConvNeXt checkpoints load as they are.

    Example:
        >>> import torch
        >>> LayerNorm2d(8)(torch.rand(2, 8, 5, 7)).shape
        torch.Size([2, 8, 5, 7])
    """

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W), normalised over C."""
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)
