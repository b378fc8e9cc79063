"""ParC-ConvNeXt: ConvNeXt whose late blocks mix tokens by ParC.

Papers: ParC-Net (Zhang et al., ECCV 2022, https://arxiv.org/abs/2203.03952),
Fast-ParC (Yang et al., https://arxiv.org/abs/2210.04020) and ConvNeXt (Liu
et al., CVPR 2022). Written from the papers and notes on the official code
(hkzhang91/ParC-Net ``ParC_ConvNets``, and the authors' downstream code
yangtao2019yt/edgeformer_v2_*). Parameter names are ConvNeXt's
(facebookresearch): ``downsample_layers``, ``stages``, ``dwconv``,
``pwconv1``/``pwconv2``, ``gamma``, output norms ``norm{i}``, so that
ConvNeXt checkpoints load; :meth:`ParCConvNeXt.get_layer_depth` gives
ConvNeXt's layer ids for layer-wise lr decay (mmpretrain's protocol, used
by ``mmplug.LayerDecayOptimizerConstructor``).
"""
import re
from functools import partial
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model.weight_init import trunc_normal_
from torch import Tensor, nn

from mmplug.models.layers.norm import build_norm2d
from mmplug.models.layers.parc import (ParC, ParCMixer,
                                      rename_official_parc_key)
from mmplug.models.utils.arch import count_indices, parse_arch
from mmplug.models.utils.backbone import (BaseBackbone, checkpoint_if,
                                          normalize_out_indices)
from mmplug.registry import MODELS


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block, with a ParC mixer instead of the 7x7 depthwise conv
    when ``parc_kernel`` is given.

    ``x + drop_path(gamma * pwconv2(GELU(pwconv1(LN(mixer(x))))))``, the
    point-wise layers as ``nn.Linear`` on channels-last tokens.

    Args:
        dim (int): channels.
        drop_path (float): stochastic depth rate.
        layer_scale_init_value (float): initial ``gamma``; 0 disables it.
        parc_kernel (int, optional): meta kernel length of a ParC block.
        impl (str): ParC implementation.
        with_cp (bool): activation checkpointing.
        norm_cfg (dict): the norm after the mixer: the default channels
            LayerNorm runs on channels-last tokens, any other norm
            (:func:`build_norm2d`) on the (N, C, H, W) map.
    """

    def __init__(self,
                 dim: int,
                 drop_path: float = 0.,
                 layer_scale_init_value: float = 1e-6,
                 parc_kernel: Optional[int] = None,
                 impl: str = 'auto',
                 with_cp: bool = False,
                 norm_cfg: dict = dict(type='LN2d', eps=1e-6)):
        super().__init__()
        if parc_kernel:
            self.parc = ParCMixer(dim, parc_kernel, impl)
        else:
            self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm_channels_last = norm_cfg['type'] == 'LN2d'
        self.norm = nn.LayerNorm(dim, eps=norm_cfg.get('eps', 1e-6)) \
            if self.norm_channels_last else build_norm2d(norm_cfg, dim)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init_value * torch.ones(dim)) \
            if layer_scale_init_value > 0 else None
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()
        self.with_cp = with_cp

    @property
    def is_parc(self) -> bool:
        return hasattr(self, 'parc')

    def _inner_forward(self, x: Tensor) -> Tensor:
        y = self.parc(x) if self.is_parc else self.dwconv(x)
        y = self.norm(y.permute(0, 2, 3, 1)) if self.norm_channels_last \
            else self.norm(y).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(y)))
        if self.gamma is not None:
            y = self.gamma * y
        return x + self.drop_path(y.permute(0, 3, 1, 2))

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        return checkpoint_if(self.with_cp, self._inner_forward, x)


class Downsample(nn.Sequential):
    """ConvNeXt's stem (conv 4x4 s4, LN) or downsampling layer (LN, conv
    2x2 s2). The conv's input is zero-padded bottom/right to a multiple of
    the stride, so an (H, W) map becomes (ceil(H / s), ceil(W / s))."""

    def forward(self, x: Tensor) -> Tensor:
        for module in self:
            if isinstance(module, nn.Conv2d):
                s_h, s_w = module.stride
                x = F.pad(x, (0, -x.shape[-1] % s_w, 0, -x.shape[-2] % s_h))
            x = module(x)
        return x


#: mmpretrain's ConvNeXt names -> facebookresearch's (ours)
MMPRETRAIN_KEY_MAP = (
    (r'\.depthwise_conv\.', '.dwconv.'),
    (r'\.pointwise_conv([12])\.', r'.pwconv\1.'),
    (r'^head\.fc\.', 'head.'),
)


def convert_parc_convnext(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Official ParC-ConvNeXt, facebookresearch ConvNeXt or mmpretrain
    ConvNeXt keys -> ours: mmpretrain's names as facebookresearch's, ParC
    keys as :func:`rename_official_parc_key`.

    Args:
        state_dict (dict): checkpoint keys (without a ``backbone.`` prefix).

    Returns:
        dict: a new dict with mmplug's keys.
    """
    converted = {}
    for key, value in state_dict.items():
        for pattern, repl in MMPRETRAIN_KEY_MAP:
            key = re.sub(pattern, repl, key)
        converted[rename_official_parc_key(key)] = value
    return converted


def infer_parc_convnext_arch(state_dict: Dict[str, Tensor]) -> dict:
    """:class:`ParCConvNeXt`'s ``arch``, ``parc_stages`` (a plain ConvNeXt
    gets the default ones) and ``num_classes`` from a (ParC-)ConvNeXt state
    dict (after :func:`convert_parc_convnext`); ValueError if it is none."""
    if not any(k.startswith('downsample_layers.') for k in state_dict):
        raise ValueError('not a ConvNeXt state dict: no downsample_layers.*')
    num_stages = count_indices(state_dict, r'stages\.(\d+)\.')
    depths = [count_indices(state_dict, rf'stages\.{i}\.(\d+)\.')
              for i in range(num_stages)]
    dims = [state_dict[f'downsample_layers.{i}.{0 if i == 0 else 1}.weight']
            .shape[0] for i in range(num_stages)]
    parc_stages = [i for i in range(num_stages)
                   if any(k.startswith(f'stages.{i}.') and '.parc.' in k
                          for k in state_dict)]
    head = state_dict.get('head.weight')
    return dict(arch=dict(embed_dims=dims, depths=depths),
                parc_stages=parc_stages or (2, 3),
                num_classes=0 if head is None else head.shape[0])


@MODELS.register_module()
class ParCConvNeXt(BaseBackbone):
    """ParC-ConvNeXt backbone.

    ConvNeXt (stem conv 4x4 s4, four stages of ConvNeXt blocks at strides 4,
    8, 16, 32, LayerNorm + conv 2x2 s2 between stages) in which the last
    third of the blocks of stages 3 and 4 (block ``j`` of a stage of depth
    ``d`` when ``j + 1 > 2 * d // 3``) replace the 7x7 depthwise conv by a
    :class:`ParCMixer` with meta kernels of the stage's feature size at
    ``pretrain_img_size`` (14 and 7 at 224). The kernels and PEs are resized
    to the actual map, so any input size works. Each output stage ``i`` has
    a channels-first LayerNorm ``norm{i}``.

    ``num_classes > 0`` adds the ImageNet classifier (``norm`` and ``head``
    on the pooled last map, as the official classification model) for
    :meth:`forward_classifier`.

    Args:
        arch (str | dict): ``'xt'``/``'xtiny'``, ``'t'``/``'tiny'``,
            ``'s'``/``'small'``, ``'b'``/``'base'``, or a dict with
            ``embed_dims`` and ``depths``.
        parc_stages (Sequence[int]): stages whose last third are ParC
            blocks. Defaults to (2, 3).
        pretrain_img_size (int): image size the meta kernels are sized for.
        impl (str): ParC implementation: ``'auto'`` (default), ``'spatial'``
            or ``'fft'``; the same function.
        drop_path_rate (float): stochastic depth, linearly increasing over
            all blocks.
        layer_scale_init_value (float): initial ``gamma``; 0 disables it.
            Defaults to 1e-6.
        norm_cfg (dict): the stem's, downsampling layers', blocks' and
            output norms: ConvNeXt's LayerNorm over channels (default,
            ``dict(type='LN2d', eps=1e-6)``), or for example
            ``dict(type='BN')`` (:func:`build_norm2d`; the demo
            configs train from scratch with BatchNorms, which learn on the
            small synthetic demo data where the LayerNorms do not).
        **kwargs: the backbone contract (``in_channels``, ``out_indices``,
            ``frozen_stages``, ``norm_eval``, ``with_cp``, ``num_classes``,
            ``pretrained``, ``init_cfg``: :class:`BaseBackbone`);
            ``frozen_stages`` includes the downsampling layers before the
            stages. Official ParC-ConvNeXt (both layouts), facebookresearch
            or mmpretrain ConvNeXt checkpoints load
            (:func:`convert_parc_convnext`).

    Example:
        >>> import torch
        >>> from mmplug.models import ParCConvNeXt
        >>> model = ParCConvNeXt(arch=dict(embed_dims=[8, 16, 32, 64],
        ...                                depths=[1, 1, 3, 1]))
        >>> [tuple(o.shape) for o in model.eval()(torch.rand(1, 3, 97, 131))]
        [(1, 8, 25, 33), (1, 16, 13, 17), (1, 32, 7, 9), (1, 64, 4, 5)]
    """
    arch_zoo = {
        **dict.fromkeys(['xt', 'xtiny'], dict(
            embed_dims=[48, 96, 192, 384], depths=[3, 3, 9, 3])),
        **dict.fromkeys(['t', 'tiny'], dict(
            embed_dims=[96, 192, 384, 768], depths=[3, 3, 9, 3])),
        **dict.fromkeys(['s', 'small'], dict(
            embed_dims=[96, 192, 384, 768], depths=[3, 3, 27, 3])),
        **dict.fromkeys(['b', 'base'], dict(
            embed_dims=[128, 256, 512, 1024], depths=[3, 3, 27, 3])),
    }
    essential_keys = {'embed_dims', 'depths'}

    def __init__(self,
                 arch: Union[str, dict] = 'xt',
                 parc_stages: Sequence[int] = (2, 3),
                 pretrain_img_size: int = 224,
                 impl: str = 'auto',
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 1e-6,
                 norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 **kwargs):
        super().__init__(**kwargs)
        self.arch = parse_arch(arch, self.arch_zoo, self.essential_keys,
                               'ParC-ConvNeXt', stage_keys=('depths',
                                                            'embed_dims'))
        dims, depths = self.arch['embed_dims'], self.arch['depths']
        self.embed_dims = list(dims)
        self._set_stages(len(depths))
        self.parc_stages = normalize_out_indices(parc_stages,
                                                 self.num_stages) \
            if len(parc_stages) else ()
        self.stage_channels = list(dims)
        self.stage_strides = [4 * 2**i for i in range(self.num_stages)]
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()

        self.downsample_layers = nn.ModuleList()
        self.stages = nn.ModuleList()
        for i in range(self.num_stages):
            if i == 0:
                self.downsample_layers.append(Downsample(
                    nn.Conv2d(self.in_channels, dims[0], 4, 4),
                    build_norm2d(norm_cfg, dims[0])))
            else:
                self.downsample_layers.append(Downsample(
                    build_norm2d(norm_cfg, dims[i - 1]),
                    nn.Conv2d(dims[i - 1], dims[i], 2, 2)))
            kernel = pretrain_img_size // self.stage_strides[i]
            self.stages.append(nn.Sequential(*[
                ConvNeXtBlock(
                    dims[i], dpr[sum(depths[:i]) + j], layer_scale_init_value,
                    kernel if self.is_parc_block(i, j) else None, impl,
                    self.with_cp, norm_cfg) for j in range(depths[i])
            ]))
        self._add_out_norms(partial(build_norm2d, norm_cfg))
        self._build_classifier(dims[-1], name='head',
                               norm=partial(nn.LayerNorm, eps=1e-6))
        self._setup_freezing()

    def is_parc_block(self, stage: int, index: int) -> bool:
        """Whether block ``index`` of ``stage`` is a ParC block (the last
        third of a ParC stage)."""
        depth = self.arch['depths'][stage]
        return stage in self.parc_stages and index + 1 > 2 * depth // 3

    def _frozen_modules(self, frozen_stages: int) -> List[nn.Module]:
        modules = [self.downsample_layers[0]]
        for i in range(frozen_stages):
            modules.append(self.stages[i])
            if i in self.out_norm_names:
                modules.append(getattr(self, self.out_norm_names[i]))
            if i + 1 < self.num_stages:
                modules.append(self.downsample_layers[i + 1])
        return modules

    def get_layer_depth(self, param_name: str,
                        prefix: str = '') -> Tuple[int, int]:
        """ConvNeXt's layer ids for layer-wise lr decay (as mmpretrain's and
        mmdet's ConvNeXt): the stem 0, stage 1 1, stage 2 (and the
        downsampling before it) 2, stage 3 ``3 + block // 3`` (its
        downsampling 3), the last stage and its downsampling ``L``, anything
        else ``L + 1``; ``L`` is 12 when the third stage has more than 9
        blocks, else 6. See :meth:`BaseBackbone.get_layer_depth`."""
        last = 12 if self.arch['depths'][-2] > 9 else 6
        parts = param_name[len(prefix):].split('.') \
            if param_name.startswith(prefix) else ['']
        if parts[0] not in ('downsample_layers', 'stages'):
            return last + 1, last + 2
        stage, is_block = int(parts[1]), parts[0] == 'stages'
        if stage == self.num_stages - 1:
            return last, last + 2
        if stage == 2 and is_block:
            return 3 + int(parts[2]) // 3, last + 2
        return 0 if stage == 0 and not is_block else stage + 1, last + 2

    def convert_state_dict(self, state_dict: Dict) -> Dict:
        return convert_parc_convnext(state_dict)

    def init_from_scratch(self) -> None:
        """ConvNeXt's initialisation: truncated normal (std 0.02) for convs
        and linear layers, zero biases; ParC as :meth:`ParC.reset_parameters`
        (kernel and PE truncated normal)."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, ParC):
                m.reset_parameters()

    def stage_outputs(self, x: Tensor) -> Iterator[Tensor]:
        """Yield each stage's map (N, C_i, ceil(H / s_i), ceil(W / s_i)),
        strides 4, 8, 16, 32; :meth:`forward` returns those of
        ``out_indices`` through ``norm{i}``."""
        for downsample, stage in zip(self.downsample_layers, self.stages):
            x = stage(downsample(x))
            yield x

