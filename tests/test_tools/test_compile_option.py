"""``compile`` in a config with tools/train.py: MMPlugRunner compiles the
backbone and neck (not mmengine's whole train_step), training gives the
weights eager training gives, and a bad value is one line."""
import os.path as osp

import pytest
import torch

from mmplug.testing import SMALL_BACKBONES, run_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
DET_DEMO = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpn_demo.py')

#: the demo Mask R-CNN with the small SMT and narrow heads on 96-pixel
#: images: one epoch of 4 iterations and a validation
CONFIG = '''
_base_ = [{base!r}]
data_root = {root!r}
model = dict(
    backbone=dict(_delete_=True, type='mmplug.SMT', **{smt!r}),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    rpn_head=dict(in_channels=32, feat_channels=32),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=32),
        bbox_head=dict(in_channels=32, fc_out_channels=64),
        mask_roi_extractor=dict(out_channels=32),
        mask_head=dict(in_channels=32, conv_out_channels=32)))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(96, 96), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                          'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_begin=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
'''


@pytest.fixture(scope='module')
def det_config(demo_root, tmp_path_factory):
    path = tmp_path_factory.mktemp('compile') / 'det.py'
    path.write_text(CONFIG.format(base=DET_DEMO,
                                  root=osp.join(demo_root, 'coco/'),
                                  smt=SMALL_BACKBONES['mmplug.SMT']))
    return str(path)


def train(config, work_dir, *options):
    res = run_tool(TRAIN, config, '--work-dir', str(work_dir),
                   *(['--cfg-options', *options] if options else []))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    state = torch.load(osp.join(work_dir, 'epoch_1.pth'),
                       map_location='cpu', weights_only=False)['state_dict']
    return res.stdout + res.stderr, state


@pytest.fixture(scope='module')
def eager_run(det_config, tmp_path_factory):
    return train(det_config, tmp_path_factory.mktemp('eager'))


def check_compiled_run(log, state, eager_state, backend, tol):
    assert f"compile: backbone, neck compiled with {{'backend': " \
        f"'{backend}'}}" in log
    assert 'coco/bbox_mAP' in log  # validation ran (eval-mode compile)
    # compiled in place: the checkpoint keys are the model's own
    assert sorted(state) == sorted(eager_state)
    for key, value in eager_state.items():
        torch.testing.assert_close(state[key], value, rtol=tol, atol=tol,
                                   msg=lambda m: f'{key}: {m}')


def test_compile_option_aot_eager(det_config, eager_run, tmp_path):
    log, state = train(det_config, tmp_path, 'compile.backend=aot_eager')
    check_compiled_run(log, state, eager_run[1], 'aot_eager', 1e-6)


@pytest.mark.compile
def test_compile_option_inductor(det_config, eager_run, tmp_path):
    log, state = train(det_config, tmp_path, 'compile.backend=inductor')
    # generated kernels sum in another order: 4 SGD steps later the
    # weights differ by rounding only
    check_compiled_run(log, state, eager_run[1], 'inductor', 1e-4)


@pytest.mark.parametrize('option, message', [
    ('compile=fast', "compile must be True, False or a dict of torch.compile "
     "arguments, got 'fast'"),
    ('compile.backnd=inductor', 'compile: torch.compile takes no backnd'),
    ('compile.parts=[head]', "compile.parts: MaskRCNN has no part 'head'"),
])
def test_bad_compile_option(det_config, tmp_path, option, message):
    res = run_tool(TRAIN, det_config, '--work-dir', str(tmp_path),
                   '--cfg-options', option)
    assert res.returncode == 2, res.stderr[-3000:]
    assert f'train.py: error: {message}' in res.stderr
    assert 'Traceback' not in res.stderr
