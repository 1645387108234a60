#!/usr/bin/env bash
# Before/after for a change on a hot path: two builds of werkd (A = before,
# B = after), each with its own warmed-up data directory, measured
# alternately ROUNDS times with the same werkbench load; prints each round and
# the medians of jobs/s and of the server's CPU time per job (from /proc, the
# werkd process only).
#   SHARDS=2 bash bench/scripts/ab.sh <build A> <build B> [rounds] [werkbench args...]
# Default load: lifecycle, 32 producers + 32 workers, 2 requests in flight.
# WARMUP_JOBS (default 600000) of the same load run first on each server, so
# both logs are in steady state (checkpoints taken, segments recycled).
set -euo pipefail
a_build="$1"
b_build="$2"
rounds="${3:-5}"
shift 3 || shift $#
args=("$@")
[ "${#args[@]}" -gt 0 ] ||
  args=(--scenario lifecycle --producers 32 --workers 32 --pipeline 2 --jobs 200000)
shards="${SHARDS:-1}"
dir="$(mktemp -d /tmp/werk-ab-XXXXXX)"
"$a_build/tools/werkd" -b 127.0.0.1:0 -d "$dir/a" --shards "$shards" -l info > "$dir/a.log" 2>&1 &
a=$!
"$b_build/tools/werkd" -b 127.0.0.1:0 -d "$dir/b" --shards "$shards" -l info > "$dir/b.log" 2>&1 &
b=$!
trap 'kill $a $b 2>/dev/null; wait $a $b 2>/dev/null || true; rm -rf "$dir"' EXIT
port() {
  for _ in $(seq 200); do
    p=$(grep -o '(port [0-9]*)' "$1" | grep -o '[0-9]*' || true)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.05
  done
  echo "werkd did not start: $(cat "$1")" >&2
  exit 1
}
pa=$(port "$dir/a.log"); pb=$(port "$dir/b.log")
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
run() {  # run <pid> <port> [werkbench args]: prints "jobs_per_sec cpu_us_per_job"
  local pid="$1" port="$2" c0 c1 out
  shift 2
  c0=$(ticks "$pid")
  out=$("$b_build/tools/werkbench" --port "$port" "$@")
  c1=$(ticks "$pid")
  echo "$out" | grep -q '"verified":true' || { echo "run failed: $out" >&2; exit 1; }
  local rate n
  rate=$(echo "$out" | grep -o '"per_sec":[0-9]*' | head -1 | cut -d: -f2)
  n=$(echo "$out" | grep -o '"jobs":[0-9]*' | head -1 | cut -d: -f2)
  awk -v r="$rate" -v t="$((c1 - c0))" -v hz="$hz" -v n="$n" 'BEGIN{printf "%d %.1f\n", r, t*1e6/hz/n}'
}
warm="${WARMUP_JOBS:-600000}"
if [ "$warm" -gt 0 ]; then
  warm_args=("${args[@]}")
  for i in "${!warm_args[@]}"; do [ "${warm_args[$i]}" = "--jobs" ] && warm_args[$((i + 1))]="$warm"; done
  run "$a" "$pa" "${warm_args[@]}" > /dev/null
  run "$b" "$pb" "${warm_args[@]}" > /dev/null
fi
ra=(); rb=(); ca=(); cb=()
for i in $(seq "$rounds"); do
  read -r r c < <(run "$a" "$pa" "${args[@]}"); ra+=("$r"); ca+=("$c")
  read -r r c < <(run "$b" "$pb" "${args[@]}"); rb+=("$r"); cb+=("$c")
  echo "round $i: A ${ra[-1]} jobs/s ${ca[-1]} us/job | B ${rb[-1]} jobs/s ${cb[-1]} us/job"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "shards $shards, ${args[*]}"
echo "A ($a_build): median $(median "${ra[@]}") jobs/s, $(median "${ca[@]}") us server CPU/job"
echo "B ($b_build): median $(median "${rb[@]}") jobs/s, $(median "${cb[@]}") us server CPU/job"
