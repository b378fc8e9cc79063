"""MMPlugRunner's guarantees on a toy regression (seconds, no mmdet):
divergence stops the run before it saves, one training run per work
directory, no schedule that trains nothing, ``compile`` through a hook."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel

from mmplug.engine import MMPlugRunner
from mmplug.engine.lock import LOCK_NAME, train_lock
from mmplug.engine.runner import make_resumable
from mmplug.errors import (ConfigError, TrainingDivergedError,
                           WorkDirBusyError)


class Regressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 1)

    def forward(self, x, y, mode='loss'):
        if mode == 'loss':
            return dict(loss=((self.fc(x) - y)**2).mean())
        return [dict(pred=p) for p in self.fc(x)]


class Points(torch.utils.data.Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(x=torch.rand(2, generator=g) + 1,
                    y=torch.rand(1, generator=g))


@pytest.fixture(autouse=True, scope='module')
def toys():
    """The toy model and dataset, registered (by name: the runner dumps its
    config as text) for these tests only."""
    from mmengine.registry import DATASETS, MODELS
    MODELS.register_module('MMPlugToyRegressor', module=Regressor)
    DATASETS.register_module('MMPlugToyPoints', module=Points)
    yield
    MODELS.module_dict.pop('MMPlugToyRegressor')
    DATASETS.module_dict.pop('MMPlugToyPoints')


def config(work_dir, gamma=1., max_epochs=3, hooks=(), **extra):
    """3 epochs of 4 iterations; from epoch 2 the lr is multiplied by
    ``gamma``; a checkpoint per epoch."""
    return Config(dict(
        model=dict(type='MMPlugToyRegressor'),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=dict(type='MMPlugToyPoints'), batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        param_scheduler=[dict(type='MultiStepLR', milestones=[1],
                              gamma=gamma)],
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=list(hooks),
        randomness=dict(seed=0),
        **extra))


def checkpoints(work_dir):
    return sorted(p for p in os.listdir(work_dir) if p.endswith('.pth'))


@pytest.mark.parametrize('gamma, what', [
    (1e30, 'loss = inf'),  # overflows at once
    (3e4, 'times its running level'),  # grows by orders of magnitude
])
def test_divergence_stops_before_saving(tmp_path, gamma, what):
    hooks = [dict(type='mmplug.DivergenceHook', warmup=2)]
    runner = MMPlugRunner.from_cfg(config(tmp_path, gamma, hooks=hooks))
    with pytest.raises(TrainingDivergedError) as info:
        runner.train()
    message = str(info.value)
    assert what in message and 'at iteration ' in message, message
    assert 'epoch_1.pth' in message and 'is kept' in message
    assert 'lr' in message
    # epoch 1 was good and stays; nothing diverged was saved
    assert checkpoints(tmp_path) == ['epoch_1.pth']
    state = torch.load(tmp_path / 'epoch_1.pth', weights_only=False)
    assert all(torch.isfinite(v).all() for v in state['state_dict'].values())


def test_gradient_norm_checked_when_clipping(tmp_path):
    hooks = [dict(type='mmplug.DivergenceHook', warmup=100)]
    cfg = config(tmp_path, 1e30, hooks=hooks)
    cfg.optim_wrapper.clip_grad = dict(max_norm=1.)
    runner = MMPlugRunner.from_cfg(cfg)
    with pytest.raises(TrainingDivergedError, match='the gradient norm is '
                       'inf|loss = (inf|nan)'):
        runner.train()


def test_healthy_and_disabled_runs_train_to_the_end(tmp_path):
    MMPlugRunner.from_cfg(config(tmp_path / 'ok')).train()
    assert checkpoints(tmp_path / 'ok')[-1] == 'epoch_3.pth'
    off = [dict(type='mmplug.DivergenceHook', enabled=False)]
    MMPlugRunner.from_cfg(config(tmp_path / 'off', 1e30, hooks=off)).train()
    assert checkpoints(tmp_path / 'off')[-1] == 'epoch_3.pth'


def test_divergence_check_is_on_by_default():
    hooks = make_resumable(config('/tmp/x')).custom_hooks
    assert dict(type='mmplug.DivergenceHook') in hooks
    mine = dict(type='mmplug.DivergenceHook', factor=10.)
    assert make_resumable(config('/tmp/x', hooks=[mine])).custom_hooks \
        .count(mine) == 1
    with pytest.raises(ValueError, match='factor must be > 1'):
        from mmplug.engine import DivergenceHook
        DivergenceHook(factor=1)


@pytest.mark.parametrize('epochs', [0, -1, 1.5])
def test_schedule_that_trains_nothing(tmp_path, epochs):
    with pytest.raises(ConfigError, match=rf'train_cfg.max_epochs={epochs}: '
                       'nothing would be trained'):
        MMPlugRunner.from_cfg(config(tmp_path, max_epochs=epochs))


HOLDER = '''
import sys, time
from mmplug.engine.lock import train_lock
with train_lock(sys.argv[1]):
    print('held', flush=True)
    time.sleep(600)
'''


@pytest.mark.e2e
def test_one_training_run_per_work_dir(tmp_path):
    holder = subprocess.Popen([sys.executable, '-c', HOLDER, str(tmp_path),
                               'tools/train.py', 'mine.py'],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        with pytest.raises(WorkDirBusyError) as info:
            with train_lock(str(tmp_path)):
                pass
        message = str(info.value)
        assert f'process {holder.pid}' in message and 'mine.py' in message
        assert 'another --work-dir' in message
        # the runner's train() takes it too
        runner = MMPlugRunner.from_cfg(config(tmp_path))
        with pytest.raises(WorkDirBusyError):
            runner.train()
        assert checkpoints(tmp_path) == []
        # another rank of the same (distributed) run does not take it
        os.environ['RANK'] = '1'
        try:
            with train_lock(str(tmp_path)):
                pass
        finally:
            del os.environ['RANK']
    finally:
        holder.send_signal(signal.SIGKILL)  # a killed run...
        holder.wait()
    # ... leaves no stuck lock; the same process may take it twice
    with train_lock(str(tmp_path)):
        with train_lock(str(tmp_path)):
            assert osp.isfile(tmp_path / LOCK_NAME)
    for _ in range(50):  # released: another process can take it
        res = subprocess.run([sys.executable, '-c', HOLDER.replace(
            'time.sleep(600)', 'pass'), str(tmp_path)], capture_output=True,
            text=True)
        if res.returncode == 0:
            break
        time.sleep(0.1)
    assert res.stdout.strip() == 'held', res.stderr


def test_compile_becomes_a_hook(tmp_path):
    cfg = make_resumable(config(tmp_path, compile=dict(backend='eager')))
    assert 'compile' not in cfg  # mmengine would compile train_step
    assert dict(type='mmplug.CompileHook', parts=None,
                backend='eager') in cfg.custom_hooks
    runner = MMPlugRunner.from_cfg(config(tmp_path, max_epochs=1,
                                          compile=dict(backend='eager')))
    runner.train()
    assert 'Regressor' in type(runner.model).__name__
    with pytest.raises(ConfigError, match="torch has no such backend"):
        make_resumable(config(tmp_path, compile=dict(backend='nope')))
    with pytest.raises(ConfigError, match="Regressor has no part 'neck'"):
        MMPlugRunner.from_cfg(config(tmp_path, compile=dict(parts='neck')))
