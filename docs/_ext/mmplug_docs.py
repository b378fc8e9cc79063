"""Pages generated when the documentation is built, from the code and the
metafiles, so that they cannot drift from them:

- ``model_zoo/<family>.md``: one page per family of papers, rendered from
  ``configs/<family>/metafile.yml`` (and the demo's ``results.yml``) by
  :func:`mmplug.apis.model_index.render_family`, as the per-family
  ``README.md`` files are;
- ``_generated/model_zoo_toc.md``: the table of the families;
- ``_generated/out_channels.md``: every registered backbone's
  ``out_channels`` per arch, built from the code.
"""
import inspect
import os
import os.path as osp
from typing import Dict, List

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS = osp.join(REPO, 'docs')


def _write(path: str, text: str) -> None:
    """Write ``text`` unless the file holds it already (Sphinx rebuilds
    only what changed)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    if osp.isfile(path):
        with open(path) as f:
            if f.read() == text:
                return
    with open(path, 'w') as f:
        f.write(text)


def family_pages() -> List[Dict[str, str]]:
    """Write ``model_zoo/<family>.md``; return one row per family."""
    import yaml

    from mmplug.apis.model_index import (DEMO_RESULTS, metafile_paths,
                                         paper_metrics, render_family)
    rows = []
    for rel in metafile_paths(REPO):
        with open(osp.join(REPO, rel)) as f:
            data = yaml.safe_load(f)
        family = osp.basename(osp.dirname(rel))
        text = render_family(data)
        source = osp.join('configs', family, osp.basename(rel))
        text = text.replace(
            '\n## ', f'\n*Generated from `{source}`.*\n\n## ', 1)
        _write(osp.join(DOCS, 'model_zoo', f'{family}.md'), text)
        collection = data['Collections'][0]
        models = data.get('Models') or []
        rows.append(dict(
            family=family, name=collection['Name'],
            configs=str(len(models)),
            results=str(sum(bool(paper_metrics(m)) for m in models)),
            demo=str(rel == DEMO_RESULTS)))
    return rows


def model_zoo_toc(rows: List[Dict[str, str]]) -> None:
    lines = ['| family | configs | with a paper\'s result |',
             '|---|---|---|']
    for row in rows:
        results = row['results'] if row['demo'] == 'False' else \
            f"{row['results']} (ours, demo data)"
        lines.append(f"| [{row['name']}]({row['family']}.md) | "
                     f"{row['configs']} | {results} |")
    toc = ['', '```{toctree}', ':hidden:', '']
    toc += [row['family'] for row in rows]
    toc += ['```', '']
    _write(osp.join(DOCS, '_generated', 'model_zoo_toc.md'),
           '\n'.join(lines + toc))


def _archs(cls: type) -> Dict[str, list]:
    """Distinct archs of a backbone: first name -> its aliases."""
    zoo = getattr(cls, 'arch_zoo', None) or {}
    seen: Dict[str, list] = {}
    by_value: Dict[str, str] = {}
    for name, value in zoo.items():
        key = repr(value)
        if key in by_value:
            seen[by_value[key]].append(str(name))
        else:
            by_value[key] = str(name)
            seen[str(name)] = [str(name)]
    return seen


def out_channels_table() -> None:
    """Every registered backbone's maps per arch: what to give a neck's
    ``in_channels``."""
    import torch

    import mmplug.models  # noqa: F401  (registers the models)
    from mmplug.models.utils.backbone import BaseBackbone
    from mmplug.registry import MODELS
    lines = [
        '| backbone | arch | `out_channels` (default `out_indices`) | '
        'default `out_indices` | every stage\'s channels | strides |',
        '|---|---|---|---|---|---|',
    ]
    for name in sorted(MODELS.module_dict):
        cls = MODELS.module_dict[name]
        if not (inspect.isclass(cls) and issubclass(cls, BaseBackbone)):
            continue
        for arch, aliases in _archs(cls).items():
            with torch.device('meta'):
                try:
                    model = cls(arch=arch)
                except Exception:  # an op without a meta kernel
                    model = None
            if model is None:
                model = cls(arch=arch)
            names = ' / '.join(f'`{a}`' for a in aliases)
            lines.append(
                f'| `mmplug.{name}` | {names} | '
                f'`{list(model.out_channels)}` | '
                f'`{tuple(model.out_indices)}` | '
                f'`{list(model.stage_channels)}` | '
                f'`{list(model.stage_strides)}` |')
    _write(osp.join(DOCS, '_generated', 'out_channels.md'),
           '\n'.join(lines) + '\n')


def generate(app=None) -> None:
    """Write every generated page (Sphinx's ``builder-inited``)."""
    model_zoo_toc(family_pages())
    out_channels_table()


_SECTIONS = ('Args:', 'Arguments:', 'Attributes:', 'Keyword Args:')


def join_wrapped_names(app, what, name, obj, options, lines) -> None:
    """Google-style ``Args:`` entries whose comma-separated names wrap onto
    the next line (``in_channels, out_channels,`` / ``groups: as
    nn.Conv2d``): join them into one line, which is what napoleon parses
    as one entry (``autodoc-process-docstring``)."""
    in_args = False
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped in _SECTIONS:
            in_args = True
        elif stripped.endswith(':') and not lines[i].startswith(' ') \
                and stripped not in _SECTIONS:
            in_args = False
        if in_args and stripped.endswith(',') and ':' not in stripped \
                and i + 1 < len(lines):
            indent = len(lines[i]) - len(lines[i].lstrip())
            nxt = lines[i + 1]
            if len(nxt) - len(nxt.lstrip()) > indent:
                lines[i] = f'{lines[i].rstrip()} {nxt.strip()}'
                del lines[i + 1]
                continue
        i += 1


def setup(app):
    app.connect('builder-inited', generate)
    # before napoleon turns the Google sections into fields
    app.connect('autodoc-process-docstring', join_wrapped_names,
                priority=100)
    return dict(version='1.0', parallel_read_safe=True,
                parallel_write_safe=True)
