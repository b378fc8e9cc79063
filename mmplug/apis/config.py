"""Config loading shared by the tools: det/seg dispatch and dataset checks."""
import os.path as osp
from typing import Iterable, List, Optional

from mmengine.config import Config, ConfigDict

from mmplug.mim import find_config

#: Where the README explains how to lay out COCO and ADE20K.
DATASET_DOCS = "README.md, section 'Dataset preparation'"
#: Where the README lists the official checkpoints the configs expect.
WEIGHTS_DOCS = "README.md, section 'Pretrained weights'"

TASKS = {'mmdet': 'det', 'mmseg': 'seg'}


class ConfigError(ValueError):
    """A config or a tool option that cannot work as given."""


class DatasetNotFoundError(FileNotFoundError):
    """A path a config's dataset needs does not exist."""


class PretrainedNotFoundError(FileNotFoundError):
    """A local checkpoint a config's ``init_cfg`` names does not exist."""


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Read a config file and apply ``--cfg-options`` overrides.

    Args:
        path (str): config file (``.py``), or the name of one of mmplug's
            configs (see :func:`mmplug.mim.find_config`).
        cfg_options (dict, optional): ``key=value`` overrides, as given by
            mmengine's ``DictAction``.

    Returns:
        Config: the merged config.
    """
    if not osp.isfile(path):
        packaged = find_config(path)
        if packaged is None:
            raise FileNotFoundError(f'config file not found: {path}')
        path = packaged
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    task_of(cfg)  # fail early on configs that are neither det nor seg
    return cfg


def task_of(cfg: Config) -> str:
    """``'det'`` or ``'seg'``, from the config's ``default_scope``."""
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        raise ConfigError(
            f"config has default_scope={scope!r}: mmplug's tools run "
            "detection ('mmdet') and segmentation ('mmseg') configs; "
            'inherit configs/_base_/default_runtime_det.py or '
            'default_runtime_seg.py')
    return TASKS[scope]


def dataset_paths(dataset: ConfigDict) -> List[str]:
    """Files and folders a dataset config reads, wrappers included.

    Follows ``dataset``/``datasets`` of wrappers (RepeatDataset,
    ConcatDataset, ...) and joins ``ann_file`` and ``data_prefix`` to
    ``data_root`` as mmengine's ``BaseDataset`` does.
    """
    if 'dataset' in dataset:
        return dataset_paths(dataset['dataset'])
    if 'datasets' in dataset:
        return [p for d in dataset['datasets'] for p in dataset_paths(d)]
    root = dataset.get('data_root') or ''
    rel = [dataset.get('ann_file') or '']
    rel += [v for v in (dataset.get('data_prefix') or {}).values() if v]
    paths = [osp.join(root, p) for p in rel if p]
    return paths or ([root] if root else [])


def check_datasets(cfg: Config,
                   splits: Iterable[str] = ('train', 'val')) -> None:
    """Raise :class:`DatasetNotFoundError` if a split's data is missing.

    Args:
        cfg (Config): the config to run.
        splits (Iterable[str]): which of ``train``/``val``/``test`` will run.
    """
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        paths = dataset_paths(loader['dataset'])
        evaluators = cfg.get(f'{split}_evaluator') or []
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        paths += [e['ann_file'] for e in evaluators if e.get('ann_file')]
        for path in paths:
            if not osp.exists(path):
                raise DatasetNotFoundError(
                    f'{split} data not found: {path!r} does not exist '
                    f'(looked from {osp.abspath(".")}). Prepare the dataset '
                    f'as described in {DATASET_DOCS}.')


def _pretrained_inits(node) -> Iterable[dict]:
    """Every ``dict(type='Pretrained', ...)`` inside a (model) config."""
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained' and node.get('checkpoint'):
            yield node
        for value in node.values():
            yield from _pretrained_inits(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _pretrained_inits(value)


def check_pretrained(cfg: Config) -> None:
    """Raise :class:`PretrainedNotFoundError` for a missing local
    ``Pretrained`` checkpoint of ``cfg.model`` (URLs are not checked)."""
    for init in _pretrained_inits(cfg.model):
        path = init['checkpoint']
        if '://' not in path and not osp.isfile(path):
            raise PretrainedNotFoundError(
                f'pretrained weights not found: {path!r} (an init_cfg of the '
                f'model). Get them as described in {WEIGHTS_DOCS}, or train '
                'from scratch with --cfg-options '
                'model.backbone.init_cfg=None.')
