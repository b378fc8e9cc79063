"""Helpers for tests and benchmarks."""
import enum
import os.path as osp
import statistics
import sys
import time
import types
import uuid
from typing import (TYPE_CHECKING, Callable, Dict, List, NamedTuple,
                    Optional, Tuple, Union)
from unittest import mock

if TYPE_CHECKING:  # imported where used: this module imports nothing heavy
    import subprocess

    import torch


def import_mmpretrain_models() -> None:
    """Import ``mmpretrain.models`` (for its ConvNeXt, the baseline of the
    ParC-ConvNeXt configs and benchmarks).

    mmpretrain 1.2.0 imports torchvision at module level, for data
    transforms and box ops that a backbone does not use; CPU builds of torch
    here have no torchvision. If it is missing, empty stand-in modules are
    placed in ``sys.modules`` for the import and removed afterwards.
    """
    try:
        import mmpretrain.models  # noqa: F401
        return
    except ModuleNotFoundError as err:
        if err.name != 'torchvision':
            raise
    names = ['torchvision', 'torchvision.ops', 'torchvision.ops.boxes',
             'torchvision.transforms', 'torchvision.transforms.functional',
             'torchvision.transforms.transforms']
    stubs = {name: types.ModuleType(name) for name in names}
    interpolation = enum.Enum('InterpolationMode', 'NEAREST BILINEAR BICUBIC')
    for name in ('torchvision.transforms',
                 'torchvision.transforms.transforms'):
        stubs[name].InterpolationMode = interpolation
    sys.modules.update(stubs)
    try:
        import mmpretrain.models  # noqa: F401,F811
    finally:
        for name in names:
            sys.modules.pop(name, None)


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``runs`` calls,
    after ``warmup`` untimed calls (for the scripts in ``benchmarks/``)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def alternate_ms(fns: Dict[str, Callable[[], object]], runs: int,
                 warmup: int = 1) -> Dict[str, List[float]]:
    """Wall times in milliseconds of each of ``fns`` over ``runs`` rounds,
    one call of each per round in turn, after ``warmup`` untimed rounds: the
    way to compare two models on a noisy machine (for ``benchmarks/``)."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return times


def forward_backward(model: 'torch.nn.Module', x,
                     amp_dtype: Optional['torch.dtype'] = None
                     ) -> Tuple[List['torch.Tensor'],
                                List[Optional['torch.Tensor']]]:
    """Outputs and parameter gradients (None where none reached) of the
    loss ``sum(o * r)``, ``r`` a fixed random tensor per output (every
    output element matters); dropout and drop path draw from a fixed seed.

    Args:
        model (nn.Module): a backbone or neck (or a compiled one).
        x: its input.
        amp_dtype (torch.dtype, optional): run the forward under CPU
            autocast to this dtype (the loss in float32).
    """
    import torch
    for p in model.parameters():
        p.grad = None
    torch.manual_seed(1)  # the same dropout / drop-path draws
    with torch.autocast('cpu', dtype=amp_dtype or torch.bfloat16,
                        enabled=amp_dtype is not None):
        outs = model(x)
    generator = torch.Generator().manual_seed(2)
    sum((o.float() * torch.randn(o.shape, generator=generator)).sum()
        for o in outs).backward()
    return [o.detach() for o in outs], [p.grad for p in model.parameters()]


def run_docstring_examples(*objs: object) -> Tuple[int, int]:
    """Run the ``>>>`` examples in the docstrings of ``objs`` (each in
    fresh globals); returns ``(failures, tries)``."""
    import doctest
    runner = doctest.DocTestRunner()
    for obj in objs:
        for test in doctest.DocTestFinder().find(obj, obj.__name__,
                                                 globs={}):
            runner.run(test)
    return runner.failures, runner.tries


class BackboneTestArch(NamedTuple):
    """How the tests build one backbone: one entry of :data:`TEST_ARCHS`
    per registered backbone, and every contract, compile, mixed-precision,
    export and detector test picks it up."""
    #: narrow and shallow arguments, for tests that run the backbone many
    #: times (the contract, compile, autocast, ONNX)
    small: dict
    #: real widths, one or two blocks per stage, for tests that build whole
    #: detectors and segmentors
    tiny: dict
    #: parameter-name prefixes that ``frozen_stages=0`` freezes (the stem),
    #: and those ``frozen_stages=1`` adds (stage 1 and what goes with it):
    #: the contract's independent statement of what freezing means
    frozen: Tuple[Tuple[str, ...], Tuple[str, ...]]


_RESNET_FROZEN = (('conv1.', 'bn1.'), ('layer1.', ))

#: The test architectures of every mmplug backbone (a new backbone adds
#: its line here; the tests fail until it does).
TEST_ARCHS = {
    'mmplug.SMT': BackboneTestArch(
        small=dict(arch=dict(embed_dims=[16, 32, 64, 128],
                             depths=[1, 1, 2, 1], mlp_ratios=[2, 2, 2, 2],
                             stem_kernel=3, msa_heads=[-1, -1, 2, 4])),
        tiny=dict(arch=dict(embed_dims=[64, 128, 256, 512],
                            depths=[1, 1, 2, 1], mlp_ratios=[2, 2, 2, 2],
                            stem_kernel=3)),
        frozen=(('patch_embed1.', ), ('block1.', 'norm1.', 'patch_embed2.'))),
    'mmplug.ParCConvNeXt': BackboneTestArch(
        small=dict(arch=dict(embed_dims=[8, 16, 32, 64], depths=[1, 1, 3, 1])),
        tiny=dict(arch=dict(embed_dims=[48, 96, 192, 384],
                            depths=[1, 1, 3, 1])),
        frozen=(('downsample_layers.0.', ),
                ('stages.0.', 'norm0.', 'downsample_layers.1.'))),
    'mmplug.ParCResNet': BackboneTestArch(
        small=dict(arch=dict(depths=[1, 1, 2, 2], parc_blocks=[0, 0, 1, 1])),
        tiny=dict(arch=dict(depths=[1, 1, 2, 2], parc_blocks=[0, 0, 1, 1])),
        frozen=_RESNET_FROZEN),
    'mmplug.SCSCResNet': BackboneTestArch(
        small=dict(depths=[1, 1, 2, 1]), tiny=dict(depths=[1, 1, 2, 1]),
        frozen=_RESNET_FROZEN),
    'mmplug.SCSCSwin': BackboneTestArch(
        small=dict(embed_dims=48, depths=[1, 1, 1, 1]),
        tiny=dict(depths=[1, 1, 2, 1]),
        frozen=(('patch_embed.', ), ('layers.0.', 'norm0.'))),
    'mmplug.DCAResNet': BackboneTestArch(
        small=dict(depths=[1, 2, 1, 1]), tiny=dict(depths=[1, 1, 2, 1]),
        frozen=_RESNET_FROZEN),
    'mmplug.PyConvResNet': BackboneTestArch(
        small=dict(depths=[1, 1, 1, 1]), tiny=dict(depths=[1, 1, 2, 1]),
        frozen=_RESNET_FROZEN),
    'mmplug.GroupEnsembleResNet': BackboneTestArch(
        small=dict(depths=[1, 1, 1, 1]), tiny=dict(depths=[1, 1, 2, 1]),
        frozen=_RESNET_FROZEN),
    'mmplug.MobileNeXt': BackboneTestArch(
        small=dict(arch=dict(
            stages=[(2, 16, 1, 2), (6, 16, 1, 1), (6, 24, 1, 2),
                    (6, 32, 1, 2), (6, 32, 1, 1), (6, 48, 1, 2),
                    (6, 48, 1, 1), (6, 64, 2, 1)],
            widen_factor=1.0)),
        tiny=dict(widen_factor=0.5),
        frozen=(('stem.', ), ('stages.0.', ))),
}

#: Narrow and shallow versions of every mmplug backbone (``small`` of
#: :data:`TEST_ARCHS`).
SMALL_BACKBONES = {name: arch.small for name, arch in TEST_ARCHS.items()}

#: Shallow versions of every mmplug backbone at real widths (``tiny`` of
#: :data:`TEST_ARCHS`).
TINY_BACKBONES = {name: arch.tiny for name, arch in TEST_ARCHS.items()}


#: Mixed precision vs fp32 (tests/test_models/test_autocast.py explains the
#: rule; benchmarks/gpu_check.py applies it on a GPU): the largest relative
#: norm error (:func:`relative_error`) allowed, in unit roundoffs
#: (:func:`unit_roundoff`), for each output and for all parameter gradients
#: together.
AMP_OUTPUT_TOL, AMP_GRAD_TOL = 8, 64


def unit_roundoff(dtype: 'torch.dtype') -> float:
    """``u = 2**-p`` of a floating-point format with a p-bit significand
    (2**-11 for float16, 2**-8 for bfloat16): half its machine epsilon."""
    import torch
    return torch.finfo(dtype).eps / 2


def relative_error(a: 'torch.Tensor', b: 'torch.Tensor') -> float:
    """``||a - b|| / ||b||`` (Frobenius norms), ``b`` the reference."""
    return ((a - b).norm() / b.norm()).item()


#: Mask R-CNN R-18 at 1/4 width on 96-pixel images of the demo data
#: (``make_demo_data``): seconds per epoch. A template: ``base`` is
#: ``configs/demo/mask-rcnn_r18_fpn_demo.py``, ``root`` the data root.
TINY_DET = '''
_base_ = [{base!r}]
data_root = {root!r}
img_scale = (96, 96)
model = dict(
    backbone=dict(base_channels=16),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=32),
        bbox_head=dict(in_channels=32, fc_out_channels=64),
        mask_roi_extractor=dict(out_channels=32),
        mask_head=dict(in_channels=32, conv_out_channels=32)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                          'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=3, val_interval=1, val_begin=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1),
                     logger=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
'''


def registered_backbones() -> List[str]:
    """``'mmplug.<Name>'`` of every backbone in the mmplug registry."""
    from mmplug.models.utils.backbone import BaseBackbone
    from mmplug.registry import MODELS
    import mmplug.models  # noqa: F401  (registers them)
    return sorted(f'mmplug.{name}'
                  for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, BaseBackbone))


def registered_necks() -> List[str]:
    """``'mmplug.<Name>'`` of every neck in the mmplug registry."""
    from mmplug.models.utils.pyramid import PyramidNeck
    from mmplug.registry import MODELS
    import mmplug.models  # noqa: F401  (registers them)
    return sorted(f'mmplug.{name}'
                  for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, PyramidNeck))


#: Channels and map sizes of four small pyramid levels (the strides 4-32
#: maps of a 45x61 image), for tests that run every neck.
SMALL_PYRAMID = dict(channels=[8, 16, 24, 32],
                     sizes=[(12, 16), (6, 8), (3, 4), (2, 2)])
_NECK = dict(in_channels=SMALL_PYRAMID['channels'], out_channels=8,
             num_outs=5, add_extra_convs='on_input')
#: Every mmplug neck on :data:`SMALL_PYRAMID` (FPT's grounding window 3x3
#: instead of 7x7: 9 window offsets to trace instead of 49).
SMALL_NECKS = {
    'mmplug.FPT': dict(_NECK, gt_cfg=dict(window=3)),
    'mmplug.DCAFPN': dict(_NECK),
}


def build_small(name: str, **kwargs) -> 'torch.nn.Module':
    """A small version of a registered backbone (:data:`SMALL_BACKBONES`)
    or neck (:data:`SMALL_NECKS`), ``'mmplug.<Name>'``; ``kwargs`` override
    its arguments."""
    import copy
    from mmplug.registry import MODELS
    import mmplug.models  # noqa: F401  (registers them)
    base = {**SMALL_BACKBONES, **SMALL_NECKS}[name]
    return MODELS.build(dict(copy.deepcopy(base), type=name, **kwargs))


def small_inputs(name: str, batch: int = 2,
                 seed: int = 0) -> Union['torch.Tensor', List['torch.Tensor']]:
    """A random input for :func:`build_small` ``(name)``: a 45x61 image
    batch for a backbone, the four :data:`SMALL_PYRAMID` maps for a neck."""
    import torch
    generator = torch.Generator().manual_seed(seed)
    if name in SMALL_BACKBONES:
        return torch.randn(batch, 3, 45, 61, generator=generator)
    return [torch.randn(batch, c, *hw, generator=generator)
            for c, hw in zip(SMALL_PYRAMID['channels'],
                             SMALL_PYRAMID['sizes'])]


def run_tool(*args: str, cwd: Optional[str] = None,
             env: Optional[dict] = None,
             timeout: float = 600) -> 'subprocess.CompletedProcess':
    """Run a tool as a user would: ``*.py`` with this interpreter, anything
    else (``bash tools/x.sh``) as given; this interpreter's folder first on
    ``PATH``. Returns the CompletedProcess (text output captured)."""
    import os
    import subprocess
    cmd = [sys.executable, *args] if args[0].endswith('.py') else list(args)
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', **(env or {}))
    full_env['PATH'] = os.path.dirname(sys.executable) + os.pathsep + \
        full_env['PATH']
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def log_of(fn: Callable[[], object], log_dir: str) -> str:
    """What ``fn()`` logs through mmengine's current logger (a fresh one
    writing to ``log_dir/log``)."""
    from mmengine.logging import MMLogger
    path = osp.join(str(log_dir), 'log')
    logger = MMLogger.get_instance(f'log_of_{uuid.uuid4().hex}',
                                   log_file=path)
    with mock.patch.object(MMLogger, 'get_current_instance', lambda: logger):
        fn()
    with open(path) as f:
        return f.read()
