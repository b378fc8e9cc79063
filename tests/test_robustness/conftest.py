"""Fixtures of the robustness tests: tiny det/seg configs on the demo data,
variants of that data with one fault each, and a tool runner."""
import importlib.util
import json
import logging
import os
import os.path as osp
import shutil
import sys

import pytest

from mmplug.testing import TINY_DET

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET_DEMO = osp.join(REPO, 'configs/demo/mask-rcnn_r18_fpn_demo.py')
SEG_DEMO = osp.join(REPO, 'configs/demo/upernet_r18_demo.py')

# UPerNet R-18 at 1/4 width on 64-pixel crops, iteration-based.
TINY_SEG = '''
_base_ = [{base!r}]
data_root = {root!r}
crop_size = (64, 64)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=[16, 32, 64, 128], channels=32),
    auxiliary_head=dict(in_channels=64, channels=16))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(256, 64), ratio_range=(0.5, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=6, val_interval=3, val_begin=1)
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=1),
                     logger=dict(interval=1))
randomness = dict(seed=0, deterministic=True)
'''


class Ctx:
    """Paths the cases use (see :func:`ctx`)."""

    def __init__(self, root):
        self.root = root
        self.coco = osp.join(root, 'demo', 'coco')
        self.ade = osp.join(root, 'demo', 'ade', 'ADEChallengeData2016')
        self.det = self.det_config(self.coco + '/')
        self.seg = self.seg_config(self.ade)

    def _write(self, name, text):
        path = osp.join(self.root, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def det_config(self, coco_root, name='det.py'):
        return self._write(name, TINY_DET.format(base=DET_DEMO,
                                                 root=coco_root))

    def seg_config(self, ade_root, name='seg.py'):
        return self._write(name, TINY_SEG.format(base=SEG_DEMO,
                                                 root=ade_root))

    def config(self, name, text):
        """A config file of the given text (e.g. inheriting ``self.det``)."""
        return self._write(name, text)

    def coco_variant(self, name, mutate=None, files=None):
        """A copy of the demo COCO data whose train annotations pass through
        ``mutate(dict)`` and whose ``files`` ({relative path: bytes or
        None to delete}) are replaced; returns the det config on it."""
        root = osp.join(self.root, 'variants', name)
        if not osp.isdir(root):
            shutil.copytree(self.coco, root)
            ann = osp.join(root, 'annotations', 'instances_train2017.json')
            if mutate is not None:
                with open(ann) as f:
                    data = json.load(f)
                mutate(data)
                with open(ann, 'w') as f:
                    json.dump(data, f)
            for rel, content in (files or {}).items():
                path = osp.join(root, rel)
                if content is None:
                    os.remove(path)
                else:
                    with open(path, 'wb') as f:
                        f.write(content)
        return self.det_config(root + '/', name=f'det_{name}.py')

    def ade_variant(self, name, edit):
        """A copy of the demo ADE data changed by ``edit(root)``; returns
        the seg config on it."""
        root = osp.join(self.root, 'variants', 'ade_' + name)
        if not osp.isdir(root):
            shutil.copytree(self.ade, root)
            edit(root)
        return self.seg_config(root, name=f'seg_{name}.py')


@pytest.fixture(scope='session')
def ctx(tmp_path_factory):
    """Demo data (8 train / 4 val images) and the tiny configs on it."""
    from mmplug.datasets import make_demo_data
    root = str(tmp_path_factory.mktemp('robust'))
    os.chmod(root, 0o755)
    make_demo_data(osp.join(root, 'demo'), num_train=8, num_val=4, seed=1)
    return Ctx(root)


def _tool(name):
    path = osp.join(REPO, 'tools', name)
    spec = importlib.util.spec_from_file_location(
        'mmplug_tool_' + name.replace('/', '_')[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_TOOLS = {}


@pytest.fixture
def run_tool(capsys):
    """``run_tool('train.py', argv)`` -> (exit status, stdout, stderr), run
    in this process (no interpreter start-up per case)."""

    def run(name, argv):
        from mmengine.logging import MMLogger
        if name not in _TOOLS:
            _TOOLS[name] = _tool(name)
        capsys.readouterr()
        # mmengine logs to the newest logger, whose stream was an earlier
        # test's captured output: give it one on this test's
        MMLogger.get_instance(f'robustness-{len(MMLogger._instance_dict)}')
        # and loggers made by earlier tests may still hold their captured
        # (now closed) streams: point those at this test's
        # mmengine's loggers print to stdout, Python's to stderr
        loggers = [(lg, sys.stdout) for lg in MMLogger._instance_dict.values()]
        loggers += [(lg, sys.stderr) for lg in [logging.getLogger(), *(
            lg for lg in logging.Logger.manager.loggerDict.values()
            if isinstance(lg, logging.Logger))]]
        for logger, stream in loggers:
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler and \
                        getattr(handler.stream, 'closed', False):
                    handler.stream = stream  # setStream flushes the old one
        try:
            _TOOLS[name].main([str(a) for a in argv])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
