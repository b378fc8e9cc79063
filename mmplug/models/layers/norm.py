"""Channels-first LayerNorm (ConvNeXt's downsampling and output norms) and
a builder of norms over the channels of an (N, C, H, W) map."""
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
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


def build_norm2d(norm_cfg: dict, channels: int) -> nn.Module:
    """A norm over the channels of an (N, C, H, W) map: ``type='LN2d'``
    (a channels-first LayerNorm, :class:`LayerNorm2d`), or any norm of
    mmcv's :func:`~mmcv.cnn.build_norm_layer` (``'BN'``, ``'GN'``,
    ``'SyncBN'``...).

    Example:
        >>> type(build_norm2d(dict(type='BN'), 8)).__name__
        'BatchNorm2d'
        >>> build_norm2d(dict(type='LN2d', eps=1e-6), 8).eps
        1e-06
    """
    cfg = dict(norm_cfg)
    if cfg.pop('type') == 'LN2d':
        return LayerNorm2d(channels, **cfg)
    return build_norm_layer(norm_cfg, channels)[1]
