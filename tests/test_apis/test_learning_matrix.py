"""Tests of mmplug.apis.learning (the learning matrix) without training:
the matrix covers every family, schedules scale, derived configs load,
results become a table and a plot."""
import json
import os.path as osp
import threading

import pytest
from mmengine.config import Config

from mmplug.apis.learning import (MATRIX, REFERENCE, derived_config,
                                  interleave, load_results, nominal_iters,
                                  plot, read_scalars, scale_schedule,
                                  seconds_per_iter, select, table)
from mmplug.errors import ConfigError
from mmplug.testing import registered_backbones, registered_necks

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_every_backbone_in_both_tasks_and_every_neck():
    families = set(registered_backbones()) | set(registered_necks())
    for task in ('det', 'seg'):
        shown = {e.family for e in MATRIX if e.task == task}
        assert families <= shown, families - shown
        assert REFERENCE[task] in {e.key for e in MATRIX}
    assert len({e.key for e in MATRIX}) == len(MATRIX)
    for entry in MATRIX:
        assert osp.isfile(osp.join(REPO, entry.config)), entry.config


def test_each_config_builds_its_family():
    # (tests/test_configs.py builds and runs every config)
    prefix = {'det': 'mask-rcnn_', 'seg': 'upernet_'}
    for entry in MATRIX:
        assert osp.basename(entry.config).startswith(prefix[entry.task])
        if entry.family.startswith('mmplug.'):
            with open(osp.join(REPO, entry.config)) as f:
                assert f"type='{entry.family}'" in f.read(), entry.key


def test_select():
    assert [e.key for e in select('smt-t')] == ['det/smt-t', 'seg/smt-t']
    assert [e.key for e in select('seg/r18,det/r18')] == ['det/r18',
                                                          'seg/r18']
    assert {e.task for e in select('seg')} == {'seg'}
    assert select(None) == list(MATRIX)
    with pytest.raises(ConfigError, match="no model 'smt' in the matrix"):
        select('smt')


def test_scale_schedule_keeps_the_warmup_and_scales_the_steps():
    schedule = [dict(type='LinearLR', start_factor=0.01, by_epoch=False,
                     begin=0, end=50),
                dict(type='MultiStepLR', begin=0, end=4, by_epoch=True,
                     milestones=[3], gamma=0.1)]
    longer = scale_schedule(schedule, per_epoch=40, nominal=160, iters=320)
    assert longer[0]['end'] == 50  # the warm-up keeps its length
    assert longer[1] == dict(type='MultiStepLR', begin=0, end=320,
                             by_epoch=False, milestones=[240], gamma=0.1)
    shorter = scale_schedule(schedule, per_epoch=40, nominal=160, iters=80)
    assert shorter[0]['end'] == 25  # no larger share than in the config
    assert shorter[1]['milestones'] == [60]
    assert schedule[1]['by_epoch']  # the input is not changed


def test_scale_schedule_moves_what_follows_the_warmup():
    schedule = [dict(type='LinearLR', by_epoch=False, begin=0, end=20),
                dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=20,
                     end=160, by_epoch=False)]
    scaled = scale_schedule(schedule, per_epoch=1, nominal=160, iters=400)
    assert scaled[1]['begin'] == 20 and scaled[1]['end'] == 400


def test_nominal_iters(demo_root):
    det = Config.fromfile(osp.join(REPO,
                                   'configs/demo/mask-rcnn_r18_fpn_demo.py'))
    # 8 training images, 4 per batch, 4 epochs
    det.train_dataloader.dataset.data_root = osp.join(demo_root, 'coco/')
    assert nominal_iters(det) == 2 * 4
    seg = Config.fromfile(osp.join(REPO, 'configs/demo/upernet_r18_demo.py'))
    assert nominal_iters(seg) == 160


def test_derived_config_loads_and_budgets(tmp_path):
    entry = select('seg/smt-t')[0]
    path = tmp_path / 'run.py'
    path.write_text(derived_config(entry, iters=320, budget_s=90.,
                                   log_interval=3))
    cfg = Config.fromfile(str(path))
    assert cfg.train_cfg == dict(type='IterBasedTrainLoop', max_iters=320,
                                 val_interval=321, val_begin=321)
    assert dict(type='mmplug.TimeBudgetHook', budget_s=90.) in \
        cfg.custom_hooks
    assert 'mmplug.engine.time_budget' in cfg.custom_imports.imports
    assert cfg.model.backbone.type == 'mmplug.SMT'  # the demo's model
    # the demo's 160 iterations: 20 of warm-up, then poly to the end
    assert cfg.param_scheduler[0]['end'] == 20
    assert cfg.param_scheduler[1]['begin'] == 20
    assert cfg.param_scheduler[1]['end'] == 320
    assert cfg.default_hooks.checkpoint.interval == 320
    assert cfg.default_hooks.logger.interval == 3


def _result(task, name, score, curve):
    return dict(entry=dict(task=task, name=name, family='x',
                           config=f'configs/demo/{name}.py', size='small'),
                key=f'{task}/{name}', budget_s=60., iters=curve[-1]['iter'],
                train_s=sum(c['time'] for c in curve), score=score,
                second=None, curve=curve)


def test_table_and_plot(tmp_path):
    curve = [dict(iter=i, loss=2. / i, time=0.5) for i in range(1, 6)]
    results = {'det/r18': _result('det', 'r18', 0.4, curve),
               'det/smt-t': _result('det', 'smt-t', 0.3, curve),
               'seg/smt-t': _result('seg', 'smt-t', 90., curve)}
    text = table(results)
    assert '| smt-t (`smt-t.py`) | small | 5 | 0.50 | 0.300 | - '\
        '| 75 % |' in text
    assert '| UPerNet |' in text  # no seg reference yet: no ratio
    assert '| 90.00 | - | - |' in text
    plot(results, str(tmp_path / 'curves.png'))
    assert osp.getsize(tmp_path / 'curves.png') > 10_000


def test_results_and_scalars_are_read_back(tmp_path):
    run = tmp_path / 'det_r18'
    run.mkdir()
    (run / 'result.json').write_text(json.dumps(
        _result('det', 'r18', 0.4, [dict(iter=1, loss=1., time=1.)])))
    assert list(load_results(str(tmp_path))) == ['det/r18']
    logs = tmp_path / 'train' / '20260101_000000' / 'vis_data'
    logs.mkdir(parents=True)
    (logs / 'scalars.json').write_text('\n'.join(json.dumps(r) for r in [
        dict(loss=3., time=9., step=1), dict(loss=2., time=2., step=4),
        dict(loss=1., time=3., step=5), dict(loss=1., time=4., step=6)]))
    records = read_scalars(str(tmp_path / 'train'))
    assert [r['step'] for r in records] == [1, 4, 5, 6]
    assert seconds_per_iter(records, skip=3) == 3.


def test_interleave_takes_turns():
    entries = select('det/r18,det/smt-t,det/mobilenext,seg/r18,seg/smt-t')
    assert [e.key for e in interleave(entries)] == [
        'det/r18', 'seg/r18', 'det/smt-t', 'seg/smt-t', 'det/mobilenext']


def test_run_matrix_jobs(tmp_path, monkeypatch):
    """--jobs 2 runs two entries side by side; a failed run is reported
    and the others go on; finished runs are not repeated."""
    from mmplug.apis import learning
    running, seen = [], []
    lock = threading.Lock()
    both = threading.Barrier(2, timeout=10)

    def fake_run_entry(entry, out_dir, budget_s, env, log):
        with lock:
            running.append(entry.key)
            seen.append(len(running))
        if len(seen) <= 2:
            both.wait()  # the first two only pass when they run together
        with lock:
            running.remove(entry.key)
        if entry.name == 'smt-t':
            raise RuntimeError('tools/train.py exited with 1')
        result = _result(entry.task, entry.name, 0.4,
                         [dict(iter=1, loss=1., time=1.)])
        result['budget_s'] = budget_s
        folder = osp.join(out_dir, entry.folder)
        learning.os.makedirs(folder)
        with open(osp.join(folder, 'result.json'), 'w') as f:
            json.dump(result, f)
        return result

    monkeypatch.setattr(learning, 'run_entry', fake_run_entry)
    monkeypatch.setattr(learning, 'ensure_demo_data', lambda env, log: None)
    lines = []
    entries = select('r18,smt-t')
    results = learning.run_matrix(entries, str(tmp_path), 60., jobs=2,
                                  log=lines.append)
    assert max(seen) == 2
    assert sorted(results) == ['det/r18', 'seg/r18']
    assert 'failed: det/smt-t, seg/smt-t' in lines[-1] or \
        'failed: seg/smt-t, det/smt-t' in lines[-1]
    assert osp.isfile(tmp_path / 'learning_matrix.md')
    seen.clear()
    learning.run_matrix(select('r18'), str(tmp_path), 60., jobs=2,
                        log=lines.append)
    assert seen == []  # done before
    with pytest.raises(ConfigError, match='--jobs must be >= 1'):
        learning.run_matrix(entries, str(tmp_path), 60., jobs=0)
