#!/usr/bin/env bash
# Idempotent: the Python environment for Python and command stages (python/iqlp, docs/python-stages.md).
#   scripts/setup-python.sh [--torch]      venv: $IQLP_VENV or <repo>/.venv
# Installs pinned pyarrow + numpy and the shipped iqlp package (editable, so edits to python/iqlp
# take effect without a reinstall). --torch (or IQLP_TORCH=1) adds PyTorch for stages/iql_torch.py:
#   - on a machine with an NVIDIA driver: PyPI's torch wheel as is (it is the CUDA build);
#   - otherwise the minimal CPU set of bench/torch/setup.sh (torch --no-deps + the NVIDIA runtime
#     libraries libtorch links against, without triton/cusolver: ≈ 4 GB instead of 5.3 GB).
# A second run with everything in place only checks the imports (about a second).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${IQLP_VENV:-$ROOT/.venv}"
PYARROW_VERSION=25.0.1
NUMPY_VERSION=2.4.6
TORCH=${IQLP_TORCH:-0}
[[ "${1:-}" == --torch ]] && TORCH=1

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for c in python3.12 python3.11 python3.13 python3.10 python3; do
    if "$c" -c "import venv" >/dev/null 2>&1; then PYTHON="$c"; break; fi
  done
fi
[[ -n "$PYTHON" ]] || { echo "setup-python: no python3 found" >&2; exit 1; }

base_ok() {
  "$VENV/bin/python" - <<PY 2>/dev/null
import importlib.metadata as m, sys
ok = m.version("pyarrow") == "$PYARROW_VERSION" and m.version("numpy") == "$NUMPY_VERSION"
import iqlp, os
ok = ok and os.path.realpath(os.path.dirname(iqlp.__file__)) == os.path.realpath("$ROOT/python/iqlp")
sys.exit(0 if ok else 1)
PY
}
torch_ok() { "$VENV/bin/python" -W ignore -c "import torch; torch.nn.Linear(4, 1)(torch.randn(8, 4)).sum().backward()" >/dev/null 2>&1; }

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup-python: creating venv $VENV with $PYTHON" >&2
  "$PYTHON" -m venv "$VENV"
fi
[[ -f "$VENV/.gitignore" ]] || echo '*' > "$VENV/.gitignore"

if base_ok; then
  echo "setup-python: pyarrow $PYARROW_VERSION, numpy $NUMPY_VERSION, iqlp already in $VENV" >&2
else
  echo "setup-python: installing pyarrow $PYARROW_VERSION, numpy $NUMPY_VERSION, iqlp into $VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pyarrow==$PYARROW_VERSION" "numpy==$NUMPY_VERSION" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT/python" >&2
  base_ok || { echo "setup-python: pyarrow/numpy/iqlp do not import from $VENV" >&2; exit 1; }
fi

if [[ "$TORCH" == 1 ]]; then
  if torch_ok; then
    echo "setup-python: torch already in $VENV" >&2
  elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "setup-python: installing torch (CUDA build, a GPU is present) into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "torch==2.15.0" >&2
  else
    echo "setup-python: installing torch (CPU use, minimal set) into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$ROOT/python/requirements-torch-cpu.txt" >&2
  fi
  torch_ok || { echo "setup-python: torch does not import/train in $VENV" >&2; exit 1; }
fi
echo "$VENV"
