"""``compile`` in a config with tools/train.py: MMPlugRunner compiles the
backbone and neck (not mmengine's whole train_step), training gives the
weights eager training gives, and a bad value is one line."""
import os.path as osp

import pytest
import torch

from mmplug.testing import SMALL_BACKBONES, TINY_DET, run_tool

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
DET_DEMO = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpn_demo.py')

#: the tiny Mask R-CNN of the robustness tests with the small SMT (the
#: same widths as its R-18 at 1/4 width): one epoch of 4 iterations and a
#: validation
CONFIG = '''
_base_ = [{base!r}]
model = dict(backbone=dict(_delete_=True, type='mmplug.SMT', **{smt!r}))
train_cfg = dict(max_epochs=1)
'''


@pytest.fixture(scope='module')
def det_config(demo_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('compile')
    tiny = folder / 'tiny_det.py'
    tiny.write_text(TINY_DET.format(base=DET_DEMO,
                                    root=osp.join(demo_root, 'coco/')))
    path = folder / 'det.py'
    path.write_text(CONFIG.format(base=str(tiny),
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


@pytest.mark.compile
def test_compile_option_aot_eager(det_config, eager_run, tmp_path):
    log, state = train(det_config, tmp_path, 'compile.backend=aot_eager')
    check_compiled_run(log, state, eager_run[1], 'aot_eager', 1e-6)


@pytest.mark.compile
def test_compile_option_inductor(det_config, eager_run, tmp_path):
    log, state = train(det_config, tmp_path, 'compile.backend=inductor')
    # generated kernels sum in another order, and 4 SGD steps with batch
    # statistics amplify that (BatchNorm running means up to 1.5e-4 apart;
    # aot_eager, eager's kernels, agrees to 1e-6 above)
    check_compiled_run(log, state, eager_run[1], 'inductor', 1e-3)


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
