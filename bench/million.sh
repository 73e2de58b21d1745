#!/usr/bin/env bash
# A million records on one node with a 1 GB heap: is the heap flat from 10,000 records to the last?
# Starts `skein node` (-Xmx1g, embedded H2 and simulator answering at once), submits one job of
# RECORDS one-call records, either generated (`num_records`) or uploaded as a RECORDS-line JSONL file
# (multipart, streamed), and at each checkpoint forces a full collection and prints the heap that
# survives it (the live set), with the records done and the rate. Midway it reads the first 10,000
# rows of the job's results, to show they stream out while the job runs, and how fast.
#
# usage: bench/million.sh [num_records|upload] [RECORDS=1000000] [HEAP=1g]
#   SKEIN_JAR  the jar (default: deploy/target/skein.jar)
set -euo pipefail
MODE=${1:-num_records}; RECORDS=${2:-1000000}; HEAP=${3:-1g}
root=$(cd "$(dirname "$0")/.." && pwd)
SKEIN_JAR=${SKEIN_JAR:-$root/deploy/target/skein.jar}
[ -f "$SKEIN_JAR" ] || { echo "million: no $SKEIN_JAR (build it first)" >&2; exit 2; }
for tool in curl jcmd jstat; do command -v $tool > /dev/null || { echo "million: needs $tool" >&2; exit 2; }; done
work=$(mktemp -d)
http=${PORT:-18660}
SKEIN_SIM_LATENCY=0ms java -Xmx"$HEAP" -jar "$SKEIN_JAR" node --data-dir "$work/data" --http-port "$http" --port 0 \
  > "$work/node.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null || true; wait $node 2>/dev/null || true; rm -rf "$work"' EXIT
deadline=$((SECONDS + 120))
until curl -sf "http://127.0.0.1:$http/health" > /dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "million: the node did not start within 120 s" >&2; tail -20 "$work/node.log" >&2; exit 1; }
  sleep 0.5
done

spec="name: million
models: {m: {model: sim-m, max_tokens: 16}}
max_in_flight: 1000
steps:
  - {name: answer, model: m, prompt: 'Say something about record {{ index }}.'}"
upload_s=""
if [ "$MODE" = upload ]; then
  python3 - "$RECORDS" > "$work/input.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": f"r{i:07d}", "topic": f"topic {i % 997}", "note": "x" * 40}))
PY
  printf '%s\n' "$spec" | sed 's/record {{ index }}/{{ topic }}/' > "$work/spec.yaml"
  start=$(date +%s%N)
  job=$(curl -sf -F "spec=@$work/spec.yaml;type=application/yaml" -F "records=@$work/input.jsonl;type=application/x-ndjson" \
    "http://127.0.0.1:$http/jobs" | sed 's/.*"id" *: *"\([^"]*\)".*/\1/')
  upload_s=$(echo "scale=1; ($(date +%s%N) - $start) / 1000000000" | bc)
  echo "uploaded $RECORDS lines ($(du -m "$work/input.jsonl" | cut -f1) MB) in ${upload_s} s: $job"
elif [ "$MODE" = num_records ]; then
  printf '%s\ninput: {num_records: %s}\n' "$spec" "$RECORDS" > "$work/spec.yaml"
  job=$(curl -sf -H 'Content-Type: application/yaml' --data-binary "@$work/spec.yaml" "http://127.0.0.1:$http/jobs" \
    | sed 's/.*"id" *: *"\([^"]*\)".*/\1/')
  echo "submitted $RECORDS records (num_records): $job"
else
  echo "million: mode is num_records or upload" >&2; exit 2
fi

field() { sed -n "s/.*\"$1\" *: *\([0-9]*\).*/\1/p" <<< "$2"; }
live_mib() {  # the heap that survives a full collection (G1 moves it all to the old generation), MiB
  jcmd "$node" GC.run > /dev/null
  jstat -gc "$node" | awk 'NR==2 {printf "%.0f", $8 / 1024}'
}
checkpoints=()
for n in 10000 50000 100000 250000 500000 750000; do [ "$n" -lt "$RECORDS" ] && checkpoints+=("$n"); done
checkpoints+=("$RECORDS")
next=0; begun=$(date +%s); streamed=""
echo
echo "| records ended | elapsed | records/s since the last line | live heap (old generation after a full GC) |"
echo "| --- | --- | --- | --- |"
last_done=0; last_t=$begun
while true; do
  status=$(curl -sf "http://127.0.0.1:$http/jobs/$job") || { echo "million: the node stopped answering" >&2; tail -20 "$work/node.log" >&2; exit 1; }
  done_n=$(( $(field succeeded "$status") + $(field failed "$status") ))
  state=$(sed -n 's/.*"state" *: *"\([a-z]*\)".*/\1/p' <<< "$status")
  if [ -z "$streamed" ] && [ "$done_n" -ge $((RECORDS / 2)) ] && [ "$state" = running ]; then
    read_start=$(date +%s%N)
    streamed=$( { curl -s --max-time 60 "http://127.0.0.1:$http/jobs/$job/results" || true; } | head -n 10000 | wc -l)
    read_ms=$(( ($(date +%s%N) - read_start) / 1000000 ))
  fi
  while [ $next -lt ${#checkpoints[@]} ] && { [ "$done_n" -ge "${checkpoints[$next]}" ] || [ "$state" != running ]; }; do
    now=$(date +%s)
    rate=$(( (done_n - last_done) / ( now > last_t ? now - last_t : 1 ) ))
    echo "| $done_n | $((now - begun)) s | $rate | $(live_mib) MiB |"
    last_done=$done_n; last_t=$now; next=$((next + 1))
  done
  [ "$state" = running ] || break
  sleep 2
done
echo
echo "job $state: $(field succeeded "$status") succeeded, $(field failed "$status") failed of $RECORDS in $(( $(date +%s) - begun )) s;" \
  "${streamed:-no} rows of results read while it ran (the first 10,000 asked for, ${read_ms:-?} ms); heap limit $HEAP"
export_start=$(date +%s%N)
exported=$(curl -sf "http://127.0.0.1:$http/jobs/$job/results" | wc -l)
echo "GET /jobs/$job/results afterwards: $exported rows in $(( ($(date +%s%N) - export_start) / 1000000 )) ms"
[ "$state" = succeeded ] && [ "$exported" = "$RECORDS" ]
