#!/usr/bin/env python
"""GPU check: every mmplug backbone at 800x1216, batch 2, forward+backward
in fp32, fp16 and bf16 autocast, channels_last and torch.compile, with
images/s and peak memory against mmdet's ResNet-50 and Swin-T.

One prepared script for a CUDA machine: the default budget, 450 s, is
meant to keep a whole run within 8 minutes on one H200 with start-up (not
yet run on a GPU). Example::

    python benchmarks/gpu_check.py --out gpu_check.json
    python benchmarks/gpu_check.py --cases compiled --only SMT,SCSCResNet
    python benchmarks/gpu_check.py --cpu-smoke     # the same code, tiny, CPU

What runs. Each model in :data:`ARCHS` (every registered backbone, its
default arch) and the two references, built on the device in **eval mode**
(BatchNorm on running statistics, as mmdet's ``norm_eval=True``; no
drop-path or dropout, so every case computes the same function and can be
compared), then, per case, a forward and a backward of
``sum(o * r for each output o)`` (``r`` a fixed random tensor per output:
every output element matters and the gradients stay O(1), with no loss
scaling needed in fp16) that computes every parameter gradient. Cases:

- ``fp32``: PyTorch's defaults (on a GPU cuDNN convolutions may use TF32),
- ``fp16``, ``bf16``: ``torch.autocast``; also one step in training mode
  must give finite outputs and gradients (BatchNorm statistics restored),
- ``cl-fp32``, ``cl-bf16``: model and input in ``channels_last``,
- ``compiled``: ``torch.compile(model)`` (inductor), fp32; the first
  forward+backward (graph capture and code generation) is timed apart as
  the compile time. Dynamo is reset before each model (else the shared
  ``BaseBackbone.forward`` would reach dynamo's recompile limit). The
  backbones compile first, the references last.

Checks. Outputs and all parameter gradients, compared with a strict fp32
step (TF32 off) of the same model, by relative norm error
``||y - y_fp32|| / ||y_fp32||`` in units of the unit roundoff ``u`` of the
case's format, with the test suite's rule (``tests/test_models/
test_autocast.py``, :data:`mmplug.testing.AMP_OUTPUT_TOL`): at most 8 u for
each output, 64 u for the gradients; u = 2**-11 for fp16, 2**-8 for bf16,
and 2**-11 for the fp32 cases (TF32's 10-bit significand, as fp16's).
Everything must be finite. A failed check or an error makes the exit
status 1 (after all cases ran).

Figures. images/s = batch / the mean time of ``--iters`` steps after
``--warmup`` untimed ones (synchronised); step memory = the peak of
``torch.cuda.max_memory_allocated`` over those steps (reset per case) less
what was allocated before them (weights, inputs, the reference tensors):
what one training step of the backbone adds (activations, gradients,
workspaces). Time ratios are against the references in the same case.

References (loaded from mmdet's own files, ``mmdet/models/backbones/
resnet.py`` and ``swin.py``, without importing ``mmdet.models``, whose
``__init__`` imports mmcv's compiled ops):

- ResNet-50: mmdet ``ResNet(depth=50)``, pytorch style, no frozen stages,
  4 outputs (23.5 M parameters);
- Swin-T: mmdet ``SwinTransformer`` with Swin-T's detection config
  (embed_dims 96, depths 2/2/6/2, heads 3/6/12/24, window 7, 4 outputs;
  27.5 M parameters).

Requirements: torch, mmengine, mmcv's Python part (``mmcv.ops`` and
``mmcv._ext`` are blocked from import here, so a build without compiled
ops behaves the same), mmdet's files and mmplug.

Time guard. ``--budget`` seconds in all; each section (``fp32`` with the
model set-up and the references, ``fp16``, ``bf16``, ``cl-fp32``,
``cl-bf16``, ``compiled``) ends at its share of it (:data:`SECTIONS`,
unused time passes on), and a case starts only if its estimated time fits
(the model's fp32 case for an eager one, the longest compile so far for a
compiled one). Skipped cases are listed at the end with a command that
runs them.

``--cpu-smoke`` runs the same code on the CPU in seconds: 45x61 (the test
suite's size), batch 2, the small archs of
:data:`mmplug.testing.SMALL_BACKBONES`, the references at a quarter width
(:data:`SMOKE_REFERENCES`), one timed step per case, one thread, compile
backend ``eager`` (dynamo's graph capture run by eager kernels;
``aot_eager`` adds about 25 s on 2 cores) and a gradient bound of 128 u:
with 2 threads the CPU's fp16 kernels gave mmdet's ResNet-50 50-82 u at
this size (mostly its stem conv's gradient; 3 seeds; 24 u with 1 thread),
over the suite's 64 u, which was measured on mmplug's small models. Its
figures are no benchmark; peak memory is GPU only.
"""
import argparse
import copy
import functools
import importlib.abc
import importlib.util
import json
import os.path as osp
import sys
import time
import types
import warnings
from typing import Dict, List, Optional
from unittest import mock

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


class _NoCompiledOps(importlib.abc.MetaPathFinder):
    """Makes ``import mmcv.ops`` / ``mmcv._ext`` fail as without them."""

    def find_spec(self, name, path=None, target=None):
        if name.split('.')[:2] in (['mmcv', 'ops'], ['mmcv', '_ext']):
            raise ModuleNotFoundError(
                f'{name}: gpu_check.py runs without mmcv compiled ops',
                name=name)
        return None


sys.meta_path.insert(0, _NoCompiledOps())
warnings.filterwarnings('ignore', message='Fail to import')

import torch  # noqa: E402

from mmplug.registry import MODELS  # noqa: E402
from mmplug.testing import (AMP_GRAD_TOL, AMP_OUTPUT_TOL,  # noqa: E402
                            SMALL_BACKBONES, registered_backbones,
                            relative_error, unit_roundoff)

#: the arch of each backbone (kwargs of ``MODELS.build``): the default arch
#: of each, none is large (params at build, 4 outputs unless stated)
ARCHS: Dict[str, dict] = {
    'mmplug.DCAResNet': {},  # DCA-SE-ResNet-50, 28.8 M
    'mmplug.GroupEnsembleResNet': {},  # GE-ResNet-50, 24.2 M
    'mmplug.MobileNeXt': {},  # MobileNeXt 1.0x, 2.2 M
    'mmplug.ParCConvNeXt': {},  # ParC-ConvNeXt-XT, 7.0 M
    'mmplug.ParCResNet': {},  # ParC-ResNet-50, 21.7 M
    'mmplug.PyConvResNet': {},  # PyConvResNet-50, 22.8 M
    'mmplug.SCSCResNet': {},  # SCSC-ResNet-50, 24.0 M
    'mmplug.SCSCSwin': {},  # SCSC-Swin-T, 21.2 M
    'mmplug.SMT': {},  # SMT-T, 11.0 M
}
R50, SWIN_T = 'ResNet-50 (mmdet)', 'Swin-T (mmdet)'
#: reference name -> (mmdet file, class, kwargs)
REFERENCES = {
    R50: ('resnet.py', 'ResNet', dict(depth=50)),
    SWIN_T: ('swin.py', 'SwinTransformer', dict(
        embed_dims=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24),
        window_size=7, mlp_ratio=4, qkv_bias=True, drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3))),
}
#: the CPU smoke run's references: the same layouts at a quarter width
SMOKE_REFERENCES = {R50: dict(base_channels=16, stem_channels=16),
                    SWIN_T: dict(embed_dims=24)}
#: case -> (autocast dtype, channels_last, compiled)
CASES = {
    'fp32': (None, False, False),
    'fp16': (torch.float16, False, False),
    'bf16': (torch.bfloat16, False, False),
    'cl-fp32': (None, True, False),
    'cl-bf16': (torch.bfloat16, True, False),
    'compiled': (None, False, True),
}
#: the section of each case ends at this fraction of the budget
SECTIONS = {'fp32': 0.2, 'fp16': 0.28, 'bf16': 0.36, 'cl-fp32': 0.44,
            'cl-bf16': 0.52, 'compiled': 1.0}
#: unit roundoff of the fp32 cases: TF32 (cuDNN's default for convs)
FP32_ROUNDOFF = 2.**-11
#: a first guess of a compile's time (s) before one was measured
FIRST_COMPILE_S = {'cuda': 60., 'cpu': 5.}


@functools.lru_cache(None)
def load_mmdet_references() -> Dict[str, type]:
    """mmdet's ``ResNet`` and ``SwinTransformer`` classes from their files,
    without running ``mmdet/models/__init__.py`` (which imports
    ``mmcv.ops``): the files and the two of ``mmdet/models/layers`` they
    import from are loaded as modules of a private package ``_mmdet_refs``
    (kept in ``sys.modules``: dynamo re-imports a traced function's module),
    with mmdet's registration disabled."""
    import mmdet
    from mmdet.registry import MODELS as MMDET_MODELS
    root = osp.join(osp.dirname(mmdet.__file__), 'models')
    def module(name, path=None):
        name = f'_mmdet_refs{name}'
        if path is None:
            mod = types.ModuleType(name)
            mod.__path__ = []
        else:
            spec = importlib.util.spec_from_file_location(
                name, osp.join(root, path))
            mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        if path is not None:
            spec.loader.exec_module(mod)
        return mod

    classes = {}
    with mock.patch.object(MMDET_MODELS, 'register_module',
                           lambda *a, **k: (lambda cls: cls)):
        for name in ('', '.backbones'):
            module(name)
        layers = module('.layers')
        utils = module('.layers.transformer_utils',
                       'layers/transformer/utils.py')
        layers.PatchEmbed, layers.PatchMerging = (utils.PatchEmbed,
                                                  utils.PatchMerging)
        layers.ResLayer = module('.layers.res_layer',
                                 'layers/res_layer.py').ResLayer
        for file, cls, _ in REFERENCES.values():
            mod = module(f'.backbones.{file[:-3]}', f'backbones/{file}')
            classes[cls] = getattr(mod, cls)
    return classes


def build_models(names: List[str], smoke: bool,
                 references: bool = True) -> Dict[str, torch.nn.Module]:
    """The references (unless not ``references``), then ``names`` (default
    archs; for ``smoke`` the small ones of
    :data:`mmplug.testing.SMALL_BACKBONES` and :data:`SMOKE_REFERENCES`),
    in eval mode, on the CPU, with PyTorch's default initialisation (as the
    test suite's autocast cases)."""
    classes = load_mmdet_references()
    models = {ref: classes[cls](**dict(kwargs, **(
        SMOKE_REFERENCES[ref] if smoke else {})))
        for ref, (_, cls, kwargs) in REFERENCES.items() if references}
    for name in names:
        kwargs = SMALL_BACKBONES.get(name, {}) if smoke else ARCHS.get(
            name, {})
        models[name] = MODELS.build(dict(copy.deepcopy(kwargs), type=name))
    for model in models.values():
        model.eval()
    return models


class Runner:
    """Runs the cases within the budget and keeps the results."""

    def __init__(self, args, device: torch.device):
        self.args = args
        self.device = device
        self.cuda = device.type == 'cuda'
        self.start = time.perf_counter()
        self.results: List[dict] = []
        self.skipped: List[dict] = []
        self.state: Dict[str, dict] = {}  # per model: input, r, reference
        self.compile_s = FIRST_COMPILE_S[device.type]
        self.params: Dict[str, float] = {}  # millions, per model

    # ----------------------------------------------------------- helpers
    def now(self) -> float:
        return time.perf_counter() - self.start

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def step(self, model, name: str, dtype: Optional[torch.dtype]):
        """One forward+backward; returns the outputs (grads in ``.grad``)."""
        state = self.state[name]
        for p in model.parameters():
            p.grad = None
        with torch.autocast(self.device.type, dtype=dtype or torch.bfloat16,
                            enabled=dtype is not None):
            outs = model(state['x'])
        sum((o.float() * r).sum() for o, r in zip(outs, state['r'])
            ).backward()
        return outs

    @staticmethod
    def grads(model) -> torch.Tensor:
        return torch.cat([
            torch.zeros(p.numel(), device=p.device) if p.grad is None else
            p.grad.detach().float().flatten() for p in model.parameters()])

    def setup(self, name: str, model) -> None:
        """Model to the device, its input and ``r``, and the strict fp32
        reference step (TF32 off)."""
        model.to(self.device)
        g = torch.Generator(self.device).manual_seed(0)
        x = torch.randn(self.args.batch, 3, *self.args.size, generator=g,
                        device=self.device)
        with torch.no_grad():
            shapes = [o.shape for o in model(x)]
        self.state[name] = dict(x=x, r=[
            torch.randn(s, generator=g, device=self.device) for s in shapes])
        tf32 = (torch.backends.cuda.matmul.allow_tf32,
                torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        try:
            outs = self.step(model, name, None)
        finally:
            (torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32) = tf32
        self.state[name].update(ref_outs=[o.detach() for o in outs],
                                ref_grads=self.grads(model))
        for p in model.parameters():
            p.grad = None

    def check(self, model, name, outs, dtype) -> dict:
        """Errors in units of u against the reference, and finiteness."""
        state = self.state[name]
        u = unit_roundoff(dtype) if dtype is not None else FP32_ROUNDOFF
        grads = self.grads(model)
        outs = [o.detach().float() for o in outs]
        finite = all(torch.isfinite(o).all().item() for o in outs) and \
            torch.isfinite(grads).all().item()
        out_err = max(relative_error(o, r) / u
                      for o, r in zip(outs, state['ref_outs']))
        grad_err = relative_error(grads, state['ref_grads']) / u
        failures = []
        if not finite:
            failures.append('not finite')
        if not out_err <= AMP_OUTPUT_TOL:
            failures.append(f'output {out_err:.3g} u > {AMP_OUTPUT_TOL} u')
        tol = self.args.grad_tol
        if not grad_err <= tol:
            failures.append(f'gradient {grad_err:.3g} u > {tol:g} u')
        return dict(finite=finite, out_err_u=out_err, grad_err_u=grad_err,
                    failures=failures)

    def train_mode_finite(self, model, name, dtype) -> bool:
        """One step in training mode is finite (BatchNorm buffers kept)."""
        buffers = {k: v.clone() for k, v in model.named_buffers()}
        model.train()
        try:
            outs = self.step(model, name, dtype)
            return all(torch.isfinite(o).all().item() for o in outs) and \
                torch.isfinite(self.grads(model)).all().item()
        finally:
            model.eval()
            with torch.no_grad():
                for k, v in model.named_buffers():
                    v.copy_(buffers[k])

    # ------------------------------------------------------------- cases
    def run_case(self, name: str, model, case: str) -> dict:
        dtype, channels_last, compiled = CASES[case]
        result = dict(model=name, case=case)
        state = self.state[name]
        if channels_last:
            model.to(memory_format=torch.channels_last)
            state['x'] = state['x'].contiguous(
                memory_format=torch.channels_last)
        runner = model
        try:
            if compiled:
                torch._dynamo.reset()
                runner = torch.compile(model,
                                       backend=self.args.compile_backend)
                start = time.perf_counter()
                self.step(runner, name, dtype)
                self.sync()
                result['compile_s'] = time.perf_counter() - start
                self.compile_s = max(self.compile_s, result['compile_s'])
            for _ in range(self.args.warmup):
                self.step(runner, name, dtype)
            for p in model.parameters():
                p.grad = None
            self.sync()
            if self.cuda:
                base = torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
            outs = None
            start = time.perf_counter()
            for _ in range(self.args.iters):
                outs = None
                outs = self.step(runner, name, dtype)
            self.sync()
            seconds = (time.perf_counter() - start) / self.args.iters
            result.update(
                img_s=self.args.batch / seconds, step_s=seconds,
                step_gib=(torch.cuda.max_memory_allocated() - base) / 2**30
                if self.cuda else None)
            result.update(self.check(model, name, outs, dtype))
            if dtype is not None and not channels_last:
                result['train_finite'] = self.train_mode_finite(
                    model, name, dtype)
                if not result['train_finite']:
                    result['failures'].append('training mode not finite')
        except Exception as err:  # one case's error does not stop the rest
            msg = str(err).strip().splitlines()
            result['failures'] = [
                f'{type(err).__name__}: {msg[0] if msg else ""}'[:200]]
        finally:
            outs = None
            for p in model.parameters():
                p.grad = None
            if channels_last:
                model.to(memory_format=torch.contiguous_format)
                state['x'] = state['x'].contiguous()
            if compiled:
                del runner
                torch._dynamo.reset()
            if self.cuda:
                torch.cuda.empty_cache()
        result['status'] = 'ok' if not result['failures'] else 'FAIL'
        return result

    def estimate(self, name: str, case: str) -> float:
        if CASES[case][2]:
            return self.compile_s * 1.2
        fp32 = next((r for r in self.results
                     if r['model'] == name and r.get('step_s')), None)
        steps = self.args.warmup + self.args.iters + 2
        return 1.5 * steps * fp32['step_s'] if fp32 else 0.

    def run(self, models: Dict[str, torch.nn.Module], cases: List[str]):
        for section in SECTIONS:
            deadline = self.args.budget * SECTIONS[section]
            setup = section == 'fp32'
            if section not in cases and not setup:
                continue
            names = list(models)
            if section == 'compiled':  # the backbones' compiles first
                names.sort(key=lambda name: name in REFERENCES)
            for name in names:
                model = models[name]
                if setup and name not in self.state:
                    if self.now() >= deadline:
                        self.skip(name, 'setup')
                        continue
                    try:
                        self.setup(name, model)
                    except Exception as err:
                        self.results.append(dict(
                            model=name, case='setup', status='FAIL',
                            failures=[f'{type(err).__name__}: {err}'[:200]]))
                        print(f'{short(name):<22} setup FAILED: {err}',
                              flush=True)
                        continue
                if section not in cases or name not in self.state:
                    continue
                if self.now() + self.estimate(name, section) > deadline:
                    self.skip(name, section)
                    continue
                result = self.run_case(name, model, section)
                self.results.append(result)
                print(self.line(result), flush=True)

    def skip(self, name: str, case: str) -> None:
        self.skipped.append(dict(model=name, case=case))
        print(f'{short(name):<22} {case:<9} skipped (budget)', flush=True)

    # ----------------------------------------------------------- reports
    def find(self, name: str, case: str) -> Optional[dict]:
        return next((r for r in self.results
                     if r['model'] == name and r['case'] == case), None)

    def ratio(self, name: str, case: str, ref: str) -> Optional[float]:
        """Step time of ``name`` over the reference's, same case."""
        mine, theirs = self.find(name, case), self.find(ref, case)
        if mine and theirs and mine.get('step_s') and theirs.get('step_s'):
            return mine['step_s'] / theirs['step_s']
        return None

    def line(self, r: dict) -> str:
        text = f'{short(r["model"]):<22} {r["case"]:<9}'
        if r.get('img_s') is not None:
            text += f' {r["img_s"]:9.2f} img/s'
            if r.get('step_gib') is not None:
                text += f'  step {r["step_gib"]:6.2f} GiB'
            for ref, tag in ((R50, 'R50'), (SWIN_T, 'Swin-T')):
                ratio = self.ratio(r['model'], r['case'], ref)
                if ratio is not None:
                    text += f'  {ratio:5.2f}x {tag} time'
            text += (f'  out {r["out_err_u"]:.3g} u  grad '
                     f'{r["grad_err_u"]:.3g} u')
            if 'compile_s' in r:
                text += f'  compile {r["compile_s"]:.1f} s'
        return text + f'  {r["status"]}' + ''.join(
            f'; {f}' for f in r['failures'])

    def table(self, names: List[str], cases: List[str]) -> str:
        """The markdown table: img/s and step GiB per case, time ratios."""
        cell_cases = [c for c in CASES if c in cases]
        head = (['model', 'params (M)'] +
                [f'{c} img/s{"" if not self.cuda else " · GiB"}'
                 for c in cell_cases] +
                (['compile (s)'] if 'compiled' in cases else []) +
                ['time ÷ ResNet-50', 'time ÷ Swin-T', 'checks'])
        rows = ['| ' + ' | '.join(head) + ' |',
                '|' + '|'.join(['---'] + ['---:'] * (len(head) - 2) +
                               ['---']) + '|']
        for name in names:
            cells = [short(name), f'{self.params[name]:.3g}']
            for case in cell_cases:
                r = self.find(name, case)
                if r is None:
                    cells.append('skipped')
                elif r.get('img_s') is None:
                    cells.append('error')
                else:
                    cells.append(f'{r["img_s"]:.1f}' + (
                        f' · {r["step_gib"]:.2f}' if self.cuda else ''))
            if 'compiled' in cases:
                r = self.find(name, 'compiled')
                cells.append(f'{r["compile_s"]:.0f}' if r and 'compile_s'
                             in r else '-')
            for ref in (R50, SWIN_T):
                parts = []
                for case in ('fp32', 'bf16', 'compiled'):
                    ratio = self.ratio(name, case, ref)
                    if ratio is not None:
                        parts.append(f'{ratio:.2f} {case}')
                cells.append(', '.join(parts) or '-')
            failures = [f'{r["case"]}: {"; ".join(r["failures"])}'
                        for r in self.results
                        if r['model'] == name and r['failures']]
            ran = any(r['model'] == name for r in self.results)
            cells.append('; '.join(failures) or ('ok' if ran else 'not run'))
            rows.append('| ' + ' | '.join(cells) + ' |')
        return '\n'.join(rows)


def rerun_command(skipped: List[dict], args) -> str:
    """The command that runs the ``skipped`` cases (a skipped set-up skips
    all the model's cases)."""
    setup = any(s['case'] == 'setup' for s in skipped)
    cases = [c for c in args.cases
             if setup or any(s['case'] == c for s in skipped)]
    names = sorted({short(s['model']) for s in skipped
                    if s['model'] not in REFERENCES})
    refs = any(s['model'] in REFERENCES for s in skipped)
    return ' '.join(
        ['python benchmarks/gpu_check.py', '--cases', ','.join(cases)] +
        (['--only', ','.join(names)] if names else []) +
        ([] if refs else ['--no-references']) +
        (['--cpu-smoke'] if args.cpu_smoke else []))


def short(name: str) -> str:
    return name.split('.', 1)[1] if name.startswith('mmplug.') else name


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--cpu-smoke', action='store_true',
                        help='run on the CPU at a tiny size with the small '
                        'archs (mmplug.testing.SMALL_BACKBONES)')
    parser.add_argument('--budget', type=float, default=450.,
                        help='seconds for all cases (default 450)')
    parser.add_argument('--only', action='append', default=[],
                        help='backbones to run, comma-separated, e.g. '
                        'SMT,SCSCResNet (default all)')
    parser.add_argument('--cases', default=','.join(CASES),
                        help=f'cases, comma-separated (default all: '
                        f'{",".join(CASES)})')
    parser.add_argument('--no-references', action='store_true',
                        help='run the backbones only (e.g. to rerun skipped '
                        'cases)')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size (default 800 1216; 45 61 with '
                        '--cpu-smoke, the test suite\'s size)')
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--threads', type=int,
                        help='CPU threads of torch (default: torch\'s; 1 '
                        'with --cpu-smoke, steady on a shared machine)')
    parser.add_argument('--iters', type=int,
                        help='timed steps per case (default 10; 1 with '
                        '--cpu-smoke)')
    parser.add_argument('--warmup', type=int,
                        help='untimed steps before them (default 3; 0)')
    parser.add_argument('--compile-backend',
                        help="torch.compile backend (default 'inductor'; "
                        "'eager' with --cpu-smoke)")
    parser.add_argument('--grad-tol', type=float,
                        help=f'gradient bound in unit roundoffs (default '
                        f'{AMP_GRAD_TOL}, the test suite\'s; '
                        f'{2 * AMP_GRAD_TOL} with --cpu-smoke)')
    args = parser.parse_args(argv)
    smoke = args.cpu_smoke
    args.size = args.size or ((45, 61) if smoke else (800, 1216))
    args.iters = args.iters or (1 if smoke else 10)
    if args.warmup is None:
        args.warmup = 0 if smoke else 3
    if args.threads is None and smoke:
        args.threads = 1
    args.compile_backend = args.compile_backend or (
        'eager' if smoke else 'inductor')
    if args.grad_tol is None:
        args.grad_tol = 2 * AMP_GRAD_TOL if smoke else AMP_GRAD_TOL
    args.cases = [c for c in args.cases.split(',') if c]
    bad = [c for c in args.cases if c not in CASES]
    if bad:
        parser.error(f'unknown case(s) {", ".join(bad)}; the cases are '
                     f'{", ".join(CASES)}')
    registered = registered_backbones()
    names = []
    for item in ','.join(args.only).split(','):
        if not item:
            continue
        name = item if item.startswith('mmplug.') else f'mmplug.{item}'
        if name not in registered:
            parser.error(f'--only: {item!r} is not a registered backbone; '
                         f'they are {", ".join(map(short, registered))}')
        names.append(name)
    args.names = names or registered
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.cpu_smoke:
        device = torch.device('cpu')
    elif torch.cuda.is_available():
        device = torch.device('cuda')
    else:
        print('gpu_check.py: no CUDA device here; run it on a CUDA machine, '
              'or with --cpu-smoke for the tiny CPU run', file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    what = (torch.cuda.get_device_name(device) if device.type == 'cuda'
            else 'CPU (smoke run)')
    print(f'gpu_check: {what}, torch {torch.__version__}, '
          f'{args.size[0]}x{args.size[1]}, batch {args.batch}, '
          f'budget {args.budget:.0f} s, compile backend '
          f'{args.compile_backend}', flush=True)
    runner = Runner(args, device)
    models = build_models(args.names, args.cpu_smoke,
                          not args.no_references)
    runner.params = params = {
        name: sum(p.numel() for p in m.parameters()) / 1e6
        for name, m in models.items()}
    runner.run(models, args.cases)
    print('\n' + runner.table(list(models), args.cases), flush=True)
    if runner.skipped:
        print('\nskipped (budget): ' + ', '.join(
            f'{short(s["model"])} {s["case"]}' for s in runner.skipped))
        print(f'run them with: {rerun_command(runner.skipped, args)}')
    failed = [r for r in runner.results if r['failures']]
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(device=what, torch=torch.__version__,
                           args=vars(args), params=params,
                           references=list(REFERENCES),
                           results=runner.results, skipped=runner.skipped),
                      f, indent=1)
    print(f'\n{len(runner.results) - len(failed)} cases ok, {len(failed)} '
          f'failed, {len(runner.skipped)} skipped, '
          f'{runner.now():.0f} s', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
