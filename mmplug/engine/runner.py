"""The runner of mmplug's configs and tools: mmengine's, plus the checks
and guarantees that keep a run from going silently wrong or losing work.

It is built on mmengine's public extension points only: ``from_cfg`` (the
config it builds from), hooks, and the public ``Runner`` methods
``build_dataloader``, ``train``, ``val``, ``test``, ``resume`` and
``load_checkpoint``.
"""
import copy
import glob
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Dict, Optional, Union

from mmengine.config import Config, ConfigDict
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import CheckpointLoader, Runner, load_state_dict
from torch.utils.data import DataLoader

from mmplug.checkpoint import (check_pretrained, compare_keys,
                               extract_state_dict, install)
from mmplug.datasets.check import check_config_data
from mmplug.engine.channels import check_channels
from mmplug.engine.compile import compile_options, resolve_parts
from mmplug.engine.lock import train_lock
from mmplug.errors import (CheckpointError, CheckpointMismatchError,
                           ConfigError)
from mmplug.registry import RUNNERS

#: what a checkpoint needs to resume training from it
RESUME_KEYS = ('meta', 'state_dict', 'optimizer')

_PLAIN_CHECKPOINT_HOOKS = ('CheckpointHook', 'mmengine.CheckpointHook')


def _hook_type(hook) -> Optional[str]:
    return hook.get('type') if isinstance(hook, dict) else \
        type(hook).__name__


def make_resumable(cfg: Config) -> Config:
    """A copy of ``cfg`` with mmplug's safe checkpoint rotation,
    per-iteration seeding, divergence checks and in-place compiling (see
    :class:`MMPlugRunner`)."""
    cfg = copy.deepcopy(cfg)
    hooks = cfg.get('default_hooks') or ConfigDict()
    checkpoint = hooks.get('checkpoint')
    if isinstance(checkpoint, dict) and checkpoint.get(
            'type') in _PLAIN_CHECKPOINT_HOOKS:
        checkpoint['type'] = 'mmplug.SafeCheckpointHook'
    custom = list(cfg.get('custom_hooks') or [])
    for name in ('IterationSeedHook', 'DivergenceHook'):
        if not any(str(_hook_type(h)).endswith(name) for h in custom):
            custom.append(dict(type=f'mmplug.{name}'))
    found = compile_options(cfg.pop('compile', None))
    if found is not None:  # compiled by the hook, not mmengine's train_step
        parts, options = found
        custom.append(dict(type='mmplug.CompileHook', parts=parts, **options))
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


def check_schedule(cfg: Config) -> None:
    """Refuse a training schedule that trains nothing
    (``train_cfg.max_epochs`` / ``max_iters`` below 1)."""
    train_cfg = cfg.get('train_cfg') or {}
    for key in ('max_epochs', 'max_iters'):
        value = train_cfg.get(key)
        if value is not None and not (isinstance(value, int)
                                      and value >= 1):
            raise ConfigError(
                f'train_cfg.{key}={value!r}: nothing would be trained; give '
                'a whole number >= 1')


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
      :class:`~mmplug.engine.SafeCheckpointHook` (atomic writes; old
      checkpoints are removed only after the new one is written);
      ``resume = True`` without ``load_from`` finds the newest complete
      checkpoint even where ``last_checkpoint`` was lost.
    - **Checkpoints that fit, and only safe ones.** mmengine's checkpoint
      loaders refuse pickles that could run code
      (:func:`mmplug.checkpoint.install`, done when the runner is built);
      ``load_from``, ``tools/test.py`` and ``--resume`` refuse a checkpoint
      whose keys do not fit the model, with a report (matched, missing,
      unexpected, wrong shape), unless the config sets
      ``partial_load = True``; ``--resume`` refuses a file without training
      state.
    - **Channels and data checked first.** Before the model is built, its
      parts must agree on their channels
      (:func:`~mmplug.engine.channels.check_channels`);
      ``train()``/``val()``/``test()`` check the paths and class names of
      the splits they read
      (:func:`mmplug.datasets.check.check_config_data`) and the local
      pretrained checkpoints before anything is loaded; a sample that fails
      to load names its file.
    - **No silent divergence.** :class:`~mmplug.engine.DivergenceHook`
      stops a run whose loss or gradient norm is not finite, or whose loss
      explodes, before its weights are saved.
    - **One run per work directory.** A second training run in the same
      work directory is refused (:func:`mmplug.engine.lock.train_lock`);
      a schedule that trains nothing (``max_epochs=0``) is refused.
    - **Compile what compiles.** ``compile = True`` (or a dict of
      ``torch.compile`` arguments) compiles the backbone and the neck, in
      place, for training, validation and testing
      (:class:`~mmplug.engine.CompileHook`), instead of mmengine's whole
      ``train_step``.

    Use it with ``runner_type = 'mmplug.MMPlugRunner'`` (mmplug's configs
    set it, so mmdet's and mmseg's own tools use it too).
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'MMPlugRunner':
        install()
        check_schedule(cfg)
        check_channels(cfg)  # before the model is built
        cfg = make_resumable(cfg)
        missing = None
        if cfg.get('resume') is True and cfg.get('load_from') is None \
                and cfg.get('work_dir'):
            cfg.load_from = latest_checkpoint(cfg.work_dir)
            if cfg.load_from is None:
                cfg.resume, missing = False, cfg.work_dir
        runner = super().from_cfg(cfg)
        if missing is not None:
            runner.logger.warning(f'--resume: no checkpoint in {missing}; '
                                  'training starts from the beginning')
        runner.partial_load = bool(cfg.get('partial_load', False))
        runner.resuming = False
        for hook in runner.hooks:  # bad compile.parts fail before training
            if type(hook).__name__ == 'CompileHook':
                resolve_parts(runner.model, hook.parts)
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
    def train(self):
        check_schedule(self.cfg)
        splits = ['train'] + (['val'] if self.cfg.get('val_cfg') else [])
        check_config_data(self.cfg, splits)
        check_pretrained(self.cfg)
        with train_lock(self.work_dir):
            return super().train()

    def val(self) -> dict:
        check_config_data(self.cfg, ['val'])
        return super().val()

    def test(self) -> dict:
        check_config_data(self.cfg, ['test'])
        return super().test()

    # ------------------------------------------------------- checkpoints
    def resume(self, filename: str, *args, **kwargs) -> None:
        self.resuming = True
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self.resuming = False

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """mmengine's ``load_checkpoint`` that refuses a checkpoint whose
        keys do not fit the model (unless ``partial_load``), or one without
        training state when resuming."""
        checkpoint = CheckpointLoader.load_checkpoint(
            filename, map_location=map_location)
        resuming = getattr(self, 'resuming', False)
        if resuming:
            lacks = [k for k in RESUME_KEYS if not isinstance(
                checkpoint, dict) or k not in checkpoint]
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
        state_dict = checkpoint['state_dict']
        revised = OrderedDict()
        for key, value in state_dict.items():
            for pattern, repl in revise_keys:
                key = re.sub(pattern, repl, key)
            revised[key] = value
        # torch's version records of each module's state (BatchNorm's ...)
        revised._metadata = getattr(state_dict, '_metadata', OrderedDict())
        report = compare_keys(model.state_dict(), revised)
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
            self.logger.warning(what + '\n  (partial_load: loading what '
                                'fits)')
            for name in report.mismatched:
                revised.pop(name.split(' ')[0])
        load_state_dict(model, revised, strict, logger='current')
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
