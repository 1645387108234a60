#!/usr/bin/env bash
# Instructions werkd executes per job, under callgrind, which a noisy
# machine does not blur: two runs of the same load (SMALL and LARGE jobs)
# against a fresh werkd each, and (Ir(LARGE) - Ir(SMALL)) / (LARGE - SMALL),
# so start-up, recovery and shutdown cancel out.
#   SHARDS=1 bash bench/scripts/ir_per_job.sh <build> [werkbench args...]
# Default load: lifecycle, 4 producers + 4 workers.
set -euo pipefail
build="$1"
shift
args=("$@")
[ "${#args[@]}" -gt 0 ] || args=(--scenario lifecycle --producers 4 --workers 4)
shards="${SHARDS:-1}"
small="${SMALL:-5000}"
large="${LARGE:-25000}"
dir="$(mktemp -d /tmp/werk-ir-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
ir() {  # ir <jobs>: prints werkd's total instructions for a run of <jobs> jobs
  local jobs="$1" pid port
  rm -rf "$dir/data"
  valgrind --tool=callgrind --callgrind-out-file="$dir/out.%p" \
    "$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/data" --shards "$shards" -l info \
    > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    port=$(grep -o '(port [0-9]*)' "$dir/log" | grep -o '[0-9]*' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "werkd did not start: $(cat "$dir/log")" >&2; exit 1; }
  "$build/tools/werkbench" --port "$port" --jobs "$jobs" "${args[@]}" > /dev/null
  kill -TERM "$pid"
  wait "$pid" || true
  grep -h '^totals:' "$dir"/out.* | awk '{s += $2} END {print s}'
  [ -n "${KEEP_OUT:-}" ] && cp "$dir"/out.* "$KEEP_OUT.$jobs" 2>/dev/null || true
  rm -f "$dir"/out.*
}
a=$(ir "$small")
b=$(ir "$large")
echo "shards $shards, ${args[*]}: $(( (b - a) / (large - small) )) instructions per job"
