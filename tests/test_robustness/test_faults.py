"""Faults on real training processes: kill -9 while training or while
saving, a read-only work directory, a full disk (``ulimit -f``).

The guarantees: a run killed at any point and resumed ends with the same
weights, bit for bit, as the run that was never interrupted (epoch- and
iteration-based loops, ``num_workers`` 0 and 2); no good checkpoint is ever
removed or truncated; a save that cannot be written stops the run with one
clear line and leaves the previous checkpoint as it was.
"""
import ctypes
import hashlib
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HELPERS = osp.join(REPO, 'tests', 'helpers')
TRAIN = 'tools/train.py'

#: loop -> (config attribute of ctx, final checkpoint, a checkpoint written
#: before the kill, iteration to kill at: in epoch 2 / after iteration 2)
LOOPS = {
    'epoch': ('det', 'epoch_3.pth', 'epoch_1.pth', 5),
    'iter': ('seg', 'iter_6.pth', 'iter_2.pth', 3),
}


def run_process(*args, env=None, preexec_fn=None, timeout=600):
    """A tool in a fresh interpreter, as a user starts it (the fault
    helpers importable); returns the CompletedProcess."""
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1',
                    **(env or {}))
    full_env['PYTHONPATH'] = os.pathsep.join(
        [REPO, HELPERS] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    cmd = [sys.executable, *args]
    return subprocess.run(cmd, cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout,
                          preexec_fn=preexec_fn)


def _config(ctx, loop, name, workers, hook=None):
    base = getattr(ctx, LOOPS[loop][0])
    text = (f'_base_ = [{base!r}]\n'
            f'train_dataloader = dict(num_workers={workers}, '
            f'persistent_workers={workers > 0})\n')
    if hook is not None:
        text += ("custom_imports = dict(imports=['mmplug.models', 'faults'], "
                 'allow_failed_imports=False)\n'
                 f'custom_hooks = [dict(type="KillHook", {hook})]\n')
    return ctx.config(f'{loop}_{name}.py', text)


def _train(config, work_dir, *args, **kwargs):
    return run_process(TRAIN, config, '--work-dir', str(work_dir), *args,
                       **kwargs)


def _tensors(path):
    ckpt = torch.load(path, weights_only=False)
    found = dict(ckpt['state_dict'])
    for pid, state in ckpt['optimizer']['state'].items():
        found.update({f'optimizer.{pid}.{k}': v for k, v in state.items()
                      if torch.is_tensor(v)})
    return found


def _assert_bit_identical(path, reference):
    ours, theirs = _tensors(path), _tensors(reference)
    assert ours.keys() == theirs.keys()
    different = [k for k in ours if not torch.equal(ours[k], theirs[k])]
    assert not different, f'{len(different)} of {len(ours)} tensors differ'


@pytest.fixture(scope='module')
def reference(ctx, tmp_path_factory):
    """Final checkpoints of runs never interrupted (``num_workers=0``)."""
    found = {}
    for loop, (_, final, _, _) in LOOPS.items():
        work_dir = tmp_path_factory.mktemp(f'reference_{loop}')
        res = _train(_config(ctx, loop, 'plain0', 0), work_dir)
        assert res.returncode == 0, res.stderr[-3000:]
        found[loop] = str(work_dir / final)
    return found


@pytest.mark.parametrize('workers', [0, 2])
@pytest.mark.parametrize('loop', ['epoch', 'iter'])
def test_kill_then_resume_is_bit_identical(loop, workers, ctx, reference,
                                           tmp_path):
    _, final, saved, at_iter = LOOPS[loop]
    killed = _train(_config(ctx, loop, f'kill{workers}', workers,
                            f'at_iter={at_iter}'), tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert osp.isfile(tmp_path / saved) and not osp.exists(tmp_path / final)
    resumed = _train(_config(ctx, loop, f'plain{workers}', workers),
                     tmp_path, '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed epoch' in (resumed.stdout + resumed.stderr).lower()
    _assert_bit_identical(tmp_path / final, reference[loop])


def test_kill_during_save_keeps_the_last_checkpoint(ctx, reference,
                                                    tmp_path):
    killed = _train(_config(ctx, 'epoch', 'killsave', 0,
                            "during_save='epoch_2.pth'"), tmp_path)
    assert killed.returncode == -signal.SIGKILL
    left = sorted(os.listdir(tmp_path))
    # max_keep_ckpts=1: mmengine's hook would have deleted epoch_1 first
    assert 'epoch_1.pth' in left and 'epoch_2.pth' not in left
    assert any(name.startswith('epoch_2.pth.tmp') for name in left)
    torch.load(tmp_path / 'epoch_1.pth', weights_only=False)  # complete
    resumed = _train(_config(ctx, 'epoch', 'plain0', 0), tmp_path,
                     '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert 'left by a save that was killed' in log
    assert [n for n in os.listdir(tmp_path) if n.endswith('.pth')
            or '.tmp' in n] == ['epoch_3.pth']
    _assert_bit_identical(tmp_path / 'epoch_3.pth', reference['epoch'])


def _md5(path):
    with open(path, 'rb') as f:
        return hashlib.md5(f.read()).hexdigest()


def _without_dac_override():
    """Run as root without the capability to ignore file permissions (for
    other users chmod alone makes a folder read-only)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), 'prctl(PR_CAPBSET_DROP)')


def _resume_from_copy(reference, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    shutil.copy(reference['epoch'], work_dir / 'epoch_3.pth')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_3.pth'))
    return work_dir, _md5(work_dir / 'epoch_3.pth')


def test_read_only_work_dir(ctx, reference, tmp_path):
    work_dir, digest = _resume_from_copy(reference, tmp_path)
    for path in (work_dir / 'epoch_3.pth', work_dir / 'last_checkpoint',
                 work_dir):
        os.chmod(path, 0o555 if path == work_dir else 0o444)
    try:
        res = _train(_config(ctx, 'epoch', 'plain0', 0), work_dir,
                     '--resume', '--cfg-options', 'train_cfg.max_epochs=4',
                     preexec_fn=_without_dac_override)
    finally:
        os.chmod(work_dir, 0o755)
    assert res.returncode == 2, res.stderr[-3000:]
    assert 'Traceback' not in res.stderr
    assert res.stderr.startswith(f'train.py: error: cannot write {work_dir}')
    assert 'Permission denied' in res.stderr
    assert _md5(work_dir / 'epoch_3.pth') == digest


def test_full_disk_while_saving(ctx, reference, tmp_path):
    work_dir, digest = _resume_from_copy(reference, tmp_path)
    limit_kib = osp.getsize(work_dir / 'epoch_3.pth') // 2048  # half of it
    res = run_process(
        '-c', f'import resource, runpy, sys; resource.setrlimit('
        f'resource.RLIMIT_FSIZE, ({limit_kib * 1024}, {limit_kib * 1024})); '
        f'sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], '
        f"run_name='__main__')", TRAIN, _config(ctx, 'epoch', 'plain0', 0),
        '--work-dir', str(work_dir), '--resume', '--cfg-options',
        'train_cfg.max_epochs=4')
    assert res.returncode == 2, res.stderr[-3000:]
    assert 'Traceback' not in res.stderr
    assert f'cannot write {work_dir}/epoch_4.pth: File too large' in \
        res.stderr
    assert not osp.exists(work_dir / 'epoch_4.pth')
    assert _md5(work_dir / 'epoch_3.pth') == digest  # intact, loadable
    torch.load(work_dir / 'epoch_3.pth', weights_only=False)
