"""Registries of the ``mmplug`` scope.

Every registry here is a child of the mmengine root registry of the same
kind, in scope ``mmplug``. Configs of mmdet or mmseg reach our classes with
the scope prefix, e.g. ``type='mmplug.SMT'``, after
``custom_imports=dict(imports=['mmplug.models'], allow_failed_imports=False)``;
``default_scope`` stays ``'mmdet'`` or ``'mmseg'``.

mmengine resolves ``'mmplug.X'`` by importing exactly ``mmplug.registry``,
which is why this module must keep its name and place.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import Registry

#: Backbones, necks and the operators users name in configs.
MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmplug',
    locations=['mmplug.models'])

#: Hooks (``custom_hooks=[dict(type='mmplug.DGCProgressHook')]``).
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mmplug',
    locations=['mmplug.engine'])

#: Runners (``runner_type='mmplug.MMPlugRunner'``).
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, scope='mmplug',
    locations=['mmplug.engine'])

#: Dataset wrappers (``mmplug.GuardedDataset``).
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, scope='mmplug',
    locations=['mmplug.datasets'])

#: Samplers (``mmplug.SeededSampler``).
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='mmplug',
    locations=['mmplug.datasets'])

#: Optimizer wrapper constructors
#: (``constructor='mmplug.LayerDecayOptimizerConstructor'``).
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='mmplug',
    locations=['mmplug.engine'])
