"""Faults for the robustness tests, imported by their configs through
``custom_imports``: kill the training process (as ``kill -9`` would) at a
given iteration, or in the middle of writing a given checkpoint."""
import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from mmplug.checkpoint import AtomicLocalBackend, temporary_name


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module(force=True)
class KillHook(Hook):
    """SIGKILL this process before training iteration ``at_iter``, or
    halfway through writing the checkpoint whose name ends with
    ``during_save`` (its first half already on disk, as a real kill would
    leave it)."""
    priority = 'VERY_HIGH'

    def __init__(self, at_iter=None, during_save=None):
        self.at_iter = at_iter
        self.during_save = during_save

    def before_train(self, runner):
        if self.during_save is None:
            return
        target, put = self.during_save, AtomicLocalBackend.put

        def dying_put(backend, obj, filepath):
            if str(filepath).endswith(target):
                with open(temporary_name(str(filepath)), 'wb') as f:
                    f.write(obj[:len(obj) // 2])
                _die()
            put(backend, obj, filepath)

        AtomicLocalBackend.put = dying_put

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            _die()
