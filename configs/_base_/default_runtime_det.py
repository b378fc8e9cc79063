# Runtime shared by every mmplug detection config: mmdet 3.3.0's default
# runtime (default_scope='mmdet', hooks, visualizer) plus the import that
# registers mmplug's models (and its torch>=2.6 checkpoint loader).
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['mmplug.models'], allow_failed_imports=False)

# mmplug's runner (mmplug/engine/runner.py): exact resume, no checkpoint
# lost, checkpoints and data checked before use; mmdet's and mmseg's own
# tools/train.py honour runner_type too.
runner_type = 'mmplug.MMPlugRunner'
