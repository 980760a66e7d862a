#!/usr/bin/env bash
# Idempotent: creates a Python venv holding a pinned MLflow tracking server.
#   scripts/setup-mlflow.sh [venv-dir]      (default: $MLFLOW_VENV or <repo>/.venv-mlflow)
# Prints the venv path on its last line. Re-running with the pinned version already present is a no-op.
set -euo pipefail

MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${MLFLOW_VENV:-$ROOT/.venv-mlflow}}"
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for c in python3.11 python3.12 python3.13 python3.10 python3; do
    if command -v "$c" >/dev/null 2>&1; then PYTHON="$c"; break; fi
  done
fi
[[ -n "$PYTHON" ]] || { echo "setup-mlflow: no python3 found" >&2; exit 1; }

if [[ -x "$VENV/bin/mlflow" ]] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('mlflow') == '$MLFLOW_VERSION' else 1)" 2>/dev/null; then
  [[ -f "$VENV/.gitignore" ]] || echo '*' > "$VENV/.gitignore"
  echo "setup-mlflow: mlflow $MLFLOW_VERSION already in $VENV" >&2
  echo "$VENV"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup-mlflow: creating venv $VENV with $PYTHON" >&2
  "$PYTHON" -m venv "$VENV"
fi
# Keep the venv out of git whatever the project's .gitignore says (Python >= 3.13 does this itself).
[[ -f "$VENV/.gitignore" ]] || echo '*' > "$VENV/.gitignore"
echo "setup-mlflow: installing mlflow==$MLFLOW_VERSION into $VENV" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2 || true
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION" >&2
"$VENV/bin/mlflow" --version >&2
echo "$VENV"
