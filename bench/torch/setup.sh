#!/usr/bin/env bash
# Creates bench/.venv with PyTorch for CPU use (bench/torch/iql_ref.py). Idempotent: does nothing
# when the venv already imports the pinned torch. Usage: bash bench/torch/setup.sh
#
# Why the install looks like this (checked 2026-11 on Linux x86_64, Python 3.11, PyPI only):
# - The CPU-only builds (`torch==X+cpu`) live on download.pytorch.org, not on PyPI, and that
#   host is not reachable here. PyPI's Linux x86_64 torch wheel is the CUDA build.
# - CUDA is NOT loaded lazily: libtorch_cuda.so is a hard dependency of libtorch.so and
#   libtorch_python.so, and it NEEDs libcudart, cublas(Lt), cufft, cufile, cusparse, cusparseLt,
#   nccl, cudnn, nvrtc, nvshmem, cupti (plus nvJitLink for cusparse). `pip install --no-deps torch`
#   with only the pure-Python deps fails at import (`libcudart.so.13: cannot open shared object`).
# - So the smallest working set is: torch --no-deps + its pure-Python deps + exactly the NVIDIA
#   runtime wheels that the shared libraries link against. Left out (not needed for CPU eager
#   mode; torch imports and trains without them): triton (~1 GB), nvidia-cusolver (~265 MB,
#   loaded lazily via libtorch_cuda_linalg), cuda-toolkit meta, cuda-bindings, cuda-pathfinder,
#   nvidia-nvtx, nvidia-cuda-cccl. Result ≈ 4.0 GB instead of 5.3 GB for plain `pip install torch`
#   (≈ 1.5 min at registry speed here). No GPU is needed or used: torch.cuda.is_available() is
#   False and everything runs on the CPU (MKL / oneDNN / OpenMP).
# - numpy is not installed here (torch warns once at import; iql_ref.py silences that warning);
#   bench/jax/setup.sh adds it to the same venv with jax[cpu].
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/bench/.venv"
PY="${PYTHON:-python3}"
TORCH_VERSION=2.15.0

PKGS=(
  "torch==$TORCH_VERSION"
  # pure-Python deps of torch 2.15.0
  filelock==4.3.1 typing_extensions==4.16.0 sympy==1.14.0 mpmath==1.3.0 networkx==3.6.1
  Jinja2==3.1.6 MarkupSafe==3.0.4 fsspec==2026.9.0
  # NVIDIA runtime libraries that libtorch_cuda.so / libtorch_python.so link against (the versions
  # torch 2.15.0's own requirements resolve to)
  nvidia-cuda-runtime==13.2.86 nvidia-cublas==13.4.1.3 nvidia-cufft==12.2.0.57
  nvidia-cufile==1.17.1.22 nvidia-cusparse==12.7.10.12 nvidia-nvjitlink==13.5.37
  nvidia-cuda-nvrtc==13.2.86 nvidia-cuda-cupti==13.2.86 nvidia-cudnn-cu13==9.26.0.51
  nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 nvidia-nvshmem-cu13==3.7.2
)

check() {
  "$VENV/bin/python" -W ignore -c "
import torch, sys
assert torch.__version__.split('+')[0] == '$TORCH_VERSION', torch.__version__
x = torch.randn(8, 4, requires_grad=True); torch.nn.Linear(4, 1)(x).sum().backward()
" >/dev/null 2>&1
}

if [ -x "$VENV/bin/python" ] && check; then
  echo "bench/.venv ready (torch $TORCH_VERSION)"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --no-deps "${PKGS[@]}"
if ! check; then
  echo "setup.sh: torch $TORCH_VERSION installed but does not import/train; see: $VENV/bin/python -c 'import torch'" >&2
  exit 1
fi
echo "bench/.venv ready (torch $TORCH_VERSION)"
