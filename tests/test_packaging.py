"""mmplug/.mim: configs, tools and the model index inside the package (as
mim and ``_base_ = 'mmplug::...'`` expect), in checkouts and in wheels; and
configs of another project inheriting ours by package name."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
from mmengine.config import Config

from mmplug.mim import (CONFIG_DIR, MIM_DIR, MODEL_INDEX,
                        register_config_prefix)
from mmplug.testing import run_tool

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
R18 = 'mask_rcnn/mask-rcnn_r18_fpn_1x_coco.py'


def repo_files(folder, suffixes):
    """Files under ``REPO/folder`` with these suffixes, relative to REPO."""
    found = []
    for root, dirs, files in os.walk(osp.join(REPO, folder)):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        found += [osp.relpath(osp.join(root, f), REPO) for f in files
                  if f.endswith(suffixes)]
    return sorted(found)


def test_mim_folder_of_a_checkout_is_the_repository():
    assert osp.realpath(CONFIG_DIR) == osp.join(REPO, 'configs')
    assert osp.realpath(osp.join(MIM_DIR, 'tools')) == osp.join(REPO, 'tools')
    assert osp.realpath(MODEL_INDEX) == osp.join(REPO, 'model-index.yml')


def test_wheel_ships_configs_tools_and_model_index(tmp_path):
    src = tmp_path / 'src'
    shutil.copytree(REPO, src, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', '.venv*', 'data', 'work_dirs', 'build', '*.egg-info',
        '__pycache__', '.pytest_cache', 'outputs'))
    res = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--no-index', '-q', '-w',
         str(tmp_path / 'dist'), str(src)],
        capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    [wheel] = os.listdir(tmp_path / 'dist')
    names = set(zipfile.ZipFile(tmp_path / 'dist' / wheel).namelist())
    expected = repo_files('configs', ('.py', '.yml')) + \
        repo_files('tools', ('.py', '.sh')) + ['model-index.yml']
    assert len(expected) > 50
    missing = [p for p in expected if f'mmplug/.mim/{p}' not in names]
    assert not missing
    assert 'mmplug/__init__.py' in names and 'mmplug/apis/runner.py' in names
    assert not [n for n in names if n.endswith('.pyc')]


def test_tools_take_packaged_config_names(tmp_path, monkeypatch):
    """As `mim train/test mmplug NAME` do, for `mim run mmplug get_flops`."""
    from mmplug.apis.config import load_config
    monkeypatch.chdir(tmp_path)  # no configs/ here
    for name in ['upernet_r18_demo.py', 'demo/upernet_r18_demo.py',
                 'mmplug::demo/upernet_r18_demo.py']:
        assert load_config(name).filename == osp.join(
            CONFIG_DIR, 'demo', 'upernet_r18_demo.py')
    for name in ['nothing.py', 'smt/upernet_r18_demo.py']:
        with pytest.raises(FileNotFoundError, match='config file not found'):
            load_config(name)


# --------------------------------------------------------------------------
# _base_ = 'mmplug::...'
# --------------------------------------------------------------------------
def scopes(node, path=''):
    """Every ``_scope_`` in a config dict: path -> scope."""
    found = {}
    if isinstance(node, dict):
        if '_scope_' in node:
            found[path] = node['_scope_']
        for key, value in node.items():
            found.update(scopes(value, f'{path}.{key}'))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found.update(scopes(value, f'{path}[{i}]'))
    return found


@pytest.mark.parametrize('base', [R18, 'smt_maskrcnn_1x.py',
                                  'parc_convnext/mask-rcnn_parc-convnext-'
                                  'xt_fpn_1x_coco.py'])
def test_inherit_by_package_name(base, tmp_path):
    register_config_prefix()
    mine = tmp_path / 'mine.py'
    mine.write_text(f"_base_ = 'mmplug::{base}'\n"
                    'model = dict(backbone=dict(frozen_stages=-1))\n')
    by_name = Config.fromfile(str(mine), import_custom_modules=False)
    by_path = Config.fromfile(osp.join(REPO, 'configs', base),
                              import_custom_modules=False)
    assert by_name.model.backbone.frozen_stages == -1
    if 'frozen_stages' in by_path.model.backbone:
        by_name.model.backbone.frozen_stages = \
            by_path.model.backbone.frozen_stages
    else:
        del by_name.model.backbone.frozen_stages
    assert by_name.to_dict() == by_path.to_dict()
    # read as by its path: no 'mmplug' scope stamped on mmdet's parts
    assert 'mmplug' not in scopes(by_name.to_dict()).values()


def test_inherit_unknown_config_by_package_name(tmp_path):
    register_config_prefix()
    mine = tmp_path / 'mine.py'
    mine.write_text("_base_ = 'mmplug::smt/none.py'\n")
    with pytest.raises(FileNotFoundError, match="mmplug has no config "
                       "'smt/none.py'"):
        Config.fromfile(str(mine))


@pytest.fixture
def elsewhere(tmp_path):
    """A project's config inheriting ours by name, in an empty folder (no
    data: the tools stop at the dataset, after reading the whole config)."""
    (tmp_path / 'mine.py').write_text(
        f"_base_ = 'mmplug::{R18}'\n"
        'model = dict(roi_head=dict(bbox_head=dict(num_classes=3)))\n')
    return tmp_path


def test_our_train_tool_reads_it(elsewhere):
    res = run_tool(osp.join(REPO, 'tools', 'train.py'), 'mine.py',
                   cwd=str(elsewhere), env=dict(PYTHONPATH=REPO))
    assert res.returncode == 2, res.stderr[-2000:]
    assert 'data/coco/annotations/instances_train2017.json' in res.stderr


def test_mmdet_train_tool_needs_the_one_line_workaround(elsewhere):
    import mmdet
    mmdet_train = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                           'train.py')
    env = dict(PYTHONPATH=REPO)
    res = run_tool(mmdet_train, 'mine.py', cwd=str(elsewhere), env=env)
    assert res.returncode != 0
    assert 'does not support to load mmplug config' in res.stderr
    # the documented line: the tool run through mmplug.mim
    res = run_tool(sys.executable, '-m', 'mmplug.mim', mmdet_train,
                   'mine.py', cwd=str(elsewhere), env=env)
    assert 'does not support' not in res.stderr
    # mmdet's tool read the config, built the runner and reached the data
    assert 'instances_train2017.json' in res.stderr
    assert "'mmplug.models'" not in res.stderr  # custom_imports worked


def test_package_prefix_found_in_its_module_where_mmengine_misses_it():
    """On the maintained fork, mmengine looks ``mmseg::`` up under the
    distribution name ``mmsegmentation`` and misses ``onedl-mmsegmentation``;
    mmplug's lookup then finds the config in the importable module."""
    import mmseg

    from mmplug.mim import _mmplug_cfg_path

    def misses(cfg_path, filename):
        raise ModuleNotFoundError('mmsegmentation is not installed.')

    lookup = _mmplug_cfg_path(misses)
    path, scope = lookup('mmseg::_base_/default_runtime.py', 'mine.py')
    assert scope == 'mmseg' and path == osp.join(
        osp.dirname(mmseg.__file__), '.mim', 'configs', '_base_',
        'default_runtime.py')
    with pytest.raises(ModuleNotFoundError):
        lookup('mmnothing::_base_/default_runtime.py', 'mine.py')
