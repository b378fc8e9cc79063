"""TimeBudgetHook stops a training run after its budget, with a
checkpoint, and continues the same budget on resume."""
import os.path as osp
import time

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmplug.engine.time_budget import ELAPSED_KEY, TimeBudgetHook

STEP_S = 0.05


class SlowModel(BaseModel):
    """One weight; every training step sleeps STEP_S."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, mode='tensor'):
        if mode == 'loss':
            time.sleep(STEP_S)
            return dict(loss=((self.w - x)**2).mean())
        return self.w * x


class Ones(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(x=torch.ones(1))


def runner(work_dir, budget_s, max_iters=200, loop='iter', resume=False):
    loop_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters) \
        if loop == 'iter' else dict(type='EpochBasedTrainLoop',
                                    max_epochs=max_iters)
    return Runner(
        model=SlowModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=Ones(), batch_size=2,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=loop_cfg,
        custom_hooks=[dict(type='mmplug.TimeBudgetHook', budget_s=budget_s)],
        default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', interval=10**6, save_last=False,
            by_epoch=loop != 'iter')),
        resume=resume, default_scope='mmengine',
        experiment_name=f'budget_{time.time()}')


def budget_hook(r) -> TimeBudgetHook:
    return next(h for h in r.hooks if isinstance(h, TimeBudgetHook))


def test_stops_an_iteration_loop_after_the_budget(tmp_path):
    r = runner(tmp_path, budget_s=0.5)
    r.train()
    done = r.iter
    assert 1 <= done < 200  # 200 steps take at least 10 s
    assert budget_hook(r).stopped_at == done
    name = f'iter_{done}.pth'
    assert osp.isfile(tmp_path / name)
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read().strip() == str(tmp_path / name)
    assert r.message_hub.get_info(ELAPSED_KEY) >= 0.5
    ckpt = torch.load(tmp_path / name, map_location='cpu',
                      weights_only=False)
    assert ckpt['meta']['iter'] == done


def test_a_run_within_its_budget_is_untouched(tmp_path):
    r = runner(tmp_path, budget_s=600, max_iters=3)
    r.train()
    assert r.iter == 3 and budget_hook(r).stopped_at is None
    assert not osp.isfile(tmp_path / 'iter_3.pth')  # the hook saved nothing


def test_a_resumed_run_continues_the_same_budget(tmp_path):
    from mmplug.checkpoint import install
    install()  # mmengine checkpoints under torch >= 2.6 (as the tools)
    first = runner(tmp_path, budget_s=0.4)
    first.train()
    spent, done = first.message_hub.get_info(ELAPSED_KEY), first.iter
    second = runner(tmp_path, budget_s=0.4, resume=True)
    second.train()
    # the budget was spent: one more iteration, then it stops again
    assert second.iter == done + 1
    assert second.message_hub.get_info(ELAPSED_KEY) > spent


def test_an_epoch_loop_stops_at_the_end_of_the_epoch(tmp_path):
    r = runner(tmp_path, budget_s=0.01, max_iters=50, loop='epoch')
    r.train()
    assert r.epoch == 1 and r.iter == 2  # the first epoch (2 steps) ends
    assert osp.isfile(tmp_path / 'epoch_1.pth')


def test_budget_must_be_positive():
    with pytest.raises(ValueError, match='budget_s must be > 0'):
        TimeBudgetHook(0)
