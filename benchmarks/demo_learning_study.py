#!/usr/bin/env python
"""Why a backbone learns slowly in the demo Mask R-CNN: train the demo
detector (``configs/demo/``, the demo data) in this process for a few
iterations under one recipe change at a time, and print what each change
does.

The variants (``--list``) start from ParC-ConvNeXt-XT with ConvNeXt's
LayerNorms (``configs/demo/mask-rcnn_parc-convnext-xt_fpn_demo.py``'s
detector), from SCSC-Swin-T with its LayerNorms
(``configs/demo/mask-rcnn_scsc-swin-t_fpn_demo.py``'s), or are references
(ResNet-18, the plain ConvNeXt-XT, mmdet's Swin-T); each trains ``--iters``
iterations on an iteration-based loop (warm-up, then a constant lr), from
the same seed. Measured:

* the training loss (and the RoI classification accuracy) over the first
  and the last tenth of the iterations, and each loss term;
* the gradient norm of each backbone stage (stem, stages 1-4), of the neck
  and of the heads, averaged over the iterations (before clipping);
* how far each stage's weights moved, ``|w_end - w_0| / |w_0|``;
* each stage's residual-branch size, ``|block(x) - x| / |x|`` averaged over
  its blocks on a fixed batch, at initialisation and at the end (how much
  the blocks add to the identity path);
* how much of each output's energy varies over the image (variance over
  positions / mean square), at initialisation and at the end;
* the LayerNorms' gains ``1 / sqrt(var + eps)`` per position;
* with ``--eval``, the COCO bbox mAP on the 40 validation images at the
  end (the figure the demo reports).

Examples::

    python benchmarks/demo_learning_study.py --list
    python benchmarks/demo_learning_study.py --variants demo,ls-1e-6 --iters 40
    python benchmarks/demo_learning_study.py --eval --out study.json

The demo data must exist (``python tools/misc/make_demo_data.py``). Run it
on a quiet machine: one training at a time, ``--threads`` torch threads.
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import re
import sys
import tempfile
import time
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

import torch  # noqa: E402
from torch import nn  # noqa: E402

CONVNEXT = osp.join(REPO,
                    'configs/demo/mask-rcnn_parc-convnext-xt_fpn_demo.py')
SCSC_SWIN = osp.join(REPO,
                     'configs/demo/mask-rcnn_scsc-swin-t_fpn_demo.py')
R18 = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpn_demo.py')
ADAMW = dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05)
#: the variants of these demo configs start from the paper's model: the
#: ConvNeXt variants with ConvNeXt's LayerNorms (the demo configs train
#: with BatchNorms: the 'bn' variant), the SCSC-Swin ones with its
#: LayerNorms, drop path 0.1 and SCSC-Swin-T's 2/2/6/2 blocks (the demo
#: configs: BatchNorms, no drop path, 'scsc-swin-bn-no-droppath'; the
#: Mask R-CNN demo also has fewer blocks)
PAPER_MODEL = {
    CONVNEXT: {'model.backbone.norm_cfg': dict(type='LN2d', eps=1e-6)},
    SCSC_SWIN: {'model.backbone.embed_norm_cfg': dict(type='LN2d'),
                'model.backbone.drop_path_rate': 0.1,
                'model.backbone.depths': (2, 2, 6, 2)},
}

#: name -> (base config, config overrides (mmengine dotted keys), what
#: else changes: 'bn' swaps the LayerNorms of these parts of the backbone
#: for BatchNorms (:data:`PARTS`); 'batch' the batch size, with
#: iterations scaled to see the same images; 'warmup' warm-up
#: iterations), description
VARIANTS: Dict[str, tuple] = {
    'demo': (CONVNEXT, {}, {}, 'ParC-ConvNeXt-XT with its LayerNorms, the '
             'demo recipe: AdamW 1e-3, layer scale 1.0, drop path 0.1, '
             'warm-up 20, batch 4'),
    'no-clip': (CONVNEXT, {'optim_wrapper.clip_grad': None}, {},
                'no gradient clipping (the demo clips the total norm at 10)'),
    'ls-1e-6': (CONVNEXT, {'model.backbone.layer_scale_init_value': 1e-6},
                {}, 'layer scale starting at 1e-6 (the paper\'s value)'),
    'no-droppath': (CONVNEXT, {'model.backbone.drop_path_rate': 0.}, {},
                    'no drop path'),
    'lr-2e-4': (CONVNEXT, {'optim_wrapper.optimizer.lr': 2e-4}, {},
                'AdamW lr 2e-4 (the paper\'s detection lr)'),
    'lr-3e-3': (CONVNEXT, {'optim_wrapper.optimizer.lr': 3e-3}, {},
                'AdamW lr 3e-3'),
    'warmup-200': (CONVNEXT, {}, {'warmup': 200},
                   'warm-up over 200 iterations instead of 20'),
    'batch-8': (CONVNEXT, {}, {'batch': 8}, 'batch 8 (half the iterations)'),
    'batch-2': (CONVNEXT, {}, {'batch': 2}, 'batch 2 (twice the iterations)'),
    'bn': (CONVNEXT, {'model.backbone.norm_cfg': dict(type='BN')}, {},
           'every backbone LayerNorm replaced by a BatchNorm (the demo '
           'configs\' norm_cfg)'),
    'ln-eps-1e-2': (CONVNEXT, {'model.backbone.norm_cfg.eps': 1e-2}, {},
                    'LayerNorm eps 1e-2 instead of 1e-6 (a position whose '
                    'channels barely vary is amplified at most 10x, not '
                    '1000x)'),
    'bn-stem': (CONVNEXT, {}, {'bn': ('stem', )},
                'BatchNorm for the stem\'s LayerNorm only'),
    'bn-down': (CONVNEXT, {}, {'bn': ('down', )},
                'BatchNorm for the LayerNorms of the downsampling layers '
                'between stages only'),
    'bn-blocks': (CONVNEXT, {}, {'bn': ('blocks', )},
                  'BatchNorm for the blocks\' LayerNorms only'),
    'bn-out': (CONVNEXT, {}, {'bn': ('out', )},
               'BatchNorm for the output norms (to the neck) only'),
    'bn-path': (CONVNEXT, {}, {'bn': ('stem', 'down', 'out')},
                'BatchNorm for the LayerNorms on the identity path (stem, '
                'downsampling, outputs); the blocks keep theirs'),
    'sgd': (CONVNEXT, {'optim_wrapper.optimizer': dict(
        _delete_=True, type='SGD', lr=0.02, momentum=0.9,
        weight_decay=1e-4)}, {}, 'SGD 0.02 (the R-18 demo\'s optimizer)'),
    'convnext': (CONVNEXT, {'model.backbone.parc_stages': []}, {},
                 'the plain ConvNeXt-XT (no ParC), demo recipe'),
    'scsc-swin': (SCSC_SWIN, {}, {}, 'SCSC-Swin-T with its LayerNorms, '
                  'the demo recipe: AdamW 2e-4, drop path 0.1, warm-up 20, '
                  'batch 4'),
    'scsc-swin-lr-1e-3': (SCSC_SWIN, {'optim_wrapper.optimizer.lr': 1e-3},
                          {}, 'SCSC-Swin-T, AdamW 1e-3'),
    'scsc-swin-sgd': (SCSC_SWIN, {'optim_wrapper.optimizer': dict(
        _delete_=True, type='SGD', lr=0.02, momentum=0.9,
        weight_decay=1e-4)}, {}, 'SCSC-Swin-T, SGD 0.02 (the R-18 demo\'s '
        'optimizer)'),
    'scsc-swin-no-droppath': (SCSC_SWIN, {'model.backbone.drop_path_rate':
                                          0.}, {},
                              'SCSC-Swin-T without drop path'),
    'scsc-swin-warmup-200': (SCSC_SWIN, {}, {'warmup': 200},
                             'SCSC-Swin-T, warm-up over 200 iterations'),
    'scsc-swin-bn': (SCSC_SWIN, {'model.backbone.embed_norm_cfg':
                                 dict(type='BN')}, {},
                     'SCSC-Swin-T with BatchNorms for its LayerNorms (patch '
                     'embedding, patch mergings, outputs: embed_norm_cfg)'),
    'scsc-swin-bn-lr-5e-4': (SCSC_SWIN, {
        'model.backbone.embed_norm_cfg': dict(type='BN'),
        'optim_wrapper.optimizer.lr': 5e-4}, {},
        'SCSC-Swin-T with BatchNorms for its LayerNorms, AdamW 5e-4'),
    'scsc-swin-bn-lr-1e-3': (SCSC_SWIN, {
        'model.backbone.embed_norm_cfg': dict(type='BN'),
        'optim_wrapper.optimizer.lr': 1e-3}, {},
        'SCSC-Swin-T with BatchNorms for its LayerNorms, AdamW 1e-3'),
    'scsc-swin-bn-no-droppath': (SCSC_SWIN, {
        'model.backbone.embed_norm_cfg': dict(type='BN'),
        'model.backbone.drop_path_rate': 0.}, {},
        'SCSC-Swin-T with BatchNorms for its LayerNorms, no drop path (the '
        'demo configs\' norms and drop path)'),
    'scsc-swin-bn-no-droppath-lr-5e-4': (SCSC_SWIN, {
        'model.backbone.embed_norm_cfg': dict(type='BN'),
        'model.backbone.drop_path_rate': 0.,
        'optim_wrapper.optimizer.lr': 5e-4}, {},
        'SCSC-Swin-T with BatchNorms for its LayerNorms, no drop path, '
        'AdamW 5e-4'),
    'scsc-swin-bn-stem': (SCSC_SWIN, {}, {'bn': ('stem', )},
                          'SCSC-Swin-T, BatchNorm for the patch embedding\'s '
                          'LayerNorm only'),
    'scsc-swin-bn-down': (SCSC_SWIN, {}, {'bn': ('down', )},
                          'SCSC-Swin-T, BatchNorms for the patch merging '
                          'LayerNorms only'),
    'scsc-swin-bn-out': (SCSC_SWIN, {}, {'bn': ('out', )},
                         'SCSC-Swin-T, BatchNorms for the output norms only'),
    'swin': (SCSC_SWIN, {'model.backbone': dict(
        _delete_=True, type='SwinTransformer', embed_dims=96,
        depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7,
        drop_path_rate=0.1, out_indices=(0, 1, 2, 3))}, {},
        'reference: mmdet\'s Swin-T (window attention), the SCSC-Swin-T '
        'demo recipe'),
    'r18': (R18, {}, {}, 'reference: ResNet-18, SGD 0.02 (the R-18 demo)'),
    'r18-adamw': (R18, {'optim_wrapper.optimizer': dict(_delete_=True,
                                                        **ADAMW)},
                  {}, 'reference: ResNet-18 with the ConvNeXt demo\'s AdamW '
                  '1e-3'),
}


# ---------------------------------------------------------------------------
# Parameter groups
# ---------------------------------------------------------------------------
def group_of(name: str) -> str:
    """'stem', 'stage1'..'stage4', 'neck', 'heads' of a detector parameter
    (ConvNeXt: downsampling layer i and norm{i} belong to stage i + 1;
    Swin-style: the patch embedding is the stem, ``layers.{i}`` /
    ``stages.{i}`` (with the patch merging after it) stage i + 1;
    ResNet: conv1/bn1 the stem, layer{i} stage i)."""
    if name.startswith('neck.'):
        return 'neck'
    if not name.startswith('backbone.'):
        return 'heads'
    name = name[len('backbone.'):]
    if re.match(r'(downsample_layers\.0\.|conv1\.|bn1\.|patch_embed\.)',
                name):
        return 'stem'
    match = re.match(r'(?:stages|layers|downsample_layers)\.(\d+)\.',
                     name) or re.match(r'norm(\d+)\.', name)
    if match:
        return f'stage{int(match.group(1)) + 1}'
    match = re.match(r'layer(\d+)\.', name)
    return f'stage{match.group(1)}' if match else 'stem'


GROUPS = ['stem', 'stage1', 'stage2', 'stage3', 'stage4', 'neck', 'heads']


# ---------------------------------------------------------------------------
# Swapping LayerNorm for BatchNorm (the partial 'bn-*' variants)
# ---------------------------------------------------------------------------
class ChannelsLastBN(nn.BatchNorm2d):
    """A BatchNorm over the last dimension of an (N, H, W, C) tensor, to
    stand in for ConvNeXt's channels-last ``nn.LayerNorm``."""

    def forward(self, x):
        return super().forward(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


#: the parts of a backbone that have LayerNorms (columns of the gain table)
PARTS = ('stem', 'down', 'blocks', 'out')


def norm_parts(backbone: nn.Module) -> Dict[str, List[nn.Module]]:
    """Where a ConvNeXt (``downsample_layers``, ``stages``) or a Swin-style
    backbone (``patch_embed``, ``layers`` / ``stages`` with a
    ``downsample`` each) has its LayerNorms: the stem, the downsampling
    between stages, the blocks, the output norms (to the neck). Empty for
    other backbones."""
    outs = [getattr(backbone, n)
            for n in getattr(backbone, 'out_norm_names', {}).values()]
    if hasattr(backbone, 'downsample_layers'):  # ConvNeXt
        return dict(stem=[backbone.downsample_layers[0]],
                    down=list(backbone.downsample_layers[1:]),
                    blocks=list(backbone.stages), out=outs)
    if hasattr(backbone, 'patch_embed'):  # Swin-style
        stages = getattr(backbone, 'layers', None) or backbone.stages
        if not outs:  # mmdet's Swin: norm{i} for each out index
            outs = [m for n, m in backbone.named_children()
                    if re.fullmatch(r'norm\d+', n)]
        return dict(stem=[backbone.patch_embed],
                    down=[s.downsample for s in stages
                          if s.downsample is not None],
                    blocks=[s.blocks for s in stages], out=outs)
    return {}


def swap_norms(backbone: nn.Module, parts) -> int:
    """Replace the LayerNorms of ``parts`` (of :data:`PARTS`) of a
    ConvNeXt or Swin-style backbone by BatchNorms; returns how many."""
    count = 0
    found = norm_parts(backbone)
    for part in parts:
        for module in found[part]:
            if isinstance(module, nn.LayerNorm):  # an output norm itself
                name = next(n for n, m in backbone.named_children()
                            if m is module)
                setattr(backbone, name,
                        nn.BatchNorm2d(module.normalized_shape[0]))
                count += 1
            else:
                count += layernorms_to_batchnorms(module)
    return count


def layernorms_to_batchnorms(module: nn.Module) -> int:
    """Replace every LayerNorm under ``module`` (channels-last in blocks,
    channels-first ``LayerNorm2d`` elsewhere) by a BatchNorm; returns how
    many."""
    from mmplug.models.layers.norm import LayerNorm2d
    count = 0
    for name, child in module.named_children():
        if isinstance(child, LayerNorm2d):
            setattr(module, name, nn.BatchNorm2d(child.normalized_shape[0]))
            count += 1
        elif isinstance(child, nn.LayerNorm):
            setattr(module, name, ChannelsLastBN(child.normalized_shape[0]))
            count += 1
        else:
            count += layernorms_to_batchnorms(child)
    return count


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------
def residual_blocks(backbone: nn.Module) -> Dict[str, List[nn.Module]]:
    """The residual blocks of each stage (ConvNeXt or Swin-style blocks,
    ResNet BasicBlocks)."""
    blocks = {}
    stages = getattr(backbone, 'stages', None) or \
        getattr(backbone, 'layers', None)
    if stages is not None:
        for i, stage in enumerate(stages):
            blocks[f'stage{i + 1}'] = list(getattr(stage, 'blocks', stage))
    else:
        for i in range(4):
            blocks[f'stage{i + 1}'] = list(getattr(backbone, f'layer{i + 1}'))
    return blocks


def forward_with_hooks(backbone: nn.Module, images: torch.Tensor,
                       handles: List) -> None:
    """One eval-mode forward of ``backbone`` on ``images`` for the forward
    hooks behind ``handles``, which are removed after it (also when it
    fails); the backbone's training mode is restored."""
    was_training = backbone.training
    try:
        backbone.eval()
        backbone(images)
    finally:
        backbone.train(was_training)
        for handle in handles:
            handle.remove()


@torch.no_grad()
def residual_ratios(backbone: nn.Module, images: torch.Tensor
                    ) -> Dict[str, float]:
    """``mean over the stage's blocks of |block(x) - x| / |x|`` (eval mode;
    for a block whose shortcut changes the shape, the ratio to its input is
    left out)."""
    ratios: Dict[str, List[float]] = {}
    handles = []
    for stage, blocks in residual_blocks(backbone).items():
        for block in blocks:
            def hook(module, args, out, stage=stage):
                x = args[0]
                if x.shape == out.shape:
                    ratios.setdefault(stage, []).append(
                        ((out - x).norm() / x.norm()).item())
            handles.append(block.register_forward_hook(hook))
    forward_with_hooks(backbone, images, handles)
    return {k: sum(v) / len(v) for k, v in ratios.items()}


@torch.no_grad()
def spatial_shares(backbone: nn.Module, images: torch.Tensor
                   ) -> Dict[str, float]:
    """How much of each output's energy varies over the image: the
    variance over positions summed over channels, over the mean square
    (0: every position has the same feature vector; about 1: features
    with no common offset). Measured in training mode, as the heads see
    the features, on a copy (the model's BatchNorm statistics stay)."""
    probe = copy.deepcopy(backbone)
    probe.train()  # (mmdet's ResNet.train returns None)
    outs = probe(images)
    return {f'stage{i + 1}': float(f.var(dim=(2, 3)).mean() /
                                   f.pow(2).mean())
            for i, f in enumerate(outs)}


@torch.no_grad()
def layernorm_gains(backbone: nn.Module, images: torch.Tensor
                    ) -> Dict[str, Dict[str, float]]:
    """What each part's LayerNorms multiply their inputs by, per pixel:
    ``1 / sqrt(var_c(x) + eps)`` over the channels of each pixel; median,
    99th percentile and maximum over the pixels of ``images`` and the
    part's LayerNorms (eval mode). Parts without a LayerNorm are left
    out."""
    from mmplug.models.layers.norm import LayerNorm2d
    gains: Dict[str, List[torch.Tensor]] = {}
    handles = []
    for part, found in norm_parts(backbone).items():
        for module in found:
            for norm in ([module] if isinstance(module, nn.LayerNorm)
                         else module.modules()):
                if not isinstance(norm, nn.LayerNorm):
                    continue
                dim = 1 if isinstance(norm, LayerNorm2d) else -1

                def hook(m, args, out, part=part, dim=dim):
                    var = args[0].var(dim=dim, unbiased=False)
                    gains.setdefault(part, []).append(
                        (var + m.eps).rsqrt().flatten())
                handles.append(norm.register_forward_hook(hook))
    forward_with_hooks(backbone, images, handles)
    result = {}
    for part, values in gains.items():
        v = torch.cat(values).double()
        result[part] = dict(median=float(v.median()),
                            p99=float(torch.quantile(v[:2**24], 0.99)),
                            max=float(v.max()))
    return result


class GradNorms:
    """Squared gradient norms per :func:`group_of` group, accumulated over
    the backward passes (hooks on each parameter, so the figures are those
    before gradient clipping)."""

    def __init__(self, model: nn.Module) -> None:
        self.sums = {g: 0. for g in GROUPS}
        self.current = {g: 0. for g in GROUPS}
        self.history: List[Dict[str, float]] = []
        for name, param in model.named_parameters():
            if param.requires_grad:
                group = group_of(name)
                param.register_post_accumulate_grad_hook(
                    lambda p, g=group: self._add(g, p))

    def _add(self, group: str, param: torch.Tensor) -> None:
        self.current[group] += float(param.grad.detach().pow(2).sum())

    def step(self) -> None:
        """Close one iteration."""
        self.history.append({g: math.sqrt(v)
                             for g, v in self.current.items()})
        self.current = {g: 0. for g in GROUPS}


def group_norms(model: nn.Module) -> Dict[str, torch.Tensor]:
    """A copy of every parameter, by group (for the distance moved)."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def moved(model: nn.Module, start: Dict[str, torch.Tensor]
          ) -> Dict[str, float]:
    """``|w - w_0| / |w_0|`` per group."""
    diff = {g: 0. for g in GROUPS}
    base = {g: 0. for g in GROUPS}
    for name, p in model.named_parameters():
        group = group_of(name)
        diff[group] += float((p.detach() - start[name]).pow(2).sum())
        base[group] += float(start[name].pow(2).sum())
    return {g: math.sqrt(diff[g] / base[g]) if base[g] else float('nan')
            for g in GROUPS}


# ---------------------------------------------------------------------------
# One variant
# ---------------------------------------------------------------------------
def variant_config(name: str, iters: int, work_dir: str):
    """The mmengine Config of a variant (iteration-based, constant lr after
    the warm-up, no checkpoints, no validation) and its iterations."""
    from mmplug.apis.config import load_config
    base, overrides, extra, _ = VARIANTS[name]
    cfg = load_config(base)
    if base in PAPER_MODEL:
        cfg.merge_from_dict(copy.deepcopy(PAPER_MODEL[base]))
    cfg.merge_from_dict(copy.deepcopy(overrides))
    batch = extra.get('batch', cfg.train_dataloader.batch_size)
    iters = max(1, round(iters * cfg.train_dataloader.batch_size / batch))
    cfg.train_dataloader.batch_size = batch
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=iters + 1)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.01,
                                by_epoch=False, begin=0,
                                end=extra.get('warmup', 20))]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=iters + 1, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    cfg.log_processor = dict(by_epoch=False)
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    # mmengine keeps one visualizer per name: a fresh one per run
    cfg.visualizer.name = f'demo_study_{name}_{time.time()}'
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.log_level = 'WARNING'
    return cfg, iters


def run_variant(name: str, iters: int, evaluate: bool) -> dict:
    """Train one variant in this process; returns its measurements."""
    from mmengine.hooks import Hook
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    with tempfile.TemporaryDirectory() as work_dir:
        cfg, iters = variant_config(name, iters, work_dir)
        # the runner tools/train.py uses (the demo configs' runner_type)
        runner = RUNNERS.build(cfg) if 'runner_type' in cfg else \
            Runner.from_cfg(cfg)
        model = runner.model
        extra = VARIANTS[name][2]
        swapped = swap_norms(model.backbone, extra.get('bn', ()))
        record: dict = dict(losses=[], accs=[])
        state: dict = {}

        class Probe(Hook):
            priority = 'VERY_LOW'

            def before_train(self, runner) -> None:
                # after the runner initialised the weights
                state['grads'] = GradNorms(model)
                state['start'] = group_norms(model)
                batch = next(iter(runner.val_dataloader))
                images = model.data_preprocessor(batch, False)['inputs']
                state['images'] = images
                record['branch_init'] = residual_ratios(model.backbone,
                                                        images)
                record['ln_gain_init'] = layernorm_gains(model.backbone,
                                                         images)
                record['spatial_init'] = spatial_shares(model.backbone,
                                                        images)

            def after_train_iter(self, runner, batch_idx, data_batch=None,
                                 outputs=None) -> None:
                state['grads'].step()
                record['losses'].append(float(outputs['loss']))
                acc = outputs.get('acc')
                if acc is not None:
                    record['accs'].append(float(acc))
                for key, value in outputs.items():  # each loss term
                    record.setdefault('terms', {}).setdefault(
                        key, []).append(float(value))

        runner.register_hook(Probe())
        start = time.perf_counter()
        runner.train()
        record['train_s'] = time.perf_counter() - start
        record['iters'] = iters
        record['bn_swapped'] = swapped
        history = state['grads'].history
        record['grad_norm'] = {g: sum(h[g] for h in history) / len(history)
                               for g in GROUPS}
        record['grad_norm_first'] = history[0]
        record['moved'] = moved(model, state['start'])
        record['branch_end'] = residual_ratios(model.backbone,
                                               state['images'])
        record['ln_gain_end'] = layernorm_gains(model.backbone,
                                                state['images'])
        record['spatial_end'] = spatial_shares(model.backbone,
                                               state['images'])
        if evaluate:
            metrics = runner.test()
            record['bbox_mAP'] = float(metrics['coco/bbox_mAP'])
            record['segm_mAP'] = float(metrics['coco/segm_mAP'])
    return record


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
def _mean(values: List[float]) -> float:
    return sum(values) / len(values) if values else float('nan')


def summary_table(results: Dict[str, dict]) -> str:
    """Loss, accuracy, mAP per variant."""
    lines = ['| variant | iters | loss first 10 % | loss last 10 % | '
             'RoI acc last 10 % | bbox mAP | train s |',
             '|---|---|---|---|---|---|---|']
    for name, r in results.items():
        tenth = max(1, len(r['losses']) // 10)
        lines.append(
            f'| {name} | {r["iters"]} | {_mean(r["losses"][:tenth]):.3f} | '
            f'{_mean(r["losses"][-tenth:]):.3f} | '
            f'{_mean(r["accs"][-tenth:]):.1f} | '
            f'{r.get("bbox_mAP", float("nan")):.3f} | {r["train_s"]:.0f} |')
    return '\n'.join(lines)


def terms_table(results: Dict[str, dict]) -> str:
    """Each loss term over the last tenth of the iterations."""
    keys = sorted({k for r in results.values() for k in r.get('terms', {})
                   if k not in ('loss', 'acc')})
    lines = ['| variant | ' + ' | '.join(keys) + ' |',
             '|---' * (len(keys) + 1) + '|']
    for name, r in results.items():
        terms = r.get('terms')
        if not terms:
            continue
        tenth = max(1, len(r['losses']) // 10)
        lines.append(f'| {name} | ' + ' | '.join(
            f'{_mean(terms[k][-tenth:]):.3f}' if k in terms else '-'
            for k in keys) + ' |')
    return '\n'.join(lines)


def group_table(results: Dict[str, dict], key: str, groups: List[str],
                fmt: str = '{:.3g}') -> str:
    """One row per variant, one column per group, of ``results[v][key]``."""
    lines = ['| variant | ' + ' | '.join(groups) + ' |',
             '|---' * (len(groups) + 1) + '|']
    for name, r in results.items():
        values = r.get(key, {})
        lines.append(f'| {name} | ' + ' | '.join(
            fmt.format(values[g]) if g in values else '-' for g in groups)
            + ' |')
    return '\n'.join(lines)


def gain_table(results: Dict[str, dict], key: str) -> str:
    """LayerNorm gains per part: median / 99th percentile / maximum."""
    parts = list(PARTS)
    lines = ['| variant | ' + ' | '.join(parts) + ' |',
             '|---' * (len(parts) + 1) + '|']
    for name, r in results.items():
        gains = r.get(key) or {}
        if not gains:
            continue
        lines.append(f'| {name} | ' + ' | '.join(
            '{median:.3g} / {p99:.3g} / {max:.3g}'.format(**gains[p])
            if p in gains else '-' for p in parts) + ' |')
    return '\n'.join(lines)


def report(results: Dict[str, dict]) -> str:
    stages = ['stage1', 'stage2', 'stage3', 'stage4']
    parts = [
        '## Training loss and score\n', summary_table(results),
        '\n\n## Loss terms, last tenth of the iterations\n',
        terms_table(results),
        '\n\n## Gradient norm per group (mean over the iterations, before '
        'clipping)\n', group_table(results, 'grad_norm', GROUPS),
        '\n\n## Gradient norm per group, first iteration\n',
        group_table(results, 'grad_norm_first', GROUPS),
        '\n\n## Weights moved, |w_end - w_0| / |w_0|\n',
        group_table(results, 'moved', GROUPS),
        '\n\n## Residual branch / identity, |block(x) - x| / |x|, at '
        'initialisation\n', group_table(results, 'branch_init', stages),
        '\n\n## The same after training\n',
        group_table(results, 'branch_end', stages),
        '\n\n## Share of the outputs\' energy that varies over the image '
        '(variance over positions / mean square; 0: the same vector '
        'everywhere), at initialisation\n',
        group_table(results, 'spatial_init', stages),
        '\n\n## The same after training\n',
        group_table(results, 'spatial_end', stages),
        '\n\n## LayerNorm gain 1 / sqrt(var + eps) per pixel (median / 99th '
        'percentile / max), at initialisation\n',
        gain_table(results, 'ln_gain_init'),
        '\n\n## The same after training\n',
        gain_table(results, 'ln_gain_end'),
        '\n\nVariants:\n' + '\n'.join(
            f'- {name}: {VARIANTS[name][3]}' for name in results),
    ]
    return ''.join(parts)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--variants', default=','.join(VARIANTS),
                        help='comma-separated variants (default: all)')
    parser.add_argument('--iters', type=int, default=80,
                        help='training iterations at batch 4 (default 80, '
                        'two demo epochs)')
    parser.add_argument('--eval', action='store_true',
                        help='COCO mAP on the 40 validation images at the end')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: torch\'s)')
    parser.add_argument('--out', help='json file: the measurements (merged '
                        'with those already in it)')
    parser.add_argument('--list', action='store_true',
                        help='list the variants and exit')
    args = parser.parse_args(argv)
    if args.list:
        for name, (_, _, _, text) in VARIANTS.items():
            print(f'{name:12s} {text}')
        return
    names = [n for n in args.variants.split(',') if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f'unknown variants {unknown}; see --list')
    if args.threads:
        torch.set_num_threads(args.threads)
    os.chdir(REPO)  # the demo configs' data root is relative
    import mmplug.models  # noqa: F401  (registers the backbones)
    from mmengine.logging import MMLogger
    results: Dict[str, dict] = {}
    if args.out and osp.isfile(args.out):
        with open(args.out) as f:
            results = json.load(f)
    for name in names:
        MMLogger.get_instance(f'demo_study_{name}_{time.time()}',
                              log_level='WARNING')
        print(f'== {name}: {VARIANTS[name][3]}', flush=True)
        results[name] = run_variant(name, args.iters, args.eval)
        r = results[name]
        print(f'   loss {r["losses"][0]:.3f} -> {r["losses"][-1]:.3f}, '
              f'{r["train_s"]:.0f} s' + (f', bbox mAP {r["bbox_mAP"]:.3f}'
                                         if 'bbox_mAP' in r else ''),
              flush=True)
        if args.out:
            with open(args.out, 'w') as f:
                json.dump(results, f, indent=1)
    print(report({n: results[n] for n in results if n in VARIANTS}))


if __name__ == '__main__':
    main()
