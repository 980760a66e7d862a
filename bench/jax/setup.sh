#!/usr/bin/env bash
# Installs JAX for the CPU (jax[cpu]: jax + jaxlib, and numpy, scipy, ml_dtypes, opt_einsum) into
# bench/.venv, the benchmark venv that bench/torch/setup.sh also fills, for bench/jax/iql_ref.py.
# PyPI only: jaxlib's Linux x86_64 wheel is the CPU build (GPU support comes from separate plugin
# packages that this does not install). Idempotent: does nothing when the venv already imports the
# pinned jax and jits a gradient step. Usage: bash bench/jax/setup.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/bench/.venv"
PY="${PYTHON:-python3}"
JAX_VERSION=0.10.2

check() {
  "$VENV/bin/python" -c "
import jax, jax.numpy as jnp
assert jax.__version__ == '$JAX_VERSION', jax.__version__
assert jax.default_backend() == 'cpu', jax.default_backend()
f = jax.jit(jax.grad(lambda w, x: jnp.sum(jnp.tanh(x @ w))))
f(jnp.ones((4, 3)), jnp.ones((8, 4))).block_until_ready()
" >/dev/null 2>&1
}

if [ -x "$VENV/bin/python" ] && check; then
  echo "bench/.venv ready (jax $JAX_VERSION)"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "jax[cpu]==$JAX_VERSION"
if ! check; then
  echo "setup.sh: jax $JAX_VERSION installed but does not import/jit; see: $VENV/bin/python -c 'import jax'" >&2
  exit 1
fi
echo "bench/.venv ready (jax $JAX_VERSION)"
