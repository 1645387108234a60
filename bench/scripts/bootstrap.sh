#!/usr/bin/env bash
# A new standby bootstrapped from its primary's checkpoint (docs/replication.md
# "Bootstrap"): JOBS live jobs (default 1000000) on a primary stopped cleanly
# (its checkpoint releases the log) and started again with --replication-bind;
# then a standby with an empty data directory. Measures the time from the
# standby's start to caught up (every shard linked, lag 0, and its log at the
# primary's LSN), and the primary's longest loop turn (INFO loop.longest_ms,
# the worst shard) before and after.
#   SHARDS=1 JOBS=1000000 bash bench/scripts/bootstrap.sh <build> [rounds]
# The primary runs the degrade policy with a short timeout (chosen when a
# required-mode primary's INFO waited for its standby; kept so the figures in
# docs/benchmarks.md stay comparable); nothing is written during the
# measurement. It prints the
# primary's turns by busy milliseconds (INFO busy_ms_buckets) too; PERF=<file>
# records the primary (perf record -g) for 6 s from the standby's start.
set -euo pipefail
build="$1"
rounds="${2:-3}"
shards="${SHARDS:-1}"
jobs="${JOBS:-1000000}"
dir="$(mktemp -d /tmp/werk-bootstrap-XXXXXX)"
p=""; s=""
trap 'kill -9 $p $s 2>/dev/null; wait $p $s 2>/dev/null || true; rm -rf "$dir"' EXIT
port() {  # port <log> [word before "port"]
  for _ in $(seq 1200); do
    n=$(grep -o "(${2:-}port [0-9]*)" "$1" | tail -1 | grep -o '[0-9]*' || true)
    [ -n "$n" ] && { echo "$n"; return; }
    sleep 0.05
  done
  echo "werkd did not start: $(cat "$1")" >&2
  exit 1
}
now_ns() { date +%s%N; }
info() {  # info <port>: INFO's JSON, or nothing while the server restarts
  local line n body
  exec 3<> "/dev/tcp/127.0.0.1/$1" 2>/dev/null || return 0
  read -r -t 5 line <&3 || { exec 3<&-; return 0; }
  printf 'HELLO {"v":2}\r\n' >&3; read -r -t 5 line <&3 || { exec 3<&-; return 0; }
  printf 'INFO\r\n' >&3
  read -r -t 5 line <&3 || { exec 3<&-; return 0; }
  n=${line#\$}; n=${n%$'\r'}
  body=$(head -c "$n" <&3)
  exec 3<&-
  printf '%s' "$body"
}
longest() { grep -o '"longest_ms":[0-9.]*' | cut -d: -f2 | sort -g | tail -1; }
buckets() { grep -o '"busy_ms_buckets":\[[0-9,]*\]' | cut -d: -f2 | tr '\n' ' '; }
lsns() { grep -o '"appended_lsn":[0-9]*' | cut -d: -f2 | tr '\n' ' '; }
rm -rf "$dir/p"
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/p" --shards "$shards" -l info > "$dir/load.log" 2>&1 &
p=$!
pp=$(port "$dir/load.log")
"$build/tools/werkbench" --port "$pp" --scenario push --connections 16 --jobs "$jobs" \
  --queue bootstrap_bench --keep | grep -q '"verified":true'
kill -TERM "$p"; wait "$p"; p=""
for i in $(seq "$rounds"); do
  rm -rf "$dir/s"
  "$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/p" --shards "$shards" -l info \
    --replication-bind 127.0.0.1:0 --standby-policy degrade --standby-timeout 0.1 \
    > "$dir/p.log" 2>&1 &
  p=$!
  pp=$(port "$dir/p.log"); rp=$(port "$dir/p.log" "replication ")
  until before=$(info "$pp") && [ -n "$before" ]; do sleep 0.1; done
  t0=$(now_ns)
  "$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/s" -l info --replica-of "127.0.0.1:$rp" \
    > "$dir/s.log" 2>&1 &
  s=$!
  sp=$(port "$dir/s.log")
  if [ -n "${PERF:-}" ]; then
    perf record -g -o "$PERF" -p "$p" -- sleep 6 > /dev/null 2>&1 &
  fi
  for _ in $(seq 12000); do
    got=$(info "$sp")
    # The primary logs a record when the standby catches up (its gate back
    # in sync mode): compared with its LSNs now.
    want=$(info "$pp" | lsns)
    if [ -n "$got" ] && ! grep -q '"linked":false' <<< "$got" &&
       [ "$(printf '%s' "$got" | lsns)" = "$want" ]; then break; fi
    sleep 0.01
  done
  t1=$(now_ns)
  [ "$(printf '%s' "$got" | lsns)" = "$want" ] || { echo "never caught up: $(tail -5 "$dir/s.log")" >&2; exit 1; }
  after=$(info "$pp")
  echo "round $i: $(awk -v d="$((t1 - t0))" 'BEGIN{printf "%.2f", d/1e9}') s from the standby's" \
    "start to caught up; primary longest turn $(printf '%s' "$before" | longest) ms before," \
    "$(printf '%s' "$after" | longest) ms after (turns by busy ms, 0/1/2-3/4-7/...:" \
    "$(printf '%s' "$before" | buckets)before, $(printf '%s' "$after" | buckets)after); checkpoint" \
    "$(grep -o 'checkpoint at LSN [0-9]* ([0-9]* bytes)' "$dir/s.log" | head -1)"
  kill -TERM "$s"; wait "$s" || true; s=""
  kill -TERM "$p"; wait "$p" || true; p=""
done
