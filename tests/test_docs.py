"""The built documentation (``make docs``, ``docs/_build/html``) in a real
headless Chromium: the home page and a model-zoo page render with their
tables, and the model-zoo page shows what its metafile holds.

The site and the browser are prerequisites, not options: without them the
tests fail and say what to run (``make docs``, which also installs Debian's
Chromium through ``tools/setup_docs.sh``)."""
import os
import os.path as osp
import subprocess
import tempfile
from html.parser import HTMLParser
from typing import List

import pytest

from mmplug.apis.model_index import load_models, paper_metrics

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SITE = osp.join(REPO, 'docs', '_build', 'html')
CHROMIUM = os.environ.get('MMPLUG_CHROMIUM', '/usr/bin/chromium')
FLAGS = ('--headless', '--no-sandbox', '--disable-gpu',
         '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run')


class Page(HTMLParser):
    """What a test looks at in a DOM: the title, the tables (rows of cell
    texts), the links of each table and the text of ``pre`` blocks."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.title = ''
        self.tables: List[List[List[str]]] = []
        self.table_links: List[List[str]] = []
        self.pre: List[str] = []
        self._in = {'title': False, 'cell': False, 'pre': 0}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == 'title':
            self._in['title'] = True
        elif tag == 'table':
            self.tables.append([])
            self.table_links.append([])
        elif tag == 'tr' and self.tables:
            self.tables[-1].append([])
        elif tag in ('td', 'th') and self.tables:
            self.tables[-1][-1].append('')
            self._in['cell'] = True
        elif tag == 'a' and self._in['cell']:
            href = dict(attrs).get('href')
            if href:
                self.table_links[-1].append(href)
        elif tag == 'pre':
            self._in['pre'] += 1
            self.pre.append('')

    def handle_endtag(self, tag):
        if tag == 'title':
            self._in['title'] = False
        elif tag in ('td', 'th'):
            self._in['cell'] = False
        elif tag == 'pre':
            self._in['pre'] -= 1

    def handle_data(self, data):
        if self._in['title']:
            self.title += data
        if self._in['cell']:
            self.tables[-1][-1][-1] += data
        if self._in['pre']:
            self.pre[-1] += data


def rendered(page: str) -> Page:
    """``page`` of the built site as Chromium renders it (its DOM)."""
    path = osp.join(SITE, page)
    assert osp.isfile(path), (
        f'the documentation is not built ({path} is missing): run `make docs`')
    assert osp.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK), (
        f'no Chromium at {CHROMIUM}: run `make docs` (tools/setup_docs.sh '
        'installs Debian\'s chromium) or set MMPLUG_CHROMIUM')
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [CHROMIUM, *FLAGS, f'--user-data-dir={profile}', '--dump-dom',
             f'file://{path}'],
            capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    assert '</html>' in res.stdout, res.stderr[-3000:]
    return Page(res.stdout)


def cells(table: List[List[str]]) -> List[List[str]]:
    return [[' '.join(c.split()) for c in row] for row in table]


@pytest.mark.e2e
def test_home_page_renders_the_models_table():
    page = rendered('index.html')
    assert page.title.startswith('mmplug')
    table = cells(page.tables[0])
    assert table[0] == ['model', 'kind', 'in a config', 'model zoo']
    names = [row[0] for row in table[1:]]
    assert 'SMT (T/S/B/L)' in names and 'FPT' in names
    # every model-zoo link of the table leads to a page of the built site
    links = page.table_links[0]
    assert len(links) == len(table) - 1
    for href in links:
        assert osp.isfile(osp.join(SITE, href.split('#')[0])), href


@pytest.mark.e2e
def test_model_zoo_page_renders_its_metafile():
    page = rendered(osp.join('model_zoo', 'smt.html'))
    models = load_models(osp.join(REPO, 'configs', 'smt', 'metafile.yml'))
    table = cells(page.tables[0])
    assert table[0][0] == 'config' and "paper's result" in table[0]
    rows = {row[0]: row for row in table[1:]}
    assert set(rows) == {m['Config'] for m in models}
    column = table[0].index("paper's result")
    for model in models:
        row = rows[model['Config']]
        for metric, value in paper_metrics(model).items():
            assert f'{metric} {value}' in row[column], model['Name']
    citation = models[0]['_collection']['Citation'].split('\n')[0]
    assert any(citation in block for block in page.pre)
