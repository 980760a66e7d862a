#!/usr/bin/env bash
# Provision the native TensorFlow backend (@tensorflow/tfjs-node 4.22.0) using ONLY
# package registries (npm + PyPI). tfjs-node's own install script downloads
# libtensorflow from a CDN that this environment cannot reach, so instead we:
#   1. npm-install @tensorflow/tfjs-node@4.22.0 with --ignore-scripts (sources only,
#      the npm tarball ships no prebuilt tfjs_binding.node);
#   2. pip-download the tensorflow-cpu==2.9.1 wheel (same TF version tfjs-node
#      4.22 targets) and take from it the C headers, libtensorflow_framework.so.2
#      and _pywrap_tensorflow_internal.so (which exports the full TF_*/TFE_* C API);
#   3. build a tiny stub library defining the ~187 CPython symbols that
#      _pywrap_tensorflow_internal.so references (never called through the C API),
#      so it loads inside Node without libpython;
#   4. compile tfjs_binding.node with node-gyp against the local Node headers
#      (--nodedir, no headers download), linking the stub.
#
# Usage: scripts/provision-tfjs-node.sh [PROJECT_DIR]   (default: this repo)
# Env:   TFJS_NODE_CACHE  cache dir for the wheel/extracted libs (default ~/.cache/iql-pipeline/tfjs-node)
#        FORCE=1          rebuild even if already provisioned
# Needs: node (with headers in <prefix>/include/node), npm, python3 + pip, g++, make, nm.
# Cost:  ~207 MB download (once, cached). Disk: cache ~690 MB; node_modules/@tensorflow/tfjs-node
#        ~490 MB, hard-linked to the cache when on the same filesystem (else copied).
#        Time here (2 cores): ~25 s cold, ~20 s warm cache, ~0.3 s when already provisioned.
# Note:  a later plain `npm install` / `npm ci` prunes the package (it is not in package.json):
#        re-run this script afterwards.
# Linux x86_64 only.
set -euo pipefail

TFJS_NODE_VERSION=4.22.0
TF_VERSION=2.9.1
WHEEL_PY=3.10   # any cp3x wheel works: we only use its shared libraries and headers

ROOT="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
CACHE="${TFJS_NODE_CACHE:-$HOME/.cache/iql-pipeline/tfjs-node}"
PKG="$ROOT/node_modules/@tensorflow/tfjs-node"
MARKER="$PKG/.provisioned-from-registries"
STAMP="tfjs-node=$TFJS_NODE_VERSION tensorflow-cpu=$TF_VERSION node=$(node -v)"

log() { printf '[provision-tfjs-node] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

verify() {
  (cd "$ROOT" && TF_CPP_MIN_LOG_LEVEL=2 node --input-type=module -e "
    const tf = await import('@tensorflow/tfjs-node');
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const c = await tf.matMul(a, a).data();
    if (c.join(',') !== '7,10,15,22') throw new Error('bad matmul ' + c);
    console.log('tfjs-node OK: backend=' + tf.getBackend() + ' tfjs-node ' + tf.version['tfjs-node']);
  ")
}

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "only Linux x86_64 is supported"
[ -f "$ROOT/package.json" ] || die "no package.json in $ROOT"

if [ "${FORCE:-0}" != 1 ] && [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$STAMP" ] && verify 2>/dev/null; then
  log "already provisioned ($STAMP)"; exit 0
fi

# ---- prerequisites -------------------------------------------------------
for t in node npm python3 g++ make nm; do command -v "$t" >/dev/null || die "missing tool: $t"; done
NODE_PREFIX="$(cd "$(dirname "$(readlink -f "$(command -v node)")")/.." && pwd)"
[ -f "$NODE_PREFIX/include/node/node_api.h" ] && [ -f "$NODE_PREFIX/include/node/common.gypi" ] \
  || die "Node headers not found in $NODE_PREFIX/include/node (node-gyp would try to download them)"
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
[ -x "$NPM_DIR/bin/node-gyp-bin/node-gyp" ] || die "npm's bundled node-gyp not found under $NPM_DIR"

# ---- 1. TensorFlow wheel from PyPI -> cache ------------------------------
mkdir -p "$CACHE/wheels"
TFDIR="$CACHE/tensorflow-cpu-$TF_VERSION"
if [ ! -f "$TFDIR/.complete" ]; then
  WHL="$(ls "$CACHE"/wheels/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -1 || true)"
  if [ -z "$WHL" ]; then
    log "downloading tensorflow-cpu==$TF_VERSION wheel from PyPI (~210 MB)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --python-version "$WHEEL_PY" --platform manylinux2014_x86_64 \
      -d "$CACHE/wheels" "tensorflow-cpu==$TF_VERSION"
    WHL="$(ls "$CACHE"/wheels/tensorflow_cpu-"$TF_VERSION"-*.whl | head -1)"
  fi
  log "extracting C API libraries and headers from $(basename "$WHL")"
  rm -rf "$TFDIR"; mkdir -p "$TFDIR"
  python3 - "$WHL" "$TFDIR" <<'PY'
import sys, zipfile, os
whl, out = sys.argv[1], sys.argv[2]
want_lib = {'tensorflow/python/_pywrap_tensorflow_internal.so': 'lib/_pywrap_tensorflow_internal.so',
            'tensorflow/libtensorflow_framework.so.2': 'lib/libtensorflow_framework.so.2'}
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        dst = want_lib.get(n)
        if dst is None and (n.startswith('tensorflow/include/tensorflow/c/')
                            or n.startswith('tensorflow/include/tensorflow/core/platform/ctstring')):
            dst = 'include/' + n[len('tensorflow/include/'):]
        if dst is None or n.endswith('/'):
            continue
        p = os.path.join(out, dst); os.makedirs(os.path.dirname(p), exist_ok=True)
        with z.open(n) as src, open(p, 'wb') as f:
            while True:
                b = src.read(1 << 20)
                if not b: break
                f.write(b)
        if dst.startswith('lib/'): os.chmod(p, 0o755)
PY
  # 3. stub for the CPython symbols _pywrap_tensorflow_internal.so references
  nm -D --defined-only "$TFDIR/lib/libtensorflow_framework.so.2" | awk '{print $3}' | sed 's/@.*//' | sort -u > "$TFDIR/fw.syms"
  nm -D --undefined-only "$TFDIR/lib/_pywrap_tensorflow_internal.so" | awk '$1=="U"{print $2}' | grep -v '@' \
    | sort -u | comm -23 - "$TFDIR/fw.syms" > "$TFDIR/missing.syms"
  grep -qv -E '^_?Py' "$TFDIR/missing.syms" && die "unexpected unresolved symbols: $(grep -v -E '^_?Py' "$TFDIR/missing.syms" | head)"
  python3 - "$TFDIR/missing.syms" "$TFDIR/pystub.c" <<'PY'
import re, sys
syms = open(sys.argv[1]).read().split()
out = ['#include <stdio.h>', '#include <stdlib.h>',
       'static void die(const char*n){fprintf(stderr,"tfjs-node python stub: %s called (unexpected)\\n",n);abort();}']
for s in syms:
    if s.startswith('PyExc_') or s.endswith('_Type') or re.match(r'_Py_\w+Struct$', s):
        out.append(f'__attribute__((visibility("default"),aligned(64))) char {s}[512];')
    elif s == 'Py_IsInitialized':
        out.append('__attribute__((visibility("default"))) int Py_IsInitialized(void){return 0;}')
    else:
        out.append(f'__attribute__((visibility("default"))) void {s}(void){{die("{s}");}}')
open(sys.argv[2], 'w').write('\n'.join(out) + '\n')
PY
  gcc -O1 -shared -fPIC -fno-builtin -Wl,-soname,libtfjs_pystub.so -o "$TFDIR/lib/libtfjs_pystub.so" "$TFDIR/pystub.c"
  touch "$TFDIR/.complete"
fi

# ---- 2. the npm package, without its (CDN-downloading) install script ----
log "npm install --no-save --ignore-scripts @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
(cd "$ROOT" && npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error \
  "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >&2)
[ -f "$PKG/binding.gyp" ] || die "npm install did not produce $PKG"

# ---- stage deps/ exactly where binding.gyp expects it ---------------------
rm -rf "$PKG/deps" "$PKG/build" "$PKG/lib"
mkdir -p "$PKG/deps/lib"
cp -r "$TFDIR/include" "$PKG/deps/include"
for f in _pywrap_tensorflow_internal.so libtensorflow_framework.so.2 libtfjs_pystub.so; do
  ln "$TFDIR/lib/$f" "$PKG/deps/lib/$f" 2>/dev/null || cp "$TFDIR/lib/$f" "$PKG/deps/lib/$f"
done
# -ltensorflow resolves to the pywrap library (its SONAME stays _pywrap_tensorflow_internal.so,
# found at run time through the addon's RUNPATH $ORIGIN/../../deps/lib)
ln -sf _pywrap_tensorflow_internal.so "$PKG/deps/lib/libtensorflow.so"
ln -sf libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so"
grep -q tfjs_pystub "$PKG/binding.gyp" || \
  sed -i "s|'-ltensorflow_framework',|'-ltensorflow_framework', '-Wl,--no-as-needed', '-ltfjs_pystub',|" "$PKG/binding.gyp"
grep -q tfjs_pystub "$PKG/binding.gyp" || die "could not patch binding.gyp"

# ---- 4. compile tfjs_binding.node offline ---------------------------------
log "compiling tfjs_binding.node (node-gyp, --nodedir=$NODE_PREFIX)"
PRE_GYP="$(cd "$PKG" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')")"
(cd "$PKG" && PATH="$NPM_DIR/bin/node-gyp-bin:$PATH" \
  node "$PRE_GYP" rebuild --build-from-source --nodedir="$NODE_PREFIX" >"$PKG/build-addon.log" 2>&1) \
  || { tail -30 "$PKG/build-addon.log" >&2; die "addon build failed (log: $PKG/build-addon.log)"; }
rm -rf "$PKG/build"   # intermediates; the addon was copied to lib/napi-v*/

verify || die "verification failed"
echo "$STAMP" > "$MARKER"
log "done ($(du -shL "$PKG/deps/lib" | cut -f1) of native libraries in $PKG/deps/lib)"
