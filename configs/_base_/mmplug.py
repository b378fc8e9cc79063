# The import that registers mmplug's models: the one place mmplug's configs
# declare it. The runtime bases inherit it; configs built on a whole
# mmdet/mmseg config add it to their _base_ list.
custom_imports = dict(imports=['mmplug.models'], allow_failed_imports=False)

# mmplug's runner (mmplug/engine/runner.py): safe checkpoint loading, exact
# resume, no checkpoint lost, checkpoints and data checked before use.
# mmdet's and mmseg's own tools/train.py honour runner_type too; a config of
# another project opts in with this one line.
runner_type = 'mmplug.MMPlugRunner'
