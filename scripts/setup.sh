#!/usr/bin/env bash
# Sets up a fresh machine for iql-pipeline (idempotent; safe to re-run):
#   - Debian packages the report/UI tests need (chromium, a font for rendered charts), when missing and run as root
#   - npm ci (also compiles the TypeScript through the `prepare` script)
#   - the native TensorFlow backend (@tensorflow/tfjs-node) provisioned from npm + PyPI; on failure the
#     tool falls back to the wasm backend and says so (set IQLP_SKIP_NATIVE=1 to skip this step)
#   - the native IQL critic kernel (native/iql-kernel, scripts/build-kernel.sh: N-API addon over OpenBLAS
#     from the PyPI wheel scipy-openblas32); on failure fit-iql's compute: auto runs the step on tfjs and
#     says why (set IQLP_SKIP_KERNEL=1 to skip this step)
#   - a venv with the MLflow server (for `pipeline ui` and the tracking tests)
#   - .venv: Python for Python and command stages (pyarrow, numpy, the shipped iqlp package); PyTorch
#     (about 4 GB; stages/iql_torch.py, pipelines/reference-iql.yaml) with IQLP_TORCH=1, and in CI
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || need_apt+=(fonts-dejavu-core)
command -v curl >/dev/null || need_apt+=(curl)
command -v g++ >/dev/null || need_apt+=(g++)  # the native IQL kernel (and tfjs-node's addon)
if (( ${#need_apt[@]} )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "[setup] apt-get install ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "[setup] warning: missing ${need_apt[*]} (install them with your package manager; browser tests need chromium)" >&2
  fi
fi

echo "[setup] npm ci"
npm ci --no-audit --no-fund

if [[ "${IQLP_SKIP_NATIVE:-0}" != 1 ]]; then
  echo "[setup] native TensorFlow backend"
  bash scripts/provision-tfjs-node.sh || echo "[setup] native backend not available; training will use the wasm backend" >&2
fi

if [[ "${IQLP_SKIP_KERNEL:-0}" != 1 ]]; then
  echo "[setup] native IQL critic kernel"
  bash scripts/build-kernel.sh || echo "[setup] native IQL kernel not built (reason in native/iql-kernel/build/BUILD_FAILED); fit-iql will run the IQL step on tfjs" >&2
fi

echo "[setup] Python stage venv (.venv)"
bash scripts/setup-python.sh >/dev/null
# PyTorch (≈ 4 GB, 2–3 min from PyPI) only where asked for or in CI, where it lets the one test of
# the PyTorch reference stages run; a failed download there only skips that test.
if [[ "${IQLP_TORCH:-}" == 1 || ( -z "${IQLP_TORCH:-}" && "${CI:-}" == true ) ]]; then
  echo "[setup] PyTorch for the reference stages (.venv)"
  bash scripts/setup-python.sh --torch >/dev/null || echo "[setup] warning: torch did not install; the PyTorch stage test will be skipped" >&2
fi

echo "[setup] MLflow server venv"
bash scripts/setup-mlflow.sh >/dev/null
echo "[setup] done"
