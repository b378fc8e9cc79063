"""The learning matrix: every backbone and neck trained on the demo data by
``tools/train.py`` at an equal wall-clock budget, scored by
``tools/test.py``, with a table and a plot of the learning curves.

Each entry of :data:`MATRIX` is a demo config (``configs/demo/``). A run of
one entry, in ``<out>/<task>_<name>/``:

1. **calibrate**: ``tools/train.py`` on the config for a few iterations,
   to measure the seconds per iteration on this machine;
2. **train**: ``tools/train.py`` on a config that inherits the demo config
   and stretches or compresses its own schedule (warm-up, lr steps, poly
   decay: every ``begin``/``end``/milestone in proportion) onto the
   iterations that fit the budget, with :class:`mmplug.engine.TimeBudgetHook`
   stopping it if the machine slows down;
3. **test**: ``tools/test.py`` on the last checkpoint: COCO bbox/segm mAP
   (Mask R-CNN) or mIoU (UPerNet).

The derived configs stay in the run folders, so any run can be repeated
with ``python tools/train.py <out>/<run>/<run>.py``. A run whose
``result.json`` exists is not repeated (``--force`` does), so the matrix
can be run in parts (``--only``) and resumed.
"""
import copy
import json
import math
import os
import os.path as osp
import pprint
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, List, Optional, Sequence

from mmplug.errors import ConfigError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: the metric that scores each task (and the second one reported)
METRICS = {'det': ('coco/bbox_mAP', 'coco/segm_mAP'),
           'seg': ('mIoU', 'aAcc')}
#: the reference every entry of a task is compared with
REFERENCE = {'det': 'det/r18', 'seg': 'seg/r18'}
#: iterations of the calibration run, and how many of its first ones are
#: left out of the timing (start-up)
CALIBRATION_ITERS, CALIBRATION_SKIP = 8, 3
#: part of the budget the planned iterations fill (the rest absorbs the
#: start of the data loader and the noise of the calibration)
BUDGET_FILL = 0.9


@dataclass(frozen=True)
class Entry:
    """One model of the matrix.

    Attributes:
        task (str): ``'det'`` (Mask R-CNN) or ``'seg'`` (UPerNet).
        name (str): short name, unique within the task.
        family (str): what the entry shows: ``'mmplug.<Name>'`` of a
            backbone or neck, or the reference.
        config (str): the demo config, relative to the repository.
        size (str): the variant trained (paper size or smaller).
    """
    task: str
    name: str
    family: str
    config: str
    size: str

    @property
    def key(self) -> str:
        """``'<task>/<name>'``."""
        return f'{self.task}/{self.name}'

    @property
    def folder(self) -> str:
        """The run's folder name."""
        return f'{self.task}_{self.name}'


def _entries(task: str, pattern: str, rows: Sequence[tuple]) -> List[Entry]:
    return [Entry(task, name, family, pattern.format(cfg), size)
            for name, family, cfg, size in rows]


_BACKBONES = [
    ('r18', 'ResNet-18 (reference)', 'r18', 'ResNet-18'),
    ('smt-t', 'mmplug.SMT', 'smt-t', 'SMT-T (paper size)'),
    ('parc-convnext-xt', 'mmplug.ParCConvNeXt', 'parc-convnext-xt',
     'ParC-ConvNeXt-XT (paper size), BatchNorms'),
    ('parc-r-tiny', 'mmplug.ParCResNet', 'parc-r-tiny',
     'ParC-ResNet-50 widths, blocks 1/1/2/2'),
    ('scsc-r-tiny', 'mmplug.SCSCResNet', 'scsc-r-tiny',
     'SCSC-ResNet-50 widths, blocks 1/1/2/1'),
    ('scsc-swin-t', 'mmplug.SCSCSwin', 'scsc-swin-t',
     'SCSC-Swin-T (paper size), BatchNorms'),
    ('dca-r-tiny', 'mmplug.DCAResNet', 'dca-r-tiny',
     'DCA-SE-ResNet-50 widths, blocks 1/1/2/1'),
    ('pyconv-r-tiny', 'mmplug.PyConvResNet', 'pyconv-r-tiny',
     'PyConvResNet-50 widths, blocks 1/1/2/1'),
    ('ge-r-tiny', 'mmplug.GroupEnsembleResNet', 'ge-r-tiny',
     'GE-ResNet-50 widths, blocks 1/1/2/1'),
    ('mobilenext', 'mmplug.MobileNeXt', 'mobilenext',
     'MobileNeXt-1.0 (paper size)'),
]
_NECKS = [
    ('r18+dca-fpn', 'mmplug.DCAFPN', 'r18_dca-se-fpn',
     'ResNet-18, DCA-FPN (SE), 128 channels'),
    ('r18+fpt', 'mmplug.FPT', 'r18_fpt', 'ResNet-18, FPT, 64 channels'),
]

#: what the demo Mask R-CNN trains where it differs from the demo UPerNet
_DET_SIZES = {'scsc-swin-t': 'SCSC-Swin-T widths, blocks 1/1/2/1, BatchNorms'}

#: Every backbone in the demo Mask R-CNN and the demo UPerNet, and both
#: necks in each, with ResNet-18 as the reference.
MATRIX: List[Entry] = [
    *_entries('det', 'configs/demo/mask-rcnn_{}_fpn_demo.py',
              [(n, f, c, _DET_SIZES.get(n, size))
               for n, f, c, size in _BACKBONES]),
    Entry('det', 'r18+dca-fpn', 'mmplug.DCAFPN',
          'configs/demo/mask-rcnn_r18_dca-se-fpn_demo.py', _NECKS[0][3]),
    Entry('det', 'r18+fpt', 'mmplug.FPT',
          'configs/demo/mask-rcnn_r18_fpt_demo.py', _NECKS[1][3]),
    *_entries('seg', 'configs/demo/upernet_{}_demo.py', _BACKBONES),
    *_entries('seg', 'configs/demo/upernet_{}_demo.py', _NECKS),
]


def select(only: Optional[str] = None,
           matrix: Sequence[Entry] = MATRIX) -> List[Entry]:
    """The entries named in ``only`` (comma-separated names, which select
    them in both tasks, or ``task/name`` keys, or a task ``det``/``seg``);
    all of them for ``None``."""
    if not only:
        return list(matrix)
    chosen: List[Entry] = []
    for word in (w.strip() for w in only.split(',')):
        if not word:
            continue
        hits = [e for e in matrix
                if word in (e.key, e.name, e.task)]
        if not hits:
            names = sorted({e.name for e in matrix})
            raise ConfigError(f'--only: no model {word!r} in the matrix; '
                              f'names: {", ".join(names)} (or det/<name>, '
                              'seg/<name>, det, seg)')
        chosen += [e for e in hits if e not in chosen]
    return [e for e in matrix if e in chosen]


# ---------------------------------------------------------------------------
# The derived configs
# ---------------------------------------------------------------------------
def _dataset_length(cfg) -> int:
    """Images in the config's training set (annotation file or folder)."""
    dataset = cfg.train_dataloader.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    root = dataset.get('data_root', '')
    if cfg.default_scope == 'mmdet':
        with open(osp.join(REPO, root, dataset.ann_file)) as f:
            return len(json.load(f)['images'])
    folder = osp.join(REPO, root, dataset.data_prefix['img_path'])
    return len([n for n in os.listdir(folder)
                if not n.startswith('.')])


def nominal_iters(cfg) -> int:
    """Iterations of the config's own schedule (epochs x iterations per
    epoch for an epoch-based loop)."""
    train_cfg = cfg.train_cfg
    if 'max_iters' in train_cfg:
        return int(train_cfg.max_iters)
    per_epoch = math.ceil(_dataset_length(cfg) /
                          cfg.train_dataloader.batch_size)
    return int(train_cfg.max_epochs) * per_epoch


def _is_warmup(scheduler: dict, unit: int, nominal: int) -> bool:
    """A linear or constant factor from iteration 0 that ends within the
    first half of the schedule (a warm-up)."""
    return scheduler.get('type') in ('LinearLR', 'ConstantLR') and \
        scheduler.get('begin', 0) == 0 and 'end' in scheduler and \
        scheduler['end'] * unit <= nominal / 2


def scale_schedule(schedulers: Iterable[dict], per_epoch: int,
                   nominal: int, iters: int) -> List[dict]:
    """The param schedulers of a ``nominal``-iteration schedule as
    iteration-based ones on ``iters`` iterations.

    Epoch units become ``per_epoch`` iterations. A warm-up (a linear or
    constant factor from iteration 0 that ends within the first half) keeps
    its length in iterations, but takes no larger share of a shorter
    schedule than of the nominal one; every other ``begin``,
    ``end``, milestone and ``T_max`` is scaled by ``iters / nominal``
    (``end`` capped at ``iters``), and one that began where the warm-up
    ended begins where it now ends.

    Example:
        >>> scale_schedule([dict(type='LinearLR', by_epoch=False, begin=0,
        ...                      end=50),
        ...                 dict(type='MultiStepLR', by_epoch=True,
        ...                      begin=0, end=4, milestones=[3])],
        ...                per_epoch=40, nominal=160, iters=80)[1]
        {'type': 'MultiStepLR', 'by_epoch': False, 'begin': 0, 'end': 80, \
'milestones': [60]}
    """
    factor = iters / nominal
    schedulers = [dict(copy.deepcopy(s)) for s in schedulers]
    units = [per_epoch if s.get('by_epoch', True) else 1 for s in schedulers]
    warm_old = warm_new = None
    for s, unit in zip(schedulers, units):
        if warm_old is None and _is_warmup(s, unit, nominal):
            warm_old = s['end'] * unit
            warm_new = max(1, min(warm_old, round(warm_old * factor)))
    scaled = []
    for s, unit in zip(schedulers, units):
        warmup = _is_warmup(s, unit, nominal) and s['end'] * unit == warm_old
        s['by_epoch'] = False
        s.pop('convert_to_iter_based', None)

        def scale(v, unit=unit):
            return max(0, round(v * unit * factor))

        begin = s.get('begin', 0) * unit
        if warmup:
            s['begin'], s['end'] = 0, warm_new
        else:
            s['begin'] = warm_new if warm_old is not None and \
                begin == warm_old else scale(s.get('begin', 0))
            s['end'] = min(iters, scale(s['end'])) \
                if 'end' in s and s['end'] < 1e9 else iters
            if 'milestones' in s:
                s['milestones'] = [max(1, scale(m)) for m in s['milestones']]
            if 'T_max' in s:
                s['T_max'] = max(1, scale(s['T_max']))
        scaled.append(s)
    return scaled


def derived_config(entry: Entry, iters: int, budget_s: Optional[float],
                   log_interval: int) -> str:
    """The text of a config that inherits ``entry.config`` and trains its
    schedule, scaled, for ``iters`` iterations on an iteration-based loop
    (with a :class:`~mmplug.engine.TimeBudgetHook` of ``budget_s`` if
    given), logging every ``log_interval`` iterations and saving only the
    last checkpoint."""
    from mmplug.apis.config import load_config
    cfg = load_config(osp.join(REPO, entry.config))
    nominal = nominal_iters(cfg)
    per_epoch = nominal // int(cfg.train_cfg.get('max_epochs', 1) or 1) \
        if 'max_epochs' in cfg.train_cfg else 1
    schedulers = cfg.param_scheduler
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    schedule = scale_schedule([s.to_dict() if hasattr(s, 'to_dict') else s
                               for s in schedulers], per_epoch, nominal,
                              iters)
    imports = list(cfg.get('custom_imports', {}).get('imports', []))
    imports += [m for m in ('mmplug.models', 'mmplug.engine.time_budget')
                if m not in imports]
    hooks = [h.to_dict() if hasattr(h, 'to_dict') else h
             for h in cfg.get('custom_hooks', [])]
    if budget_s:
        hooks.append(dict(type='mmplug.TimeBudgetHook', budget_s=budget_s))
    lines = [
        f'# {entry.key} of the learning matrix: {entry.config} with its '
        f'schedule on {iters} iterations',
        f'# (nominal: {nominal}), generated by mmplug.apis.learning.',
        f'_base_ = [{osp.join(REPO, entry.config)!r}]',
        f'custom_imports = dict(imports={imports!r}, '
        'allow_failed_imports=False)',
        'train_cfg = dict(_delete_=True, type=\'IterBasedTrainLoop\', '
        f'max_iters={iters}, val_interval={iters + 1}, '
        f'val_begin={iters + 1})',
        'param_scheduler = ' + pprint.pformat(schedule, width=72,
                                              sort_dicts=False),
        'custom_hooks = ' + pprint.pformat(hooks, width=72, sort_dicts=False),
        'default_hooks = dict(',
        f'    logger=dict(interval={log_interval}),',
        f'    checkpoint=dict(by_epoch=False, interval={iters}, '
        'max_keep_ckpts=1))',
        'log_processor = dict(by_epoch=False)',
    ]
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------------------
# Running the tools
# ---------------------------------------------------------------------------
def tool_env(threads: Optional[int]) -> Dict[str, str]:
    """The environment of the tool subprocesses (``threads`` CPU threads
    for torch, if given)."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if threads:
        env.update(OMP_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads))
    return env


def run_tool(args: List[str], log_file: str,
             env: Dict[str, str]) -> float:
    """Run ``python <args>`` from the repository root, output to
    ``log_file``; returns the wall seconds. RuntimeError if it fails."""
    start = time.perf_counter()
    with open(log_file, 'w') as log:
        proc = subprocess.run([sys.executable, *args], cwd=REPO, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if proc.returncode:
        with open(log_file) as f:
            tail = f.read()[-2000:]
        raise RuntimeError(f'{" ".join(args)} failed (exit '
                           f'{proc.returncode}); the end of {log_file}:\n'
                           f'{tail}')
    return seconds


def read_scalars(work_dir: str) -> List[dict]:
    """The training records mmengine's LocalVisBackend wrote in
    ``work_dir`` (the newest run's ``vis_data/scalars.json``)."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                         'scalars.json')))
    if not runs:
        return []
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_test_metrics(work_dir: str) -> Dict[str, float]:
    """The metrics ``tools/test.py`` wrote to ``work_dir`` (the newest
    ``<timestamp>/<timestamp>.json``)."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, f'{d}.json')))
    if not runs:
        raise RuntimeError(f'tools/test.py wrote no metrics in {work_dir}')
    with open(osp.join(work_dir, runs[-1], f'{runs[-1]}.json')) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return {k: float(v) for k, v in records[-1].items()
            if isinstance(v, (int, float))}


def seconds_per_iter(records: List[dict], skip: int) -> float:
    """Median ``time`` (seconds per iteration, data included) of the
    records after the first ``skip`` iterations."""
    times = [r['time'] for r in records
             if 'time' in r and r.get('step', r.get('iter', 0)) > skip]
    if not times:
        raise RuntimeError('the calibration run logged no iteration times')
    return statistics.median(times)


#: held while a config is loaded (runs go on side by side in threads)
_CONFIG_LOCK = threading.Lock()


def run_entry(entry: Entry, out_dir: str, budget_s: float,
              env: Dict[str, str], log=print) -> dict:
    """Calibrate, train and test one entry in ``out_dir/<folder>``;
    returns (and writes to ``result.json``) its figures."""
    folder = osp.join(out_dir, entry.folder)
    if osp.isdir(folder):
        shutil.rmtree(folder)  # a run cut short: start it again
    os.makedirs(folder)
    # 1. seconds per iteration on this machine now
    calib_dir = osp.join(folder, 'calibration')
    calib_cfg = osp.join(folder, 'calibration.py')
    with _CONFIG_LOCK:  # mmengine's config loading is not thread-safe
        text = derived_config(entry, CALIBRATION_ITERS, None, 1)
    with open(calib_cfg, 'w') as f:
        f.write(text)
    run_tool(['tools/train.py', calib_cfg, '--work-dir', calib_dir],
             osp.join(folder, 'calibration.log'), env)
    s_iter = seconds_per_iter(read_scalars(calib_dir), CALIBRATION_SKIP)
    iters = max(CALIBRATION_ITERS, int(BUDGET_FILL * budget_s / s_iter))
    log(f'{entry.key}: {s_iter:.2f} s/iteration -> {iters} iterations in '
        f'{budget_s:.0f} s')
    # 2. the budgeted training
    config = osp.join(folder, f'{entry.folder}.py')
    with _CONFIG_LOCK:
        text = derived_config(entry, iters, budget_s, max(1, iters // 40))
    with open(config, 'w') as f:
        f.write(text)
    train_dir = osp.join(folder, 'train')
    train_wall = run_tool(['tools/train.py', config, '--work-dir',
                           train_dir], osp.join(folder, 'train.log'), env)
    records = read_scalars(train_dir)
    with open(osp.join(train_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    done = int(re.search(r'iter_(\d+)\.pth', checkpoint).group(1))
    # 3. the score
    test_dir = osp.join(folder, 'test')
    test_wall = run_tool(['tools/test.py', config, checkpoint,
                          '--work-dir', test_dir],
                         osp.join(folder, 'test.log'), env)
    metrics = read_test_metrics(test_dir)
    main_metric, second = METRICS[entry.task]
    curve = [dict(iter=r['step'], loss=r['loss'], time=r['time'])
             for r in records if 'loss' in r and 'time' in r]
    train_s = sum(c['time'] * (c['iter'] - p['iter'])
                  for p, c in zip([dict(iter=0)] + curve, curve))
    result = dict(
        entry=asdict(entry), key=entry.key, budget_s=budget_s,
        calibration_s_per_iter=s_iter, planned_iters=iters, iters=done,
        train_s=train_s, train_wall_s=train_wall, test_wall_s=test_wall,
        score=metrics[main_metric], second=metrics.get(second),
        metrics=metrics, curve=curve, config=osp.relpath(config, REPO),
        checkpoint=osp.relpath(checkpoint, REPO),
        threads=env.get('OMP_NUM_THREADS'),
        finished=time.strftime('%Y-%m-%d %H:%M:%S'))
    with open(osp.join(folder, 'result.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result


def load_results(out_dir: str,
                 entries: Sequence[Entry] = MATRIX) -> Dict[str, dict]:
    """The finished runs in ``out_dir``, by key, in matrix order."""
    results = {}
    for entry in entries:
        path = osp.join(out_dir, entry.folder, 'result.json')
        if osp.isfile(path):
            with open(path) as f:
                results[entry.key] = json.load(f)
    return results


# ---------------------------------------------------------------------------
# Table and plot
# ---------------------------------------------------------------------------
def _fmt_score(task: str, value: Optional[float]) -> str:
    if value is None:
        return '-'
    return f'{value:.3f}' if task == 'det' else f'{value:.2f}'


def table(results: Dict[str, dict]) -> str:
    """The markdown table: one row per finished run, its score against the
    R-18 reference of its task."""
    head = {'det': '| Mask R-CNN | variant trained | iters | s/iter | '
                   'bbox mAP | segm mAP | % of R-18 |',
            'seg': '| UPerNet | variant trained | iters | s/iter | mIoU | '
                   'aAcc | % of R-18 |'}
    lines = []
    for task in ('det', 'seg'):
        rows = [r for r in results.values() if r['entry']['task'] == task]
        if not rows:
            continue
        ref = results.get(REFERENCE[task])
        lines += ['', head[task], '|---' * 7 + '|']
        for r in rows:
            e = r['entry']
            config = osp.basename(e['config'])
            ratio = f'{100 * r["score"] / ref["score"]:.0f} %' \
                if ref and ref['score'] > 0 else '-'
            lines.append(
                f'| {e["name"]} (`{config}`) | {e["size"]} | '
                f'{r["iters"]} | {r["train_s"] / max(r["iters"], 1):.2f} | '
                f'{_fmt_score(task, r["score"])} | '
                f'{_fmt_score(task, r["second"])} | {ratio} |')
    return '\n'.join(lines).strip() + '\n'


def plot(results: Dict[str, dict], path: str) -> None:
    """Training loss against training seconds, one panel per task."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    tasks = [t for t in ('det', 'seg')
             if any(r['entry']['task'] == t for r in results.values())]
    fig, axes = plt.subplots(1, max(1, len(tasks)),
                             figsize=(6.5 * max(1, len(tasks)), 4.8),
                             squeeze=False)
    titles = {'det': 'Mask R-CNN (demo COCO)', 'seg': 'UPerNet (demo ADE20K)'}
    for ax, task in zip(axes[0], tasks):
        rows = [r for r in results.values() if r['entry']['task'] == task]
        cmap = plt.get_cmap('tab20')
        for i, r in enumerate(rows):
            seconds, prev, elapsed = [], 0, 0.
            for point in r['curve']:
                elapsed += point['time'] * (point['iter'] - prev)
                prev = point['iter']
                seconds.append(elapsed)
            ref = r['key'] == REFERENCE[task]
            ax.plot(seconds, [p['loss'] for p in r['curve']],
                    color='black' if ref else cmap(i % 20),
                    lw=2.2 if ref else 1.3, label=r['entry']['name'])
        ax.set_title(titles[task])
        ax.set_xlabel('training time (s)')
        ax.set_ylabel('training loss')
        ax.set_yscale('log')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(results: Dict[str, dict], out_dir: str) -> Dict[str, str]:
    """``learning_matrix.md``, ``.json`` and ``.png`` in ``out_dir``."""
    paths = {ext: osp.join(out_dir, f'learning_matrix.{ext}')
             for ext in ('md', 'json', 'png')}
    with open(paths['md'], 'w') as f:
        f.write(table(results))
    summary = {k: {n: v for n, v in r.items() if n != 'curve'}
               for k, r in results.items()}
    with open(paths['json'], 'w') as f:
        json.dump(summary, f, indent=1)
    if results:
        plot(results, paths['png'])
    return paths


def ensure_demo_data(env: Dict[str, str], log=print) -> None:
    """Generate ``data/demo`` with ``tools/misc/make_demo_data.py`` if it
    is not there."""
    if osp.isdir(osp.join(REPO, 'data', 'demo', 'coco')) and \
            osp.isdir(osp.join(REPO, 'data', 'demo', 'ade')):
        return
    log('generating the demo data (tools/misc/make_demo_data.py)')
    os.makedirs(osp.join(REPO, 'work_dirs'), exist_ok=True)
    run_tool(['tools/misc/make_demo_data.py', '--out', 'data/demo'],
             osp.join(REPO, 'work_dirs', 'make_demo_data.log'), env)


def interleave(entries: Sequence[Entry]) -> List[Entry]:
    """``entries`` with the tasks taking turns (det, seg, det, seg...),
    each task's order kept: with two jobs, a Mask R-CNN and a UPerNet run
    side by side."""
    queues = [[e for e in entries if e.task == task]
              for task in dict.fromkeys(e.task for e in entries)]
    order = []
    for i in range(max((len(q) for q in queues), default=0)):
        order += [q[i] for q in queues if i < len(q)]
    return order


def run_matrix(entries: Sequence[Entry], out_dir: str, budget_s: float,
               threads: Optional[int] = None, force: bool = False,
               jobs: int = 1, log=print) -> Dict[str, dict]:
    """Run the entries not yet finished in ``out_dir`` (all with
    ``force``), ``jobs`` at a time (the tasks taking turns), then write
    the report over every finished run there. A run that fails is
    reported and the others go on.

    Returns:
        dict: the finished runs, by key.
    """
    if not budget_s > 0:
        raise ConfigError(f'--budget-s must be > 0, got {budget_s}')
    if jobs < 1:
        raise ConfigError(f'--jobs must be >= 1, got {jobs}')
    os.makedirs(out_dir, exist_ok=True)
    env = tool_env(threads)
    ensure_demo_data(env, log)
    done = load_results(out_dir)
    todo = []
    for entry in entries:
        if entry.key in done and not force and \
                done[entry.key]['budget_s'] == budget_s:
            log(f'{entry.key}: done before ({osp.join(out_dir, entry.folder)}'
                '/result.json)')
        else:
            todo.append(entry)
    failed = []

    def run_one(entry: Entry) -> None:
        try:
            result = run_entry(entry, out_dir, budget_s, env, log)
        except Exception as err:  # reported; the other runs go on
            failed.append(entry.key)
            log(f'{entry.key}: FAILED: {type(err).__name__}: {err}')
            return
        main_metric = METRICS[entry.task][0]
        log(f'{entry.key}: {result["iters"]} iterations in '
            f'{result["train_s"]:.0f} s, {main_metric} '
            f'{_fmt_score(entry.task, result["score"])}')

    # each run is its own tool processes: threads only wait for them
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(run_one, interleave(todo) if jobs > 1 else todo))
    results = load_results(out_dir)
    paths = write_report(results, out_dir)
    log(table(results))
    log(f'written: {", ".join(paths.values())}')
    if failed:
        log(f'failed: {", ".join(failed)}')
    return results
