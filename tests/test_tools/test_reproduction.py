"""tools/reproduce.sh and tools/analysis_tools/check_reproduction.py on the
small demo data: a real 2-process run (gloo) whose metrics are compared with
a model index written for it."""
import os
import os.path as osp
import shutil
import sys

import pytest

from mmplug.apis.reproduction import (compare, config_name, format_table,
                                      read_metrics)
from mmplug.testing import run_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
DET_DEMO = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpn_demo.py')
CHECK = osp.join(TOOLS, 'analysis_tools/check_reproduction.py')


def run(*args, **kwargs):
    return run_tool(*args, cwd=REPO, **kwargs)


def model_index(folder, name, box_ap, mask_ap):
    """A model index with one entry: the paper's numbers for ``name``."""
    folder.mkdir(exist_ok=True)
    (folder / 'metafile.yml').write_text(f"""\
Models:
  - Name: {name}
    Config: configs/{name}.py
    Results:
      - Task: Object Detection
        Dataset: Demo
        Metrics:
          box AP: {box_ap}
      - Task: Instance Segmentation
        Dataset: Demo
        Metrics:
          mask AP: {mask_ap}
    Results Source: what two iterations from scratch give
""")
    (folder / 'model-index.yml').write_text('Import:\n  - metafile.yml\n')
    return str(folder / 'model-index.yml')


@pytest.fixture(scope='module')
def reproduced(demo_root, tmp_path_factory):
    """tools/reproduce.sh CONFIG 2 on the 8-image demo set (1 epoch of 2
    iterations with a validation at its end), expecting 0 AP."""
    tmp = tmp_path_factory.mktemp('reproduce')
    root = osp.join(demo_root, 'coco/')
    config = str(tmp / 'demo_det.py')
    (tmp / 'demo_det.py').write_text(f"""_base_ = [{DET_DEMO!r}]
data_root = {root!r}
train_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1, val_begin=1)
""")
    work_dir = str(tmp / 'work')
    # two iterations from scratch: ~0 AP; 5 AP of slack keeps this robust
    index = model_index(tmp / 'index', 'demo_det', 0.0, 0.0)
    res = run('bash', osp.join(TOOLS, 'reproduce.sh'), config, '2',
              '--work-dir', work_dir, '--model-index', index,
              '--ap-tolerance', '5',
              env=dict(PYTHON=sys.executable, PORT='29523',
                       OMP_NUM_THREADS='1'))
    return config, work_dir, tmp, res


def test_reproduce_ends_with_the_table(reproduced):
    _, work_dir, _, res = reproduced
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'data and pretrained weights found' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    assert 'Epoch(test)' in out
    tail = res.stdout[res.stdout.index('reproduction.txt'):]
    assert 'box AP   0.00' in tail and 'mask AP  0.00' in tail
    assert 'REPRODUCED: 2 of 2 metrics within tolerance' in tail
    report = open(osp.join(work_dir, 'reproduction.txt')).read()
    assert report.startswith('Reproduction of ')
    assert 'GPUs: 2' in report and 'Training: ' in report
    assert report.strip().endswith('2 of 2 metrics within tolerance')
    assert 'Peak GPU memory in training: not in the log' in report  # CPU


def test_reproduce_with_a_wrong_expected_number_exits_1(reproduced):
    config, work_dir, tmp, _ = reproduced
    index = model_index(tmp / 'wrong', 'demo_det', 40.0, 0.0)
    # --resume: the finished run is not trained again; test and compare
    res = run('bash', osp.join(TOOLS, 'reproduce.sh'), config, '1',
              '--work-dir', work_dir, '--model-index', index, '--resume',
              env=dict(PYTHON=sys.executable))
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'Epoch(train)' not in res.stdout + res.stderr
    report = open(osp.join(work_dir, 'reproduction.txt')).read()
    assert 'box AP   40.00' in report and 'NO' in report
    assert 'NOT REPRODUCED: 1 of 2 metrics within tolerance' in report


def test_metrics_of_test_and_validation(reproduced):
    _, work_dir, tmp, _ = reproduced
    metrics, source = read_metrics(work_dir)
    assert source.endswith('(tools/test.py)')
    assert 0 <= metrics['coco/bbox_mAP'] <= 1
    # without the test runs, the last validation of training is used
    train_only = str(tmp / 'train_only')
    shutil.copytree(work_dir, train_only)
    for stamp in os.listdir(train_only):
        if osp.isfile(osp.join(train_only, stamp, stamp + '.json')):
            shutil.rmtree(osp.join(train_only, stamp))
    val, source = read_metrics(train_only)
    assert source.endswith('scalars.json (validation)')
    assert 'coco/segm_mAP' in val and 'loss' not in val
    assert config_name(work_dir) == 'demo_det'


def test_check_reproduction_user_errors(reproduced, tmp_path):
    _, work_dir, tmp, _ = reproduced
    index = str(tmp / 'index' / 'model-index.yml')
    res = run(CHECK, str(tmp_path / 'nowhere'), '--model-index', index)
    assert res.returncode == 2
    assert 'work dir not found' in res.stderr and 'Traceback' not in res.stderr
    res = run(CHECK, work_dir, '--model-index', index, '--config',
              'configs/smt/unknown.py')
    assert res.returncode == 2 and "no model named 'unknown'" in res.stderr
    res = run(CHECK, str(tmp_path), '--model-index', index)
    assert res.returncode == 2 and 'pass --config' in res.stderr
    # the real model index: the demo config's entry holds the README's
    # figures, which two iterations do not reach
    res = run(CHECK, work_dir, '--config', DET_DEMO)
    assert res.returncode == 1
    assert 'box AP   41.80' in res.stdout and 'NOT REPRODUCED' in res.stdout


def test_compare_tolerances_and_tta():
    paper = {'mIoU': 49.2, 'mIoU(ms+flip)': 50.2}
    rows = compare(paper, {'mIoU': 48.7}, tta=False)
    assert [r['within'] for r in rows] == [True, None]  # 0.5 is within
    assert rows[0]['diff'] == pytest.approx(-0.5)
    rows = compare(paper, {'mIoU': 48.69}, tta=False)
    assert rows[0]['within'] is False
    rows = compare(paper, {'mIoU': 50.0}, tta=True)
    assert [r['within'] for r in rows] == [None, True]
    rows = compare({'box AP': 47.8}, {'coco/bbox_mAP': 0.474}, tta=False,
                   ap_tolerance=0.3)
    assert rows[0]['ours'] == pytest.approx(47.4) and not rows[0]['within']
    table = format_table(rows)
    assert table.splitlines()[0].split() == [
        'metric', 'paper', 'ours', 'difference', 'tolerance', 'within',
        'tolerance']
    assert 'box AP  47.80  47.40  -0.40       0.30       NO' in table


def test_peak_memory_of_the_newest_training(tmp_path):
    """mmengine logs ``memory`` (MiB) with each training step on GPUs."""
    from mmplug.apis.reproduction import peak_memory_mib
    for stamp, memory in [('20240101_000000', [5000]),
                          ('20240102_000000', [3000, 3500, 3200])]:
        (tmp_path / stamp / 'vis_data').mkdir(parents=True)
        lines = [f'{{"lr": 0.02, "memory": {m}, "step": {i}}}'
                 for i, m in enumerate(memory)] + ['{"coco/bbox_mAP": 0.1}']
        (tmp_path / stamp / 'vis_data' / 'scalars.json').write_text(
            '\n'.join(lines) + '\n')
    assert peak_memory_mib(str(tmp_path)) == 3500
    assert peak_memory_mib(str(tmp_path / '20240101_000000')) is None
