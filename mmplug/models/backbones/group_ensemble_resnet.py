"""Group Ensemble ResNet: an ensemble of ResNet tails in one network.

Paper: Chen and Shrivastava, "Group Ensemble: Learning an Ensemble of
ConvNets in a single ConvNet" (https://arxiv.org/abs/2007.00649). **No
official code exists**; this is our design from the paper's abstract: a
shared base (the ResNet stem and first stages) followed by ``num_groups``
independent tails, every conv of the later stages being a group conv (no
channel crosses groups) widened by ``widen_factor`` (``sqrt(G)`` keeps the
FLOPs: a G-group conv of width w C costs (w C)^2 / G), each tail with its own
classifier, logits averaged ("group averaging"). The first block of the
first split stage reads the whole shared map (its 1x1 conv and shortcut are
dense), so every tail sees all shared features. For detection and
segmentation the tails' maps are returned concatenated (channel block g =
tail g); the paper's detection heads are not described.
"""
import math
from typing import List, Optional, Sequence, Union

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from mmplug.models.utils.backbone import (BottleneckBase,
                                          ResNetFamilyBackbone,
                                          normalize_out_indices)
from mmplug.registry import MODELS


class GroupBottleneck(BottleneckBase):
    """ResNet bottleneck (stride on the 3x3) whose convs have ``groups``
    groups; ``in_groups`` for the 1x1 conv and shortcut reading the input
    (1: dense, for the first block after the shared base)."""

    def __init__(self, in_channels: int, mid: int, out: int, stride: int,
                 groups: int, in_groups: int, norm_cfg: dict,
                 with_cp: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, mid, 1, groups=in_groups,
                               bias=False)
        self.bn1 = build_norm_layer(norm_cfg, mid)[1]
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=groups,
                               bias=False)
        self.bn2 = build_norm_layer(norm_cfg, mid)[1]
        self.conv3 = nn.Conv2d(mid, out, 1, groups=groups, bias=False)
        self.bn3 = build_norm_layer(norm_cfg, out)[1]
        self.relu = nn.ReLU(inplace=True)
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, out, 1, stride, groups=in_groups,
                      bias=False),
            build_norm_layer(norm_cfg, out)[1]) \
            if stride != 1 or in_channels != out else None
        self.with_cp = with_cp


@MODELS.register_module()
class GroupEnsembleResNet(ResNetFamilyBackbone):
    """Group Ensemble ResNet backbone (and ImageNet classifier of averaged
    group heads); names as torchvision's ResNet (``conv1``, ``bn1``,
    ``layer{i}``), so a torchvision ResNet checkpoint loads into the shared
    base.

    Args:
        depth (int): 50 or 101.
        num_groups (int): G, tails in the ensemble. Defaults to 4.
        shared_stages (int): stages in the shared base (0-3). Defaults to 2.
        widen_factor (float, optional): width of the split stages
            (default ``sqrt(G)``: about ResNet's FLOPs).
        in_channels, out_indices, frozen_stages, norm_cfg, norm_eval,
            with_cp, depths, init_cfg: as the other mmplug ResNets.
        num_classes (int): classes of each group's classifier; 0 for none.

    Example:
        >>> import torch
        >>> from mmplug.models import GroupEnsembleResNet
        >>> model = GroupEnsembleResNet(depths=[1, 1, 1, 1]).eval()
        >>> [tuple(o.shape) for o in model(torch.rand(1, 3, 64, 96))]
        [(1, 256, 16, 24), (1, 512, 8, 12), (1, 2048, 4, 6), (1, 4096, 2, 3)]
    """
    arch_settings = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
    arch_name = 'GroupEnsembleResNet'

    def __init__(self,
                 depth: int = 50,
                 num_groups: int = 4,
                 shared_stages: int = 2,
                 widen_factor: Optional[float] = None,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = (0, 1, 2, 3),
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 num_classes: int = 0,
                 depths: Optional[Sequence[int]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        depths = self._stage_depths(depth, depths)
        if not 0 <= shared_stages <= 3:
            raise ValueError(f'shared_stages must be in [0, 3], got '
                             f'{shared_stages}')
        widen = math.sqrt(num_groups) if widen_factor is None \
            else widen_factor
        self.num_groups, self.shared_stages = num_groups, shared_stages
        self.out_indices = normalize_out_indices(out_indices, 4)
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = build_norm_layer(norm_cfg, 64)[1]
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.embed_dims: List[int] = []
        channels = 64
        for i, blocks in enumerate(depths):
            split = i >= shared_stages
            mid = 64 * 2**i
            if split:
                mid = int(round(mid * widen / num_groups)) * num_groups
            groups = num_groups if split else 1
            layer = []
            for b in range(blocks):
                first_split = split and i == shared_stages and b == 0
                layer.append(GroupBottleneck(
                    channels, mid, mid * 4, 2 if b == 0 and i > 0 else 1,
                    groups, 1 if first_split else groups, norm_cfg,
                    with_cp))
                channels = mid * 4
            self.add_module(f'layer{i + 1}', nn.Sequential(*layer))
            self.embed_dims.append(channels)
        # one classifier per group: a grouped 1x1 conv on the pooled map
        self._build_classifier(
            channels, num_classes,
            nn.Conv2d(channels, num_groups * num_classes, 1,
                      groups=num_groups) if num_classes > 0 else None)
        self._setup_freezing(frozen_stages, norm_eval, 4)

    def stage_outputs(self, x: Tensor):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(4):
            x = getattr(self, f'layer{i + 1}')(x)
            yield x

    def group_logits(self, last: Tensor) -> Tensor:
        """(N, C, H, W) last map -> each group's logits (N, G, classes)."""
        pooled = last.mean(dim=(2, 3), keepdim=True)
        return self.fc(pooled).view(last.shape[0], self.num_groups, -1)

    def _classify(self, last: Tensor) -> Tensor:
        """Group averaging: the mean of the groups' logits."""
        return self.group_logits(last).mean(dim=1)
