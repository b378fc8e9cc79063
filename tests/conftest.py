"""Shared fixtures: the repo root and small demo datasets."""
import os
import os.path as osp
import warnings

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

if os.environ.get('PYTEST_XDIST_WORKER_COUNT'):
    # pytest-xdist workers (make test: one per core) share the cores: each
    # runs torch, and the tools its tests start, on its share of them
    _threads = max(1, (os.cpu_count() or 1) //
                   int(os.environ['PYTEST_XDIST_WORKER_COUNT']))
    os.environ['OMP_NUM_THREADS'] = os.environ['MKL_NUM_THREADS'] = \
        str(_threads)
    import torch
    torch.set_num_threads(_threads)


@pytest.fixture(scope='session', autouse=True)
def config_prefixes():
    """``mmplug::`` config bases, and ``mmseg::`` ones on the maintained
    fork of mmengine (whose own lookup misses its mmseg), as mmplug's
    tools read configs."""
    from mmplug.mim import register_config_prefix
    register_config_prefix()


@pytest.fixture(scope='session')
def repo_root() -> str:
    return REPO


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory) -> str:
    """A small demo dataset (8 train / 4 val images) for end-to-end runs."""
    from mmplug.datasets import make_demo_data
    root = tmp_path_factory.mktemp('demo')
    make_demo_data(root, num_train=8, num_val=4, seed=1)
    return str(root)
