#!/usr/bin/env bash
# Builds the native IQL critic kernel (native/iql-kernel/iql_kernel.cc: a plain N-API addon) against
# OpenBLAS from the PyPI wheel scipy-openblas32 (a shared library + cblas headers, symbols prefixed
# scipy_), using only registries: pip for the wheel, the Node headers that ship with node, g++.
#
# Output: native/iql-kernel/build/iql_kernel.node and libscipy_openblas.so beside it (RUNPATH $ORIGIN),
# so the build folder is self-contained. On failure it writes the reason to
# native/iql-kernel/build/BUILD_FAILED (src/rl/algos/iql-kernel.ts reports it once and training
# falls back to tfjs) and exits non-zero.
#
# Idempotent and fast when already built: a stamp of the source, this script, the wheel version, the
# compiler flags and node's ABI is compared first (≈ 0.1 s). The wheel is cached under
# ${IQLP_KERNEL_CACHE:-~/.cache/iql-pipeline/iql-kernel}. FORCE=1 rebuilds.
# Needs: node (headers in <prefix>/include/node), python3 + pip, g++. Linux x86_64.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/native/iql-kernel/iql_kernel.cc"
OUT="$ROOT/native/iql-kernel/build"
CACHE="${IQLP_KERNEL_CACHE:-$HOME/.cache/iql-pipeline/iql-kernel}"
OPENBLAS_VERSION=0.3.34.481.3

log() { printf '[build-kernel] %s\n' "$*" >&2; }
mkdir -p "$OUT"
fail() {
  log "ERROR: $*"
  printf '%s\n' "$*" >"$OUT/BUILD_FAILED"
  exit 1
}

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || fail "only Linux x86_64 is supported ($(uname -s)-$(uname -m))"
for t in node python3 g++; do command -v "$t" >/dev/null || fail "missing tool: $t"; done
NODE_INC="$(dirname "$(dirname "$(command -v node)")")/include/node"
[ -f "$NODE_INC/node_api.h" ] || NODE_INC=/usr/include/node
[ -f "$NODE_INC/node_api.h" ] || fail "node_api.h not found (looked in <node prefix>/include/node and /usr/include/node)"

# AVX2 + FMA code for the elementwise passes where the CPU has them; -fopenmp-simd for the LayerNorm
# row sums (fixed order: still deterministic), -fno-math-errno -fno-trapping-math so that loops with
# sqrt, min/max vectorise (neither changes a result). (OpenBLAS picks its own GEMM
# kernels at run time for the CPU it runs on).
MARCH=""
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then MARCH="-march=x86-64-v3"; fi
CXXFLAGS="-std=c++17 -O3 $MARCH -fopenmp-simd -fno-math-errno -fno-trapping-math -fPIC -shared -Wall -Wextra -Wno-unused-parameter"
STAMP="$( { cat "$SRC" "${BASH_SOURCE[0]}"; echo "$OPENBLAS_VERSION $CXXFLAGS $(node -p 'process.versions.modules + " " + process.versions.napi')"; } | sha256sum | cut -c1-32)"

if [ "${FORCE:-0}" != 1 ] && [ -f "$OUT/iql_kernel.node" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ]; then
  log "up to date ($OUT/iql_kernel.node)"
  exit 0
fi
rm -f "$OUT/BUILD_FAILED"

# ---- OpenBLAS from PyPI (cached) -----------------------------------------------------------------
BLAS="$CACHE/scipy-openblas32-$OPENBLAS_VERSION"
if [ ! -f "$BLAS/lib/libscipy_openblas.so" ] || [ ! -f "$BLAS/include/cblas.h" ]; then
  mkdir -p "$CACHE/wheels"
  whl="$(ls "$CACHE"/wheels/scipy_openblas32-"$OPENBLAS_VERSION"-*.whl 2>/dev/null | head -1 || true)"
  if [ -z "$whl" ]; then
    log "pip download scipy-openblas32==$OPENBLAS_VERSION"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
      "scipy-openblas32==$OPENBLAS_VERSION" -d "$CACHE/wheels" >&2 || fail "pip download scipy-openblas32==$OPENBLAS_VERSION failed"
    whl="$(ls "$CACHE"/wheels/scipy_openblas32-"$OPENBLAS_VERSION"-*.whl | head -1)"
  fi
  tmp="$(mktemp -d "$CACHE/extract.XXXXXX")"
  python3 -m zipfile -e "$whl" "$tmp" || fail "cannot unpack $whl"
  rm -rf "$BLAS"
  mv "$tmp/scipy_openblas32" "$BLAS"
  rm -rf "$tmp"
fi

# ---- compile ---------------------------------------------------------------------------------------
log "g++ $CXXFLAGS (OpenBLAS $OPENBLAS_VERSION)"
cp -f "$BLAS/lib/libscipy_openblas.so" "$OUT/libscipy_openblas.so"
# shellcheck disable=SC2086
g++ $CXXFLAGS -DIQLK_SCIPY_OPENBLAS -I"$NODE_INC" -I"$BLAS/include" "$SRC" \
  -o "$OUT/iql_kernel.node.tmp" -L"$OUT" -lscipy_openblas -Wl,-rpath,'$ORIGIN' 2>"$OUT/compile.log" \
  || fail "compile failed: $(tail -5 "$OUT/compile.log" | tr '\n' ' ')"
mv -f "$OUT/iql_kernel.node.tmp" "$OUT/iql_kernel.node"

# ---- verify: loads, reports its BLAS -----------------------------------------------------------------
info="$(node -e "const k = require(process.argv[1]); console.log(k.info())" "$OUT/iql_kernel.node" 2>&1)" \
  || { rm -f "$OUT/iql_kernel.node"; fail "the built addon does not load: $info"; }
printf '%s\n' "$STAMP" >"$OUT/.stamp"
log "built $OUT/iql_kernel.node ($info)"
