"""torch>=2.6 loading of mmengine checkpoints, and refusal of the rest."""
import os
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint

from mmplug.checkpoint import (TRUST_ENV, UnsafeCheckpointError,
                               _history_buffer_getattr,
                               install_checkpoint_loader, safe_torch_load,
                               trust_checkpoint)


class _Regressor(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 1)

    def forward(self, x, y, mode='loss'):
        if mode == 'loss':
            return dict(loss=((self.fc(x) - y)**2).mean())
        return [dict(pred=p) for p in self.fc(x)]


class _Points(torch.utils.data.Dataset):
    metainfo = dict(classes=('a', 'b'), palette=[(1, 2, 3)])

    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(x=torch.rand(2, generator=g), y=torch.rand(1, generator=g))


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    """A checkpoint written by mmengine's Runner (message hub, optimizer,
    schedulers, numpy scalars and all)."""
    work_dir = tmp_path_factory.mktemp('runner')
    runner = Runner(
        model=_Regressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_Points(), batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        param_scheduler=[
            dict(type='LinearLR', by_epoch=False, begin=0, end=2),
            dict(type='MultiStepLR', milestones=[1])
        ],
        train_cfg=dict(by_epoch=True, max_epochs=2),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=1)))
    runner.train()
    return str(work_dir / 'epoch_2.pth')


@pytest.fixture
def evil_checkpoint(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.zeros(1)}, 'hook': os.system}, path)
    return path


def test_plain_torch_load_refuses_mmengine_checkpoint(runner_checkpoint):
    """The problem being solved: torch>=2.6 alone cannot load it."""
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(runner_checkpoint)


def test_mmengine_checkpoint_loads(runner_checkpoint):
    install_checkpoint_loader()
    ckpt = _load_checkpoint(runner_checkpoint, map_location='cpu')
    assert set(ckpt) >= {'meta', 'state_dict', 'message_hub', 'optimizer',
                         'param_schedulers'}
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert buf.mean() > 0  # statistics methods survived unpickling
    model = _Regressor()
    load_checkpoint(model, runner_checkpoint)
    assert torch.equal(model.fc.weight, ckpt['state_dict']['fc.weight'])


def test_runner_resumes(runner_checkpoint, tmp_path):
    install_checkpoint_loader()
    runner = Runner(
        model=_Regressor(), work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=_Points(), batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=3),
        load_from=runner_checkpoint, resume=True)
    runner.train()
    assert runner.epoch == 3 and runner.iter == 12


def test_unexpected_object_is_refused(evil_checkpoint, monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    install_checkpoint_loader()
    with pytest.raises(UnsafeCheckpointError) as err:
        _load_checkpoint(evil_checkpoint)
    msg = str(err.value)
    assert 'posix.system' in msg  # names the refused object
    assert '--trust-checkpoint' in msg and TRUST_ENV in msg  # says how


def test_trusted_on_purpose(evil_checkpoint, monkeypatch):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    trust_checkpoint(evil_checkpoint)
    assert safe_torch_load(evil_checkpoint)['hook'] is os.system
    # trusting one file does not trust another
    other = evil_checkpoint.replace('evil', 'other')
    torch.save({'hook': os.system}, other)
    with pytest.raises(UnsafeCheckpointError):
        safe_torch_load(other)


def test_getattr_is_restricted_to_history_buffer():
    from mmengine.logging import HistoryBuffer
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is \
        HistoryBuffer.mean
    with pytest.raises(UnsafeCheckpointError):
        _history_buffer_getattr(os, 'system')
    with pytest.raises(UnsafeCheckpointError):
        _history_buffer_getattr(HistoryBuffer, '__init__')


def test_failed_save_keeps_the_good_checkpoint(runner_checkpoint, tmp_path):
    from mmengine.fileio import get_file_backend
    from mmengine.runner.checkpoint import save_checkpoint

    from mmplug.checkpoint import (ATOMIC_BACKEND, AtomicLocalBackend,
                                   register_atomic_backend)
    register_atomic_backend()
    atomic = dict(backend=ATOMIC_BACKEND)
    path = str(tmp_path / 'epoch_1.pth')
    backend = get_file_backend(path, backend_args=atomic)
    assert isinstance(backend, AtomicLocalBackend)
    # a new name: local paths keep mmengine's own backend
    assert not isinstance(get_file_backend(path), AtomicLocalBackend)
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, path,
                    backend_args=atomic)
    good = open(path, 'rb').read()

    class Unpicklable:

        def __reduce__(self):
            raise RuntimeError('disk full')  # fails half-way through

    with pytest.raises(RuntimeError, match='disk full'):
        save_checkpoint({'state_dict': {'w': Unpicklable()}}, path,
                        backend_args=atomic)
    with pytest.raises(TypeError):  # the write itself fails
        backend.put('not bytes', path)
    assert open(path, 'rb').read() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


def test_unwrap_and_prefixes():
    from mmplug.checkpoint import (remove_prefixes, split_prefix,
                                   unwrap_checkpoint)
    state = {'a': 1}
    assert unwrap_checkpoint({'state_dict': state, 'meta': {}}) == \
        ('state_dict', state)
    assert unwrap_checkpoint({'model': state}) == ('model', state)
    assert unwrap_checkpoint(state) == (None, state)
    inside, others = split_prefix(
        {'backbone.conv.weight': 1, 'neck.conv.weight': 2}, 'backbone.')
    assert inside == {'conv.weight': 1} and others == {'neck.conv.weight': 2}
    # DDP's module. then a detector's backbone.; keys without them as they are
    assert remove_prefixes({'module.backbone.layer1.w': 1, 'backbone.b': 2,
                            'fc.w': 3, 'neck.module.x': 4}) == \
        {'layer1.w': 1, 'b': 2, 'fc.w': 3, 'neck.module.x': 4}
