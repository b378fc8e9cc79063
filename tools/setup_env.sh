#!/usr/bin/env bash
# Create (or complete) a virtual environment with one OpenMMLab stack, its
# tested versions, and mmplug itself (editable, with its test tools):
#
#   STACK=upstream (default), in .venv: OpenMMLab's releases, mmengine
#     0.10.7, mmcv 2.1.0, mmdet 3.3.0, mmsegmentation 1.2.2, mmpretrain 1.2.0
#   STACK=onedl, in .venv-onedl: the maintained fork (same module names),
#     onedl-mmengine 0.10.12, onedl-mmcv 2.3.6, onedl-mmdetection 3.5.1,
#     onedl-mmsegmentation 1.4.2, onedl-mmpretrain 1.3.6
#
# both on torch 2.13.0, with mmcv's compiled ops built from source against
# that torch (10-20 min on 2 cores) unless a matching wheel is cached. The two
# stacks never share an environment: given a VENV that holds the other one,
# its packages are removed first. Safe to re-run: it returns at once when the
# environment is complete for this stack.
#
# Env: STACK (upstream), PYTHON (python3.11, else python3), VENV (.venv for
# upstream, .venv-onedl for onedl), TORCH_VERSION (2.13.0), MMCV_WHEELS
# (../shared/wheels: a folder of prebuilt mmcv wheels, used only for the torch
# version they were built for), MAX_JOBS (2).
set -euo pipefail
cd "$(dirname "$0")/.."

STACK=${STACK:-upstream}
case "$STACK" in
  upstream)
    default_venv=.venv
    ENGINE=mmengine==0.10.7
    MMCV_DIST=mmcv MMCV_VERSION=2.1.0
    REST=(mmdet==3.3.0 mmsegmentation==1.2.2 mmpretrain==1.2.0)
    OTHER=(onedl-mmengine onedl-mmcv onedl-mmdetection onedl-mmsegmentation
           onedl-mmpretrain)
    ;;
  onedl)
    default_venv=.venv-onedl
    ENGINE=onedl-mmengine==0.10.12
    MMCV_DIST=onedl-mmcv MMCV_VERSION=2.3.6
    REST=(onedl-mmdetection==3.5.1 onedl-mmsegmentation==1.4.2
          onedl-mmpretrain==1.3.6)
    OTHER=(mmengine mmcv mmdet mmsegmentation mmpretrain)
    ;;
  *)
    echo "setup_env: error: unknown STACK '$STACK' (upstream or onedl)" >&2
    exit 2
    ;;
esac

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${VENV:-$default_venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
MMCV_WHEELS=${MMCV_WHEELS:-../shared/wheels}
MMCV_WHEELS_TORCH=2.13.0   # the torch the cached wheels were built against
STAMP="$VENV/.mmplug-installed"
WANT="stack=$STACK torch=$TORCH_VERSION"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] \
    && [ "$STAMP" -nt pyproject.toml ] && [ "$STAMP" -nt tools/setup_env.sh ]; then
  exit 0
fi
echo "setup_env: $STACK stack in $VENV"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# keep the environment out of git (as Python >= 3.13's venv does itself)
[ -f "$VENV/.gitignore" ] || echo '*' > "$VENV/.gitignore"
rm -f "$STAMP"
PY="$VENV/bin/python"
pip() { "$PY" -m pip "$@"; }

# The other stack's distributions (same module names) go first.
mapfile -t present < <("$PY" - "${OTHER[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, distribution
for name in sys.argv[1:]:
    try:
        distribution(name)
    except PackageNotFoundError:
        continue
    print(name)
PY
)
if [ "${#present[@]}" -gt 0 ]; then
  echo "setup_env: $VENV holds the other stack; removing ${present[*]}" >&2
  pip uninstall -y "${present[@]}"
fi

# pkg_resources (setuptools < 82) is needed to build mmcv and by mmengine
# 0.10.7 to resolve `mmdet::` / `mmseg::` config bases.
pip install "setuptools>=77,<82" wheel
pip install "torch==$TORCH_VERSION"
pip install "$ENGINE"

mmcv_ready() {  # this stack's mmcv, at its version, with its compiled ops
  "$PY" - "$MMCV_DIST" "$MMCV_VERSION" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
import mmcv.ops  # noqa: F401
sys.exit(version(sys.argv[1]) != sys.argv[2])
PY
}
if ! mmcv_ready; then
  links=()
  if [ -d "$MMCV_WHEELS" ] && [ "$TORCH_VERSION" = "$MMCV_WHEELS_TORCH" ]; then
    links=(--find-links "$MMCV_WHEELS")
  fi
  # --no-build-isolation: the build must see torch, or it silently skips ops.
  MMCV_WITH_OPS=1 FORCE_CUDA=${FORCE_CUDA:-0} MAX_JOBS=${MAX_JOBS:-2} \
    pip install --no-build-isolation "${links[@]}" "$MMCV_DIST==$MMCV_VERSION"
  if ! mmcv_ready; then
    echo "setup_env: the installed mmcv has no usable ops; building it from source" >&2
    MMCV_WITH_OPS=1 FORCE_CUDA=${FORCE_CUDA:-0} MAX_JOBS=${MAX_JOBS:-2} \
      pip install --no-build-isolation --no-binary "$MMCV_DIST" --no-cache-dir \
      --force-reinstall --no-deps "$MMCV_DIST==$MMCV_VERSION"
  fi
fi

pip install "${REST[@]}"
# mmplug with this stack's extras (pyproject.toml: the ranges it supports)
pip install --no-build-isolation -e ".[tests,$STACK,$STACK-pretrain]"

"$PY" - <<'PY'
from mmcv.ops import RoIAlign, nms  # noqa: F401  compiled ops
import mmdet.models, mmseg.models, mmplug.models  # noqa: F401,E401
import torch, mmcv, mmdet, mmseg, mmengine  # noqa: E401
print(f'setup_env: ready: torch {torch.__version__}, mmengine '
      f'{mmengine.__version__}, mmcv {mmcv.__version__}, mmdet '
      f'{mmdet.__version__}, mmseg {mmseg.__version__}')
PY
echo "$WANT" > "$STAMP"
