"""tools/reproduce.sh and tools/analysis_tools/check_reproduction.py: a real
2-process run (gloo) on a small demo set, compared with model indexes
written for it (same setting: REPRODUCED / NOT REPRODUCED) and with the
shipped ones (another setting: NOT COMPARABLE, naming the differences);
then the pieces (setting differences, data facts, tolerances and their
sources) on their own."""
import os
import os.path as osp
import shutil
import sys

import pytest
from mmengine.config import Config

from mmplug.apis.model_index import DEMO_RESULTS, load_models
from mmplug.apis.reproduction import (AP_TOLERANCE, DEFAULT_TOLERANCE_SOURCE,
                                      MIOU_TOLERANCE, compare,
                                      config_differences, config_name,
                                      dataset_facts, flatten, format_table,
                                      read_metrics, tolerances, world_size)
from mmplug.testing import run_tool

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
DET_DEMO = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpn_demo.py')
CHECK = osp.join(TOOLS, 'analysis_tools/check_reproduction.py')


def run(*args, **kwargs):
    return run_tool(*args, cwd=REPO, **kwargs)


def model_index(folder, config, box_ap, mask_ap, resources='2 GPUs x 2',
                train_images=8, test_images=4, tolerance=None):
    """A model index with one entry: ``config`` is the paper's setting
    (``resources`` GPUs x images, the demo set of ``train_images`` /
    ``test_images`` images and 4 classes) and its numbers."""
    folder.mkdir(exist_ok=True)
    name = osp.splitext(osp.basename(config))[0]
    extra = ''
    if tolerance is not None:
        extra = (f'    Tolerance:\n      box AP: {tolerance}\n'
                 f'      mask AP: {tolerance}\n'
                 '      Source: the range over the seeds we ran\n')
    (folder / 'metafile.yml').write_text(f"""\
Collections:
  - Name: Test
    Datasets:
      Small demo:
        Train Images: {train_images}
        Test Images: {test_images}
        Classes: 4
Models:
  - Name: {name}
    In Collection: Test
    Config: {config}
    Metadata:
      Training Data: Small demo
      Training Resources: {resources} images
    Results:
      - Task: Object Detection
        Dataset: Small demo
        Metrics:
          box AP: {box_ap}
      - Task: Instance Segmentation
        Dataset: Small demo
        Metrics:
          mask AP: {mask_ap}
    Results Source: what two iterations from scratch give
{extra}""")
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
    index = model_index(tmp / 'index', config, 0.0, 0.0)
    res = run('bash', osp.join(TOOLS, 'reproduce.sh'), config, '2',
              '--work-dir', work_dir, '--model-index', index,
              '--ap-tolerance', '5', '--cfg-options', 'randomness.seed=3',
              env=dict(PYTHON=sys.executable, PORT='29523',
                       OMP_NUM_THREADS='1'))
    return config, work_dir, tmp, res


def test_reproduce_records_the_setting_and_ends_with_the_table(reproduced):
    _, work_dir, _, res = reproduced
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert 'data and pretrained weights found' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    assert 'Epoch(test)' in out
    report = open(osp.join(work_dir, 'reproduction.txt')).read()
    assert report.startswith('Reproduction of ')
    assert 'Command: tools/reproduce.sh ' in report
    assert 'Overrides: --cfg-options randomness.seed=3; train.py options: ' \
        'none' in report
    assert 'GPUs: 2' in report and 'Training: ' in report
    # the setting, ours against the paper's
    assert 'GPUs x images per GPU: 2 x 2 = 4; paper: 2 x 2 = 4' in report
    assert 'training data: 8 images, 4 classes; paper: 8 images' in report
    assert 'test data: 4 images, 4 classes; paper: 4 images' in report
    assert 'tested checkpoint: ' in report and '(epoch 1 of 1)' in report
    assert 'randomness.seed: 0 -> 3' in report  # recorded, not a difference
    assert "no difference from the paper's setting found" in report
    assert 'box AP, mask AP: given on the command line' in report
    assert 'box AP   0.00' in report and 'mask AP  0.00' in report
    assert report.strip().endswith(
        'REPRODUCED: 2 of 2 metrics within tolerance')
    assert 'Peak GPU memory in training: not in the log' in report  # CPU
    assert report in res.stdout  # printed too


def test_reproduce_with_a_wrong_expected_number_exits_1(reproduced):
    config, work_dir, tmp, _ = reproduced
    index = model_index(tmp / 'wrong', config, 40.0, 0.0, tolerance=2.5)
    # --resume: the finished run is not trained again; test and compare
    res = run('bash', osp.join(TOOLS, 'reproduce.sh'), config, '1',
              '--work-dir', work_dir, '--model-index', index, '--resume',
              '--cfg-options', 'randomness.seed=3',
              env=dict(PYTHON=sys.executable))
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    assert 'Epoch(train)' not in res.stdout + res.stderr
    report = open(osp.join(work_dir, 'reproduction.txt')).read()
    assert 'train.py options: --resume' in report
    assert 'box AP, mask AP: the range over the seeds we ran' in report
    assert 'box AP   40.00' in report and 'NO' in report
    assert 'NOT REPRODUCED: 1 of 2 metrics within tolerance' in report


def test_another_setting_is_not_comparable(reproduced):
    """The run against the shipped demo config (160 / 40 images, 4 epochs,
    1 process x 4 images) and against the papers' SMT-S Mask R-CNN 1x
    (COCO): NOT COMPARABLE, with the differences named, exit 3."""
    _, work_dir, _, _ = reproduced
    res = run(CHECK, work_dir, '--config', DET_DEMO)
    assert res.returncode == 3, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    [demo] = [m for m in load_models(osp.join(REPO, DEMO_RESULTS))
              if m['Config'] == 'configs/demo/mask-rcnn_r18_fpn_demo.py']
    assert f"Paper: {demo['Results Source']}" in out
    assert 'config: train_cfg.max_epochs: 4 -> 1' in out
    # recorded; the total batch is what is compared (below)
    assert '    train_dataloader.batch_size: 4 -> 2' in out
    assert 'training data: 8 images, the paper 160' in out
    assert 'test data: 4 images, the paper 40' in out
    # 2 x 2 = 4 images per step, as the demo's 1 x 4: not a difference
    assert 'GPUs x images per GPU: 2 x 2 = 4; paper: 1 x 4 = 4' in out
    assert 'batch: ' not in out
    assert 'NOT COMPARABLE: the setting differs' in out
    assert 'REPRODUCED:' not in out
    res = run(CHECK, work_dir, '--config', 'configs/smt_maskrcnn_1x.py')
    assert res.returncode == 3, res.stdout[-3000:] + res.stderr[-3000:]
    out = res.stdout
    assert 'training data: 8 images, the paper 118287 (COCO)' in out
    assert 'training data: 4 classes, the paper 80' in out
    assert 'batch: 2 GPUs x 2 images = 4 per step, the paper 16' in out
    assert "config: model.backbone.type: 'mmplug.SMT' -> 'ResNet'" in out
    assert 'box AP   47.80' in out
    assert 'NOT COMPARABLE' in out


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
    runs = [osp.join(work_dir, d) for d in sorted(os.listdir(work_dir))
            if osp.isdir(osp.join(work_dir, d))]
    assert 2 in [world_size(r) for r in runs]


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
    res = run(CHECK, work_dir, '--model-index', index, '--ap-tolerance',
              '-1')
    assert res.returncode == 2 and 'tolerances must be >= 0' in res.stderr


# --------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------
def test_config_differences_split_setting_from_paths_and_seed():
    reference = Config(dict(
        train_cfg=dict(max_epochs=12),
        optim_wrapper=dict(optimizer=dict(lr=0.02)),
        train_dataloader=dict(batch_size=2, num_workers=2, dataset=dict(
            data_root='data/coco/', ann_file='a.json',
            data_prefix=dict(img='train2017/'))),
        model=dict(backbone=dict(init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/a.pth'))),
        randomness=dict(seed=0), work_dir='w'))
    run_cfg = Config(dict(
        train_cfg=dict(max_epochs=1),
        optim_wrapper=dict(optimizer=dict(lr=0.02), type='AmpOptimWrapper'),
        train_dataloader=dict(batch_size=2, num_workers=8, dataset=dict(
            data_root='/datasets/coco/', ann_file='a.json',
            data_prefix=dict(img='images/'))),
        model=dict(backbone=dict(init_cfg=dict(
            type='Pretrained', checkpoint='/ckpt/a.pth'))),
        randomness=dict(seed=7), work_dir='elsewhere'))
    setting, other = config_differences(reference, run_cfg)
    assert setting == [
        "optim_wrapper.type: None -> 'AmpOptimWrapper'",
        'train_cfg.max_epochs: 12 -> 1',
    ]
    assert "randomness.seed: 0 -> 7" in other
    assert "train_dataloader.dataset.data_root: 'data/coco/' -> " \
        "'/datasets/coco/'" in other
    assert 'train_dataloader.num_workers: 2 -> 8' in other
    assert "model.backbone.init_cfg.checkpoint: 'checkpoints/a.pth' -> " \
        "'/ckpt/a.pth'" in other
    # from scratch instead of the pretrained weights is a difference
    scratch = Config(dict(reference.to_dict(),
                          model=dict(backbone=dict(init_cfg=None))))
    setting, _ = config_differences(reference, scratch)
    assert "model.backbone.init_cfg.type: 'Pretrained' -> None" in setting
    # only the named keys, or all but the skipped ones
    setting, _ = config_differences(reference, run_cfg, keys=('model', ))
    assert setting == []
    setting, _ = config_differences(reference, run_cfg,
                                    skip=('train_cfg', 'optim_wrapper'))
    assert setting == []


def test_flatten():
    assert flatten({'a': {'b': [1, {'c': (2, 3)}]}, 'd': [], 'e': {}}) == {
        'a.b.0': 1, 'a.b.1.c.0': 2, 'a.b.1.c.1': 3, 'd': [], 'e': {}}


def test_dataset_facts_count_images_and_classes(demo_root):
    root = osp.join(demo_root, 'coco/')
    cfg = Config.fromfile(DET_DEMO)
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root})
    assert dataset_facts(cfg, 'train') == dict(
        images=8, classes=('circle', 'square', 'triangle', 'star'))
    assert dataset_facts(cfg, 'test')['images'] == 4
    cfg.merge_from_dict({'test_dataloader.dataset.data_root': '/nowhere/'})
    assert dataset_facts(cfg, 'test')['images'] is None
    seg = Config.fromfile(osp.join(REPO, 'configs/demo/upernet_r18_demo.py'))
    seg.merge_from_dict({'train_dataloader.dataset.data_root': osp.join(
        demo_root, 'ade/ADEChallengeData2016')})
    facts = dataset_facts(seg, 'train')
    assert facts['images'] == 8 and len(facts['classes']) == 5
    cfg.train_dataloader = None
    assert dataset_facts(cfg, 'train') is None


def test_world_size_from_the_log(tmp_path):
    run_dir = tmp_path / '20240101_000000'
    run_dir.mkdir()
    assert world_size(str(run_dir)) is None
    (run_dir / '20240101_000000.log').write_text(
        'x\n    Distributed training: True\n    GPU number: 8\n')
    assert world_size(str(run_dir)) == 8


def test_tolerances_and_their_sources():
    model = dict(Results=[dict(Metrics={'box AP': 47.8, 'mask AP': 43.0}),
                          dict(Metrics={'mIoU': 49.2})])
    assert tolerances(model) == {
        'box AP': (AP_TOLERANCE, DEFAULT_TOLERANCE_SOURCE),
        'mask AP': (AP_TOLERANCE, DEFAULT_TOLERANCE_SOURCE),
        'mIoU': (MIOU_TOLERANCE, DEFAULT_TOLERANCE_SOURCE)}
    model['Tolerance'] = {'box AP': 2.2, 'Source': 'seeds 0-3 we ran'}
    limits = tolerances(model, miou_tolerance=1.0)
    assert limits['box AP'] == (2.2, 'seeds 0-3 we ran')
    assert limits['mask AP'][0] == AP_TOLERANCE
    assert limits['mIoU'] == (1.0, 'given on the command line')
    assert tolerances(model, ap_tolerance=0.0)['box AP'][0] == 0.0
    with pytest.raises(ValueError, match='tolerances must be >= 0'):
        tolerances(model, ap_tolerance=-0.1)


def test_compare_tolerances_and_tta():
    paper = {'mIoU': 49.2, 'mIoU(ms+flip)': 50.2}
    limits = {m: (MIOU_TOLERANCE, 'x') for m in paper}
    rows = compare(paper, {'mIoU': 48.7}, tta=False, tolerance=limits)
    assert [r['within'] for r in rows] == [True, None]  # 0.5 is within
    assert rows[0]['diff'] == pytest.approx(-0.5)
    rows = compare(paper, {'mIoU': 48.69}, tta=False, tolerance=limits)
    assert rows[0]['within'] is False
    rows = compare(paper, {'mIoU': 50.0}, tta=True, tolerance=limits)
    assert [r['within'] for r in rows] == [None, True]
    rows = compare({'box AP': 47.8}, {'coco/bbox_mAP': 0.474}, tta=False,
                   tolerance={'box AP': (0.3, 'x')})
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
