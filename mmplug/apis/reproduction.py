"""Compare a finished run with the paper's numbers of its config
(``tools/analysis_tools/check_reproduction.py``, ``tools/reproduce.sh``).

Where mmengine leaves the metrics in a work dir:

- ``tools/test.py --work-dir W``: ``W/<timestamp>/<timestamp>.json``, one
  JSON object with the test metrics (``coco/bbox_mAP``, ``mIoU``, ...);
- ``tools/train.py``: ``W/<timestamp>/vis_data/scalars.json``, one JSON
  object per logged step; validations are the lines with metrics.

The newest of these (by timestamp) is used. The config's name comes from
``--config`` or from the copy mmengine saves as ``W/<config name>.py``.

``python -m mmplug.apis.reproduction CONFIG [--cfg-options ...]`` is the
check ``tools/reproduce.sh`` runs before training (:func:`preflight`).
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmplug.apis.config import (ConfigError, check_datasets, check_pretrained,
                                load_config)
from mmplug.apis.model_index import find_model, load_models, paper_metrics

#: Metafile metric -> (key in mmengine's metrics, factor to the metafile's
#: unit). COCO mAPs are fractions, the metafiles give percentages.
OURS = {
    'box AP': ('coco/bbox_mAP', 100.0),
    'mask AP': ('coco/segm_mAP', 100.0),
    'mIoU': ('mIoU', 1.0),
    'mIoU(ms+flip)': ('mIoU', 1.0),
}
#: Default tolerances (absolute, in the metafile's unit).
AP_TOLERANCE = 0.3
MIOU_TOLERANCE = 0.5
#: Metrics that only a test-time-augmented test measures.
TTA_METRICS = ('mIoU(ms+flip)', )


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
    for path in glob.glob(osp.join(work_dir, '*', '*.json')):
        stamp = osp.basename(osp.dirname(path))
        if osp.basename(path) != f'{stamp}.json':
            continue
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


def tolerance_of(metric: str, ap_tolerance: float,
                 miou_tolerance: float) -> float:
    return miou_tolerance if metric.startswith('mIoU') else ap_tolerance


def compare(paper: Dict[str, float], ours: Dict[str, float], tta: bool,
            ap_tolerance: float = AP_TOLERANCE,
            miou_tolerance: float = MIOU_TOLERANCE) -> List[dict]:
    """One row per paper metric: ``metric``, ``paper``, ``ours`` (None if
    not measured), ``diff``, ``tolerance`` and ``within`` (None if not
    compared).

    Args:
        paper (dict): metafile metric -> official value (%).
        ours (dict): metrics as mmengine logged them.
        tta (bool): the metrics come from ``tools/test.py --tta``: compare
            ``mIoU(ms+flip)``, not the single-scale ``mIoU``.
        ap_tolerance, miou_tolerance (float): largest absolute difference
            that counts as reproduced, for AP and mIoU metrics.
    """
    rows = []
    for metric, value in paper.items():
        key, factor = OURS[metric]
        measured = (metric in TTA_METRICS) == tta and key in ours
        mine = float(ours[key]) * factor if measured else None
        tolerance = tolerance_of(metric, ap_tolerance, miou_tolerance)
        diff = None if mine is None else mine - float(value)
        rows.append(dict(metric=metric, paper=float(value), ours=mine,
                         diff=diff, tolerance=tolerance,
                         within=None if diff is None else
                         abs(diff) <= tolerance + 1e-9))
    return rows


def format_table(rows: List[dict]) -> str:
    """The rows as a text table."""

    def num(value: Optional[float], signed: bool = False) -> str:
        if value is None:
            return '-'
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


def check_reproduction(work_dir: str,
                       model_index: str,
                       config: Optional[str] = None,
                       tta: bool = False,
                       ap_tolerance: float = AP_TOLERANCE,
                       miou_tolerance: float = MIOU_TOLERANCE
                       ) -> Tuple[bool, str]:
    """Compare a work dir's metrics with its config's metafile entry.

    Returns:
        tuple[bool, str]: whether every compared metric is within its
        tolerance (False also when nothing could be compared), and the
        report (config, sources, table, verdict).
    """
    if ap_tolerance < 0 or miou_tolerance < 0:
        raise ConfigError('tolerances must be >= 0')
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'work dir not found: {work_dir}')
    name = config_name(work_dir, config)
    model = find_model(load_models(model_index), name)
    ours, source = read_metrics(work_dir)
    paper = paper_metrics(model)
    lines = [f"Config: {model['Config']}",
             f'Ours: {source}',
             f"Paper: {model.get('Results Source', '-')}"]
    if model.get('Baseline'):
        lines.append(f"Baseline: {model['Baseline']}")
    memory = peak_memory_mib(work_dir)
    lines.append('Peak GPU memory in training: ' + (
        f'{memory:.0f} MiB' if memory is not None else
        'not in the log (a CPU run, or no training in this work dir)'))
    if not paper:
        lines += ['', 'NOT CHECKED: the model index has no official number '
                  'for this config']
        return False, '\n'.join(lines)
    rows = compare(paper, ours, tta, ap_tolerance, miou_tolerance)
    compared = [r for r in rows if r['within'] is not None]
    ok = bool(compared) and all(r['within'] for r in compared)
    lines += ['', format_table(rows), '']
    if not compared:
        lines.append('NOT CHECKED: none of the paper\'s metrics was measured'
                     + ('' if tta else ' (ms+flip numbers need '
                        'tools/test.py --tta and --tta here)'))
    else:
        lines.append(f'{"REPRODUCED" if ok else "NOT REPRODUCED"}: '
                     f'{sum(r["within"] for r in compared)} of '
                     f'{len(compared)} metrics within tolerance')
    return ok, '\n'.join(lines)


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
