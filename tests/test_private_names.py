"""The private names of other libraries mmplug relies on: every one is in
the docs' table (docs/advanced/runtime.md), and every one in the table
exists in the installed libraries. A missing one fails here, loudly."""
import ast
import os.path as osp
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
PAGE = REPO / 'docs' / 'advanced' / 'runtime.md'


def table():
    """``name -> library`` from the page's table of private names."""
    rows = re.findall(r'^\| `([\w.]+)` \| (\w+) \|', PAGE.read_text(),
                      flags=re.M)
    assert rows, f'no table of private names in {PAGE}'
    return dict(rows)


def used_private_attributes():
    """``(file, line, attribute)`` of every ``x._name`` in mmplug/ whose
    ``x`` is not ``self`` / ``cls`` (mmplug's own objects)."""
    found = []
    for path in sorted((REPO / 'mmplug').rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and \
                    node.attr.startswith('_') and \
                    not node.attr.startswith('__') and not (
                        isinstance(node.value, ast.Name)
                        and node.value.id in ('self', 'cls')):
                found.append((osp.relpath(path, REPO), node.lineno,
                              node.attr))
    return found


def test_every_private_name_used_is_in_the_table():
    listed = {name.split('.')[-1] for name in table()}
    # namedtuple's documented API
    unlisted = [u for u in used_private_attributes()
                if u[2] not in listed and u[2] != '_replace']
    assert not unlisted, f'private names not in {PAGE.name}: {unlisted}'


def owners():
    """The object each table row's ``Owner.name`` is looked up on."""
    import numpy
    import torch
    from mmengine.config import Config
    multiarray = numpy._core.multiarray if hasattr(numpy, '_core') else \
        numpy.core.multiarray
    found = {'Config': Config, 'Module': torch.nn.Module, 'numpy': numpy,
             'multiarray': multiarray,
             'OrderedDict': torch.nn.Linear(1, 1).state_dict()}
    try:
        from mmdet.models.roi_heads import StandardRoIHead
        found['StandardRoIHead'] = StandardRoIHead
    except ImportError:  # mmdet's names matter only where mmdet is
        pass
    return found


@pytest.mark.parametrize('name, library', sorted(table().items()))
def test_every_name_in_the_table_exists(name, library):
    owner, attr = name.rsplit('.', 1)
    found = owners()
    if owner == 'StandardRoIHead' and owner not in found:
        pytest.importorskip('mmdet.models.roi_heads')
    if attr == '_compiled_call_impl':  # set by nn.Module.compile
        import torch
        module = torch.nn.Linear(1, 1)
        module.compile(backend='eager')
        assert getattr(module, attr) is not None
    else:
        assert hasattr(found[owner], attr), f'{library} has no {name}'


def test_config_prefix_fails_loudly_without_its_private_name(monkeypatch):
    from mmengine.config import Config

    from mmplug.mim import register_config_prefix
    monkeypatch.delattr(Config, '_get_cfg_path')
    with pytest.raises(RuntimeError, match=r'Config._get_cfg_path'):
        register_config_prefix()
