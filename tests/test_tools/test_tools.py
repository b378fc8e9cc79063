"""End-to-end runs of the command-line tools on small demo data."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
DET_DEMO = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpn_demo.py')
SEG_DEMO = osp.join(REPO, 'configs/demo/upernet_r18_demo.py')


def run(*args, cwd=REPO, env=None, timeout=600):
    """Run a tool with this interpreter; return the CompletedProcess."""
    cmd = [sys.executable, *args] if args[0].endswith('.py') else list(args)
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', **(env or {}))
    full_env['PATH'] = osp.dirname(sys.executable) + os.pathsep + \
        full_env['PATH']
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def ok(res):
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


def write_config(path, base, body):
    path.write_text(f'_base_ = [{base!r}]\n{body}')
    return str(path)


@pytest.fixture(scope='module')
def det_config(demo_root, tmp_path_factory):
    """The det demo config on the 8-image demo set: 2 iterations/epoch."""
    root = osp.join(demo_root, 'coco/')
    return write_config(
        tmp_path_factory.mktemp('cfg') / 'det.py', DET_DEMO, f"""
data_root = {root!r}
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=2, val_interval=2, val_begin=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=-1),
                     logger=dict(interval=1))
""")


@pytest.fixture(scope='module')
def det_run(det_config, tmp_path_factory):
    """Train the det config for 2 epochs with tools/train.py."""
    work_dir = str(tmp_path_factory.mktemp('det_run'))
    out = ok(run(osp.join(TOOLS, 'train.py'), det_config, '--work-dir',
                 work_dir))
    return work_dir, out


@pytest.mark.parametrize('tool', ['train.py', 'test.py'])
def test_help(tool):
    out = ok(run(osp.join(TOOLS, tool), '--help'))
    assert 'usage:' in out


def test_train_without_dataset_explains(tmp_path):
    config = osp.join(REPO, 'configs/mask_rcnn/mask-rcnn_r18_fpn_1x_coco.py')
    res = run(osp.join(TOOLS, 'train.py'), config, cwd=str(tmp_path))
    assert res.returncode == 2
    assert 'data/coco/annotations/instances_train2017.json' in res.stderr
    assert "README.md, section 'Dataset preparation'" in res.stderr
    assert 'Traceback' not in res.stderr


def test_det_train_then_test(det_run, det_config, tmp_path):
    work_dir, log = det_run
    assert 'Epoch(train) [2][2/2]' in log
    assert 'coco/bbox_mAP' in log and 'coco/segm_mAP' in log  # val at end
    ckpts = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')))
    assert [osp.basename(c) for c in ckpts] == ['epoch_1.pth', 'epoch_2.pth']
    pkl, show = str(tmp_path / 'res.pkl'), str(tmp_path / 'show')
    out = ok(run(osp.join(TOOLS, 'test.py'), det_config, ckpts[-1],
                 '--work-dir', str(tmp_path), '--out', pkl, '--show-dir',
                 show))
    assert 'Epoch(test)' in out and 'coco/bbox_mAP' in out
    assert osp.getsize(pkl) > 0
    assert len(glob.glob(osp.join(show, '*.jpg'))) == 4  # 4 val images


def test_tta(det_run, det_config, tmp_path):
    from mmplug.apis import build_test_cfg
    work_dir, _ = det_run
    ckpt = osp.join(work_dir, 'epoch_2.pth')
    # mmdet's DetTTAModel cannot merge masks: a clear refusal, not a crash
    res = run(osp.join(TOOLS, 'test.py'), det_config, ckpt, '--tta')
    assert res.returncode == 2 and 'instance segmentation' in res.stderr
    retina = osp.join(REPO,
                      'configs/smt/retinanet_smt-s_fpn_ms-crop-3x_coco.py')
    cfg = build_test_cfg(retina, ckpt, tta=True)
    assert cfg.model.type == 'DetTTAModel'
    assert cfg.model.module.type == 'RetinaNet'
    assert cfg.test_dataloader.dataset.pipeline[-1].type == 'TestTimeAug'
    seg = osp.join(REPO, 'configs/demo/upernet_r18_demo.py')
    cfg = build_test_cfg(seg, ckpt, tta=True)
    assert cfg.model.type == 'SegTTAModel'
    assert cfg.model.module.type == 'EncoderDecoder'


def test_det_resume(det_run, det_config):
    work_dir, _ = det_run
    second = osp.join(work_dir, 'epoch_2.pth')
    before = open(second, 'rb').read()
    out = ok(run(osp.join(TOOLS, 'train.py'), det_config, '--work-dir',
                 work_dir, '--resume', '--cfg-options',
                 'train_cfg.max_epochs=3', 'train_cfg.val_interval=3'))
    assert 'resumed epoch: 2, iter: 4' in out.replace('Resumed', 'resumed')
    assert 'Epoch(train) [1]' not in out  # epochs 1-2 were not re-run
    assert 'Epoch(train) [3][2/2]' in out
    ckpt = torch.load(osp.join(work_dir, 'epoch_3.pth'), weights_only=False)
    assert ckpt['meta']['epoch'] == 3 and ckpt['meta']['iter'] == 6
    assert open(second, 'rb').read() == before  # earlier checkpoints kept


def test_test_refuses_untrusted_pickle(det_run, det_config, tmp_path):
    work_dir, _ = det_run
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=False)
    ckpt['extra'] = os.system
    evil = str(tmp_path / 'evil.pth')
    torch.save(ckpt, evil)
    res = run(osp.join(TOOLS, 'test.py'), det_config, evil)
    assert res.returncode == 2
    assert '`posix.system`' in res.stderr
    assert f'--trust-checkpoint {evil}' in res.stderr
    assert 'Traceback' not in res.stderr


def test_seg_train_then_test(demo_root, tmp_path):
    root = osp.join(demo_root, 'ade/ADEChallengeData2016')
    config = write_config(tmp_path / 'seg.py', SEG_DEMO, f"""
data_root = {root!r}
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=3, val_interval=3, val_begin=1)
default_hooks = dict(checkpoint=dict(interval=3), logger=dict(interval=1))
""")
    work_dir = str(tmp_path / 'work')
    log = ok(run(osp.join(TOOLS, 'train.py'), config, '--work-dir', work_dir))
    assert 'Iter(train) [3/3]' in log and 'mIoU' in log
    out = ok(run(osp.join(TOOLS, 'test.py'), config,
                 osp.join(work_dir, 'iter_3.pth'), '--work-dir', work_dir,
                 '--out', str(tmp_path / 'preds')))
    assert 'Iter(test)' in out and 'mIoU' in out
    assert len(glob.glob(str(tmp_path / 'preds' / '*.png'))) == 4


def test_dist_train_two_cpu_processes(det_config, tmp_path):
    work_dir = str(tmp_path / 'dist')
    out = ok(run('bash', osp.join(TOOLS, 'dist_train.sh'), det_config, '2',
                 '--work-dir', work_dir, '--cfg-options',
                 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 'train_dataloader.batch_size=2',
                 env=dict(PYTHON=sys.executable, PORT='29517',
                          OMP_NUM_THREADS='1')))
    assert 'Distributed launcher: pytorch' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    # 8 images / (2 ranks x 2 per batch) = 2 iterations per epoch
    assert 'Epoch(train) [1][2/2]' in out
    assert [osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth'))
            ] == ['epoch_1.pth']
