"""What a backbone sees: effective receptive fields, feature maps and SMT's
modulation / attention maps, as arrays and as PNG figures.

The effective receptive field (ERF) follows RepLKNet (Ding et al., CVPR
2022, "Scaling Up Your Kernels to 31x31", appendix): for each stage, the
gradient of the stage's central output pixel (its ReLU, summed over the
channels) with respect to the input image; its absolute value summed over
the colour channels and averaged over images. (The ReLU is RepLKNet's too;
without it the sum over the channels of a LayerNorm's output, as ConvNeXt
and SMT stages end, would be constant.) A stage whose blocks mix globally
(ParC's row and column kernels, attention) spreads it over the whole
image; a local kernel keeps it around the centre.

``tools/analysis_tools/visualize_erf.py`` and ``visualize_features.py`` are
the command lines.
"""
import glob
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from mmplug.errors import ConfigError

#: contribution shares of :func:`erf_area_ratios` (RepLKNet's thresholds)
ERF_THRESHOLDS = (0.2, 0.3, 0.5, 0.99)
#: decades of the logarithmic ERF display
ERF_DECADES = 3


# ---------------------------------------------------------------------------
# Models and images
# ---------------------------------------------------------------------------
def build_model(config: str, checkpoint: Optional[str] = None,
                cfg_options: Optional[dict] = None,
                seed: int = 0) -> nn.Module:
    """The detector or segmentor of a config (CPU, eval mode, SyncBN as
    BN), with the weights of ``checkpoint`` or, without one, at its own
    initialisation drawn from ``seed`` (the config's pretrained weights
    are not loaded).

    Args:
        config (str): an mmdet or mmseg config.
        checkpoint (str, optional): weights (e.g. a demo run's
            ``iter_*.pth``).
        cfg_options (dict, optional): config overrides.
        seed (int): seed of the initialisation.

    Returns:
        nn.Module: the model; its ``backbone`` is what the pictures show.

    mmengine's current logger becomes a quiet one (warnings only), so that
    the initialisation does not list every parameter.
    """
    from mmengine.logging import MMLogger
    from mmengine.runner import load_checkpoint

    from mmplug.apis.analysis import build_model as build_for_inference
    from mmplug.apis.config import load_config
    from mmplug.checkpoint import install
    cfg = load_config(config, cfg_options)
    if 'backbone' in cfg.model:
        cfg.model.backbone.pop('init_cfg', None)
    if 'pretrained' in cfg.model:
        cfg.model.pretrained = None
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    MMLogger.get_instance('mmplug_visualize', log_level='WARNING')
    torch.manual_seed(seed)
    model = build_for_inference(cfg)
    if checkpoint is None:
        model.init_weights()
    else:
        install()
        load_checkpoint(model, checkpoint, map_location='cpu',
                        logger='silent')
    return model.eval()


def find_images(source: str, num: int) -> List[str]:
    """The first ``num`` images (sorted) of a folder, or ``[source]`` for a
    file."""
    if osp.isfile(source):
        return [source]
    paths = sorted(p for ext in ('jpg', 'jpeg', 'png')
                   for p in glob.glob(osp.join(source, f'*.{ext}')))
    if not paths:
        raise FileNotFoundError(f'no .jpg/.png image in {source}')
    return paths[:num]


def load_images(paths: Sequence[str], size: int,
                model: Optional[nn.Module] = None
                ) -> Tuple[Tensor, List[np.ndarray]]:
    """Images resized to ``size`` x ``size``, normalised as ``model``'s
    data preprocessor does (ImageNet mean and std, RGB, without a model).

    Returns:
        tuple: the batch (N, 3, size, size) and the resized RGB uint8
        images (size, size, 3).
    """
    import mmcv
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    preprocessor = getattr(model, 'data_preprocessor', None)
    # mmengine's preprocessors hold mean and std buffers when they normalise
    if getattr(preprocessor, 'mean', None) is not None:
        mean, std = preprocessor.mean.view(3, 1, 1), \
            preprocessor.std.view(3, 1, 1)
    rgb_images, tensors = [], []
    for path in paths:
        if not osp.isfile(path):
            raise FileNotFoundError(f'image not found: {path}')
        image = mmcv.imread(path, channel_order='rgb')
        image = mmcv.imresize(image, (size, size))
        rgb_images.append(image)
        x = torch.from_numpy(image).permute(2, 0, 1).float()
        tensors.append((x - mean) / std)
    return torch.stack(tensors), rgb_images


# ---------------------------------------------------------------------------
# Effective receptive field
# ---------------------------------------------------------------------------
def effective_receptive_fields(backbone: nn.Module,
                               images: Tensor) -> List[np.ndarray]:
    """The ERF of each output stage of ``backbone`` (RepLKNet's method).

    Args:
        backbone (nn.Module): returns a tuple of (1, C_i, H_i, W_i) maps
            for a (1, 3, H, W) image; used in eval mode.
        images (Tensor): (N, 3, H, W), normalised.

    Returns:
        list[np.ndarray]: per output stage, (H, W): ``|d sum_c
        relu(out[c, h_i // 2, w_i // 2]) / d image|`` summed over the
        colour channels, averaged over the N images.
    """
    was_training = backbone.training
    backbone.eval()
    sums: List[np.ndarray] = []
    try:
        for image in images:
            x = image[None].clone().requires_grad_(True)
            outs = backbone(x)
            for i, out in enumerate(outs):
                h, w = out.shape[-2:]
                centre = out[0, :, h // 2, w // 2].relu().sum()
                grad, = torch.autograd.grad(centre, x,
                                            retain_graph=i + 1 < len(outs))
                field = grad[0].abs().sum(0).double().numpy()
                if len(sums) <= i:
                    sums.append(field)
                else:
                    sums[i] += field
    finally:
        backbone.train(was_training)
    return [s / len(images) for s in sums]


def erf_area_ratios(erf: np.ndarray,
                    thresholds: Sequence[float] = ERF_THRESHOLDS
                    ) -> Dict[float, float]:
    """RepLKNet's high-contribution area ratio: for each share ``t``, the
    area of the smallest square around the centre that holds ``t`` of the
    ERF's total, over the image's area.

    Args:
        erf (np.ndarray): (H, W), non-negative.
        thresholds (Sequence[float]): shares in (0, 1].

    Returns:
        dict: share -> area ratio in (0, 1].

    Example:
        >>> field = np.zeros((9, 9)); field[4, 4] = 1.
        >>> erf_area_ratios(field, [0.5])[0.5] == 1 / 81
        True
    """
    h, w = erf.shape
    total = float(erf.sum())
    cy, cx = h // 2, w // 2
    ratios = {}
    for t in thresholds:
        if total <= 0:
            ratios[t] = float('nan')
            continue
        for r in range(max(h, w)):
            window = erf[max(0, cy - r):cy + r + 1, max(0, cx - r):cx + r + 1]
            if window.sum() >= t * total - 1e-12 * total:
                ratios[t] = window.size / erf.size
                break
        else:
            ratios[t] = 1.0
    return ratios


def erf_display(erf: np.ndarray, decades: int = ERF_DECADES) -> np.ndarray:
    """An ERF for display: normalised by its maximum, on a log scale over
    ``decades`` decades, in [0, 1] (0: 10^-decades of the maximum or
    less)."""
    peak = float(erf.max())
    if peak <= 0:
        return np.zeros_like(erf)
    scaled = np.log10(np.maximum(erf / peak, 10.0**-decades))
    return scaled / decades + 1.0


def plot_erfs(erfs: Dict[str, List[np.ndarray]], path: str,
              stage_names: Optional[Sequence[str]] = None,
              title: Optional[str] = None) -> None:
    """One row per model (``erfs``: label -> per-stage ERFs), one column
    per stage, each ERF on :func:`erf_display`'s log scale, with the area
    ratio holding 50 % of it; saved as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = len(erfs)
    cols = max(len(v) for v in erfs.values())
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.5 * rows),
                             squeeze=False)
    for r, (label, fields) in enumerate(erfs.items()):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(fields):
                ax.axis('off')
                continue
            ax.imshow(erf_display(fields[c]), cmap='magma', vmin=0, vmax=1)
            ratio = erf_area_ratios(fields[c], [0.5])[0.5]
            name = stage_names[c] if stage_names else f'stage {c + 1}'
            ax.set_title(f'{name}: 50 % in {100 * ratio:.1f} %',
                         fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path: str) -> None:
    import matplotlib.pyplot as plt
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------
# Feature maps
# ---------------------------------------------------------------------------
@torch.no_grad()
def stage_features(backbone: nn.Module, image: Tensor) -> List[Tensor]:
    """The backbone's output maps for one image: (C_i, H_i, W_i) each."""
    return [f[0] for f in backbone(image[None])]


def plot_features(features: Sequence[Tensor], rgb: np.ndarray, path: str,
                  topk: int = 4, title: Optional[str] = None) -> None:
    """One row per stage: each pixel's feature norm (over the channels)
    over the image, then the ``topk`` channels with the largest activation
    (mmengine's ``Visualizer.draw_featmap``); saved as a PNG.

    A stage that ends in a LayerNorm (ConvNeXt, SMT) gives every pixel
    about the same norm: its first panel is then nearly flat.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmengine.visualization import Visualizer
    fig, axes = plt.subplots(len(features), 1 + topk,
                             figsize=(2.2 * (1 + topk), 2.3 * len(features)),
                             squeeze=False)
    size = rgb.shape[:2]
    for i, feat in enumerate(features):
        norm = feat.norm(dim=0, keepdim=True)
        spread = float(norm.std() / norm.mean().clamp_min(1e-12))
        panels = [Visualizer.draw_featmap(norm, rgb, None, topk=0)]
        order = feat.flatten(1).sum(1).argsort(descending=True)[:topk]
        panels += [Visualizer.draw_featmap(feat[k:k + 1], None, None,
                                           topk=0, resize_shape=size)
                   for k in order.tolist()]
        names = [f'norm per pixel (std/mean {spread:.2f})'] + \
            [f'channel {k}' for k in order.tolist()]
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([])
            ax.set_yticks([])
            if j >= len(panels):
                ax.axis('off')
                continue
            ax.imshow(panels[j])
            ax.set_title(names[j], fontsize=7)
            if j == 0:
                ax.set_ylabel(f'stage {i + 1} ({feat.shape[0]} ch, '
                              f'{feat.shape[1]}x{feat.shape[2]})',
                              fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)


# ---------------------------------------------------------------------------
# SMT's modulation and attention maps
# ---------------------------------------------------------------------------
@torch.no_grad()
def smt_maps(backbone: nn.Module, image: Tensor) -> List[dict]:
    """SMT's mixers on one image, in the order they run.

    For each scale-aware modulation (SAM), the modulator (the map that
    multiplies the values, ``proj1(GELU(BN(proj0(multi-scale convs))))``)
    averaged over channels; for each global attention (MSA), the attention
    of the central query over the keys, averaged over heads.

    Args:
        backbone (nn.Module): an SMT (any module holding SMT mixers).
        image (Tensor): (3, H, W), normalised.

    Returns:
        list[dict]: ``name`` (module path), ``kind`` (``'modulation'`` or
        ``'attention'``) and ``map`` (an (h, w) array at the block's
        resolution); attention maps sum to 1.
    """
    from mmplug.models.layers.smt_mixers import (GlobalAttention,
                                                 ScaleAwareModulation,
                                                 tokens_to_map)
    maps: List[dict] = []

    def sam_hook(name):
        def hook(module, args, _out):
            x, hw = args
            modulator = module.aggregate(
                module.mixed_conv(tokens_to_map(module.s(x), hw)))
            maps.append(dict(name=name, kind='modulation',
                             map=modulator[0].mean(-1).view(*hw).numpy()))
        return hook

    def msa_hook(name):
        def hook(module, args, _out):
            x, hw = args
            n, length, c = x.shape
            heads, dim = module.num_heads, c // module.num_heads
            q = module.q(x).view(n, length, heads, dim).transpose(1, 2)
            k = module.kv(x).view(n, length, 2, heads, dim)[:, :, 0]
            k = k.transpose(1, 2)
            centre = (hw[0] // 2) * hw[1] + hw[1] // 2
            logits = q[:, :, centre:centre + 1] @ k.transpose(-2, -1)
            attn = (logits / math.sqrt(dim)).softmax(-1)  # (n, h, 1, L)
            maps.append(dict(name=name, kind='attention',
                             map=attn[0].mean(0).view(*hw).numpy()))
        return hook

    handles = []
    for name, module in backbone.named_modules():
        if isinstance(module, ScaleAwareModulation):
            handles.append(module.register_forward_hook(sam_hook(name)))
        elif isinstance(module, GlobalAttention):
            handles.append(module.register_forward_hook(msa_hook(name)))
    if not handles:
        raise ConfigError(f'{type(backbone).__name__} has no SMT mixers '
                          '(scale-aware modulation or global attention): '
                          'the modulation maps are SMT\'s')
    was_training = backbone.training
    backbone.eval()
    try:
        backbone(image[None])
    finally:
        backbone.train(was_training)
        for handle in handles:
            handle.remove()
    return maps


def plot_smt_maps(maps: Sequence[dict], rgb: np.ndarray, path: str,
                  cols: int = 5, title: Optional[str] = None) -> None:
    """The image, then each of :func:`smt_maps`'s maps (modulation:
    ``viridis``, normalised to its range; attention of the central query:
    ``magma``, with the query marked); saved as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    count = len(maps) + 1
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.4 * rows),
                             squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat:
        ax.set_xticks([])
        ax.set_yticks([])
    flat[0].imshow(rgb)
    flat[0].set_title('image', fontsize=8)
    for ax, item in zip(flat[1:], maps):
        m = item['map']
        if item['kind'] == 'attention':
            ax.imshow(m, cmap='magma')
            h, w = m.shape
            ax.plot([w // 2], [h // 2], marker='+', color='cyan', ms=8)
        else:
            ax.imshow(m, cmap='viridis')
        short = item['name'].replace('.attn', '').replace('block', 'b')
        ax.set_title(f'{item["kind"]} {short}', fontsize=7)
    for ax in flat[count:]:
        ax.axis('off')
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    _save(fig, path)
