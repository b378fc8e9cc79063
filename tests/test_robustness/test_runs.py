"""Runs that used to go silently wrong, through tools/train.py as a user
starts them: a diverging run, two runs in one work directory, a schedule
that trains nothing, ``compile`` options on the command line."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.e2e


def test_diverging_run_stops_with_its_cause(ctx, run_tool, tmp_path):
    """The demo Mask R-CNN with lr=1000: the loss goes from about 8 to
    1e28 (gradient clipping hides the infinite norm in zero updates); the
    run stops naming the iteration and the learning rate, and the last
    checkpoint written before it stays the last good one."""
    work = tmp_path / 'lr1000'
    code, out, err = run_tool('train.py', [
        ctx.det, '--work-dir', work, '--cfg-options',
        'optim_wrapper.optimizer.lr=1000', 'train_cfg.max_epochs=8'])
    assert code == 2, err[-3000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith('train.py: error: training diverged at iteration')
    assert '1000 in the config)' in line and 'Stopped before saving' in line
    assert 'Traceback' not in err
    for name in os.listdir(work):
        if name.endswith('.pth'):
            state = torch.load(work / name, weights_only=False)['state_dict']
            assert all(torch.isfinite(v).all() and v.abs().max() < 1e6
                       for v in state.values() if v.is_floating_point())


@pytest.mark.parametrize('epochs', ['0', '-1'])
def test_schedule_that_trains_nothing(ctx, run_tool, tmp_path, epochs):
    code, _, err = run_tool('train.py', [
        ctx.det, '--work-dir', tmp_path, '--cfg-options',
        f'train_cfg.max_epochs={epochs}'])
    assert code == 2
    assert f'train.py: error: train_cfg.max_epochs={epochs}: nothing would ' \
        'be trained' in err


def test_second_run_in_a_work_dir_is_refused(ctx, run_tool, tmp_path):
    """A first tools/train.py holds the work dir (started as a process,
    stopped once it trains); a second one is refused and names it; once
    the first is killed, the work dir is free again."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    first = subprocess.Popen(
        [sys.executable, 'tools/train.py', ctx.det, '--work-dir',
         str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=50'],
        cwd=osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in first.stdout:  # until it trains (mmengine logs there)
            if 'Epoch(train)' in line:
                break
        assert first.poll() is None, 'the first run ended before training'
        code, _, err = run_tool('train.py', [ctx.det, '--work-dir',
                                             tmp_path])
        assert code == 2
        assert f'is in use by another training run (process {first.pid}' \
            in err and 'another --work-dir' in err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    code, _, err = run_tool('train.py', [ctx.det, '--work-dir', tmp_path,
                                         '--cfg-options',
                                         'train_cfg.max_epochs=1'])
    assert code == 0, err[-2000:]


@pytest.mark.parametrize('options, message', [
    (['compile.backend=nope'], "compile.backend='nope': torch has no such "
     'backend; choose one of'),
    (['train_cfg.max_epochs.x=1'], 'train_cfg.max_epochs is 3 in the '
     "config, not a dict, so it has no key 'x'"),
])
def test_bad_options_name_the_problem(ctx, run_tool, tmp_path, options,
                                      message):
    config = ctx.config('det_compiled.py', f'_base_ = [{ctx.det!r}]\n'
                        'compile = True\n')
    code, _, err = run_tool('train.py', [config, '--work-dir', tmp_path,
                                         '--cfg-options', *options])
    assert code == 2 and message in err, err[-2000:]
    assert 'Traceback' not in err


def test_compile_true_takes_a_backend_option(ctx, run_tool, tmp_path):
    """``compile = True`` in the config and ``compile.backend=...`` on the
    command line: compiled with that backend."""
    config = ctx.config('det_compiled.py', f'_base_ = [{ctx.det!r}]\n'
                        'compile = True\n')
    code, out, err = run_tool('train.py', [
        config, '--work-dir', tmp_path, '--cfg-options',
        'compile.backend=eager', 'train_cfg.max_epochs=1'])
    assert code == 0, err[-2000:]
    assert "compiled with {'backend': 'eager'}" in out + err
