"""Hooks for mmplug layers."""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmplug.models.layers.dgc import DGConv2d
from mmplug.registry import HOOKS

#: the loss key of DGC's saliency penalty
DGC_LOSS = 'loss_dgc_lasso'


@HOOKS.register_module()
class DGCProgressHook(Hook):
    """Drive every :class:`~mmplug.models.layers.DGConv2d` in training:
    set its training progress (``iter / max_iters``, which decides how many
    channels it zeroes) before each iteration, and add the layers'
    saliency penalties to the model's training losses as
    ``loss_dgc_lasso``, logged and optimised like the detector's or
    segmentor's own losses (mixed-precision loss scaling and gradient
    accumulation apply). Needed by models with DGC layers::

        custom_hooks = [dict(type='mmplug.DGCProgressHook')]
    """
    priority = 'NORMAL'

    @staticmethod
    def _model(runner) -> torch.nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) \
            else runner.model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        # the layers are found once, not on every iteration
        self.layers = [m for m in model.modules()
                       if isinstance(m, DGConv2d)]
        if not self.layers:
            raise RuntimeError('DGCProgressHook: the model has no DGConv '
                               'layer')
        self.handle = model.register_forward_hook(self.add_penalty)

    def add_penalty(self, module: torch.nn.Module, args,
                    output) -> Optional[dict]:
        """Forward hook of the model: a training forward's loss dict gets
        ``loss_dgc_lasso``, the sum of the layers' penalties."""
        terms = [m.penalty for m in self.layers if m.penalty is not None]
        for m in self.layers:
            m.penalty = None  # not kept alive with its graph
        if not (module.training and isinstance(output, dict) and terms):
            return None
        return dict(output, **{DGC_LOSS: torch.stack(terms).sum()})

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        progress = min(1.0, runner.iter / max(runner.max_iters, 1))
        for layer in self.layers:
            layer.set_progress(progress)

    def after_train(self, runner) -> None:
        self.handle.remove()
