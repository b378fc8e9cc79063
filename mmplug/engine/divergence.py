"""Stop a training run that diverges, before it saves diverged weights."""
import math
import statistics
from collections import deque
from typing import Optional

from mmengine.hooks import Hook

from mmplug.errors import TrainingDivergedError
from mmplug.registry import HOOKS


@HOOKS.register_module()
class DivergenceHook(Hook):
    """Stop training, with a message naming the iteration and the likely
    cause, when the run diverges:

    - the loss (or any logged loss term) is not finite;
    - the gradient norm is not finite (logged when the config clips
      gradients: ``optim_wrapper.clip_grad``; clipping turns an infinite
      norm into updates that leave finite garbage in the weights);
    - the loss explodes: it exceeds ``factor`` times its running level (the
      median of the last ``window`` losses, from the ``warmup``-th
      iteration on). A diverging run often explodes within its first
      iterations (the tiny demo detector with ``lr=1000``: from 4.7 to 4e6
      at the second), so the check starts at once.

    It runs after each training iteration, before the checkpoint hook, so
    the diverged weights are never saved: the last checkpoint written stays
    the last good one. :class:`~mmplug.engine.MMPlugRunner` adds it to every
    run; a config sets its own arguments (or ``enabled=False``) with
    ``custom_hooks = [dict(type='mmplug.DivergenceHook', ...)]``.

    Args:
        factor (float): how many times its running level the loss may
            reach. Defaults to 1000 (a diverged run goes up by many orders
            of magnitude within a few iterations; a healthy one stays well
            within 10x).
        window (int): iterations of the running level. Defaults to 50.
        warmup (int): iterations whose losses only set the level before the
            explosion check starts. Defaults to 1.
        enabled (bool): False turns every check off.
    """
    priority = 'ABOVE_NORMAL'  # before CheckpointHook (VERY_LOW)

    def __init__(self, factor: float = 1000., window: int = 50,
                 warmup: int = 1, enabled: bool = True) -> None:
        if not factor > 1:
            raise ValueError(f'DivergenceHook: factor must be > 1, got '
                             f'{factor}')
        if window < 1 or warmup < 1:
            raise ValueError('DivergenceHook: window and warmup must be >= '
                             f'1, got {window} and {warmup}')
        self.factor, self.warmup, self.enabled = factor, warmup, enabled
        self.losses: deque = deque(maxlen=window)
        self.seen = 0

    def before_train(self, runner) -> None:
        self.losses.clear()
        self.seen = 0

    @staticmethod
    def _grad_norms(runner):
        """The logged gradient norms so far (none without clipping)."""
        scalars = runner.message_hub.log_scalars
        found = scalars.get('train/grad_norm')
        return found.data[0] if found is not None else ()

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        self.grad_count = len(self._grad_norms(runner))

    def _stop(self, runner, what: str, cause: str) -> None:
        optimizer = getattr(runner.optim_wrapper, 'optimizer', None)
        groups = getattr(optimizer, 'param_groups', [])
        now = sorted({g['lr'] for g in groups})
        base = sorted({g.get('initial_lr', g['lr']) for g in groups})
        lr = ''
        if now:
            lr = f' (lr {", ".join(f"{v:g}" for v in now[:3])} now'
            lr += f', {", ".join(f"{v:g}" for v in base[:3])} in the ' \
                'config)' if base != now else ')'
        last = runner.message_hub.get_info('last_ckpt')
        kept = f'the last checkpoint, {last}, was written before it and ' \
            'is kept' if last else 'no checkpoint was written'
        raise TrainingDivergedError(
            f'training diverged at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}): {what}. Likely cause: {cause}{lr}. '
            f'Stopped before saving; {kept}. (Checks: mmplug.DivergenceHook; '
            "custom_hooks=[dict(type='mmplug.DivergenceHook', "
            "enabled=False)] turns them off.)")

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self.enabled or not outputs:
            return
        values = {k: float(v) for k, v in outputs.items()
                  if 'loss' in k and hasattr(v, '__float__')}
        bad = sorted(k for k, v in values.items() if not math.isfinite(v))
        if bad:
            self._stop(runner, ', '.join(f'{k} = {values[k]}' for k in bad),
                       'a learning rate too high for this model and batch, '
                       'or a bad sample (check_dataset.py)')
        norms = self._grad_norms(runner)
        if len(norms) > getattr(self, 'grad_count', len(norms)) and \
                not math.isfinite(norms[-1]):  # logged in this iteration
            self._stop(runner, f'the gradient norm is {norms[-1]}',
                       'a learning rate too high for this model and batch')
        loss = values.get('loss')
        if loss is None:
            return
        self.seen += 1
        if self.seen > self.warmup and self.losses:
            level = statistics.median(self.losses)
            if level > 0 and loss > self.factor * level:
                self._stop(runner, f'the loss is {loss:.4g}, '
                           f'{loss / level:.3g} times its running level '
                           f'{level:.4g}',
                           'a learning rate too high for this model and '
                           'batch (or a warm-up too short)')
        self.losses.append(loss)
