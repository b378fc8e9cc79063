"""Training-loop parts: the runner mmplug's tools and configs use, the hooks
it adds (safe checkpoint rotation, per-iteration seeding), and hooks some
layers need."""
from .checkpoint_hook import SafeCheckpointHook
from .hooks import DGCProgressHook
from .randomness import IterationSeedHook
from .runner import MMPlugRunner

__all__ = [
    'DGCProgressHook', 'IterationSeedHook', 'MMPlugRunner',
    'SafeCheckpointHook'
]
