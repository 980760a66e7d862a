#!/usr/bin/env bash
# Issue 14, "K seeds per step": what stacking K critics into one program buys on one CPU thread.
#
# Sides, each pinned to one CPU (taskset, PIN_CPU, default 1) and alternated over two rounds (the
# second reversed), at the default size (2×256 ReLU, batch 256; SIZE=note: 3×512 LayerNorm + mish,
# batch 1024):
#   kernel      our native critic step, one seed (node dist/bench/iql-speed.js --backend kernel)
#   jax-k1      the JAX reference, one critic per jitted update (bench/jax/iql_ref.py)
#   jax-kK      the JAX reference with --seeds K: K critics with a leading seed axis, the update
#               jax.vmap'ed over it inside one jit (one batched matmul per layer for the K seeds)
#   torch-k1    the PyTorch reference, eager, one critic (bench/torch/iql_ref.py --iql-only)
#   torch-kK    the same with --seeds K: torch.func's ensemble idiom (stacked parameters, vmap'ed
#               functional_call), checked against the single critic by bench/torch/check_seeds.py
# Prints every JSON line, then a summary: seed-steps/s per side and round, kK ÷ k1 per seed for
# each peer (what batching buys that implementation), and each side per seed ÷ our one-seed kernel.
#
# Usage: bash bench/k-seeds.sh [K [STEPS]]     (defaults 4 and 600; SIZE=note uses STEPS/30)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
K="${1:-4}"
STEPS="${2:-600}"
SIZE="${SIZE:-small}"
PIN_CPU="${PIN_CPU-1}"
PY=bench/.venv/bin/python
[ -x "$PY" ] || { echo "k-seeds.sh: no bench/.venv; run: bash bench/jax/setup.sh" >&2; exit 1; }
[ -f dist/bench/iql-speed.js ] || { echo "k-seeds.sh: no dist/bench; run: npx tsc -p tsconfig.json" >&2; exit 1; }
case "$SIZE" in
  small) SIZE_ARGS=(--hidden 256,256 --activation relu --batch 256); CHUNK=50; WARM=20 ;;
  note) SIZE_ARGS=(--hidden 512,512,512 --activation mish --layer-norm --batch 1024); STEPS=$(( STEPS / 30 > 4 ? STEPS / 30 : 4 )); CHUNK=2; WARM=2 ;;
  *) echo "k-seeds.sh: SIZE is small or note" >&2; exit 1 ;;
esac
pin=(); [ -n "$PIN_CPU" ] && pin=(taskset -c "$PIN_CPU")
OUT="$(mktemp)"; trap 'rm -f "$OUT"' EXIT

run() { # label, command...
  local label="$1" line; shift
  line="$("${pin[@]}" "$@" 2>/dev/null | grep '^{' | tail -n 1)" || true
  [ -n "$line" ] || { echo "k-seeds.sh: '$label' printed no JSON line: $*" >&2; exit 1; }
  echo "$line"; printf '%s\t%s\n' "$label" "$line" >>"$OUT"
}
kernel() { run kernel node dist/bench/iql-speed.js --backend kernel --steps "$STEPS" --chunk "$CHUNK" "${SIZE_ARGS[@]}"; }
jax() { run "jax-k$1" "$PY" bench/jax/iql_ref.py --threads 1 --seeds "$1" --steps "$STEPS" --warmup "$WARM" "${SIZE_ARGS[@]}"; }
torch() { run "torch-k$1" "$PY" bench/torch/iql_ref.py --threads 1 --iql-only --seeds "$1" --steps "$STEPS" --warmup "$WARM" "${SIZE_ARGS[@]}"; }

kernel; jax 1; jax "$K"; torch 1; torch "$K"
torch "$K"; torch 1; jax "$K"; jax 1; kernel

"$PY" - "$OUT" "$K" "$SIZE" "$PIN_CPU" <<'PYEOF'
import json, sys
rows = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1])]
k = int(sys.argv[2])
per = {}
for label, js in rows:
    r = json.loads(js)
    sps = r.get("seed_steps_per_s", r.get("stepsPerSec", r.get("iql_steps_per_s")))
    per.setdefault(label, []).append(sps)
kern = per["kernel"]
ratio = lambda a, b: [round(x / y, 3) for x, y in zip(per[a], per[b])]  # noqa: E731 (round i with round i)
print(json.dumps({
    "bench": "k-seeds", "k": k, "size": sys.argv[3], "pinned_cpu": sys.argv[4] or None,
    "seed_steps_per_s": per,
    "kK_over_k1_per_seed": {p: ratio(f"{p}-k{k}", f"{p}-k1") for p in ("jax", "torch")},
    "over_kernel_per_seed": {label: ratio(label, "kernel") for label in per if label != "kernel"},
}))
PYEOF
