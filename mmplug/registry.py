"""Registries of the ``mmplug`` scope.

Every registry here is a child of the mmengine root registry of the same
kind, in scope ``mmplug``. Configs of mmdet or mmseg reach our classes with
the scope prefix, e.g. ``type='mmplug.SMT'``, after
``custom_imports=dict(imports=['mmplug.models'], allow_failed_imports=False)``;
``default_scope`` stays ``'mmdet'`` or ``'mmseg'``.

mmengine resolves ``'mmplug.X'`` by importing exactly ``mmplug.registry``,
which is why this module must keep its name and place.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
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

#: Optimizer wrapper constructors
#: (``constructor='mmplug.LayerDecayOptimizerConstructor'``).
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='mmplug',
    locations=['mmplug.engine'])
