"""Training and testing, for detection and segmentation configs alike.

``tools/train.py`` and ``tools/test.py`` are argument parsing over
:func:`train` and :func:`test`. The task (mmdet or mmseg) comes from the
config's ``default_scope``; both run on mmengine's :class:`Runner`.
"""
import copy
import os
import os.path as osp
from typing import Dict, Iterable, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmplug.engine.channels import check_channels
from mmplug.apis.config import (check_datasets, check_pretrained,
                                load_config, task_of)
from mmplug.checkpoint import install, trust_checkpoint
from mmplug.engine import MMPlugRunner
from mmplug.engine.lock import train_lock
from mmplug.engine.runner import check_schedule, latest_checkpoint
from mmplug.errors import (CheckpointError, CheckpointNotFoundError,
                           ConfigError)

#: What each launcher needs in the environment, and what sets it.
LAUNCHER_ENV = {
    'pytorch': (('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
                'torchrun: tools/dist_train.sh CONFIG NPROC'),
    'slurm': (('SLURM_PROCID', 'SLURM_NTASKS'),
              'srun: tools/slurm_train.sh PARTITION JOB CONFIG WORK_DIR'),
    'mpi': (('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'), 'mpirun'),
}


def check_launcher(launcher: str) -> None:
    """Raise :class:`ConfigError` when ``launcher`` is not ``'none'`` and
    its environment is missing (e.g. ``--launcher pytorch`` without
    torchrun)."""
    if launcher == 'none':
        return
    names, how = LAUNCHER_ENV[launcher]
    missing = [n for n in names if n not in os.environ]
    if missing:
        raise ConfigError(
            f'--launcher {launcher} needs the environment its launcher sets '
            f'({", ".join(missing)} missing): start with {how}, or drop '
            '--launcher for one process')


def _prepare(config: str, work_dir: Optional[str], cfg_options: Optional[dict],
             launcher: str, trusted: Iterable[str],
             partial_load: bool = False) -> Config:
    """Load a config and apply what train and test share."""
    check_launcher(launcher)
    for path in trusted:
        trust_checkpoint(path)
    install()
    cfg = load_config(config, cfg_options)
    cfg.launcher = launcher
    if partial_load:
        cfg.partial_load = True
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def check_checkpoint_path(path: str, what: str, hint: str = '') -> None:
    """Refuse a checkpoint path that does not exist or is a directory
    (whose newest checkpoint is named, when it has one).

    Args:
        path (str): the path given.
        what (str): how the tool names it (``'checkpoint'``,
            ``'--resume: checkpoint'``).
        hint (str): added to the message about a directory.
    """
    if osp.isdir(path):
        found = latest_checkpoint(path)
        newest = (f'; its newest checkpoint is {found}' if found
                  else '; it holds no .pth file')
        raise CheckpointError(
            f'{what} {path} is a directory, not a checkpoint file{newest}'
            f'{hint}')
    if not osp.isfile(path):
        raise CheckpointNotFoundError(f'{what} not found: {path}')


def _init_cpu_dist(cfg: Config) -> None:
    """Distributed runs without GPUs: gloo and a device-less DDP wrapper.

    mmengine's own launcher code calls ``torch.cuda.set_device`` and wraps
    the model with ``device_ids=[LOCAL_RANK]``, both of which fail on CPU.
    """
    if cfg.launcher != 'pytorch':
        raise ConfigError(f'--launcher {cfg.launcher} needs GPUs; on CPU use '
                           'tools/dist_train.sh (torchrun, gloo)')
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    cfg.model_wrapper_cfg = dict(
        type='MMDistributedDataParallel', device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))


def _build_runner(cfg: Config) -> Runner:
    """:class:`~mmplug.engine.MMPlugRunner`, or the config's
    ``runner_type``."""
    if cfg.launcher != 'none' and not torch.cuda.is_available():
        _init_cpu_dist(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return MMPlugRunner.from_cfg(cfg)


def build_train_cfg(config: str,
                    work_dir: Optional[str] = None,
                    amp: bool = False,
                    resume: Optional[str] = None,
                    auto_scale_lr: bool = False,
                    cfg_options: Optional[dict] = None,
                    launcher: str = 'none',
                    trusted: Iterable[str] = (),
                    partial_load: bool = False) -> Config:
    """The config ``tools/train.py`` runs, with its options applied.

    Args:
        config (str): config file.
        work_dir (str, optional): where logs and checkpoints go. Defaults to
            the config's ``work_dir`` or ``./work_dirs/<config name>``.
        amp (bool): mixed precision (``AmpOptimWrapper``; needs a GPU).
        resume (str, optional): ``'auto'`` resumes from the latest checkpoint
            in ``work_dir``; a path resumes from that checkpoint.
        auto_scale_lr (bool): scale the learning rate by the actual batch
            size over the config's ``auto_scale_lr.base_batch_size``.
        cfg_options (dict, optional): config overrides.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        trusted (Iterable[str]): checkpoints to unpickle without restriction.
        partial_load (bool): load what fits of a ``load_from`` checkpoint
            whose keys do not all fit the model (otherwise refused).

    Returns:
        Config: ready for :class:`mmengine.runner.Runner`.
    """
    cfg = _prepare(config, work_dir, cfg_options, launcher, trusted,
                   partial_load)
    if amp:
        if not torch.cuda.is_available():
            raise ConfigError('--amp needs a GPU: mmengine\'s '
                               'AmpOptimWrapper does not run on CPU')
        if cfg.optim_wrapper.get('type', 'OptimWrapper') != 'AmpOptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if auto_scale_lr:
        scale = cfg.get('auto_scale_lr') or {}
        if 'base_batch_size' not in scale:
            raise ConfigError(
                '--auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                'base_batch_size=N)` in the config (N: the total batch size '
                'its learning rate was tuned for)')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif resume is not None:
        check_checkpoint_path(
            resume, '--resume: checkpoint', ' (to continue the run in that '
            'directory: --work-dir DIR --resume, without a path)')
        cfg.resume, cfg.load_from = True, resume
    return cfg


def train(config: str, **kwargs) -> Runner:
    """Train a detection or segmentation config.

    Args:
        config (str): config file.
        **kwargs: options of :func:`build_train_cfg`.

    Returns:
        Runner: the runner after training.
    """
    cfg = build_train_cfg(config, **kwargs)
    check_schedule(cfg)
    splits = ['train'] + (['val'] if cfg.get('val_cfg') else [])
    check_datasets(cfg, splits)
    check_pretrained(cfg)
    check_channels(cfg)
    # taken before the runner writes its log: a second run in the same
    # work dir is refused before it writes anything there
    with train_lock(cfg.work_dir):
        runner = _build_runner(cfg)
        runner.train()
    return runner


def _det_tta(cfg: Config) -> None:
    """Wrap the model in mmdet's TTA model, with a flip pipeline by default."""
    if cfg.model.get('roi_head', {}).get('mask_head'):
        raise ConfigError('--tta: mmdet 3.3.0\'s DetTTAModel merges boxes '
                          'only and does not support instance segmentation '
                          '(a mask head); test without --tta')
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(
            type='DetTTAModel',
            tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5),
                         max_per_img=100))
    if 'tta_pipeline' not in cfg:
        dataset = cfg.test_dataloader.dataset
        while 'dataset' in dataset:
            dataset = dataset['dataset']
        cfg.tta_pipeline = copy.deepcopy(dataset.pipeline)
        cfg.tta_pipeline[-1] = dict(
            type='TestTimeAug',
            transforms=[[dict(type='RandomFlip', prob=1.),
                         dict(type='RandomFlip', prob=0.)],
                        [dict(type='PackDetInputs',
                              meta_keys=('img_id', 'img_path', 'ori_shape',
                                         'img_shape', 'scale_factor', 'flip',
                                         'flip_direction'))]])
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def _seg_tta(cfg: Config) -> None:
    """Wrap the model in mmseg's TTA model (multi-scale + flip pipeline)."""
    if 'tta_pipeline' not in cfg:
        raise ConfigError('--tta needs `tta_pipeline` in the config (the '
                           'ADE20K base configs define one)')
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    cfg.tta_model.module = cfg.model
    cfg.model = cfg.tta_model


def build_test_cfg(config: str,
                   checkpoint: str,
                   work_dir: Optional[str] = None,
                   out: Optional[str] = None,
                   show_dir: Optional[str] = None,
                   tta: bool = False,
                   cfg_options: Optional[dict] = None,
                   launcher: str = 'none',
                   trusted: Iterable[str] = (),
                   partial_load: bool = False) -> Config:
    """The config ``tools/test.py`` runs, with its options applied.

    Args:
        config (str): config file.
        checkpoint (str): weights to evaluate.
        work_dir (str, optional): where logs go.
        out (str, optional): det: a ``.pkl`` file for the raw results;
            seg: a folder for the predicted label maps.
        show_dir (str, optional): folder for pictures of the predictions.
        tta (bool): test-time augmentation (det: flip; seg: the config's
            multi-scale + flip ``tta_pipeline``).
        cfg_options, launcher, trusted, partial_load: as for
            :func:`build_train_cfg`.

    Returns:
        Config: ready for :class:`mmengine.runner.Runner`.
    """
    check_checkpoint_path(checkpoint, 'checkpoint')
    cfg = _prepare(config, work_dir, cfg_options, launcher, trusted,
                   partial_load)
    task = task_of(cfg)
    cfg.load_from = checkpoint
    if show_dir:
        vis = cfg.default_hooks.visualization
        vis.draw = True
        if task == 'det':
            vis.test_out_dir = osp.abspath(show_dir)
        else:
            vis.interval = 1
            cfg.visualizer.save_dir = show_dir
    if out is not None:
        if task == 'det':
            if not out.endswith(('.pkl', '.pickle')):
                raise ConfigError(f'--out must be a .pkl file, got {out}')
            evaluators = cfg.test_evaluator
            if isinstance(evaluators, dict):
                evaluators = [evaluators]
            cfg.test_evaluator = list(evaluators) + [
                dict(type='DumpDetResults', out_file_path=out)]
        else:
            cfg.test_evaluator.output_dir = out
            cfg.test_evaluator.keep_results = True
    if tta:
        (_det_tta if task == 'det' else _seg_tta)(cfg)
    return cfg


def test(config: str, checkpoint: str, **kwargs) -> Dict[str, float]:
    """Evaluate a checkpoint on a config's test set.

    Args:
        config (str): config file.
        checkpoint (str): weights to evaluate.
        **kwargs: options of :func:`build_test_cfg`.

    Returns:
        dict: the metrics (e.g. ``coco/bbox_mAP``, ``mIoU``).
    """
    cfg = build_test_cfg(config, checkpoint, **kwargs)
    check_datasets(cfg, ['test'])
    check_channels(cfg)
    runner = _build_runner(cfg)
    return runner.test()
