"""Training-loop parts (hooks) that some mmplug layers need."""
from .hooks import DGCProgressHook

__all__ = ['DGCProgressHook']
