# Runtime shared by every mmplug segmentation config: mmseg 1.2.2's default
# runtime (default_scope='mmseg', visualizer, TTA model) plus the import that
# registers mmplug's models (and its torch>=2.6 checkpoint loader).
_base_ = 'mmseg::_base_/default_runtime.py'

custom_imports = dict(imports=['mmplug.models'], allow_failed_imports=False)

# mmplug's runner (mmplug/engine/runner.py): exact resume, no checkpoint
# lost, checkpoints and data checked before use; mmdet's and mmseg's own
# tools/train.py honour runner_type too.
runner_type = 'mmplug.MMPlugRunner'
