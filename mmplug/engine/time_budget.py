"""A wall-clock budget for training: stop after N seconds."""
import os.path as osp
import time
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop

from mmplug.registry import HOOKS

#: message-hub key of the training seconds spent before a resume
ELAPSED_KEY = 'time_budget_elapsed'


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """Stop training once ``budget_s`` seconds of training have passed, and
    save a checkpoint there: the way to give models an equal wall-clock
    budget (``custom_hooks = [dict(type='mmplug.TimeBudgetHook',
    budget_s=300)]``).

    The clock starts when training starts (data loading included) and is
    checked after each iteration; the iteration during which the budget
    runs out is finished, then the loop stops through mmengine's
    ``train_loop.stop_training`` (as mmengine's ``EarlyStoppingHook``). An
    iteration-based loop (``IterBasedTrainLoop``) stops at once; an
    epoch-based one only at the end of the epoch, which mmengine's loop
    finishes. The seconds already spent are kept in the checkpoint's message
    hub, so a resumed run continues the same budget. A run that ends within
    its budget is not touched.

    Args:
        budget_s (float): seconds of training allowed (> 0).
        save_checkpoint (bool): when the budget stops training, save
            ``iter_<n>.pth`` (``epoch_<n>.pth`` for an epoch-based loop)
            and point ``last_checkpoint`` at it, as the checkpoint hook
            does at the end of a schedule. Defaults to True.
    """
    priority = 'LOW'  # after the optimizer step, before checkpointing

    def __init__(self, budget_s: float, save_checkpoint: bool = True) -> None:
        if not budget_s > 0:
            raise ValueError(f'TimeBudgetHook: budget_s must be > 0, got '
                             f'{budget_s!r}')
        self.budget_s = float(budget_s)
        self.save_checkpoint = save_checkpoint
        self.start: Optional[float] = None
        self.before = 0.0
        self.stopped_at: Optional[int] = None

    def before_train(self, runner) -> None:
        self.before = float(runner.message_hub.get_info(ELAPSED_KEY) or 0.)
        self.start = time.perf_counter()
        self.stopped_at = None

    def elapsed(self) -> float:
        """Training seconds so far (those before a resume included)."""
        if self.start is None:
            return self.before
        return self.before + time.perf_counter() - self.start

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        elapsed = self.elapsed()
        runner.message_hub.update_info(ELAPSED_KEY, elapsed)
        done = runner.iter + 1  # iterations finished (mmengine counts after)
        if elapsed < self.budget_s or done >= runner.max_iters or \
                self.stopped_at is not None:
            return
        runner.train_loop.stop_training = True
        self.stopped_at = done
        runner.logger.info(
            f'TimeBudgetHook: {elapsed:.1f} s of the {self.budget_s:g} s '
            f'budget spent, training stops after iteration {done} of '
            f'{runner.max_iters}')
        if self.save_checkpoint and not self._by_epoch(runner):
            self._save(runner, f'iter_{done}.pth', by_epoch=False)

    def after_train_epoch(self, runner) -> None:
        if self.save_checkpoint and self.stopped_at is not None and \
                self._by_epoch(runner):
            self._save(runner, f'epoch_{runner.epoch + 1}.pth',
                       by_epoch=True)

    @staticmethod
    def _by_epoch(runner) -> bool:
        return isinstance(runner.train_loop, EpochBasedTrainLoop)

    @staticmethod
    def _save(runner, name: str, by_epoch: bool) -> None:
        """Checkpoint ``name`` in the work dir, named in ``last_checkpoint``
        (which ``--resume`` and the tools read)."""
        runner.save_checkpoint(runner.work_dir, name, by_epoch=by_epoch)
        if is_main_process():
            with open(osp.join(runner.work_dir, 'last_checkpoint'), 'w') as f:
                f.write(osp.join(runner.work_dir, name))
