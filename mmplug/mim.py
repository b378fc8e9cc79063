"""mmplug's OpenMMLab package resources and the ``mmplug::`` config prefix.

Like mmdet and mmseg, mmplug ships its configs, tools and model index inside
the package, in ``mmplug/.mim/{configs,tools,model-index.yml}``: ``mim train
mmplug CONFIG``, ``mim test``, ``mim run mmplug get_flops`` and ``mim search
mmplug`` find them there. In the repository these are symbolic links to the
top-level ``configs/``, ``tools/`` and ``model-index.yml``; a wheel (or a
non-editable ``pip install .``) holds copies.

``_base_ = 'mmplug::<path under configs/>'`` in another project's config
works once :func:`register_config_prefix` has run: mmplug's tools call it;
another tool runs with it as ``python -m mmplug.mim TOOL.py ARGS...``.
mmengine reads a config's ``_base_`` before its ``custom_imports`` run, so
this cannot come from the config itself. Importing mmplug does not do it:
it changes mmengine's ``Config`` for the whole process.
"""
import importlib.util
import inspect
import os
import os.path as osp
import runpy
import sys
from typing import Callable, Dict, List, Optional, Tuple

#: Directory of the imported ``mmplug`` package.
PACKAGE_DIR = osp.dirname(osp.abspath(__file__))
#: ``mmplug/.mim``: configs, tools and model-index.yml.
MIM_DIR = osp.join(PACKAGE_DIR, '.mim')
#: The packaged configs (``mmplug::`` paths are relative to this folder).
CONFIG_DIR = osp.join(MIM_DIR, 'configs')
#: The model index (``Import:`` lists each family's metafile).
MODEL_INDEX = osp.join(MIM_DIR, 'model-index.yml')


def find_config(name: str) -> Optional[str]:
    """A packaged config given by name, as ``mim train``/``mim test`` find
    them (for ``mim run mmplug get_flops NAME`` and our tools alike).

    Args:
        name (str): ``mmplug::PATH`` or ``PATH`` relative to ``configs/``
            (``smt/mask-rcnn_smt-b_fpn_ms-crop-3x_coco.py``), or a file name
            found once under ``configs/`` (``upernet_r18_demo.py``).

    Returns:
        str | None: the config file, or None if there is none (or several).
    """
    rel = name.split('::', 1)[1] if name.startswith('mmplug::') else name
    path = osp.join(CONFIG_DIR, rel)
    if osp.isfile(path):
        return path
    if osp.sep in rel:
        return None
    found = [osp.join(root, rel)
             for root, _, files in os.walk(CONFIG_DIR, followlinks=True)
             if rel in files]
    return found[0] if len(found) == 1 else None


def _module_cfg_path(module: str, rel_path: str) -> Optional[str]:
    """The file ``.mim/configs/<rel_path>`` of the importable ``module``, or
    None.

    mmengine finds ``mmseg::PATH`` through the distribution ``mmsegmentation``
    (its ``MODULE2PACKAGE`` table); the maintained fork's mmseg is the
    distribution ``onedl-mmsegmentation``, which that lookup misses
    ("mmsegmentation is not installed"), though ``mmseg`` imports and ships
    its configs as OpenMMLab's does.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    path = osp.join(osp.dirname(spec.origin), '.mim', 'configs', rel_path)
    return path if osp.isfile(path) else None


#: ``pkg::path`` -> (file, scope), found once per process
_EXTERNAL_CFG_PATHS: Dict[str, Tuple[str, Optional[str]]] = {}


def _mmplug_cfg_path(original: Callable) -> Callable:
    """``Config._get_cfg_path`` resolving ``mmplug::PATH`` to
    ``CONFIG_DIR/PATH`` with no scope, other paths as ``original`` does.

    Another package's ``pkg::path`` is looked up once per process: mmengine
    reads every metafile of the package (mmdet: 300 YAML files, a third of a
    second) at each lookup, whatever the path."""

    def _get_cfg_path(cfg_path: str,
                      filename: str) -> Tuple[str, Optional[str]]:
        package, sep, rel_path = cfg_path.partition('::')
        if not sep:
            return original(cfg_path, filename)
        if package != 'mmplug':
            if cfg_path not in _EXTERNAL_CFG_PATHS:
                try:
                    found = original(cfg_path, filename)
                except ModuleNotFoundError:
                    path = _module_cfg_path(package, rel_path)
                    if path is None:
                        raise
                    found = path, package
                _EXTERNAL_CFG_PATHS[cfg_path] = found
            return _EXTERNAL_CFG_PATHS[cfg_path]
        path = osp.join(CONFIG_DIR, rel_path)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{cfg_path} (a _base_ of {filename}): mmplug has no config '
                f'{rel_path!r} (looked in {CONFIG_DIR})')
        return path, None

    _get_cfg_path.mmplug_original = original
    return _get_cfg_path


def register_config_prefix() -> None:
    """Let mmengine resolve ``_base_ = 'mmplug::<path under configs/>'``.

    mmengine 0.10.7 knows only the packages of its fixed ``MODULE2PACKAGE``
    table ("mmengine does not support to load mmplug config"), wants a
    folder in the path (``pkg::folder/file.py``), looks for the package in
    ``site-packages`` (not where an editable install or a checkout on
    ``PYTHONPATH`` has it), and stamps ``_scope_='<pkg>'`` on every typed
    dict of the base, which for mmplug would send pipelines, optimizers and
    schedulers to registries mmplug does not have. So ``Config._get_cfg_path``
    (the one place that maps ``pkg::path`` to a file) is wrapped: an
    ``mmplug::`` path is the file under :data:`CONFIG_DIR` of the imported
    mmplug, read without a scope, exactly as when it is inherited by its
    file path (mmplug's configs set ``default_scope`` and name their own
    parts ``mmplug.X``). Other prefixes are left to mmengine. Idempotent.

    ``Config._get_cfg_path`` is private to mmengine (see the docs' table of
    the private names mmplug relies on); where it is missing or has another
    signature this raises instead of doing nothing.
    """
    from mmengine.config import Config
    found = Config.__dict__.get('_get_cfg_path')
    if not isinstance(found, staticmethod) or list(inspect.signature(
            found.__func__).parameters) != ['cfg_path', 'filename']:
        raise RuntimeError(
            "mmplug:: config bases need mmengine's "
            'Config._get_cfg_path(cfg_path, filename), which this mmengine '
            f'({mmengine_version()}) does not have: inherit mmplug\'s '
            'configs by their file path instead')
    current = found.__func__
    if not hasattr(current, 'mmplug_original'):
        Config._get_cfg_path = staticmethod(_mmplug_cfg_path(current))


def mmengine_version() -> str:
    """The installed mmengine's version."""
    import mmengine
    return mmengine.__version__


def main(argv: Optional[List[str]] = None) -> None:
    """``python -m mmplug.mim TOOL.py ARGS...``: run another project's tool
    (mmdet's or mmseg's ``tools/train.py``, ...) with ``mmplug::`` bases
    resolved."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ('-h', '--help'):
        print('usage: python -m mmplug.mim TOOL.py [ARGS...]\n'
              "Run TOOL.py with `_base_ = 'mmplug::...'` resolved in the "
              'configs it reads.')
        sys.exit(0 if argv else 2)
    register_config_prefix()
    sys.argv = list(argv)
    runpy.run_path(argv[0], run_name='__main__')


if __name__ == '__main__':
    main()
