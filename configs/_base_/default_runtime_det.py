# Runtime shared by every mmplug detection config: mmdet 3.3.0's default
# runtime (default_scope='mmdet', hooks, visualizer) plus the import that
# registers mmplug's models (mmplug.py).
_base_ = ['mmdet::_base_/default_runtime.py', './mmplug.py']
