"""The runner of mmplug's configs and tools: mmengine's, plus the checks
and guarantees that keep a run from going silently wrong or losing work."""
import copy
import glob
import inspect
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from torch.utils.data import DataLoader

from mmplug.checkpoint import (check_pretrained, compare_keys,
                               extract_state_dict)
from mmplug.datasets.check import check_config_data
from mmplug.errors import (CheckpointError, CheckpointMismatchError,
                           ConfigError)
from mmplug.registry import RUNNERS

#: what a checkpoint needs to resume training from it
RESUME_KEYS = ('meta', 'state_dict', 'optimizer')

_PLAIN_CHECKPOINT_HOOKS = ('CheckpointHook', 'mmengine.CheckpointHook')

#: what ``compile`` compiles by default: the parts of a detector or
#: segmentor that mmplug keeps free of graph breaks (tested for every
#: backbone and neck)
COMPILE_PARTS = ('backbone', 'neck')


def _hook_type(hook) -> Optional[str]:
    return hook.get('type') if isinstance(hook, dict) else \
        type(hook).__name__


def make_resumable(cfg: Config) -> Config:
    """A copy of ``cfg`` with mmplug's safe checkpoint rotation and
    per-iteration seeding (see :class:`MMPlugRunner`)."""
    cfg = copy.deepcopy(cfg)
    hooks = cfg.get('default_hooks') or ConfigDict()
    checkpoint = hooks.get('checkpoint')
    if isinstance(checkpoint, dict) and checkpoint.get(
            'type') in _PLAIN_CHECKPOINT_HOOKS:
        checkpoint['type'] = 'mmplug.SafeCheckpointHook'
    custom = list(cfg.get('custom_hooks') or [])
    if not any(str(_hook_type(h)).endswith('IterationSeedHook')
               for h in custom):
        custom.append(dict(type='mmplug.IterationSeedHook'))
    cfg.custom_hooks = custom
    return cfg


def guard_dataloader(dataloader: Dict) -> Dict:
    """A dataloader config whose dataset is wrapped in
    :class:`~mmplug.datasets.wrappers.GuardedDataset` and whose sampler in
    :class:`~mmplug.datasets.wrappers.SeededSampler`."""
    dataloader = copy.deepcopy(dataloader)
    dataset = dataloader.get('dataset')
    if isinstance(dataset, dict) and dataset.get(
            'type') != 'mmplug.GuardedDataset':
        dataloader['dataset'] = dict(type='mmplug.GuardedDataset',
                                     dataset=dataset)
    sampler = dataloader.get('sampler')
    if isinstance(sampler, dict) and sampler.get(
            'type') != 'mmplug.SeededSampler':
        dataloader['sampler'] = dict(type='mmplug.SeededSampler',
                                     sampler=sampler)
    return dataloader


def compile_options(cfg: Config) -> Optional[Tuple[Tuple[str, ...], Dict]]:
    """The config's ``compile`` as ``(parts, torch.compile arguments)``, or
    None when it is off.

    ``compile = True`` or ``compile = dict(backend=..., mode=..., ...)``
    (any ``torch.compile`` argument) as in mmengine, plus ``parts``: the
    children of the model to compile (default :data:`COMPILE_PARTS`, those
    the model has).

    Raises:
        ConfigError: ``compile`` is neither a bool nor a dict, or names an
            argument ``torch.compile`` does not take.
    """
    value = cfg.get('compile')
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(
            f'compile must be True, False or a dict of torch.compile '
            f'arguments, got {value!r} (e.g. --cfg-options '
            'compile.backend=inductor)')
    options = dict(value)
    parts = options.pop('parts', None)
    if isinstance(parts, str):
        parts = (parts, )
    known = set(inspect.signature(torch.compile).parameters) - {'model'}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            f'compile: torch.compile takes no {", ".join(unknown)}; its '
            f'arguments are {", ".join(sorted(known))}, and mmplug adds '
            '`parts` (the model children to compile)')
    return (tuple(parts) if parts is not None else None), options


def compile_parts(model: torch.nn.Module, cfg: Config) -> List[str]:
    """Compile the parts of ``model`` that ``cfg.compile`` names, in place.

    Each part is compiled with ``nn.Module.compile`` (the module itself is
    kept, so its state-dict keys and checkpoints do not change); a part
    compiled already is left as it is. mmengine's own runner compiles
    ``train_step`` instead, the whole training step, which for a detector
    breaks the graph at every mmcv op (NMS, RoIAlign, the data
    preprocessor's padding) and recompiles at every new number of boxes
    (measured: 12-52 s per iteration of the tiny demo detector with
    ``backend='aot_eager'``, against 0.3 s eager).

    Args:
        model (nn.Module): the model, possibly in a wrapper (DDP).
        cfg (Config): the config; see :func:`compile_options`.

    Returns:
        list[str]: the names of the parts compiled (empty when ``compile``
        is off).

    Raises:
        ConfigError: a bad ``compile`` value, or ``parts`` names a child the
            model does not have.
    """
    found = compile_options(cfg)
    if found is None:
        return []
    parts, options = found
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    if parts is None:
        parts = tuple(p for p in COMPILE_PARTS
                      if isinstance(getattr(model, p, None), torch.nn.Module))
    for part in parts:
        module = getattr(model, part, None)
        if not isinstance(module, torch.nn.Module):
            raise ConfigError(
                f'compile.parts: {type(model).__name__} has no part '
                f'{part!r}; its children are '
                f'{", ".join(n for n, _ in model.named_children())}')
        if getattr(module, '_compiled_call_impl', None) is None:
            module.compile(**options)
    return list(parts)


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` without a path continues from.

    ``work_dir/last_checkpoint`` names it; where that file is missing,
    empty (a run killed while writing it) or names a file that is gone,
    the newest ``*.pth`` in ``work_dir`` is taken.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            named = f.read().strip()
        if named and osp.isfile(named):
            return named
    found = [p for p in glob.glob(osp.join(glob.escape(work_dir), '*.pth'))
             if osp.isfile(p)]
    return max(found, key=osp.getmtime) if found else None


@RUNNERS.register_module()
class MMPlugRunner(Runner):
    """mmengine's :class:`~mmengine.runner.Runner`, for runs users can
    trust. What it adds:

    - **Exact resume.** Every dataloader's sampler tags indices with a
      per-sample seed and its dataset runs the pipeline under it
      (:mod:`mmplug.datasets.wrappers`); :class:`~mmplug.engine.
      IterationSeedHook` re-seeds the model's randomness per iteration. A
      run killed at any point and resumed ends with the same weights as
      the run that was never interrupted (bit for bit on CPU with
      ``randomness=dict(seed=N, deterministic=True)``), whatever
      ``num_workers``.
    - **No checkpoint lost.** ``CheckpointHook`` becomes
      :class:`~mmplug.engine.SafeCheckpointHook` (old checkpoints are
      removed only after the new one is written); ``--resume`` without a
      path finds the newest complete checkpoint even where
      ``last_checkpoint`` was lost.
    - **Checkpoints that fit.** ``load_from``, ``tools/test.py`` and
      ``--resume`` refuse a checkpoint whose keys do not fit the model,
      with a report (matched, missing, unexpected, wrong shape), unless the
      config sets ``partial_load = True``; ``--resume`` refuses a file
      without training state.
    - **Data checked first.** ``train()``/``val()``/``test()`` check the
      paths and class names of the splits they read
      (:func:`mmplug.datasets.check.check_config_data`) and the local
      pretrained checkpoints before anything is loaded; a sample that fails
      to load names its file.
    - **Compile what compiles.** ``compile = True`` (or a dict of
      ``torch.compile`` arguments) compiles the backbone and the neck, in
      place, for training, validation and testing (see
      :func:`compile_parts`), instead of mmengine's whole ``train_step``.

    Use it with ``runner_type = 'mmplug.MMPlugRunner'`` (mmplug's runtime
    bases set it, so mmdet's and mmseg's own tools use it too).
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'MMPlugRunner':
        compile_options(cfg)  # a bad value fails before anything is built
        cfg = make_resumable(cfg)
        runner = super().from_cfg(cfg)
        runner.partial_load = bool(cfg.get('partial_load', False))
        return runner

    @staticmethod
    def build_dataloader(dataloader: Union[DataLoader, Dict],
                         seed: Optional[int] = None,
                         diff_rank_seed: bool = False) -> DataLoader:
        if isinstance(dataloader, dict):
            dataloader = guard_dataloader(dataloader)
        return Runner.build_dataloader(dataloader, seed=seed,
                                       diff_rank_seed=diff_rank_seed)

    # ------------------------------------------------------------ checks
    def _check(self, splits: List[str]) -> None:
        check_config_data(self.cfg, splits)

    def train(self):
        splits = ['train'] + (['val'] if self.cfg.get('val_cfg') else [])
        self._check(splits)
        check_pretrained(self.cfg)
        return super().train()

    def val(self) -> dict:
        self._check(['val'])
        self._maybe_compile('val_step')
        return super().val()

    def test(self) -> dict:
        self._check(['test'])
        self._maybe_compile('test_step')
        return super().test()

    def _maybe_compile(self, target: str) -> None:
        """Compile the backbone and neck (``cfg.compile``), whatever
        ``target`` mmengine would compile."""
        parts = compile_parts(self.model, self.cfg)
        if parts:
            self.logger.info(
                f'compile: {", ".join(parts)} compiled with '
                f'{compile_options(self.cfg)[1] or "default arguments"}; '
                'the first iterations (and each new input size) are slow')

    # ------------------------------------------------------- checkpoints
    def load_or_resume(self) -> None:
        if self._resume and self._load_from is None and not self._has_loaded:
            found = latest_checkpoint(self.work_dir)
            if found is None:
                print_log(f'--resume: no checkpoint in {self.work_dir}; '
                          'training starts from the beginning',
                          logger='current', level=30)
                self._resume = False
            else:
                self._load_from = found
        super().load_or_resume()

    def resume(self, filename: str, *args, **kwargs) -> None:
        self._resuming = True
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming = False

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        resuming = getattr(self, '_resuming', False)
        if resuming:
            lacks = [k for k in RESUME_KEYS
                     if not isinstance(checkpoint, dict) or k not in checkpoint]
            if lacks:
                raise CheckpointError(
                    f'cannot resume from {filename!r}: it has no '
                    f'{", ".join(lacks)} (training state), so it holds '
                    'model weights only. Start from its weights with '
                    f'--cfg-options load_from={filename} (a new run) instead '
                    'of --resume.')
        state_dict = extract_state_dict(checkpoint, filename)
        if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
            checkpoint = dict(state_dict=state_dict)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model
        while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
            model = model.module  # as mmengine's load_state_dict unwraps
        names = {}  # checkpoint key -> the model key it becomes
        for key in checkpoint['state_dict']:
            name = key
            for pattern, repl in revise_keys:
                name = re.sub(pattern, repl, name)
            names[key] = name
        report = compare_keys(
            model.state_dict(),
            {names[k]: v for k, v in checkpoint['state_dict'].items()})
        if not report.fits():
            what = (f'checkpoint {filename!r} does not fit '
                    f'{type(model).__name__}:\n  {report.describe()}')
            if resuming or not getattr(self, 'partial_load', False):
                raise CheckpointMismatchError(
                    what + '\n' + ('--resume needs a checkpoint of this '
                                   'same config.' if resuming else
                                   'Load what fits on purpose with '
                                   '--partial-load (tools/train.py, '
                                   'tools/test.py) or partial_load = True '
                                   'in the config.'))
            print_log(what + '\n  (partial_load: loading what fits)',
                      logger='current', level=30)
            skip = {m.split(' ')[0] for m in report.mismatched}
            checkpoint['state_dict'] = {
                k: v for k, v in checkpoint['state_dict'].items()
                if names[k] not in skip}
        _load_checkpoint_to_model(model, checkpoint, strict,
                                  revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
