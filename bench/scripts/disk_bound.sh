#!/usr/bin/env bash
# Steady push/fetch/ack load for DURATION seconds (default 600) on top of a
# kept backlog, sampling the write-ahead log's disk use every 30 s: with
# checkpoints it must stay bounded by the live set, not grow with history.
#   bash bench/scripts/disk_bound.sh [build dir] [seconds]
set -euo pipefail
build="${1:-build}"
duration="${2:-600}"
dir="$(mktemp -d /tmp/werk-disk-XXXXXX)"
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/data" -l info > "$dir/werkd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do port=$(grep -o '(port [0-9]*)' "$dir/werkd.log" | grep -o '[0-9]*' || true); [ -n "$port" ] && break; sleep 0.05; done
bench="$build/tools/werkbench"
"$bench" --port "$port" --scenario pushb --connections 4 --batch 1000 --jobs 100000 --keep --queue backlog > /dev/null
start=$(date +%s)
(
  while [ $(( $(date +%s) - start )) -lt "$duration" ]; do
    "$bench" --port "$port" --scenario lifecycle --producers 16 --workers 16 --jobs 50000 > /dev/null || exit 1
  done
) &
load=$!
echo "| elapsed s | log directory bytes | checkpoints taken | records appended |"
echo "| --- | --- | --- | --- |"
while kill -0 $load 2>/dev/null; do
  elapsed=$(( $(date +%s) - start ))
  bytes=$(du -sb "$dir/data/wal" | cut -f1)
  info=$(printf 'HELLO {"v":2}\r\nINFO\r\nEND\r\n' | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3" | grep -o '"werk":.*' || true)
  ck=$(echo "$info" | grep -o '"taken":[0-9]*' | cut -d: -f2)
  lsn=$(echo "$info" | grep -o '"appended_lsn":[0-9]*' | cut -d: -f2)
  echo "| $elapsed | $bytes | ${ck:-?} | ${lsn:-?} |"
  sleep 30
done
wait $load
grep -c "checkpoint at" "$dir/werkd.log" | xargs echo "checkpoints logged:"
