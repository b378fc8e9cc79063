"""DCA-FPN: an FPN whose levels carry connected attention blocks.

A new design after DCANet (Ma et al., https://arxiv.org/abs/2007.05099):
each pyramid level's output passes through an attention block (SE, CBAM or
GC) that also receives the previous level's attention message, top-down
(coarse to fine) or bottom-up. The message weights start at zero, so the
neck starts as "FPN + independent per-level attention".
"""
from typing import List, Optional, Sequence, Union

import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import initialize
from torch import Tensor, nn

from mmplug.models.layers.attention import DCACBAM, DCAGC, DCASE
from mmplug.models.utils.pyramid import PyramidNeck
from mmplug.registry import MODELS

ATTENTIONS = {'se': DCASE, 'cbam': DCACBAM, 'gc': DCAGC}


@MODELS.register_module()
class DCAFPN(PyramidNeck):
    """FPN (mmdet's arguments and computation) with DCA-connected attention
    on the outputs of the backbone levels; extra levels follow from the
    attended outputs as in FPN.

    Args:
        in_channels, out_channels, num_outs, start_level, end_level,
            add_extra_convs, relu_before_extra_convs: as mmdet's FPN, see
            :class:`~mmplug.models.utils.pyramid.PyramidNeck`.
        no_norm_on_lateral (bool): no norm in the lateral convs.
        conv_cfg, norm_cfg, act_cfg (dict, optional): for the convs.
        upsample_cfg (dict): ``F.interpolate`` arguments of the top-down
            path. Defaults to nearest.
        attention (str): ``'se'``, ``'cbam'`` or ``'gc'``.
        direction (str): message flow, ``'top_down'`` (coarsest level
            first) or ``'bottom_up'``.
        connect (bool): connect the attention blocks (False: independent
            attention per level, the ablation baseline).
        init_cfg (dict | list[dict], optional): applied after the default
            initialisation, :meth:`init_from_scratch` (see
            :class:`~mmplug.models.utils.pyramid.PyramidNeck`).

    Example:
        >>> import torch
        >>> from mmplug.models import DCAFPN
        >>> neck = DCAFPN([8, 16, 32, 64], 16, num_outs=5, attention='cbam')
        >>> feats = [torch.rand(1, c, 64 // 2**i, 80 // 2**i)
        ...          for i, c in enumerate([8, 16, 32, 64])]
        >>> [tuple(o.shape[-2:]) for o in neck(feats)]
        [(64, 80), (32, 40), (16, 20), (8, 10), (4, 5)]
    """

    def __init__(self,
                 in_channels: List[int],
                 out_channels: int,
                 num_outs: int,
                 start_level: int = 0,
                 end_level: int = -1,
                 add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False,
                 no_norm_on_lateral: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 upsample_cfg: dict = dict(mode='nearest'),
                 attention: str = 'se',
                 direction: str = 'top_down',
                 connect: bool = True,
                 init_cfg: Optional[dict] = None):
        if attention not in ATTENTIONS:
            raise ValueError(f'unknown attention {attention!r}; choose one of '
                             f'{sorted(ATTENTIONS)}')
        if direction not in ('top_down', 'bottom_up'):
            raise ValueError(f"direction must be 'top_down' or 'bottom_up', "
                             f'got {direction!r}')
        super().__init__(in_channels, out_channels, num_outs, start_level,
                         end_level, add_extra_convs, relu_before_extra_convs,
                         init_cfg)
        self.upsample_cfg = dict(upsample_cfg)
        self.direction = direction

        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(start_level, self.backbone_end_level):
            self.lateral_convs.append(ConvModule(
                in_channels[i], out_channels, 1, conv_cfg=conv_cfg,
                norm_cfg=None if no_norm_on_lateral else norm_cfg,
                act_cfg=act_cfg, inplace=False))
            self.fpn_convs.append(ConvModule(
                out_channels, out_channels, 3, padding=1, conv_cfg=conv_cfg,
                norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False))
        self.fpn_convs.extend(self._build_extra_convs(
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg))
        # one attention block per used backbone level; the first in the
        # message order has no message weight
        self.attentions = nn.ModuleList(
            ATTENTIONS[attention](out_channels,
                                  connected=connect and self._order(i) > 0)
            for i in range(self.num_levels))

    def init_from_scratch(self) -> None:
        """Xavier-uniform convs (as mmdet's FPN), then each attention
        block's own initialisation (GC's zero last conv)."""
        initialize(self, dict(type='Xavier', layer='Conv2d',
                              distribution='uniform'))
        for attention in self.attentions:
            if hasattr(attention, 'init_weights'):
                attention.init_weights()

    def _order(self, level: int) -> int:
        """Position of ``level`` (0 = finest used) in the message chain."""
        return self.num_levels - 1 - level if self.direction == 'top_down' \
            else level

    def _attend(self, outs: List[Tensor]) -> List[Tensor]:
        levels = sorted(range(len(outs)), key=self._order)
        message = None
        for i in levels:
            outs[i], message = self.attentions[i](outs[i], message)
        return outs

    @property
    def extra_level_convs(self) -> Sequence[nn.Module]:
        """mmdet's FPN keeps the extra convs after the level convs."""
        return self.fpn_convs[self.num_levels:]

    def fuse(self, laterals: List[Tensor]) -> List[Tensor]:
        """FPN's top-down sums and 3x3 convs, then the connected
        attention."""
        for i in range(len(laterals) - 1, 0, -1):
            if 'scale_factor' in self.upsample_cfg:
                up = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                up = F.interpolate(laterals[i], size=laterals[i - 1].shape[2:],
                                   **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + up
        return self._attend([self.fpn_convs[i](laterals[i])
                             for i in range(len(laterals))])
