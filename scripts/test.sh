#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh), starts a local MLflow server for the tracking tests,
# runs the whole test suite with node's built-in runner, and stops the server; then the cluster
# tests (scripts/test-cluster.sh: Ray, SeaweedFS S3, MLflow on PostgreSQL, started and stopped there).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
port="${MLFLOW_TEST_PORT:-5055}"
dir="$(mktemp -d /tmp/iqlp-mlflow-XXXXXX)"
bash scripts/mlflow-server.sh start "$port" "$dir" >/dev/null
trap 'bash scripts/mlflow-server.sh stop "$port" "$dir" >/dev/null 2>&1 || true' EXIT
export MLFLOW_TEST_URI="http://127.0.0.1:$port"
# The AWS SDK never probes the instance-metadata address (169.254.169.254) from tests: traffic stays on 127.0.0.1.
export AWS_EC2_METADATA_DISABLED=true
npm test
bash scripts/test-cluster.sh
