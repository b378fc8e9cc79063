"""mmplug's runtime, opted into by ``runner_type = 'mmplug.MMPlugRunner'``
(mmplug's configs set it): the runner, the hooks it adds (safe checkpoint
rotation, per-iteration seeding, divergence checks, in-place compiling),
hooks some layers need, a wall-clock budget, the layer-wise lr decay
constructor."""
from .checkpoint_hook import SafeCheckpointHook
from .compile import CompileHook
from .divergence import DivergenceHook
from .hooks import DGCProgressHook
from .optimizers import LayerDecayOptimizerConstructor
from .randomness import IterationSeedHook
from .runner import MMPlugRunner
from .time_budget import TimeBudgetHook

__all__ = [
    'CompileHook', 'DGCProgressHook', 'DivergenceHook', 'IterationSeedHook',
    'LayerDecayOptimizerConstructor', 'MMPlugRunner', 'SafeCheckpointHook',
    'TimeBudgetHook'
]
