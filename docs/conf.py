"""Sphinx configuration of mmplug's documentation (``make docs``).

MyST Markdown pages, the API reference from the docstrings (autodoc with
Google-style docstrings), and pages generated at build time from the code
and the metafiles (``_ext/mmplug_docs.py``). No network is needed: no
intersphinx, no external link check.
"""
import os.path as osp
import sys

DOCS = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(DOCS)
sys.path.insert(0, REPO)
sys.path.insert(0, osp.join(DOCS, '_ext'))

import mmplug  # noqa: E402

project = 'mmplug'
author = 'mmplug contributors'
copyright = '2026, mmplug contributors'
version = release = mmplug.__version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'sphinx_copybutton',
    'mmplug_docs',
]
source_suffix = {'.md': 'markdown', '.rst': 'restructuredtext'}
root_doc = 'index'
exclude_patterns = ['_build', 'README.md', '_generated/*.md']
myst_enable_extensions = ['colon_fence', 'deflist']
myst_heading_anchors = 3
# keep quotes as typed (names like "paper's result" stay searchable)
smartquotes = False

# Warnings are errors (make docs passes -W), and every reference between
# pages must resolve (nitpicky). Python cross-references inside docstrings
# (`:class:`Name`` of another module, torch, mmengine, numpy, ...) are left
# as plain text where Sphinx cannot resolve them offline.
nitpicky = True
nitpick_ignore_regex = [(r'py:.*', r'(?s).*')]

import mmplug.errors  # noqa: E402

#: The errors are documented once, in mmplug.errors (other modules re-export
#: them).
ERRORS = sorted(name for name, obj in vars(mmplug.errors).items()
                if isinstance(obj, type) and issubclass(obj, Exception)
                and obj.__module__ == 'mmplug.errors')
autodoc_default_options = {
    'members': True,
    'undoc-members': False,
    'show-inheritance': True,
    'member-order': 'bysource',
    'exclude-members': ', '.join(ERRORS),
}
autodoc_typehints = 'description'
autodoc_typehints_description_target = 'documented'
autodoc_mock_imports = []
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = 'sphinx_rtd_theme'
html_title = f'mmplug {release}'
html_static_path = ['_static']
html_css_files = ['custom.css']
html_theme_options = {'navigation_depth': 3, 'collapse_navigation': False}
html_show_sourcelink = False
