#!/usr/bin/env bash
# Creates .venv at the repo root and installs the pinned OpenMMLab stack plus this plugin into it.
# Idempotent: each step first checks whether its package is already there at the pinned version,
# so a second run takes seconds. The one slow step is compiling mmcv's ops: 10 to 27 minutes on a
# fresh 2-core machine (27 of the 31 the first `make test` took on one, 9.5 on another); pip
# caches the built wheel, so later venvs install it in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
PY=$VENV/bin/python
PIP="$PY -m pip --disable-pip-version-check -q"

say() { printf '[install] %s\n' "$*"; }

# Runs "$@" while printing, every minute, that $1's step is still under way and for how long, so
# that a long silent compile does not look like a hang.
with_heartbeat() {
  local what=$1 started=$SECONDS ticker status=0
  shift
  ( while sleep 60; do
      say "$what: still running, $(( (SECONDS - started) / 60 )) min so far"
    done ) &
  ticker=$!
  "$@" || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  local took=$(( SECONDS - started ))
  say "$what: finished in $(( took / 60 )) min $(( took % 60 )) s (exit status $status)"
  return "$status"
}

# True when `import $1` works and its __version__ equals $2.
has() { $PY -c "import sys, $1; sys.exit(0 if $1.__version__.split('+')[0] == '$2' else 1)" 2>/dev/null; }

if [ ! -x "$PY" ]; then
  say "creating virtual environment $VENV with $($PYTHON --version)"
  $PYTHON -m venv "$VENV"
fi

has torch 2.13.0 || { say "installing torch 2.13.0 (CPU build)"; $PIP install torch==2.13.0; }
has mmengine 0.10.7 || { say "installing mmengine 0.10.7"; $PIP install mmengine==0.10.7; }

if ! $PY -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
  # mmcv ships no wheel for this torch: build the sdist with its compiled ops against the torch
  # installed above (hence --no-build-isolation). mmcv's setup.py needs setuptools<70, while
  # torch 2.13 declares setuptools>=77, so the old one is installed for the build only.
  JOBS=${MAX_JOBS:-$(nproc)}
  say "compiling mmcv 2.1.0 with its CPU ops now, $JOBS parallel jobs: 10 to 27 minutes on 2 cores" \
      "(measured on fresh machines; less with more cores), silent while the C++ compiles, with a" \
      "line every minute; pip caches the wheel, so later installs take seconds"
  $PIP install "setuptools<70" wheel 2>&1 | grep -v "dependency conflicts\|requires setuptools" || true
  MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=$JOBS with_heartbeat "mmcv compile" \
    $PY -m pip --disable-pip-version-check install --no-build-isolation mmcv==2.1.0
fi

# torch 2.13 declares setuptools>=77.0.3; mmengine 0.10.7 resolves `mmseg::` config paths through
# pkg_resources, which setuptools 81 removed.
if ! $PY -c "import pkg_resources, setuptools; assert 77 <= int(setuptools.__version__.split('.')[0]) < 81" 2>/dev/null; then
  say "installing setuptools>=77.0.3,<81 (torch needs >=77.0.3, mmengine needs pkg_resources)"
  $PIP install "setuptools>=77.0.3,<81" 2>&1 | grep -v "^WARNING: Location" || true
fi

has mmseg 1.2.2 || { say "installing mmsegmentation 1.2.2"; $PIP install mmsegmentation==1.2.2; }

if ! $PY -c "import mmseg_pixcon" 2>/dev/null || [ requirements-test.txt -nt "$VENV/.pixcon-requirements" ] || [ requirements.txt -nt "$VENV/.pixcon-requirements" ]; then
  say "installing mmseg-pixcon (editable) and its test requirements"
  $PIP install -r requirements.txt -r requirements-test.txt
  $PIP install --no-build-isolation --no-deps -e .
  # cityscapesscripts (label table for tools/convert_cityscapes.py): its declared dependencies
  # include the obsolete `typing` backport, harmful on Python 3 - its label table needs none of them.
  $PIP install --no-deps cityscapesscripts==2.3.0
  touch "$VENV/.pixcon-requirements"
fi
say "environment ready: $($PY -c 'import torch, mmcv, mmengine, mmseg; print(f"torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, mmseg {mmseg.__version__}")')"
