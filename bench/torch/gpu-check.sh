#!/usr/bin/env bash
# The PyTorch IQL stage (stages/iql_torch.py) on a GPU and on one CPU thread of the same machine,
# run outside the engine by `python -m iqlp.standalone` (no Node needed there): checks that
# `device: auto` picks the GPU when torch sees one, that the stage trains and writes its critic,
# policy and curve there, and measures steps/s at two network sizes.
#
#   bash bench/torch/gpu-check.sh DATASET.arrow [OUT_DIR]
#
# DATASET.arrow: a load-dataset table (e.g. a slice of the maze2d dataset from the store).
# Prints one JSON line per run and writes them to OUT_DIR/gpu-check.jsonl, with the GPU-trained
# default-size policy as OUT_DIR/policy-cuda.arrow (score it here with `pipeline` + evaluate).
# Then (issue 14, K seeds per step) bench/torch/iql_ref.py's IQL step on the GPU with K = 1, 4 and 16
# critics in one vmap'ed program (--seeds K), at both sizes: seed_steps_per_s per K as JSON lines
# (SEEDS="1 4 16" to change the K's, SEEDS= to skip).
set -euo pipefail
data=$(realpath "$1"); out=${2:-${OUT:-/tmp/gpu-check}}
here=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "no nvidia-smi"
"$py" -c 'import torch; print("torch", torch.__version__, "cuda available:", torch.cuda.is_available())'

# name | params (JSON) | GPU steps | CPU steps
runs=(
  'default|{"protocol":"joint"}|5000|1000'
  'note|{"protocol":"joint","hidden":[512,512,512],"activation":"mish","layer_norm":true,"batch_size":1024}|2000|100'
)
for spec in "${runs[@]}"; do
  IFS='|' read -r name params gsteps csteps <<<"$spec"
  for dev in auto cpu; do
    steps=$([ "$dev" = auto ] && echo "$gsteps" || echo "$csteps")
    dir=$(mktemp -d)
    p=$("$py" -c 'import json,sys; p=json.loads(sys.argv[1]); p.update(steps=int(sys.argv[2]), device=sys.argv[3], log_every=max(1,int(sys.argv[2])//5), checkpoint_every=10**9); print(json.dumps(p))' "$params" "$steps" "$dev")
    t0=$(date +%s%N)
    "$py" -m iqlp.standalone "$here/stages/iql_torch.py" --input "dataset=$data" --params "$p" --out "$dir" --quiet-progress > "$dir/log" 2>&1 || { tail -30 "$dir/log"; exit 1; }
    wall=$(( ($(date +%s%N) - t0) / 1000000 ))
    "$py" - "$dir/result.json" "$name" "$dev" "$steps" "$wall" <<'PY' | tee -a "$out/gpu-check.jsonl"
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"size": sys.argv[2], "device_param": sys.argv[3], "device": r["records"].get("device"), "threads": r["records"].get("threads"),
                  "steps": int(sys.argv[4]), "steps_per_second": round(r["summary"]["steps_per_second"], 1), "wall_s": round(float(sys.argv[5]) / 1000, 1),
                  "q1_loss": r["summary"].get("q1_loss"), "actor_loss": r["summary"].get("actor_loss")}))
PY
    if [ "$name" = default ] && [ "$dev" = auto ]; then cp "$dir/policy.arrow" "$out/policy-cuda.arrow"; fi
    rm -rf "$dir"
  done
done

for size in default note; do
  case $size in
    default) sz=(--hidden 256,256 --activation relu --batch 256); steps=2000 ;;
    note) sz=(--hidden 512,512,512 --activation mish --layer-norm --batch 1024); steps=500 ;;
  esac
  for k in ${SEEDS-1 4 16}; do
    "$py" "$here/bench/torch/iql_ref.py" --device cuda --iql-only --seeds "$k" --steps "$steps" --warmup 50 "${sz[@]}" \
      | "$py" -c 'import json,sys; r=json.loads(sys.stdin.read()); print(json.dumps({"size": sys.argv[1], **{k: r[k] for k in ("device", "seeds", "iql_steps_per_s", "seed_steps_per_s", "finite")}}))' "$size" \
      | tee -a "$out/gpu-check.jsonl"
  done
done
