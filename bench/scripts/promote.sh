#!/usr/bin/env bash
# Time from `werkctl promote` to the first acknowledged PUSH on the promoted
# standby, with JOBS live jobs (default 100000) replicated to it first. The
# primary is killed (-9) before the promotion, as in a failover.
#   SHARDS=1 JOBS=100000 bash bench/scripts/promote.sh <build> [rounds]
# Prints each round's milliseconds and their median.
set -euo pipefail
build="$1"
rounds="${2:-5}"
shards="${SHARDS:-1}"
jobs="${JOBS:-100000}"
dir="$(mktemp -d /tmp/werk-promote-XXXXXX)"
p=""; s=""
trap 'kill -9 $p $s 2>/dev/null; wait $p $s 2>/dev/null || true; rm -rf "$dir"' EXIT
port() {  # port <log> [word before "port"]
  for _ in $(seq 400); do
    n=$(grep -o "(${2:-}port [0-9]*)" "$1" | grep -o '[0-9]*' || true)
    [ -n "$n" ] && { echo "$n"; return; }
    sleep 0.05
  done
  echo "werkd did not start: $(cat "$1")" >&2
  exit 1
}
now_ns() { date +%s%N; }
push_one() {  # push_one <port>: one PUSH over a plain connection; fails unless +OK
  local line
  exec 3<> "/dev/tcp/127.0.0.1/$1"
  read -r line <&3                                   # +HI
  printf 'HELLO {"v":2}\r\n' >&3; read -r line <&3  # +OK
  printf 'PUSH {"jid":"promote-first-push","jobtype":"bench","args":[],"queue":"promote_after"}\r\n' >&3
  read -r line <&3
  exec 3<&-
  [ "${line%$'\r'}" = "+OK" ] || { echo "first PUSH answered: $line" >&2; exit 1; }
}
times=()
for i in $(seq "$rounds"); do
  rm -rf "$dir/p" "$dir/s"
  "$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/p" --shards "$shards" \
    --replication-bind 127.0.0.1:0 -l info > "$dir/p.log" 2>&1 &
  p=$!
  pp=$(port "$dir/p.log"); rp=$(port "$dir/p.log" "replication ")
  "$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/s" -l info --replica-of "127.0.0.1:$rp" \
    > "$dir/s.log" 2>&1 &
  s=$!
  sp=$(port "$dir/s.log")
  # Each +OK means the standby has the job (required mode).
  "$build/tools/werkbench" --port "$pp" --scenario push --connections 16 --jobs "$jobs" \
    --queue promote_bench --keep | grep -q '"verified":true'
  kill -9 "$p"; wait "$p" 2>/dev/null || true; p=""
  t0=$(now_ns)
  "$build/tools/werkctl" --url "tcp://127.0.0.1:$sp" promote > /dev/null
  tm=$(now_ns)
  push_one "$sp"
  t1=$(now_ns)
  times+=("$(awk -v d="$((t1 - t0))" 'BEGIN{printf "%.1f", d/1e6}')")
  echo "round $i: ${times[-1]} ms from werkctl promote to the first acknowledged PUSH" \
    "(promote answered after $(awk -v d="$((tm - t0))" 'BEGIN{printf "%.1f", d/1e6}') ms; $jobs live jobs)"
  kill -9 "$s"; wait "$s" 2>/dev/null || true; s=""
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "shards $shards, $jobs live jobs: median $(median "${times[@]}") ms, max $(printf '%s\n' "${times[@]}" | sort -n | tail -1) ms"
