#!/usr/bin/env bash
# The cluster tests (test/cluster, src/store/remote.test): installs what they need once
# (scripts/setup-cluster.sh, idempotent), starts SeaweedFS (S3), a Ray head + one worker node and
# MLflow on PostgreSQL + S3, all on 127.0.0.1, runs the tests, and stops every service on exit.
# scripts/test.sh calls it after the main suite; run it alone with: bash scripts/test-cluster.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup-cluster.sh >/dev/null
dir="$(mktemp -d /tmp/iqlp-cluster-XXXXXX)"
trap 'bash scripts/cluster-services.sh stop "$dir" || true; rm -rf "$dir"' EXIT
source "$(bash scripts/cluster-services.sh start "$dir")"
node scripts/run-tests.js dist/test/cluster/ dist/src/store/remote.test.js
