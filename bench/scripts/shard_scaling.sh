#!/usr/bin/env bash
# Lifecycle throughput (PUSH -> FETCH -> ACK, every record fsynced) and the
# server's CPU time per completed job (from /proc, the werkd process only)
# with 1 and with 2 shards, alternating the two servers ROUNDS times and
# reporting medians.
#   bash bench/scripts/shard_scaling.sh [build dir] [rounds] [werkbench args...]
# The default load is pipelined so the load generator spends little CPU per
# job and leaves the server most of the machine: 32 producers with 16 PUSHes
# in flight each, and 256 workers, each with its FETCH and the ACK of the job
# before in flight (a worker fetches one job at a time, as real ones do).
# `taskset` can also keep the generator off the shards' cores.
# Before measuring, each server runs WARMUP_JOBS (default 800000) jobs of the
# same load, so its log is in steady state: checkpoints taken and covered
# segments recycled (a fresh log writes into newly allocated space, which
# costs the disk more per sync; docs/wal-format.md). WARMUP_JOBS=0 measures
# a fresh log.
set -euo pipefail
build="${1:-build}"
rounds="${2:-5}"
shift 2 || true
args=("$@")
[ "${#args[@]}" -gt 0 ] ||
  args=(--scenario lifecycle --producers 32 --workers 256 --pipeline 16 --jobs 300000)
dir="$(mktemp -d /tmp/werk-shards-XXXXXX)"
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/one" --shards 1 -l info > "$dir/a.log" 2>&1 &
a=$!
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/two" --shards 2 -l info > "$dir/b.log" 2>&1 &
b=$!
trap 'kill $a $b 2>/dev/null; wait $a $b 2>/dev/null || true; rm -rf "$dir"' EXIT
port() { for _ in $(seq 100); do p=$(grep -o '(port [0-9]*)' "$1" | grep -o '[0-9]*' || true); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.05; done; }
pa=$(port "$dir/a.log"); pb=$(port "$dir/b.log")
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# run <pid> <port>: prints "jobs_per_sec cpu_us_per_job"
run() {
  local c0 out rate n c1
  c0=$(ticks "$1")
  out=$("$build/tools/werkbench" --port "$2" "${args[@]}")
  c1=$(ticks "$1")
  echo "$out" | grep -q '"verified":true' || { echo "run failed: $out" >&2; exit 1; }
  rate=$(echo "$out" | grep -o '"per_sec":[0-9]*' | head -1 | cut -d: -f2)
  n=$(echo "$out" | grep -o '"jobs":[0-9]*' | head -1 | cut -d: -f2)
  awk -v r="$rate" -v t="$((c1 - c0))" -v hz="$hz" -v n="$n" 'BEGIN{printf "%d %.1f\n", r, t*1e6/hz/n}'
}
warmup="${WARMUP_JOBS:-800000}"
if [ "$warmup" -gt 0 ]; then
  for p in "$pa" "$pb"; do
    "$build/tools/werkbench" --port "$p" --scenario lifecycle --producers 32 --workers 256 \
      --pipeline 16 --jobs "$warmup" > /dev/null
  done
fi
ra=(); ca=(); rb=(); cb=()
for _ in $(seq "$rounds"); do
  read -r r c < <(run "$a" "$pa"); ra+=("$r"); ca+=("$c")
  read -r r c < <(run "$b" "$pb"); rb+=("$r"); cb+=("$c")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
mra=$(median "${ra[@]}"); mrb=$(median "${rb[@]}")
echo "1 shard:  jobs/s ${ra[*]}  median $mra; server CPU us/job ${ca[*]}  median $(median "${ca[@]}")"
echo "2 shards: jobs/s ${rb[*]}  median $mrb; server CPU us/job ${cb[*]}  median $(median "${cb[@]}")"
awk -v a="$mra" -v b="$mrb" 'BEGIN{printf "2 shards / 1 shard: %.2f\n", b/a}'
