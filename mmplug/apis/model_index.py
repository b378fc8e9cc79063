"""The OpenMMLab model index: ``model-index.yml`` and one
``configs/<folder>/metafile.yml`` per folder, read by ``mim search mmplug``,
mmengine's ``mmplug::`` lookups and ``check_reproduction.py``.

The metafiles are generated (``tools/misc/update_model_index.py``) from
three sources: the config itself (task, dataset, schedule, batch size,
pretrained checkpoint), :mod:`mmplug.apis.paper_results` (papers, official
numbers, their sources and baselines; hand-maintained) and
:func:`mmplug.apis.analysis.get_flops` (parameters and FLOPs at the default
input of ``tools/analysis_tools/get_flops.py``).

Schema (the fields mmdet's metafiles use, plus a few of our own): each
metafile has ``Collections`` (Name, Metadata.Training Data, Paper, Code,
README) and ``Models``, each with Name (the config's file name without
``.py``), In Collection, Config, Metadata (Training Data, Training
Resources, Batch Size, Epochs or Iterations, Pretrained, Parameters, FLOPs,
Attention FLOPs, FLOPs Input Shape and, where the backbone is counted in
another form than it runs, FLOPs Options), Results (Task, Dataset, Metrics:
``box AP`` / ``mask AP`` / ``mIoU`` / ``mIoU(ms+flip)``; only where an
official number exists), Results Source and Baseline.
"""
import fnmatch
import glob
import os
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Tuple

import yaml
from mmengine.config import Config

from mmplug.apis import paper_results
from mmplug.apis.config import ConfigError, task_of

#: Metafile metric -> its task.
METRIC_TASKS = {
    'box AP': 'Object Detection',
    'mask AP': 'Instance Segmentation',
    'mIoU': 'Semantic Segmentation',
    'mIoU(ms+flip)': 'Semantic Segmentation',
}
#: Dataset class -> dataset name in the metafiles.
DATASETS = {'CocoDataset': 'COCO', 'ADE20KDataset': 'ADE20K'}
#: Measured fields, in the order they are written (``FLOPs Options`` only
#: where there are some).
MEASURED = ('Parameters', 'FLOPs', 'Attention FLOPs', 'FLOPs Input Shape',
            'FLOPs Options')

Measure = Callable[[str], Dict[str, object]]


class ModelIndexError(ConfigError):
    """The model index or the paper table does not match the configs."""


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------
def load_models(model_index: str) -> List[dict]:
    """Every ``Models`` entry of the metafiles a ``model-index.yml`` imports.

    Args:
        model_index (str): path of ``model-index.yml``; its ``Import``
            paths are relative to its folder.

    Returns:
        list[dict]: the entries, each with ``_metafile`` (its file) added.
    """
    if not osp.isfile(model_index):
        raise FileNotFoundError(f'model index not found: {model_index}')
    root = osp.dirname(osp.abspath(model_index))
    with open(model_index) as f:
        index = yaml.safe_load(f) or {}
    models = []
    for rel in index.get('Import') or []:
        path = osp.join(root, rel)
        if not osp.isfile(path):
            raise ModelIndexError(f'{model_index} imports {rel}, which does '
                                  'not exist')
        with open(path) as f:
            for model in (yaml.safe_load(f) or {}).get('Models') or []:
                models.append(dict(model, _metafile=path))
    return models


def find_model(models: List[dict], name: str) -> dict:
    """The entry named ``name`` (a config file name without ``.py``)."""
    found = [m for m in models if m.get('Name') == name]
    if not found:
        raise ModelIndexError(
            f'no model named {name!r} in the model index (its names are the '
            'config file names without .py); pass --config with a config '
            'listed by `mim search mmplug`')
    return found[0]


def paper_metrics(model: dict) -> Dict[str, float]:
    """Metric -> official value of a model entry (empty: none)."""
    metrics = {}
    for result in model.get('Results') or []:
        metrics.update(result.get('Metrics') or {})
    return metrics


# --------------------------------------------------------------------------
# Generating
# --------------------------------------------------------------------------
def list_configs(repo: str) -> List[str]:
    """Configs under ``repo/configs`` (``_base_`` aside), relative to it."""
    paths = glob.glob(osp.join(repo, 'configs', '**', '*.py'), recursive=True)
    return sorted(
        osp.relpath(p, osp.join(repo, 'configs')) for p in paths
        if '_base_' not in osp.relpath(p, repo).split(osp.sep))


def folder_of(rel: str) -> str:
    """The collection folder of a config (relative to ``configs/``)."""
    if rel in paper_results.COLLECTION_OF:
        return paper_results.COLLECTION_OF[rel]
    folder = rel.split('/')[0] if '/' in rel else ''
    if folder not in paper_results.COLLECTIONS:
        raise ModelIndexError(
            f'configs/{rel}: no collection for folder {folder!r}; add one to '
            'COLLECTIONS (or the config to COLLECTION_OF) in '
            'mmplug/apis/paper_results.py')
    return folder


def check_table(configs: List[str]) -> None:
    """Every config of :data:`paper_results.RESULTS` must exist."""
    stale = sorted(set(paper_results.RESULTS) - set(configs))
    if stale:
        raise ModelIndexError(
            'mmplug/apis/paper_results.py names configs that do not exist '
            f'(renamed?): {", ".join(stale)}')
    for rel, entry in paper_results.RESULTS.items():
        unknown = set(entry.get('metrics') or {}) - set(METRIC_TASKS)
        if unknown:
            raise ModelIndexError(f'{rel}: unknown metrics {sorted(unknown)}'
                                  f'; use {sorted(METRIC_TASKS)}')


def _inner_dataset(dataset: dict) -> Tuple[dict, int]:
    """The dataset inside wrappers, and how often RepeatDataset repeats it."""
    times = 1
    while 'dataset' in dataset:
        times *= int(dataset.get('times', 1))
        dataset = dataset['dataset']
    return dataset, times


def _pretrained(cfg: Config) -> str:
    model = cfg.model
    init = model.get('backbone', {}).get('init_cfg') or {}
    if isinstance(init, dict) and init.get('checkpoint'):
        return init['checkpoint']
    if model.get('pretrained'):
        return model['pretrained']
    return 'none (from scratch)'


def config_facts(cfg: Config, rel: str, collection: dict) -> dict:
    """What the metafile says about a config that the config itself tells.

    Returns:
        dict: ``tasks`` (list), ``dataset``, and ``metadata`` (Training
        Data, Training Resources, Batch Size, Epochs or Iterations,
        Pretrained).
    """
    task = task_of(cfg)
    if task == 'seg':
        tasks = ['Semantic Segmentation']
    else:
        roi_head = cfg.model.get('roi_head') or {}
        tasks = ['Object Detection'] + (
            ['Instance Segmentation'] if roi_head.get('mask_head') else [])
    inner, times = _inner_dataset(cfg.train_dataloader.dataset)
    dataset = DATASETS.get(inner.get('type'), inner.get('type'))
    if collection.get('dataset') == 'demo':
        dataset = f'Demo ({dataset} format)'
    per_gpu = int(cfg.train_dataloader.batch_size)
    named = re.search(r'_(\d+)xb(\d+)-', osp.basename(rel))
    if named:
        gpus, per_gpu = int(named.group(1)), int(named.group(2))
    else:
        total = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
        gpus = total // per_gpu if total else 1
    metadata = {'Training Data': dataset}
    metadata['Training Resources'] = collection.get(
        'resources', f'{gpus} GPUs x {per_gpu} images')
    metadata['Batch Size'] = gpus * per_gpu
    train_cfg = cfg.train_cfg
    if train_cfg.get('max_epochs'):
        metadata['Epochs'] = int(train_cfg['max_epochs']) * times
    elif train_cfg.get('max_iters'):
        metadata['Iterations'] = int(train_cfg['max_iters'])
    metadata['Pretrained'] = _pretrained(cfg)
    return dict(tasks=tasks, dataset=dataset, metadata=metadata)


def flops_options(cfg: Config) -> Dict[str, object]:
    """``--cfg-options`` under which ``get_flops.py`` counts a config
    (:data:`paper_results.FLOPS_OPTIONS` of its backbone; often none)."""
    backbone = cfg.model.get('backbone') or {}
    options = paper_results.FLOPS_OPTIONS.get(backbone.get('type'), {})
    return {f'model.backbone.{key}': value for key, value in options.items()}


def measure_config(path: str) -> Dict[str, object]:
    """Parameters and FLOPs as ``tools/analysis_tools/get_flops.py CONFIG
    [--cfg-options FLOPs Options]`` prints them (default input size, random
    seeded weights)."""
    from mmplug.apis.analysis import get_flops
    from mmplug.apis.config import load_config
    cfg = load_config(path)
    options = flops_options(cfg)
    cfg.merge_from_dict(options)
    result = get_flops(cfg)
    measured = {
        'Parameters': int(result['params']),
        'FLOPs': int(result['flops']),
        'Attention FLOPs': int(result['attention_flops']),
        'FLOPs Input Shape': 'x'.join(map(str, result['input_shape'])),
    }
    if options:
        measured['FLOPs Options'] = ' '.join(f'{k}={v}'
                                             for k, v in options.items())
    return measured


def model_entry(rel: str, facts: dict, measured: Dict[str, object]) -> dict:
    """One ``Models`` entry of a metafile."""
    folder = folder_of(rel)
    collection = paper_results.COLLECTIONS[folder]
    table = paper_results.RESULTS.get(rel, {})
    metrics = table.get('metrics') or {}
    results = []
    for task in facts['tasks']:
        task_metrics = {
            name: value
            for name, value in metrics.items() if METRIC_TASKS[name] == task
        }
        if task_metrics:
            results.append(dict(Task=task, Dataset=facts['dataset'],
                                Metrics=task_metrics))
    entry = {
        'Name': osp.splitext(osp.basename(rel))[0],
        'In Collection': collection['name'],
        'Config': f'configs/{rel}',
        'Metadata': {**facts['metadata'], **measured},
    }
    if results:
        entry['Results'] = results
    entry['Results Source'] = table.get('source') or collection['none']
    if table.get('baseline'):
        entry['Baseline'] = table['baseline']
    return entry


def collection_entry(folder: str, datasets: List[str]) -> dict:
    info = paper_results.COLLECTIONS[folder]
    entry = {'Name': info['name'],
             'Metadata': {'Training Data': sorted(set(datasets))}}
    if info.get('url'):
        entry['Paper'] = {'Title': info['title'], 'URL': info['url']}
    else:
        entry['Paper'] = {'Title': info['title']}
    if info.get('code'):
        entry['Code'] = {'URL': info['code']}
    entry['README'] = 'README.md'
    return entry


def previous_measurements(repo: str) -> Dict[str, Dict[str, object]]:
    """Config path -> measured fields of the metafiles as they are now."""
    index = osp.join(repo, 'model-index.yml')
    if not osp.isfile(index):
        return {}
    found = {}
    for model in load_models(index):
        meta = model.get('Metadata') or {}
        if all(key in meta for key in MEASURED[:-1]):
            found[model['Config']] = {
                key: meta[key] for key in MEASURED if key in meta}
    return found


def build_model_index(
        repo: str,
        measure: Measure = measure_config,
        reuse: Optional[Dict[str, Dict[str, object]]] = None,
        remeasure: str = '',
        log: Callable[[str], None] = lambda msg: None) -> Dict[str, dict]:
    """The contents of ``model-index.yml`` and every metafile.

    Args:
        repo (str): the repository root (with ``configs/``).
        measure (callable): config path -> measured fields
            (:func:`measure_config`).
        reuse (dict, optional): config path (``configs/...``) -> measured
            fields to take instead of measuring (see
            :func:`previous_measurements`).
        remeasure (str): measure the configs matching this shell pattern
            (``configs/fpt/*``) even if ``reuse`` has them.
        log (callable): called with a line per config.

    Returns:
        dict: file path relative to ``repo`` -> its YAML data.
    """
    configs = list_configs(repo)
    check_table(configs)
    reuse = reuse or {}
    metafiles: Dict[str, dict] = {}
    datasets: Dict[str, List[str]] = {}
    for rel in configs:
        folder = folder_of(rel)
        path = osp.join(repo, 'configs', rel)
        cfg = Config.fromfile(path, import_custom_modules=False)
        facts = config_facts(cfg, rel, paper_results.COLLECTIONS[folder])
        measured = reuse.get(f'configs/{rel}')
        if remeasure and fnmatch.fnmatch(f'configs/{rel}', remeasure):
            measured = None
        if measured is None:
            log(f'measuring configs/{rel}')
            measured = measure(path)
        else:
            log(f'reusing the figures of configs/{rel}')
        entry = model_entry(rel, facts, measured)
        meta_rel = f'configs/{folder}/metafile.yml'
        metafiles.setdefault(meta_rel, {'Collections': [], 'Models': []})
        metafiles[meta_rel]['Models'].append(entry)
        datasets.setdefault(folder, []).append(facts['dataset'])
    for meta_rel, data in metafiles.items():
        folder = meta_rel.split('/')[1]
        data['Collections'] = [collection_entry(folder, datasets[folder])]
    files = {'model-index.yml': {'Import': sorted(metafiles)}}
    files.update(sorted(metafiles.items()))
    return files


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                          width=79, default_flow_style=False)


def write_model_index(repo: str, files: Dict[str, dict]) -> List[str]:
    """Write :func:`build_model_index`'s files; remove metafiles of folders
    that no longer have configs. Returns the paths written."""
    for old in glob.glob(osp.join(repo, 'configs', '*', 'metafile.yml')):
        if osp.relpath(old, repo) not in files:
            os.remove(old)
    header = ('# Generated by tools/misc/update_model_index.py from the '
              'configs,\n# mmplug/apis/paper_results.py and get_flops: edit '
              'those and rerun.\n')
    for rel, data in files.items():
        with open(osp.join(repo, rel), 'w') as f:
            f.write(header + dump_yaml(data))
    return list(files)


def check_model_index(repo: str) -> List[str]:
    """Problems between the model index and the configs (empty: none)."""
    problems = []
    models = load_models(osp.join(repo, 'model-index.yml'))
    listed = {m['Config'] for m in models}
    for rel in list_configs(repo):
        if f'configs/{rel}' not in listed:
            problems.append(f'configs/{rel} is not in the model index')
    for model in models:
        if not osp.isfile(osp.join(repo, model['Config'])):
            problems.append(f"{model['Name']}: {model['Config']} does not "
                            'exist')
    names = [m['Name'] for m in models]
    problems += [f'{n}: two entries' for n in sorted(set(names))
                 if names.count(n) > 1]
    return problems


__all__ = [
    'ModelIndexError', 'build_model_index',
    'check_model_index', 'config_facts', 'find_model', 'load_models',
    'measure_config', 'paper_metrics', 'previous_measurements',
    'write_model_index'
]
