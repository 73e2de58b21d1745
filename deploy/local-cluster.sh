#!/usr/bin/env bash
# Starts a local Skein cluster: the model simulator and N nodes (default 3) on one machine, sharing
# a PostgreSQL database. Logs and pids go to ./skein-cluster/.
#
#   deploy/local-cluster.sh [start] [--nodes N] [--db-url URL] [--latency-ms MS]
#   deploy/local-cluster.sh stop
#
# Node i listens on cluster port 255(0+i) and HTTP port 808(0+i); the simulator on 9000.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=deploy/target/skein.jar
DIR=skein-cluster
NODES=3
DB_URL=${SKEIN_DB_URL:-jdbc:postgresql://127.0.0.1:5432/test}
DB_USER=${SKEIN_DB_USER:-postgres}
LATENCY=300
CMD=start
while (($#)); do
  case "$1" in
    start|stop) CMD=$1 ;;
    --nodes) NODES=$2; shift ;;
    --db-url) DB_URL=$2; shift ;;
    --latency-ms) LATENCY=$2; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $CMD == stop ]]; then
  pids=()
  for file in "$DIR"/*.pid; do
    [[ -e $file ]] || continue
    pids+=("$(cat "$file")")
    rm -f "$file"
  done
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null || true
  # SIGTERM runs a graceful shutdown (shards hand off); wait for it, so the ports are free again.
  for _ in $(seq 1 60); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.5
  done
  echo "stopped"
  exit 0
fi

[[ -f $JAR ]] || ./mvnw -B -q package -DskipTests
mkdir -p "$DIR"
java -jar "$JAR" simulate --port 9000 --latency-ms "$LATENCY" > "$DIR/simulator.log" 2>&1 &
echo $! > "$DIR/simulator.pid"

SEEDS=()
for i in $(seq 1 "$NODES"); do SEEDS+=(--seed "127.0.0.1:255$i"); done
for i in $(seq 1 "$NODES"); do
  OPENAI_BASE_URL=http://127.0.0.1:9000/v1 java -jar "$JAR" node --port "255$i" --http-port "808$i" "${SEEDS[@]}" \
    --db-url "$DB_URL" --db-user "$DB_USER" --data-dir "$DIR/node$i" --no-simulator > "$DIR/node$i.log" 2>&1 &
  echo $! > "$DIR/node$i.pid"
done

for _ in $(seq 1 120); do
  up=$(curl -s localhost:8081/cluster 2>/dev/null | grep -o '"status":"up"' | wc -l || true)
  if [[ $up -eq $NODES ]]; then
    echo "$NODES nodes up: HTTP on ports 8081-808$NODES; simulator on http://127.0.0.1:9000/v1; logs in $DIR/"
    echo "try: curl -s -X POST localhost:8081/jobs -F spec=@examples/support-qa.yaml -F records=@examples/support-qa.jsonl"
    exit 0
  fi
  sleep 1
done
echo "the cluster did not come up within 2 minutes; see $DIR/*.log" >&2
exit 1
