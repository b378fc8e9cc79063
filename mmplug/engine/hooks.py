"""Hooks for mmplug layers."""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmplug.models.layers.dgc import DGConv2d
from mmplug.registry import HOOKS


@HOOKS.register_module()
class DGCProgressHook(Hook):
    """Set every :class:`~mmplug.models.layers.DGConv2d`'s training progress
    (``iter / max_iters``, which drives how many channels it zeroes) before
    each training iteration, and log the mean saliency penalty
    (``dgc_lasso``) after it. Needed by models with DGC layers::

        custom_hooks = [dict(type='mmplug.DGCProgressHook')]
    """
    priority = 'NORMAL'

    @staticmethod
    def _layers(runner):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        return [m for m in model.modules() if isinstance(m, DGConv2d)]

    def before_train(self, runner) -> None:
        # the layers are found once, not on every iteration
        self._dgc_layers = self._layers(runner)
        if not self._dgc_layers:
            raise RuntimeError('DGCProgressHook: the model has no DGConv '
                               'layer')

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        progress = min(1.0, runner.iter / max(runner.max_iters, 1))
        for layer in self._dgc_layers:
            layer.progress.fill_(progress)

    def after_train_iter(self, runner, batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        lassos = [m.last_lasso for m in self._dgc_layers
                  if m.last_lasso is not None]
        if lassos:  # one device sync, not one per layer
            runner.message_hub.update_scalar(
                'train/dgc_lasso', torch.stack(lassos).mean().item())
