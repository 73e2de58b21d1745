#!/usr/bin/env bash
# Skein against the plain Spring Batch program of ../shared/peers/spring-batch, on the job both do:
# 600 records x 3 calls (two at once, then one continuing the first's conversation) against one
# OpenAI-compatible server answering in 150 ms (Skein's simulator, standalone, in its own JVM).
# Each round runs Spring Batch (64 partitions, chunk 10, H2 job repository) and then `bin/skein run`
# (H2 journal), each from a fresh database, and checks that both wrote every row; prints the wall
# times (process start to exit, JVM start included) and their ratio, per round and as medians.
#
# usage: bench/compare-spring-batch.sh [ROUNDS=3] [RECORDS=600] [LATENCY_MS=150]
#   SB_JAR     the Spring Batch program (default: ../shared/peers/spring-batch/target/sb-baseline.jar;
#              build it there with mvn -q -DskipTests package)
#   SKEIN_RUN  how Skein is started (default: bin/skein; "java -jar OTHER.jar" times another build)
set -euo pipefail
ROUNDS=${1:-3}; RECORDS=${2:-600}; LATENCY=${3:-150}
root=$(cd "$(dirname "$0")/.." && pwd)
SB_JAR=${SB_JAR:-$root/../shared/peers/spring-batch/target/sb-baseline.jar}
SKEIN_JAR=${SKEIN_JAR:-$root/deploy/target/skein.jar}
for jar in "$SB_JAR" "$SKEIN_JAR"; do
  [ -f "$jar" ] || { echo "compare-spring-batch: no $jar (build it first)" >&2; exit 2; }
done
work=$(mktemp -d)
port=${PORT:-18652}
java -jar "$SKEIN_JAR" simulate --port "$port" --latency-ms "$LATENCY" --jitter 0 > "$work/simulator.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
deadline=$((SECONDS + 60))
until curl -sf "http://127.0.0.1:$port/stats" > /dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "compare-spring-batch: the simulator did not start within 60 s" >&2; cat "$work/simulator.log" >&2; exit 1; }
  sleep 0.2
done
python3 - "$RECORDS" > "$work/input.jsonl" <<'PY'
import json, sys
concepts = ["inertia", "momentum", "entropy", "torque", "buoyancy", "refraction", "resonance", "friction"]
levels = ["middle school", "high school", "first-year university"]
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": f"r{i:05d}", "concept": concepts[i % len(concepts)], "level": levels[i % len(levels)]}))
PY

wall() {  # runs "$@" quietly, prints its wall time in seconds; fails if it fails
  local start end
  start=$(date +%s%N)
  "$@" > "$work/last.log" 2>&1 || { echo "compare-spring-batch: failed: $*" >&2; tail -20 "$work/last.log" >&2; exit 1; }
  end=$(date +%s%N)
  echo "scale=2; ($end - $start) / 1000000000" | bc
}
rows() { wc -l < "$1" | tr -d ' '; }

sb_times=(); skein_times=()
echo "| round | Spring Batch wall | Skein wall | Skein / Spring Batch |"
echo "| --- | --- | --- | --- |"
for round in $(seq "$ROUNDS"); do
  dir="$work/round-$round"; mkdir -p "$dir/sb"
  sb=$(cd "$dir/sb" && OPENAI_BASE_URL="http://127.0.0.1:$port/v1" OPENAI_API_KEY=sk-bench \
    wall java -jar "$SB_JAR" --input "$work/input.jsonl" --output "$dir/sb/out.jsonl" --partitions 64 --chunk 10)
  skein=$(SKEIN_JAR="$SKEIN_JAR" SKEIN_SIMULATOR_URL="http://127.0.0.1:$port/v1" JAVA_OPTS="-Dskein.simulator.embedded=off" \
    wall ${SKEIN_RUN:-"$root/bin/skein"} run "$root/bench/tutor.yaml" --input "$work/input.jsonl" --data-dir "$dir/skein-data" \
    --output "$dir/skein.jsonl" -q)
  for out in "$dir/sb/out.jsonl" "$dir/skein.jsonl"; do
    [ "$(rows "$out")" = "$RECORDS" ] || { echo "compare-spring-batch: $out has $(rows "$out") rows, not $RECORDS" >&2; exit 1; }
  done
  sb_times+=("$sb"); skein_times+=("$skein")
  echo "| $round | ${sb} s | ${skein} s | $(echo "scale=2; $skein / $sb" | bc) |"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
msb=$(median "${sb_times[@]}"); msk=$(median "${skein_times[@]}")
echo "| median | ${msb} s | ${msk} s | $(echo "scale=2; $msk / $msb" | bc) |"
echo
echo "$RECORDS records x 3 calls at ${LATENCY} ms; requests the simulator answered: $(curl -s "http://127.0.0.1:$port/stats")"
rm -rf "$work"
