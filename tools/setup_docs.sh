#!/usr/bin/env bash
# The documentation toolchain (`make docs`, tests/test_docs.py):
# Sphinx, MyST and the theme (the `docs` extra of pyproject.toml) into the
# virtual env $VENV (default .venv, which `make setup` creates), and Debian's
# Chromium for the browser test, only when /usr/bin/chromium is missing
# (apt-get needs root, as on CI). Returns at once when both are there.
# Env: VENV (.venv), SKIP_CHROMIUM=1 (Sphinx only).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
if [[ ! -x $PY ]]; then
  echo "setup_docs.sh: error: no virtual env at $VENV: run make setup first" >&2
  exit 2
fi
if ! "$PY" -c 'import sphinx, myst_parser, sphinx_rtd_theme, sphinx_copybutton' 2>/dev/null; then
  # the docs extra's pins, without reinstalling mmplug and its stack
  mapfile -t DOCS_DEPS < <("$PY" - <<'PYEOF'
import re
try:
    import tomllib
    with open('pyproject.toml', 'rb') as f:
        deps = tomllib.load(f)['project']['optional-dependencies']['docs']
except ImportError:  # Python 3.10: the extra's list, read as text
    text = open('pyproject.toml').read()
    block = re.search(r'^docs = \[(.*?)\]', text, re.S | re.M).group(1)
    deps = re.findall(r'"([^"]+)"', block)
print('\n'.join(deps))
PYEOF
)
  "$PY" -m pip install --quiet "${DOCS_DEPS[@]}"
fi
if [[ ${SKIP_CHROMIUM:-0} != 1 && ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup_docs.sh: error: /usr/bin/chromium is missing and installing it needs root: sudo apt-get install -y chromium" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
"$PY" -c 'import sphinx; print(f"docs toolchain: Sphinx {sphinx.__version__}")'
[[ -x /usr/bin/chromium ]] && /usr/bin/chromium --version 2>/dev/null || true
