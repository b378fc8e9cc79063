"""Training-loop parts: hooks that some mmplug layers need, the layer-wise
lr decay constructor."""
from .hooks import DGCProgressHook
from .optimizers import LayerDecayOptimizerConstructor

__all__ = ['DGCProgressHook', 'LayerDecayOptimizerConstructor']
