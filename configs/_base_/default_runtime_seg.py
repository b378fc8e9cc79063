# Runtime shared by every mmplug segmentation config: mmseg 1.2.2's default
# runtime (default_scope='mmseg', visualizer, TTA model) plus the import that
# registers mmplug's models (mmplug.py).
_base_ = ['mmseg::_base_/default_runtime.py', './mmplug.py']
