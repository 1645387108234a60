#!/usr/bin/env bash
# Durable PUSH throughput against the same build with fsync switched off
# (--unsafe-no-fsync), measured in one run, alternating the two servers
# ROUNDS times and reporting medians (the machine is noisy).
#   bash bench/scripts/durable_ratio.sh [build dir] [rounds] [werkbench args...]
# WERKD_ARGS adds flags to the durable server (e.g. --wal-buffered-io).
set -euo pipefail
build="${1:-build}"
rounds="${2:-5}"
shift 2 || true
args=("$@")
[ "${#args[@]}" -gt 0 ] || args=(--scenario push --connections 64 --jobs 200000)
dir="$(mktemp -d /tmp/werk-ratio-XXXXXX)"
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/durable" ${WERKD_ARGS:-} -l info > "$dir/a.log" 2>&1 &
a=$!
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/nosync" -l info --unsafe-no-fsync > "$dir/b.log" 2>&1 &
b=$!
trap 'kill $a $b 2>/dev/null; wait $a $b 2>/dev/null || true; rm -rf "$dir"' EXIT
port() { for _ in $(seq 100); do p=$(grep -o '(port [0-9]*)' "$1" | grep -o '[0-9]*' || true); [ -n "$p" ] && { echo "$p"; return; }; sleep 0.05; done; }
pa=$(port "$dir/a.log"); pb=$(port "$dir/b.log")
run() { "$build/tools/werkbench" --port "$1" "${args[@]}" | grep -o '"per_sec":[0-9]*' | cut -d: -f2; }
da=(); db=()
for _ in $(seq "$rounds"); do da+=("$(run "$pa")"); db+=("$(run "$pb")"); done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
ma=$(median "${da[@]}"); mb=$(median "${db[@]}")
echo "durable:  ${da[*]}  median $ma"
echo "no fsync: ${db[*]}  median $mb"
awk -v a="$ma" -v b="$mb" 'BEGIN{printf "ratio durable/no-fsync: %.2f\n", a/b}'
