"""Training-loop parts: the runner mmplug's tools and configs use, the hooks
it adds (safe checkpoint rotation, per-iteration seeding), hooks some layers
need, the layer-wise lr decay constructor."""
from .checkpoint_hook import SafeCheckpointHook
from .hooks import DGCProgressHook
from .optimizers import LayerDecayOptimizerConstructor
from .randomness import IterationSeedHook
from .runner import MMPlugRunner

__all__ = [
    'DGCProgressHook', 'IterationSeedHook', 'LayerDecayOptimizerConstructor',
    'MMPlugRunner', 'SafeCheckpointHook'
]
