#!/usr/bin/env bash
# Create (or complete) the project's virtual environment, .venv, with the
# pinned stack: torch, mmcv 2.1.0 with its compiled ops (built from source
# against that torch, ~20 min on 2 cores, unless a matching wheel is cached),
# mmengine 0.10.7, mmdet 3.3.0, mmsegmentation 1.2.2, mmpretrain 1.2.0 and
# mmplug itself (editable). Safe to re-run: it returns at once when done.
#
# Env: PYTHON (python3.11, else python3), VENV (.venv), TORCH_VERSION
# (2.13.0), MMCV_WHEELS (../shared/wheels: a folder of prebuilt mmcv wheels,
# used only for the torch version they were built for), MAX_JOBS (2).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${VENV:-.venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
MMCV_WHEELS=${MMCV_WHEELS:-../shared/wheels}
MMCV_WHEELS_TORCH=2.13.0   # the torch the cached wheels were built against
STAMP="$VENV/.mmplug-installed"

if [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] \
    && [ "$STAMP" -nt tools/setup_env.sh ]; then
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
pip() { "$PY" -m pip "$@"; }

# pkg_resources (setuptools < 82) is needed to build mmcv and by mmengine
# 0.10.7 to resolve `mmdet::` / `mmseg::` config bases.
pip install "setuptools>=77,<82" wheel
pip install "torch==$TORCH_VERSION"

if ! "$PY" -c 'import mmcv.ops' 2>/dev/null; then
  links=()
  if [ -d "$MMCV_WHEELS" ] && [ "$TORCH_VERSION" = "$MMCV_WHEELS_TORCH" ]; then
    links=(--find-links "$MMCV_WHEELS")
  fi
  # --no-build-isolation: the build must see torch, or it silently skips ops.
  MMCV_WITH_OPS=1 FORCE_CUDA=${FORCE_CUDA:-0} MAX_JOBS=${MAX_JOBS:-2} \
    pip install --no-build-isolation "${links[@]}" "mmcv==2.1.0"
  if ! "$PY" -c 'import mmcv.ops' 2>/dev/null; then
    echo "setup_env: the installed mmcv has no usable ops; building it from source" >&2
    MMCV_WITH_OPS=1 FORCE_CUDA=${FORCE_CUDA:-0} MAX_JOBS=${MAX_JOBS:-2} \
      pip install --no-build-isolation --no-binary mmcv --no-cache-dir \
      --force-reinstall --no-deps "mmcv==2.1.0"
  fi
fi

pip install --no-build-isolation -e ".[tests]"

"$PY" - <<'PY'
from mmcv.ops import RoIAlign, nms  # noqa: F401  compiled ops
import mmdet.models, mmseg.models, mmplug.models  # noqa: F401,E401
import torch, mmcv, mmdet, mmseg, mmengine  # noqa: E401
print(f'setup_env: ready: torch {torch.__version__}, mmengine '
      f'{mmengine.__version__}, mmcv {mmcv.__version__}, mmdet '
      f'{mmdet.__version__}, mmseg {mmseg.__version__}')
PY
touch "$STAMP"
