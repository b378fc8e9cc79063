"""Checkpoint rotation that never removes the last good checkpoint."""
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from mmplug.checkpoint import remove_stale_temporaries
from mmplug.registry import HOOKS

#: message-hub key of the checkpoints to delete once the next is written
PENDING_KEY = 'mmplug_pending_removal'


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` are queued, not done."""

    def __init__(self, backend, hook: 'SafeCheckpointHook') -> None:
        self._backend = backend
        self._hook = hook

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, path) -> None:
        self._hook._queue(str(path))

    def rmtree(self, path) -> None:
        self._hook._queue(str(path))


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's :class:`~mmengine.hooks.CheckpointHook` (same arguments)
    that removes old checkpoints only once the new one is complete.

    mmengine's hook deletes the oldest checkpoint (``max_keep_ckpts``) or
    the previous best one *before* writing the new one, so a run killed
    while saving is left with no checkpoint to resume from. Here every
    removal waits until the save it belongs to has finished (files are
    written atomically, :class:`mmplug.checkpoint.AtomicLocalBackend`);
    the removals still owed are recorded in the checkpoint itself, so a
    run killed in between completes them when it resumes. The temporary files
    of killed saves are deleted when training starts.

    :class:`mmplug.engine.MMPlugRunner` uses it in place of
    ``CheckpointHook``; elsewhere:
    ``default_hooks = dict(checkpoint=dict(type='mmplug.SafeCheckpointHook',
    interval=1))``.
    """

    def before_train(self, runner) -> None:
        self._pending: List[str] = []
        self._depth = 0
        self._runner = runner
        super().before_train(runner)
        self.file_backend = _DeferredRemoval(self.file_backend, self)
        if not is_main_process():
            return
        for folder in {self.out_dir, runner.work_dir}:
            for path in remove_stale_temporaries(folder):
                print_log(f'removed {path}, left by a save that was killed',
                          logger='current')
        owed = runner.message_hub.get_info(PENDING_KEY) or []
        self._pending = list(owed)
        self._flush(runner)

    def _queue(self, path: str) -> None:
        # recorded before the save that follows, hence inside the checkpoint
        self._pending.append(path)
        self._runner.message_hub.update_info(PENDING_KEY, list(self._pending))

    def _flush(self, runner) -> None:
        """Remove the queued files (none of them is the last checkpoint)."""
        last = runner.message_hub.get_info('last_ckpt')
        for path in self._pending:
            if is_main_process() and path != last:
                backend = self.file_backend._backend
                if backend.isfile(path):
                    backend.remove(path)
                elif backend.isdir(path):
                    backend.rmtree(path)
        self._pending = []
        runner.message_hub.update_info(PENDING_KEY, [])

    def _save_checkpoint_with_step(self, runner, step, meta):
        self._depth += 1
        try:
            super()._save_checkpoint_with_step(runner, step, meta)
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._flush(runner)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        self._depth += 1
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._flush(runner)
