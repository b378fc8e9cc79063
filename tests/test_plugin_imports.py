"""Importing ``mmplug`` or ``mmplug.models`` registers models and changes
nothing else: mmengine's file backends, checkpoint loaders, ``Config``,
torch's safe globals and settings, Python's warning filters and logging are
as they were (checked in a fresh interpreter, mmengine, mmcv.cnn and torch
imported first: their own imports are theirs)."""
import json
import subprocess
import sys


SNAPSHOT = r'''
import json, logging, sys, warnings
import torch, mmengine, mmcv.cnn  # noqa: F401  (the dependencies' own imports)
from mmengine.config import Config
from mmengine.fileio.backends import backends, prefix_to_backends
from mmengine.registry import DefaultScope, MODELS
from mmengine.runner.checkpoint import CheckpointLoader


def name(obj):
    qualname = getattr(obj, '__qualname__', repr(obj))
    return f'{getattr(obj, "__module__", "")}.{qualname}'


def snapshot():
    return dict(
        backends={k: name(v) for k, v in backends.items()},
        prefixes={k: name(v) for k, v in prefix_to_backends.items()},
        loaders={str(k): name(v) for k, v in
                 CheckpointLoader._schemes.items()},
        config={k: name(getattr(v, '__func__', v))
                for k, v in vars(Config).items()},
        safe_globals=sorted(map(repr, torch.serialization.get_safe_globals())),
        torch=[str(torch.get_default_dtype()), torch.get_num_threads(),
               torch.are_deterministic_algorithms_enabled(),
               torch.backends.cudnn.benchmark, torch.is_grad_enabled()],
        warnings=[repr(f) for f in warnings.filters],
        logging=[repr(h) for h in logging.getLogger().handlers],
        scope=repr(DefaultScope.get_current_instance()),
        registries={k: sorted(v.module_dict) for k, v in
                    [('root', MODELS)] + list(MODELS.children.items())},
        heavy=sorted(m for m in sys.modules if m.split('.')[0] in
                     ('mmdet', 'mmseg', 'mmpretrain') or
                     m.startswith('mmcv.ops')),
    )


found = [snapshot()]
for module in sys.argv[1:]:
    __import__(module)
    found.append(snapshot())
print(json.dumps(found))
'''


def test_import_changes_nothing_but_the_registry():
    modules = ['mmplug', 'mmplug.models', 'mmplug.registry']
    res = subprocess.run([sys.executable, '-c', SNAPSHOT, *modules],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    before, *afters = json.loads(res.stdout.splitlines()[-1])
    registries = before.pop('registries')
    root = registries.pop('root')
    assert 'mmplug' not in registries
    for module, after in zip(modules, afters):
        found = after.pop('registries')
        assert found.pop('root') == root, module
        if module != 'mmplug':  # our models, in our own scope only
            assert 'SMT' in found.pop('mmplug'), module
        assert found == registries, module
        assert after == before, module
        assert not after['heavy'], module
