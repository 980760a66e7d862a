#!/usr/bin/env bash
# Issue 7: speed of our tfjs IQL (critic step) and AWR extraction against a PyTorch-CPU reference
# of the same sizes (bench/torch/iql_ref.py), measured in ONE session, interleaved, so that the
# load from other processes hits both sides alike. Reports ratios ours/torch.
# At 2×256/batch 256 ReLU only, with torch at 1 and 2 threads, and AWR too. bench/compare-peers.sh
# (issue 14) compares the IQL step with PyTorch and JAX, one thread each, at two sizes.
#
# Builds nothing. Needs: `npx tsc -p tsconfig.json` done (dist/bench/*.js) and
# `bash bench/torch/setup.sh` done (bench/.venv with torch).
#
# Usage: bash bench/compare-torch.sh [STEPS]          (default 300 timed steps per measurement)
#   OURS_BACKEND=wasm|cpu|node  passes --backend to our benches (default: what initBackend picks)
#   OMP_WAIT_POLICY=PASSIVE     (inherited by torch) stops torch's OpenMP threads from spin-waiting:
#                               on a 2-core machine that other processes load, 2-thread torch with the
#                               default (active) policy swung between 2 and 260 IQL steps/s; passive
#                               gave a steady ~108. The summary records the policy used.
#
# Order, two rounds, the second reversed (drift cancels in the means):
#   ours-iql, torch(1 thread), ours-extract(precompute auto), torch(2 threads), ours-extract(never)
# Prints every JSON line as it comes, then one summary JSON line:
#   iql_vs_torch{1,2}t       ours IQL steps/s ÷ torch IQL steps/s
#   awr_vs_torch{1,2}t       ours AWR (default: weights precomputed, extract-speed steps=1e5 ≥ rows)
#                            ÷ torch awr_pre (weights precomputed once too)
#   awr_nopre_vs_torch{1,2}t ours AWR with --precompute never ÷ torch awr (critic on each minibatch)
#   loadavg1: the 1-minute load average sampled before every measurement and at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STEPS="${1:-300}"
PY=bench/.venv/bin/python
[ -x "$PY" ] || { echo "compare-torch.sh: no bench/.venv; run: bash bench/torch/setup.sh" >&2; exit 1; }
[ -f dist/bench/iql-speed.js ] || { echo "compare-torch.sh: no dist/bench; run: npx tsc -p tsconfig.json" >&2; exit 1; }
BACKEND_ARGS=()
[ -n "${OURS_BACKEND:-}" ] && BACKEND_ARGS=(--backend "$OURS_BACKEND")

OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

run() { # label, command...
  local label="$1"; shift
  local load line
  load="$(cut -d' ' -f1 /proc/loadavg)"
  # keep only the JSON line (libraries may print other lines)
  line="$("$@" 2>/dev/null | grep '^{' | tail -n 1)"
  [ -n "$line" ] || { echo "compare-torch.sh: '$label' printed no JSON line: $*" >&2; exit 1; }
  echo "$line"
  printf '%s\t%s\t%s\n' "$label" "$load" "$line" >>"$OUT"
}

ours_iql()    { run ours-iql node dist/bench/iql-speed.js --steps "$STEPS" "${BACKEND_ARGS[@]}"; }
ours_ext()    { run ours-extract node dist/bench/extract-speed.js --steps "$STEPS" "${BACKEND_ARGS[@]}"; }
ours_ext_np() { run ours-extract-never node dist/bench/extract-speed.js --steps "$STEPS" --precompute never "${BACKEND_ARGS[@]}"; }
torch_t()     { run "torch-$1" "$PY" bench/torch/iql_ref.py --threads "$1" --steps "$STEPS"; }

START=$(date +%s)
ours_iql; torch_t 1; ours_ext; torch_t 2; ours_ext_np
ours_ext_np; torch_t 2; ours_ext; torch_t 1; ours_iql
printf '%s\t%s\t%s\n' end "$(cut -d' ' -f1 /proc/loadavg)" '{}' >>"$OUT"

"$PY" - "$OUT" "$STEPS" "$(( $(date +%s) - START ))" <<'EOF'
import json, os, sys
rows = [l.rstrip("\n").split("\t", 2) for l in open(sys.argv[1])]
by = {}
for label, _, js in rows:
    by.setdefault(label, []).append(json.loads(js))
mean = lambda xs: sum(xs) / len(xs)
ours_iql = mean([r["stepsPerSec"] for r in by["ours-iql"]])
ours_awr = mean([r["awr"]["stepsPerSec"] for r in by["ours-extract"]])
ours_awr_np = mean([r["awr"]["stepsPerSec"] for r in by["ours-extract-never"]])
t = {n: {k: mean([r[k] for r in by[f"torch-{n}"]]) for k in ("iql_steps_per_s", "awr_steps_per_s", "awr_pre_steps_per_s")} for n in (1, 2)}
loads = [float(l) for _, l, _ in rows]
r2 = lambda x: round(x, 3)
summary = {
    "bench": "compare-torch",
    "steps": int(sys.argv[2]),
    "rounds": 2,
    "ours_backend": by["ours-iql"][0].get("backend"),
    "torch": by["torch-1"][0].get("torch"),
    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
    "ours": {"iql": r2(ours_iql), "awr": r2(ours_awr), "awr_nopre": r2(ours_awr_np)},
    "torch_1t": {k: r2(v) for k, v in t[1].items()},
    "torch_2t": {k: r2(v) for k, v in t[2].items()},
    "ratio": {
        "iql_vs_torch1t": r2(ours_iql / t[1]["iql_steps_per_s"]),
        "iql_vs_torch2t": r2(ours_iql / t[2]["iql_steps_per_s"]),
        "awr_vs_torch1t": r2(ours_awr / t[1]["awr_pre_steps_per_s"]),
        "awr_vs_torch2t": r2(ours_awr / t[2]["awr_pre_steps_per_s"]),
        "awr_nopre_vs_torch1t": r2(ours_awr_np / t[1]["awr_steps_per_s"]),
        "awr_nopre_vs_torch2t": r2(ours_awr_np / t[2]["awr_steps_per_s"]),
    },
    # per-round ratios show how much the load moved things between rounds
    "iql_vs_torch1t_per_round": [r2(o["stepsPerSec"] / x["iql_steps_per_s"]) for o, x in zip(by["ours-iql"], by["torch-1"])],
    "loadavg1": {"min": min(loads), "max": max(loads), "mean": r2(mean(loads)), "samples": loads},
    "wall_s": int(sys.argv[3]),
}
print(json.dumps(summary))
EOF
