"""Compare a finished run with the paper's numbers of its config, and say
whether the comparison means anything (``check_reproduction.py``,
``tools/reproduce.sh``).

A verdict is one of:

* ``REPRODUCED`` / ``NOT REPRODUCED``: the run's setting is the paper's
  (as the reference config reproduces it) and every measured metric is
  within / not within its tolerance;
* ``NOT COMPARABLE``: the setting is not the paper's; the differences are
  named (a changed config value, another dataset size or classes, another
  number of GPUs x images per GPU, a checkpoint from before the end of the
  schedule). The table is still printed, for information;
* ``NOT CHECKED``: there is nothing to compare (no official number, or none
  of its metrics measured).

What is read from a work dir (mmengine's layout):

- ``tools/test.py --work-dir W``: ``W/<stamp>/<stamp>.json`` (the test
  metrics), ``W/<stamp>/vis_data/config.py`` (the test's config, whose
  ``load_from`` is the tested checkpoint);
- ``tools/train.py --work-dir W``: ``W/<stamp>/vis_data/scalars.json``
  (training steps and validations), ``W/<stamp>/vis_data/config.py`` (the
  training's config, after ``--cfg-options``), ``W/<stamp>/<stamp>.log``
  (``GPU number``: the processes that trained).

The newest of each is used. The reference is the config the model index
names (``Config``), resolved as it is shipped.

Tolerances come with their source: ``--ap-tolerance`` / ``--miou-tolerance``
(the user's), the entry's ``Tolerance`` in the metafile (e.g. the range over
the seeds we ran for a demo config), or :data:`AP_TOLERANCE` /
:data:`MIOU_TOLERANCE`, a default that is not a measured spread (the papers
report one run per number, without a spread).

``python -m mmplug.apis.reproduction CONFIG [--cfg-options ...]`` is the
check ``tools/reproduce.sh`` runs before training (:func:`preflight`).
"""
import argparse
import glob
import json
import mmap
import os
import os.path as osp
import re
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config

from mmplug.apis.config import (ConfigError, check_datasets, check_pretrained,
                                load_config)
from mmplug.apis.model_index import (find_model, load_models, paper_metrics,
                                     read_yaml)

#: Metafile metric -> (key in mmengine's metrics, factor to the metafile's
#: unit). COCO mAPs are fractions, the metafiles give percentages.
OURS = {
    'box AP': ('coco/bbox_mAP', 100.0),
    'mask AP': ('coco/segm_mAP', 100.0),
    'mIoU': ('mIoU', 1.0),
    'mIoU(ms+flip)': ('mIoU', 1.0),
}
#: Default tolerances (absolute, in the metafile's unit), used where neither
#: the user nor the metafile gives one. Not a measured spread.
AP_TOLERANCE = 0.3
MIOU_TOLERANCE = 0.5
DEFAULT_TOLERANCE_SOURCE = (
    "mmplug's default, not a measured spread (none is reported for this "
    'number: the papers give one run per number); pass --ap-tolerance / '
    '--miou-tolerance to use your own')
#: Metrics that only a test-time-augmented test measures.
TTA_METRICS = ('mIoU(ms+flip)', )

#: Verdicts and the exit status check_reproduction.py gives each.
EXIT_STATUS = {
    'REPRODUCED': 0,
    'NOT REPRODUCED': 1,
    'NOT COMPARABLE': 3,
    'NOT CHECKED': 3,
}

#: The papers' datasets: training and test images, classes (COCO 2017's
#: instances_train2017.json / instances_val2017.json; ADE20K's
#: ADEChallengeData2016 training / validation). A metafile's collection
#: adds its own under ``Datasets`` (the demo's results do).
DATASET_FACTS = {
    'COCO': dict(train=118287, test=5000, classes=80,
                 name='COCO 2017 train / val'),
    'ADE20K': dict(train=20210, test=2000, classes=150,
                   name='ADE20K (ADEChallengeData2016) training / '
                   'validation'),
}

# Config keys that do not change what a run measures: where files are, how
# data is loaded, logging, the launcher and the seed (the tolerance is there
# for the seed). Matched against the last key of a flattened path, or its
# beginning.
_NOT_SETTING_PREFIXES = (
    'work_dir', 'launcher', 'partial_load', 'model_wrapper_cfg', 'resume',
    'load_from', 'env_cfg', 'log_level', 'log_processor', 'visualizer',
    'vis_backends', 'default_hooks.logger', 'default_hooks.checkpoint',
    'default_hooks.visualization', 'default_hooks.timer', 'randomness',
    'custom_imports', 'auto_scale_lr', 'compile', 'trusted_checkpoints',
    'filename',
    # compared as GPUs x images per GPU (the total batch is what counts)
    'train_dataloader.batch_size')
_PATH_KEYS = ('data_root', 'ann_file', 'img_path', 'seg_map_path', 'img',
              'seg', 'checkpoint', 'outfile_prefix', 'backend_args',
              'num_workers', 'persistent_workers', 'pin_memory', 'save_dir')
# What a test run's config is compared on (the training settings are the
# training run's).
_TEST_KEYS = ('model', 'test_dataloader', 'test_evaluator', 'test_cfg')
# What a training run's config is not compared on (the test run's).
_TEST_ONLY = ('test_dataloader', 'test_evaluator', 'test_cfg', 'tta_model',
              'tta_pipeline')


# --------------------------------------------------------------------------
# Reading a work dir
# --------------------------------------------------------------------------
def _json_lines(path: str) -> List[dict]:
    records = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return records


def _has_metrics(record: dict) -> bool:
    return any(key in record for key, _ in OURS.values())


def _is_training_step(record: dict) -> bool:
    return 'loss' in record or any(k.startswith('loss') for k in record)


def read_metrics(work_dir: str) -> Tuple[Dict[str, float], str]:
    """The newest test (or, failing that, validation) metrics of a work dir.

    Args:
        work_dir (str): the ``--work-dir`` of ``tools/test.py`` or
            ``tools/train.py``.

    Returns:
        tuple[dict, str]: the metrics as mmengine logged them, and where
        they were read (``<file> (tools/test.py)`` or ``... (validation)``).
    """
    found = []  # (timestamp, metrics, description)
    for stamp, path in _test_runs(work_dir):
        records = [r for r in _json_lines(path) if _has_metrics(r)]
        if records:
            found.append((stamp, records[-1], f'{path} (tools/test.py)'))
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        stamp = osp.basename(osp.dirname(osp.dirname(path)))
        records = [r for r in _json_lines(path) if _has_metrics(r)]
        if records:
            found.append((stamp, records[-1], f'{path} (validation)'))
    if not found:
        raise FileNotFoundError(
            f'no test or validation metrics in {work_dir}: run tools/test.py '
            f'CONFIG CHECKPOINT --work-dir {work_dir} first')
    _, metrics, source = max(found, key=lambda item: item[0])
    return metrics, source


def _test_runs(work_dir: str) -> List[Tuple[str, str]]:
    """(timestamp, metrics file) of each ``tools/test.py`` run, oldest
    first."""
    runs = []
    for path in glob.glob(osp.join(work_dir, '*', '*.json')):
        stamp = osp.basename(osp.dirname(path))
        if osp.basename(path) == f'{stamp}.json':
            runs.append((stamp, path))
    return sorted(runs)


def _training_runs(work_dir: str) -> List[str]:
    """Run folders (``W/<stamp>``) that logged training steps, oldest
    first."""
    runs = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        if any(_is_training_step(r) for r in _json_lines(path)):
            runs.append(osp.dirname(osp.dirname(path)))
    return sorted(runs)


def config_name(work_dir: str, config: Optional[str] = None) -> str:
    """The config's file name without ``.py``: from ``config`` if given,
    else from the one config mmengine saved at the top of ``work_dir``."""
    if config:
        return osp.splitext(osp.basename(config))[0]
    saved = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if len(saved) != 1:
        listed = ', '.join(osp.basename(p) for p in saved) or 'none'
        raise ConfigError(
            f'cannot tell the config of {work_dir} (configs saved there: '
            f'{listed}); pass --config CONFIG')
    return osp.splitext(osp.basename(saved[0]))[0]


def _run_config(run_dir: str) -> Optional[Config]:
    path = osp.join(run_dir, 'vis_data', 'config.py')
    if not osp.isfile(path):
        return None
    return Config.fromfile(path, import_custom_modules=False)


def world_size(run_dir: str) -> Optional[int]:
    """The processes (GPUs) of a run, from mmengine's ``GPU number`` line in
    its log; None if not logged."""
    log = osp.join(run_dir, f'{osp.basename(run_dir)}.log')
    if not osp.isfile(log):
        return None
    with open(log, errors='replace') as f:
        for line in f:
            found = re.search(r'GPU number: (\d+)', line)
            if found:
                return int(found.group(1))
    return None


def peak_memory_mib(work_dir: str) -> Optional[float]:
    """Largest ``memory`` (MiB, logged by mmengine on GPUs) of the newest
    training run in ``work_dir``; None when not logged (CPU)."""
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                      'scalars.json')))
    for path in reversed(runs):
        memory = [r['memory'] for r in _json_lines(path) if 'memory' in r]
        if memory:
            return float(max(memory))
    return None


# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------
def flatten(node: Any, prefix: str = '') -> Dict[str, Any]:
    """``{'a': {'b': [1, {'c': 2}]}}`` -> ``{'a.b.0': 1, 'a.b.1.c': 2}``
    (tuples as lists; empty containers kept as leaves)."""
    if isinstance(node, dict) and node:
        out = {}
        for key, value in node.items():
            out.update(flatten(value, f'{prefix}{key}.'))
        return out
    if isinstance(node, (list, tuple)) and node:
        out = {}
        for i, value in enumerate(node):
            out.update(flatten(value, f'{prefix}{i}.'))
        return out
    if isinstance(node, tuple):
        node = []
    return {prefix[:-1]: node}


def _is_setting(key: str, ours: Any, theirs: Any) -> bool:
    """Whether a difference at ``key`` changes what the run measures."""
    if any(key == p or key.startswith(p + '.') for p in _NOT_SETTING_PREFIXES):
        return False
    last = key.split('.')[-1]
    parts = key.split('.')
    if last in _PATH_KEYS or 'data_prefix' in parts:
        # a path moved is not a change; a path removed or added is
        return ours is None or theirs is None if last in (
            'checkpoint', 'ann_file') else False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def config_differences(reference: Config, run: Config,
                       keys: Optional[Tuple[str, ...]] = None,
                       skip: Tuple[str, ...] = ()) -> Tuple[List[str],
                                                            List[str]]:
    """The differences between a run's config and the reference config.

    Args:
        reference (Config): the config as shipped (the paper's setting).
        run (Config): the config the run saved (after ``--cfg-options``
            and the tools' own settings).
        keys (tuple[str], optional): compare only these top-level keys.
        skip (tuple[str]): do not compare these top-level keys.

    Returns:
        tuple[list[str], list[str]]: ``key: reference -> run`` lines that
        change the setting, and those that do not (paths, logging,
        launcher, seed, images per GPU: the total batch is compared
        apart).
    """
    def select(cfg: Config) -> dict:
        data = cfg.to_dict()
        if keys is not None:
            data = {k: v for k, v in data.items() if k in keys}
        return {k: v for k, v in data.items() if k not in skip}

    ref, ours = flatten(select(reference)), flatten(select(run))
    setting, other = [], []
    for key in sorted(set(ref) | set(ours)):
        theirs, mine = ref.get(key), ours.get(key)
        if theirs == mine:
            continue
        line = f'{key}: {_short(theirs)} -> {_short(mine)}'
        (setting if _is_setting(key, mine, theirs) else other).append(line)
    return setting, other


def _as_run(cfg: Config) -> Config:
    """A config as mmplug's runner runs it (its checkpoint, seeding and
    divergence hooks added, as the saved configs of a run have them), with
    no compile hook (compiled equals eager: not a setting)."""
    if str(cfg.get('runner_type', '')).endswith('MMPlugRunner'):
        from mmplug.engine.runner import make_resumable
        cfg = make_resumable(cfg)
    else:
        cfg = Config(cfg.to_dict())
    hooks = [h for h in cfg.get('custom_hooks') or []
             if not str(h.get('type', '')).endswith('CompileHook')]
    cfg.custom_hooks = hooks
    return cfg


def _unwrap_tta(cfg: Config) -> Config:
    """A ``--tta`` test config with its model unwrapped (``model.module``),
    so that it compares with the reference's model."""
    model = cfg.get('model') or {}
    if isinstance(model, dict) and 'module' in model and 'tta_model' in cfg:
        cfg = Config(cfg.to_dict())
        cfg.model = model['module']
    return cfg


def _count_images(dataset: dict, cls: Optional[type]) -> Optional[int]:
    """Images of one dataset config: those listed in a COCO file, or the
    image files of a segmentation dataset's folder; None if not found."""
    root = dataset.get('data_root') or ''
    ann = dataset.get('ann_file') or ''
    if ann and str(ann).endswith('.json'):
        path = osp.join(root, ann)
        if not osp.isfile(path):
            return None
        # every COCO image has a file_name; nothing else in the file does
        with open(path, 'rb') as f:
            try:
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # empty file
                return 0
            with data:
                count, at = 0, data.find(b'"file_name"')
                while at >= 0:
                    count += 1
                    at = data.find(b'"file_name"', at + 11)
        return count
    prefix = dataset.get('data_prefix') or {}
    folder = osp.join(root, prefix.get('img_path') or prefix.get('img') or '')
    if not osp.isdir(folder):
        return None
    suffix = dataset.get('img_suffix') or '.jpg'
    return sum(1 for _, _, names in os.walk(folder, followlinks=True)
               for n in names if n.endswith(suffix))


def dataset_facts(cfg: Config, split: str) -> Optional[dict]:
    """``images`` (None if the files are not there) and ``classes`` of a
    split's dataset (wrappers' leaves added up); None without one."""
    from mmengine.registry import init_default_scope

    from mmplug.datasets.check import dataset_class, split_datasets
    leaves = split_datasets(cfg, split)
    if not leaves:
        return None
    if cfg.get('default_scope'):
        init_default_scope(cfg.default_scope)
    images: Optional[int] = 0
    classes: Tuple[str, ...] = ()
    for leaf in leaves:
        cls = dataset_class(cfg, leaf)
        count = _count_images(leaf, cls)
        images = None if images is None or count is None else images + count
        names = (leaf.get('metainfo') or {}).get('classes')
        if names is None and cls is not None:
            names = getattr(cls, 'METAINFO', {}).get('classes')
        classes = tuple(names or classes)
    return dict(images=images, classes=classes)


def known_datasets(model: dict) -> Dict[str, dict]:
    """:data:`DATASET_FACTS` and those the entry's collection declares
    (``Datasets: {NAME: {Train Images, Test Images, Classes,
    Description}}``)."""
    known = dict(DATASET_FACTS)
    declared = (model.get('_collection') or {}).get('Datasets') or {}
    for name, facts in declared.items():
        known[name] = dict(train=int(facts['Train Images']),
                           test=int(facts['Test Images']),
                           classes=int(facts['Classes']),
                           name=facts.get('Description', name))
    return known


def _resources(model: dict) -> Tuple[Optional[int], Optional[int]]:
    """(GPUs, images per GPU) of a model entry's Training Resources."""
    text = str((model.get('Metadata') or {}).get('Training Resources', ''))
    found = re.match(r'(\d+) (?:GPUs?|process(?:es)?) x (\d+) images?', text)
    if not found:
        return None, None
    return int(found.group(1)), int(found.group(2))


def _schedule(cfg: Config) -> Tuple[str, Optional[int]]:
    train_cfg = cfg.get('train_cfg') or {}
    if train_cfg.get('max_epochs'):
        return 'epoch', int(train_cfg['max_epochs'])
    if train_cfg.get('max_iters'):
        return 'iter', int(train_cfg['max_iters'])
    return 'epoch', None


def compare_setting(model: dict, reference: Config, work_dir: str,
                    tta: bool) -> dict:
    """What the run in ``work_dir`` did, against the paper's setting.

    Returns:
        dict: ``differences`` (lines naming what is not the paper's),
        ``other`` (overrides that do not change the setting), ``facts``
        (lines: GPUs x images, data, checkpoint, each ours against the
        paper's) and ``unknown`` (what could not be read).
    """
    differences: List[str] = []
    other: List[str] = []
    facts: List[str] = []
    unknown: List[str] = []
    dataset_name = (model.get('Metadata') or {}).get('Training Data')
    expected = known_datasets(model).get(dataset_name)
    reference = _as_run(reference)
    training = _training_runs(work_dir)
    train_cfg = _run_config(training[-1]) if training else None
    tests = _test_runs(work_dir)
    test_cfg = _run_config(osp.dirname(tests[-1][1])) if tests else None

    # the training run: config, processes x images, training data
    if train_cfg is None:
        unknown.append('the training (no training run with its config in '
                       'this work dir): the verdict covers the test only')
    else:
        found, rest = config_differences(reference, _as_run(train_cfg),
                                         skip=_TEST_ONLY)
        differences += [f'config: {line}' for line in found]
        other += rest
        gpus_paper, per_gpu_paper = _resources(model)
        gpus = world_size(training[-1])
        per_gpu = int(train_cfg.train_dataloader.batch_size)
        paper_text = (f'{gpus_paper} x {per_gpu_paper} = '
                      f'{gpus_paper * per_gpu_paper}'
                      if gpus_paper else 'not stated')
        if model.get('Setting Source'):
            paper_text += f" ({model['Setting Source']})"
        ours_text = f'{gpus if gpus else "?"} x {per_gpu}'
        if gpus:
            ours_text += f' = {gpus * per_gpu}'
        facts.append(f'GPUs x images per GPU: {ours_text}; paper: '
                     f'{paper_text}')
        if gpus is None:
            unknown.append('the number of GPUs (no "GPU number" in the '
                           'training log)')
        elif gpus_paper and gpus * per_gpu != gpus_paper * per_gpu_paper:
            differences.append(
                f'batch: {gpus} GPUs x {per_gpu} images = '
                f'{gpus * per_gpu} per step, the paper '
                f'{gpus_paper * per_gpu_paper}')
        differences += _data_differences('training', train_cfg, 'train',
                                         expected, dataset_name, facts,
                                         unknown)
    # the test run: the model and test data as tested, the checkpoint
    if test_cfg is not None:
        found, rest = config_differences(reference, _unwrap_tta(test_cfg),
                                         keys=_TEST_KEYS)
        differences += [f'test config: {line}' for line in found
                        if not line.startswith('model.init_cfg')
                        and '.init_cfg.' not in line
                        and not line.startswith('model.pretrained')]
        other += rest
        differences += _data_differences('test', test_cfg, 'test', expected,
                                         dataset_name, facts, unknown)
        checkpoint = test_cfg.get('load_from')
        unit, total = _schedule(reference)
        done = re.search(rf'{unit}_(\d+)\.pth$', str(checkpoint or ''))
        if checkpoint:
            line = f'tested checkpoint: {checkpoint}'
            if done and total:
                line += f' ({unit} {done.group(1)} of {total})'
                if int(done.group(1)) < total:
                    differences.append(
                        f'checkpoint: {unit} {done.group(1)} of the '
                        f"paper's {total}")
            facts.append(line)
    return dict(differences=differences, other=other, facts=facts,
                unknown=unknown)


def _data_differences(what: str, cfg: Config, split: str,
                      expected: Optional[dict], dataset_name: Optional[str],
                      facts: List[str], unknown: List[str]) -> List[str]:
    found = dataset_facts(cfg, split)
    if found is None:
        return []
    images = found['images']
    classes = found['classes']
    line = (f'{what} data: {images if images is not None else "?"} images, '
            f'{len(classes)} classes')
    differences = []
    if expected:
        line += (f"; paper: {expected[split]} images, {expected['classes']} "
                 f"classes ({expected['name']})")
        if images is None:
            unknown.append(f'the {what} images (files not found)')
        elif images != expected[split]:
            differences.append(f'{what} data: {images} images, the paper '
                               f'{expected[split]} ({dataset_name})')
        if len(classes) != expected['classes']:
            differences.append(f'{what} data: {len(classes)} classes, the '
                               f"paper {expected['classes']}")
    else:
        unknown.append(f'the paper\'s {what} data ({dataset_name!r} is not '
                       'a known dataset)')
    facts.append(line)
    return differences


# --------------------------------------------------------------------------
# Metrics and tolerances
# --------------------------------------------------------------------------
def tolerances(model: dict,
               ap_tolerance: Optional[float] = None,
               miou_tolerance: Optional[float] = None
               ) -> Dict[str, Tuple[float, str]]:
    """Metric -> (tolerance, its source) for a model entry's metrics.

    The user's tolerance (``ap_tolerance`` for box/mask AP,
    ``miou_tolerance`` for mIoU) wins; then the entry's ``Tolerance``
    (with its ``Source``); then the defaults (:data:`AP_TOLERANCE`,
    :data:`MIOU_TOLERANCE`), which are not a measured spread.
    """
    for value in (ap_tolerance, miou_tolerance):
        if value is not None and value < 0:
            raise ConfigError('tolerances must be >= 0')
    table = model.get('Tolerance') or {}
    out = {}
    for metric in paper_metrics(model):
        user = miou_tolerance if metric.startswith('mIoU') else ap_tolerance
        if user is not None:
            out[metric] = (float(user), 'given on the command line')
        elif metric in table:
            out[metric] = (float(table[metric]),
                           table.get('Source', 'the model index'))
        else:
            default = MIOU_TOLERANCE if metric.startswith('mIoU') \
                else AP_TOLERANCE
            out[metric] = (default, DEFAULT_TOLERANCE_SOURCE)
    return out


def compare(paper: Dict[str, float], ours: Dict[str, float], tta: bool,
            tolerance: Dict[str, Tuple[float, str]]) -> List[dict]:
    """One row per paper metric: ``metric``, ``paper``, ``ours`` (None if
    not measured), ``diff``, ``tolerance`` and ``within`` (None if not
    compared).

    Args:
        paper (dict): metafile metric -> official value (%).
        ours (dict): metrics as mmengine logged them.
        tta (bool): the metrics come from ``tools/test.py --tta``: compare
            ``mIoU(ms+flip)``, not the single-scale ``mIoU``.
        tolerance (dict): metric -> (largest absolute difference that
            counts as reproduced, its source); see :func:`tolerances`.
    """
    rows = []
    for metric, value in paper.items():
        key, factor = OURS[metric]
        measured = (metric in TTA_METRICS) == tta and key in ours
        mine = float(ours[key]) * factor if measured else None
        limit = tolerance[metric][0]
        diff = None if mine is None else mine - float(value)
        rows.append(dict(metric=metric, paper=float(value), ours=mine,
                         diff=diff, tolerance=limit,
                         within=None if diff is None else
                         abs(diff) <= limit + 1e-9))
    return rows


def format_table(rows: List[dict]) -> str:
    """The rows as a text table."""

    def num(value: Optional[float], signed: bool = False) -> str:
        if value is None:
            return '-'
        value = round(value, 2) + 0.0  # no '-0.00'
        return f'{value:+.2f}' if signed else f'{value:.2f}'

    table = [('metric', 'paper', 'ours', 'difference', 'tolerance',
              'within tolerance')]
    for row in rows:
        within = {True: 'yes', False: 'NO', None: 'not measured'}
        table.append((row['metric'], num(row['paper']), num(row['ours']),
                      num(row['diff'], signed=True),
                      f"{row['tolerance']:.2f}", within[row['within']]))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in table]
    lines.insert(1, '-' * len(lines[0]))
    return '\n'.join(lines)


def _reference_path(model: dict) -> str:
    """The config file a model entry names, in the repository (or the
    installed package) the entry's metafile belongs to."""
    path = model['Config']
    folder = osp.dirname(osp.abspath(model['_metafile']))
    while True:
        candidate = osp.join(folder, path)
        if osp.isfile(candidate):
            return candidate
        parent = osp.dirname(folder)
        if parent == folder:
            return path  # load_config then looks in the package
        folder = parent


def _find(model_index: str, name: str) -> dict:
    """The entry ``name`` in the model index, or in the demo's results
    (which the index does not import)."""
    models = load_models(model_index)
    try:
        return find_model(models, name)
    except ConfigError:
        demo = osp.join(osp.dirname(osp.abspath(model_index)), 'configs',
                        'demo', 'results.yml')
        if osp.isfile(demo) and 'Import' in read_yaml(model_index):
            found = [m for m in load_models(demo) if m.get('Name') == name]
            if found:
                return found[0]
        raise


# --------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------
def check_reproduction(work_dir: str,
                       model_index: str,
                       config: Optional[str] = None,
                       tta: bool = False,
                       ap_tolerance: Optional[float] = None,
                       miou_tolerance: Optional[float] = None
                       ) -> Tuple[str, str]:
    """Compare a work dir's metrics and setting with its config's entry.

    Args:
        work_dir (str): the work dir of the training and test runs.
        model_index (str): ``model-index.yml`` (the demo's
            ``configs/demo/results.yml`` beside it is searched too), or
            one metafile.
        config (str, optional): the config that ran; only its name is used
            (default: the one mmengine saved in ``work_dir``).
        tta (bool): the test ran with ``--tta``.
        ap_tolerance, miou_tolerance (float, optional): the user's
            tolerances (see :func:`tolerances`).

    Returns:
        tuple[str, str]: the verdict (a key of :data:`EXIT_STATUS`) and the
        report (config, setting against the paper's, sources, table,
        verdict).
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    name = config_name(work_dir, config)
    model = _find(model_index, name)
    limits = tolerances(model, ap_tolerance, miou_tolerance)
    ours, source = read_metrics(work_dir)
    paper = paper_metrics(model)
    reference = load_config(_reference_path(model))
    setting = compare_setting(model, reference, work_dir, tta)
    lines = [f"Config: {model['Config']}",
             f'Ours: {source}',
             f"Paper: {model.get('Results Source', '-')}"]
    if model.get('Baseline'):
        lines.append(f"Baseline: {model['Baseline']}")
    memory = peak_memory_mib(work_dir)
    lines.append('Peak GPU memory in training: ' + (
        f'{memory:.0f} MiB' if memory is not None else
        'not in the log (a CPU run, or no training in this work dir)'))
    lines += ['', 'Setting (ours; the paper\'s):']
    lines += [f'  {line}' for line in setting['facts']]
    lines += [f'  not known: {line}' for line in setting['unknown']]
    if setting['other']:
        lines.append('  overrides that do not change the setting (paths, '
                     'logging, launcher, seed, images per GPU):')
        lines += [f'    {line}' for line in setting['other']]
    if setting['differences']:
        lines.append("  differences from the paper's setting:")
        lines += [f'    {line}' for line in setting['differences']]
    else:
        lines.append("  no difference from the paper's setting found")
    lines += ['', 'Tolerances:']
    sources = sorted({src for _, src in limits.values()})
    for src in sources:
        metrics = ', '.join(m for m, (_, s) in limits.items() if s == src)
        lines.append(f'  {metrics}: {src}')
    if not paper:
        lines += ['', 'NOT CHECKED: the model index has no official number '
                  'for this config']
        return 'NOT CHECKED', '\n'.join(lines)
    rows = compare(paper, ours, tta, limits)
    compared = [r for r in rows if r['within'] is not None]
    lines += ['', format_table(rows), '']
    if not compared:
        lines.append('NOT CHECKED: none of the paper\'s metrics was measured'
                     + ('' if tta else ' (ms+flip numbers need '
                        'tools/test.py --tta and --tta here)'))
        return 'NOT CHECKED', '\n'.join(lines)
    within = sum(bool(r['within']) for r in compared)
    if setting['differences']:
        count = len(setting['differences'])
        lines.append(f'NOT COMPARABLE: the setting differs from the paper\'s '
                     f'in {count} way{"s" if count > 1 else ""} (listed '
                     f'above); {within} of {len(compared)} metrics within '
                     'tolerance, which says nothing about the paper\'s '
                     'number')
        return 'NOT COMPARABLE', '\n'.join(lines)
    verdict = 'REPRODUCED' if within == len(compared) else 'NOT REPRODUCED'
    lines.append(f'{verdict}: {within} of {len(compared)} metrics within '
                 'tolerance')
    return verdict, '\n'.join(lines)


def preflight(config: str, cfg_options: Optional[dict] = None) -> None:
    """What ``tools/reproduce.sh`` checks before training: the config
    loads, its train, val and test data and its local pretrained
    checkpoints exist (the same checks as ``tools/train.py``)."""
    cfg = load_config(config, cfg_options)
    check_datasets(cfg, ['train', 'val', 'test'])
    check_pretrained(cfg)


def _preflight_main(argv: Optional[List[str]] = None) -> None:
    from mmplug.apis.cli import (add_config_args, exit_on_user_error,
                                 parse_tool_args)
    parser = argparse.ArgumentParser(
        prog='python -m mmplug.apis.reproduction',
        description='Check that a config can be reproduced here: data and '
        'pretrained weights.')
    add_config_args(parser)
    args = parse_tool_args(parser, argv)
    with exit_on_user_error('reproduce.sh'):
        preflight(args.config, args.cfg_options)
    print(f'{args.config}: data and pretrained weights found')


if __name__ == '__main__':
    _preflight_main()
