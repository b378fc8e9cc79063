"""FPT: the Feature Pyramid Transformer neck.

Paper: Zhang et al., "Feature Pyramid Transformer", ECCV 2020
(https://arxiv.org/abs/2007.09451); the paper's version (the official
``FPT_a``): backbone laterals, no FPN top-down path, and per level the
concatenation of its Self-Transformer output, the Rendering-Transformer
outputs from every finer level, the Grounding-Transformer outputs from every
coarser level and the level itself, fused back to C by a 3x3 conv.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import ConvModule
from mmengine.model import initialize
from torch import Tensor, nn

from mmplug.models.layers.fpt import (GroundingTransformer,
                                      RenderingTransformer, SelfTransformer)
from mmplug.models.utils.backbone import checkpoint_if
from mmplug.models.utils.pyramid import PyramidNeck
from mmplug.registry import MODELS


@MODELS.register_module()
class FPT(PyramidNeck):
    """Feature Pyramid Transformer on backbone levels, with mmdet FPN's
    level arguments so it drops into any detector or mmseg
    ``EncoderDecoder`` neck.

    Level ``i`` (0 = finest used) outputs
    ``conv3x3(cat[ST_i(P_i), RT(P_i <- P_j) for finer j (nearest first),
    GT(P_i <- P_j) for coarser j (nearest first), P_i])`` with
    ``P_i = lateral_i(C_i)``; extra levels follow as in mmdet's FPN
    (``add_extra_convs=False``: max-pool, the official P6).

    Memory bounds (the defaults; the official code has neither and does not
    fit a 1333x800 image): ST pools its keys and values to about the
    coarsest level's size (``kv_stride=None``: stride ``2 ** (L - 1 - i)``,
    at least 2, i.e. 8/4/2/2 on P2-P5) and GT attends within a 7x7 window
    of the coarser map (``window=7``, the paper's locality-constrained GT).
    ``st_cfg=dict(kv_stride=2)`` and ``gt_cfg=dict(window=None)`` give the
    paper's global attention.

    Args:
        in_channels, out_channels, num_outs, start_level, end_level,
            add_extra_convs, relu_before_extra_convs: as mmdet's FPN, see
            :class:`~mmplug.models.utils.pyramid.PyramidNeck`;
            ``out_channels`` is the C of the laterals, transformers and
            outputs.
        st_levels, gt_levels, rt_levels (Sequence[int], optional): used
            levels (0 = finest) whose output gets that transformer
            (None: every level; ``()``: off). GT needs a coarser level and
            RT a finer one, so GT on the coarsest and RT on the finest level
            add nothing.
        st_cfg (dict): :class:`SelfTransformer` arguments; ``kv_stride`` may
            be an int, a list per used level, or None (see above).
        gt_cfg (dict): :class:`GroundingTransformer` arguments
            (``similarity`` ``'euclidean'`` | ``'dot'``, ``window``,
            ``inter_channels``).
        rt_cfg (dict): :class:`RenderingTransformer` arguments
            (``downsample`` ``'pool'`` | ``'conv'``).
        conv_cfg (dict, optional): for every conv.
        norm_cfg (dict, optional): norm of the laterals and the fusion convs
            (the official ``with_norm``; None: convs with bias).
        act_cfg (dict, optional): activation of the laterals and fusion.
        trans_norm_cfg (dict): norm inside ST/GT/RT (official: BN). RT
            normalises a globally pooled vector, so BN there needs more than
            one image per GPU in training (or SyncBN).
        with_cp (bool): gradient checkpointing of the transformer branches.
        init_cfg (dict | list[dict], optional): applied after the default
            initialisation, :meth:`init_from_scratch` (see
            :class:`~mmplug.models.utils.pyramid.PyramidNeck`).

    Example:
        >>> import torch
        >>> from mmplug.models import FPT
        >>> neck = FPT([8, 16, 32, 64], 16, num_outs=5)
        >>> feats = [torch.rand(1, c, 50 // 2**i, 84 // 2**i)
        ...          for i, c in enumerate([8, 16, 32, 64])]
        >>> [tuple(o.shape[-2:]) for o in neck.eval()(feats)]
        [(50, 84), (25, 42), (12, 21), (6, 10), (3, 5)]
    """

    def __init__(self,
                 in_channels: List[int],
                 out_channels: int = 256,
                 num_outs: int = 5,
                 start_level: int = 0,
                 end_level: int = -1,
                 add_extra_convs: Union[bool, str] = False,
                 relu_before_extra_convs: bool = False,
                 st_levels: Optional[Sequence[int]] = None,
                 gt_levels: Optional[Sequence[int]] = None,
                 rt_levels: Optional[Sequence[int]] = None,
                 st_cfg: dict = dict(),
                 gt_cfg: dict = dict(),
                 rt_cfg: dict = dict(),
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 trans_norm_cfg: dict = dict(type='BN'),
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(in_channels, out_channels, num_outs, start_level,
                         end_level, add_extra_convs, relu_before_extra_convs,
                         init_cfg)
        self.with_cp = with_cp
        num_levels = self.num_levels
        self.st_levels = self._levels('st_levels', st_levels, num_levels)
        self.gt_levels = self._levels('gt_levels', gt_levels, num_levels)
        self.rt_levels = self._levels('rt_levels', rt_levels, num_levels)

        st_cfg = dict(st_cfg)
        kv_stride = st_cfg.pop('kv_stride', None)
        if kv_stride is None:
            kv_stride = [max(2, 2**(num_levels - 1 - i))
                         for i in range(num_levels)]
        elif isinstance(kv_stride, int):
            kv_stride = [kv_stride] * num_levels
        elif len(kv_stride) != num_levels:
            raise ValueError(f'st_cfg.kv_stride has {len(kv_stride)} entries '
                             f'for {num_levels} levels')
        gt_cfg = dict(dict(window=7), **gt_cfg)
        trans = dict(norm_cfg=trans_norm_cfg)
        self.st = nn.ModuleDict({
            str(i): SelfTransformer(out_channels, kv_stride=kv_stride[i],
                                    **trans, **st_cfg)
            for i in self.st_levels})
        # key 'target_source'; one module per pair, as in the paper
        self.gt = nn.ModuleDict({
            f'{i}_{j}': GroundingTransformer(out_channels, scale=2**(j - i),
                                             **trans, **gt_cfg)
            for i in self.gt_levels for j in range(i + 1, num_levels)})
        self.rt = nn.ModuleDict({
            f'{i}_{j}': RenderingTransformer(out_channels, scale=2**(i - j),
                                             conv_cfg=conv_cfg, **trans,
                                             **rt_cfg)
            for i in self.rt_levels for j in range(i - 1, -1, -1)})

        convs = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.lateral_convs = nn.ModuleList(
            ConvModule(in_channels[start_level + i], out_channels, 1,
                       inplace=False, **convs) for i in range(num_levels))
        self.fpt_convs = nn.ModuleList(
            ConvModule(out_channels * (1 + len(self._sources(i))),
                       out_channels, 3, padding=1, inplace=False, **convs)
            for i in range(num_levels))
        self.extra_convs = nn.ModuleList(self._build_extra_convs(**convs))

    @staticmethod
    def _levels(name: str, levels: Optional[Sequence[int]],
                num_levels: int) -> Tuple[int, ...]:
        if levels is None:
            return tuple(range(num_levels))
        bad = [i for i in levels if not 0 <= i < num_levels]
        if bad:
            raise ValueError(f'{name} {bad} out of range: the neck uses '
                             f'{num_levels} levels (0 = finest)')
        return tuple(sorted(set(levels)))

    def _sources(self, i: int) -> Dict[str, Tuple[nn.Module, Tuple[int]]]:
        """The transformer branches into level ``i``, in concat order:
        name -> (module, levels it reads)."""
        branches = {}
        if str(i) in self.st:
            branches[f'st.{i}'] = (self.st[str(i)], (i, ))
        for j in range(i - 1, -1, -1):
            if f'{i}_{j}' in self.rt:
                branches[f'rt.{i}_{j}'] = (self.rt[f'{i}_{j}'], (i, j))
        for j in range(i + 1, len(self.lateral_convs)):
            if f'{i}_{j}' in self.gt:
                branches[f'gt.{i}_{j}'] = (self.gt[f'{i}_{j}'], (i, j))
        return branches

    @property
    def extra_level_convs(self) -> Sequence[nn.Module]:
        return self.extra_convs

    def fuse(self, laterals: List[Tensor]) -> List[Tensor]:
        """Level ``i``: the 3x3 fusion of its transformer branches and
        itself."""
        outs = []
        for i, fuse in enumerate(self.fpt_convs):
            parts = [self._run(module, *(laterals[j] for j in levels))
                     for module, levels in self._sources(i).values()]
            outs.append(fuse(torch.cat(parts + [laterals[i]], dim=1)))
        return outs

    def _run(self, module: nn.Module, *args: Tensor) -> Tensor:
        return checkpoint_if(self.with_cp and self.training, module, *args)

    def init_from_scratch(self) -> None:
        """The official initialisation: convs kaiming-uniform with a=1 and
        zero bias (mmengine's ``Caffe2Xavier``), GT's output norms at zero
        (each GT branch starts as no change)."""
        initialize(self, dict(type='Caffe2Xavier', layer='Conv2d'))
        for gt in self.gt.values():
            gt.init_weights()
