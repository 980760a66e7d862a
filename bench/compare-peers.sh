#!/usr/bin/env bash
# Issue 14: speed of our IQL step against its JAX and PyTorch peers, all on one thread, at two sizes,
# measured in ONE session and alternated so that the load from other processes hits every side alike.
#
#   small  2×256 hidden, batch 256, ReLU                 (the default config)
#   note   3×512 hidden, batch 1024, LayerNorm + mish   (the research note's)
#
# Sides (one process per measurement, the JSON line it prints is kept):
#   ours-node    node dist/bench/profile-iql.js --speed --size SIZE --backend node: iql-speed.js's
#                measurement (same data, warm-up and 50-step chunks) at either size, plus the
#                process's cpu_per_wall, which iql-speed.js does not report (OURS_BENCH=iql-speed
#                runs iql-speed.js for the small size instead, the only size it has)
#   ours-kernel  the same with --backend kernel, only when `node dist/bench/iql-speed.js --backend
#                kernel --steps 10` succeeds and reports a backend other than tensorflow/wasm/cpu
#                (initBackend falls back silently for a preference it does not know)
#   torch-1t     bench/.venv/bin/python bench/torch/iql_ref.py --threads 1 --iql-only (+ sizes)
#   jax-1t       bench/.venv/bin/python bench/jax/iql_ref.py --threads 1 (+ sizes): one jax.jit,
#                XLA's single-thread flags
#
# Order: per size, two rounds, the second reversed (drift cancels in the means):
#   ours-node, [ours-kernel], torch-1t, jax-1t  |  jax-1t, torch-1t, [ours-kernel], ours-node
# Prints every JSON line as it comes, then one summary JSON line: steps/s per side and size
# (mean of the rounds), ratios per round and of the means (ours ÷ torch, ours ÷ jax, jax ÷ torch),
# each side's cpu_per_wall (CPU seconds of the process per wall second over the timed steps), the
# same ratios per CPU second (steps/s ÷ cpu_per_wall: on a loaded machine the sides do not always
# get the same share of a core), and the 1-minute load average sampled before every measurement.
#
# Builds nothing. Needs `npx tsc -p tsconfig.json` (dist/bench/*.js), `bash bench/torch/setup.sh`
# and `bash bench/jax/setup.sh` (bench/.venv with torch and jax).
#
# Usage: bash bench/compare-peers.sh [SMALL_STEPS [NOTE_STEPS]]     (defaults 300 and 20)
#   SIZES="small note"   the sizes to run (default both)
#   NO_KERNEL=1          never try --backend kernel
#   PIN_CPU=N            the CPU every side is pinned to with taskset (default 1; PIN_CPU= to not pin).
#                        Pinning is what makes "one thread" true for JAX: with XLA's one-thread flags
#                        set, jaxlib 0.10.2 still used 1.9 CPU seconds per wall second on an idle
#                        2-core machine (measured 2026-11-30 16:50); only a loaded machine hid it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SMALL_STEPS="${1:-300}"
NOTE_STEPS="${2:-20}"
SIZES="${SIZES:-small note}"
PIN_CPU="${PIN_CPU-1}"
PY=bench/.venv/bin/python
[ -x "$PY" ] || { echo "compare-peers.sh: no bench/.venv; run: bash bench/torch/setup.sh && bash bench/jax/setup.sh" >&2; exit 1; }
"$PY" -c 'import torch, jax' 2>/dev/null || { echo "compare-peers.sh: bench/.venv lacks torch or jax; run: bash bench/torch/setup.sh && bash bench/jax/setup.sh" >&2; exit 1; }
[ -f dist/bench/iql-speed.js ] && [ -f dist/bench/profile-iql.js ] || { echo "compare-peers.sh: no dist/bench; run: npx tsc -p tsconfig.json" >&2; exit 1; }

KERNEL=0
if [ -z "${NO_KERNEL:-}" ]; then
  probe="$(node dist/bench/iql-speed.js --backend kernel --steps 10 2>/dev/null | grep '^{' | tail -n 1 || true)"
  be=""
  [ -n "$probe" ] && be="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get("backend",""))' "$probe" 2>/dev/null || true)"
  case "$be" in
    ''|tensorflow|wasm|cpu) echo "compare-peers.sh: no kernel backend (iql-speed.js --backend kernel gave '${be:-nothing}'); comparing tfjs-node, torch and jax" >&2 ;;
    *) KERNEL=1; echo "compare-peers.sh: kernel backend '$be' found" >&2 ;;
  esac
fi

OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

run() { # size, label, command...
  local size="$1" label="$2"; shift 2
  local load line
  load="$(cut -d' ' -f1 /proc/loadavg)"
  # keep only the JSON line (libraries may print other lines)
  local pin=()
  [ -n "$PIN_CPU" ] && pin=(taskset -c "$PIN_CPU")
  line="$("${pin[@]}" "$@" 2>/dev/null | grep '^{' | tail -n 1)" || true
  [ -n "$line" ] || { echo "compare-peers.sh: '$label' ($size) printed no JSON line: $*" >&2; exit 1; }
  echo "$line"
  printf '%s\t%s\t%s\t%s\n' "$size" "$label" "$load" "$line" >>"$OUT"
}

size_args() { # size → reference flags
  case "$1" in
    small) echo "--hidden 256,256 --activation relu --batch 256" ;;
    note) echo "--hidden 512,512,512 --activation mish --layer-norm --batch 1024" ;;
  esac
}
steps_of() { [ "$1" = small ] && echo "$SMALL_STEPS" || echo "$NOTE_STEPS"; }
warmup_of() { [ "$1" = small ] && echo 20 || echo 3; }

ours() { # size, backend
  local size="$1" backend="$2" steps
  steps="$(steps_of "$size")"
  if [ "$backend" = kernel ]; then
    # The kernel is not a tfjs backend: iql-speed.js drives it directly (profile-iql.js times tfjs ops).
    # shellcheck disable=SC2046
    run "$size" "ours-$backend" node dist/bench/iql-speed.js --backend kernel --steps "$steps" --chunk "$([ "$size" = small ] && echo 50 || echo 5)" $(size_args "$size")
  elif [ "$size" = small ] && [ "${OURS_BENCH:-}" = iql-speed ]; then
    run "$size" "ours-$backend" node dist/bench/iql-speed.js --backend "$backend" --steps "$steps"
  else
    run "$size" "ours-$backend" node dist/bench/profile-iql.js --speed --size "$size" --backend "$backend" --steps "$steps"
  fi
}
torch1() { # size
  # shellcheck disable=SC2046
  run "$1" torch-1t "$PY" bench/torch/iql_ref.py --threads 1 --iql-only --steps "$(steps_of "$1")" --warmup "$(warmup_of "$1")" $(size_args "$1")
}
jax1() { # size
  # shellcheck disable=SC2046
  run "$1" jax-1t "$PY" bench/jax/iql_ref.py --threads 1 --steps "$(steps_of "$1")" --warmup "$(warmup_of "$1")" $(size_args "$1")
}

START=$(date +%s)
for size in $SIZES; do
  ours "$size" node
  [ "$KERNEL" = 1 ] && ours "$size" kernel
  torch1 "$size"
  jax1 "$size"
  jax1 "$size"
  torch1 "$size"
  [ "$KERNEL" = 1 ] && ours "$size" kernel
  ours "$size" node
done
printf '%s\t%s\t%s\t%s\n' - end "$(cut -d' ' -f1 /proc/loadavg)" '{}' >>"$OUT"

"$PY" - "$OUT" "$SMALL_STEPS" "$NOTE_STEPS" "$(( $(date +%s) - START ))" "$PIN_CPU" <<'EOF'
import json, sys
rows = [l.rstrip("\n").split("\t", 3) for l in open(sys.argv[1])]
sps = lambda r: r.get("stepsPerSec", r.get("iql_steps_per_s"))
by = {}
for size, label, load, js in rows:
    if label != "end":
        by.setdefault(size, {}).setdefault(label, []).append(json.loads(js))
mean = lambda xs: sum(xs) / len(xs)
r3 = lambda x: round(x, 3)
summary = {"bench": "compare-peers", "rounds": 2, "steps": {"small": int(sys.argv[2]), "note": int(sys.argv[3])}, "sizes": {}}
for size, sides in by.items():
    s = {label: [sps(r) for r in runs] for label, runs in sides.items()}
    out = {
        "config": {k: sides["torch-1t"][0][k] for k in ("hidden", "batch", "activation", "layer_norm")},
        "steps_per_s": {label: r3(mean(v)) for label, v in s.items()},
        "steps_per_s_per_round": s,
        "cpu_per_wall": {label: [r.get("cpu_per_wall") for r in runs] for label, runs in sides.items() if "cpu_per_wall" in runs[0]},
        "ratio": {},
        "ratio_per_round": {},
        "ratio_per_cpu_s_per_round": {},
        "loadavg1": [float(l) for sz, _, l, _ in rows if sz == size],
    }
    # The second round ran in reverse order: pair the runs by round index.
    pairs = [(a, b) for a in ("ours-node", "ours-kernel", "jax-1t") for b in ("torch-1t", "jax-1t") if a != b and a in s and b in s]
    for a, b in pairs:
        key = f"{a}/{b}"
        out["ratio"][key] = r3(mean(s[a]) / mean(s[b]))
        out["ratio_per_round"][key] = [r3(x / y) for x, y in zip(s[a], s[b])]
        ca, cb = out["cpu_per_wall"].get(a), out["cpu_per_wall"].get(b)
        if ca and cb and all(ca) and all(cb):
            out["ratio_per_cpu_s_per_round"][key] = [r3((x / u) / (y / v)) for x, u, y, v in zip(s[a], ca, s[b], cb)]
    summary["sizes"][size] = out
summary["versions"] = {
    "ours_backend": sorted({r[0]["backend"] for sz in by.values() for k, r in sz.items() if k.startswith("ours")}),
    "torch": next(iter(by.values()))["torch-1t"][0].get("torch"),
    "jax": next(iter(by.values()))["jax-1t"][0].get("jax"),
}
summary["pinned_cpu"] = sys.argv[5] or None
summary["loadavg1_end"] = float(rows[-1][2])
summary["wall_s"] = int(sys.argv[4])
print(json.dumps(summary))
EOF
