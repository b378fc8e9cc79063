"""Checkpoint rotation that never removes the last good checkpoint."""
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from mmplug.checkpoint import (ATOMIC_BACKEND, register_atomic_backend,
                               remove_stale_temporaries)
from mmplug.registry import HOOKS

#: message-hub key of the checkpoints to delete once the next is written
PENDING_KEY = 'mmplug_pending_removal'


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` are queued, not done."""

    def __init__(self, backend, hook: 'SafeCheckpointHook') -> None:
        self.wrapped = backend
        self.hook = hook

    def __getattr__(self, name):
        return getattr(self.wrapped, name)

    def remove(self, path) -> None:
        self.hook.queue_removal(str(path))

    def rmtree(self, path) -> None:
        self.hook.queue_removal(str(path))


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's :class:`~mmengine.hooks.CheckpointHook` (same arguments)
    that writes checkpoints atomically and removes old ones only once the
    new one is complete.

    mmengine's hook deletes the oldest checkpoint (``max_keep_ckpts``) or
    the previous best one *before* writing the new one, and writes in
    place, so a run killed while saving is left with no checkpoint to resume
    from. Here:

    - files are written through :class:`mmplug.checkpoint.AtomicLocalBackend`
      (``backend_args=dict(backend='mmplug_atomic')`` unless the config
      gives its own ``backend_args``): a temporary file that replaces the
      target once complete;
    - every removal waits until the hook call that saves has finished; the
      removals still owed are recorded in the checkpoint itself (message
      hub), so a run killed in between completes them when it resumes;
    - the temporary files of killed saves are deleted when training starts.

    :class:`mmplug.engine.MMPlugRunner` uses it in place of
    ``CheckpointHook``; elsewhere:
    ``default_hooks = dict(checkpoint=dict(type='mmplug.SafeCheckpointHook',
    interval=1))``.
    """

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get('backend_args') is None and \
                kwargs.get('file_client_args') is None:
            register_atomic_backend()
            kwargs['backend_args'] = dict(backend=ATOMIC_BACKEND)
        super().__init__(*args, **kwargs)
        self.pending: List[str] = []

    def before_train(self, runner) -> None:
        self.runner = runner
        super().before_train(runner)
        self.file_backend = _DeferredRemoval(self.file_backend, self)
        if not is_main_process():
            return
        for folder in {self.out_dir, runner.work_dir}:
            for path in remove_stale_temporaries(folder):
                print_log(f'removed {path}, left by a save that was killed',
                          logger='current')
        self.pending = list(runner.message_hub.get_info(PENDING_KEY) or [])
        self.flush(runner)

    def queue_removal(self, path: str) -> None:
        """Remove ``path`` once the save under way is complete (recorded
        before that save, hence inside the checkpoint)."""
        self.pending.append(path)
        self.runner.message_hub.update_info(PENDING_KEY, list(self.pending))

    def flush(self, runner) -> None:
        """Remove the queued files (none of them is the last checkpoint)."""
        if not self.pending:
            return
        last = runner.message_hub.get_info('last_ckpt')
        backend = self.file_backend.wrapped
        for path in self.pending:
            if is_main_process() and path != last:
                if backend.isfile(path):
                    backend.remove(path)
                elif backend.isdir(path):
                    backend.rmtree(path)
        self.pending = []
        runner.message_hub.update_info(PENDING_KEY, [])

    # mmengine's hook saves (and removes) in these calls
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        self.flush(runner)

    def after_train_epoch(self, runner) -> None:
        super().after_train_epoch(runner)
        self.flush(runner)

    def after_val_epoch(self, runner, metrics) -> None:
        super().after_val_epoch(runner, metrics)
        self.flush(runner)
