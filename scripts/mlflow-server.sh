#!/usr/bin/env bash
# Start or stop a local MLflow tracking server (SQLite backend, proxied artifacts) in the background.
#   scripts/mlflow-server.sh start <port> <dir>   -> server on http://127.0.0.1:<port>, data under <dir>
#   scripts/mlflow-server.sh stop  <port> <dir>
#   scripts/mlflow-server.sh status <port> <dir>
# <dir> holds mlflow.db, artifacts/, server-<port>.log and server-<port>.pid.
# The venv comes from $MLFLOW_VENV or <repo>/.venv-mlflow (create it with scripts/setup-mlflow.sh).
# start waits for /health (up to $MLFLOW_START_TIMEOUT seconds, default 120) and prints the URL.
set -euo pipefail

cmd="${1:-}"; port="${2:-5055}"; dir="${3:-}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MLFLOW_VENV:-$ROOT/.venv-mlflow}"
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop|status <port> <dir>" >&2; exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
pidfile="$dir/server-$port.pid"
logfile="$dir/server-$port.log"
url="http://127.0.0.1:$port"

healthy() {
  if command -v curl >/dev/null 2>&1; then curl -fsS -m 2 "$url/health" >/dev/null 2>&1
  else "$VENV/bin/python" -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('$url/health', timeout=2).status == 200 else 1)" >/dev/null 2>&1
  fi
}
running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$cmd" in
  start)
    if running && healthy; then echo "$url"; exit 0; fi
    if healthy; then echo "mlflow-server: port $port already serves something (not started by this script)" >&2; exit 1; fi
    [[ -x "$VENV/bin/mlflow" ]] || { echo "mlflow-server: no mlflow in $VENV; run scripts/setup-mlflow.sh first" >&2; exit 1; }
    mkdir -p "$dir/artifacts"
    # setsid: own process group, so stop can end the CLI and its uvicorn worker together.
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true \
    setsid "$VENV/bin/mlflow" server \
      --backend-store-uri "sqlite:///$dir/mlflow.db" \
      --artifacts-destination "$dir/artifacts" \
      --host 127.0.0.1 --port "$port" --workers "${MLFLOW_WORKERS:-1}" \
      >>"$logfile" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    deadline=$(( $(date +%s) + ${MLFLOW_START_TIMEOUT:-120} ))
    until healthy; do
      if ! running; then echo "mlflow-server: server exited; last log lines:" >&2; tail -n 30 "$logfile" >&2; exit 1; fi
      if (( $(date +%s) > deadline )); then echo "mlflow-server: no /health after ${MLFLOW_START_TIMEOUT:-120}s; log: $logfile" >&2; exit 1; fi
      sleep 0.5
    done
    echo "$url"
    ;;
  stop)
    if [[ -f "$pidfile" ]]; then
      pid="$(cat "$pidfile")"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
    ;;
  status)
    if running && healthy; then echo "running $url (pid $(cat "$pidfile"))"; else echo "stopped"; exit 1; fi
    ;;
  *) echo "usage: $0 start|stop|status <port> <dir>" >&2; exit 2 ;;
esac
