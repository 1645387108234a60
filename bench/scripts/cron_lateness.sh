#!/usr/bin/env bash
# How late cron ticks are pushed, over real minutes: werkd with ENTRIES
# every-minute entries (default 100) runs for MINUTES (default 3); after each
# minute the last tick's lateness of every entry (INFO's cron block:
# last_late_ms, from the tick's time to its push being durable) is collected;
# prints the distribution over all of them.
#   bash bench/scripts/cron_lateness.sh <build dir> [--shards N]
set -euo pipefail
build="$1"
shift
entries="${ENTRIES:-100}"
minutes="${MINUTES:-3}"
dir="$(mktemp -d /tmp/werk-cron-lateness-XXXXXX)"
pid=""
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/config/conf.d"
bash "$(dirname "$0")/cron_table.sh" "$entries" minutely > "$dir/config/conf.d/cron.toml"
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/data" -c "$dir/config" -l info "$@" \
  > "$dir/werkd.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 200); do
  port=$(grep -o "(port [0-9]*)" "$dir/werkd.log" | grep -o '[0-9]*' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "werkd did not start: $(cat "$dir/werkd.log")" >&2; exit 1; }
: > "$dir/late"
for ((m = 0; m < minutes; m++)); do
  # 5 s after the next minute: every entry's tick of that minute is in.
  sleep $(( 65 - $(date +%s) % 60 ))
  "$build/tools/werkctl" --url "tcp://127.0.0.1:$port" cron --json |
    python3 -c 'import json,sys
for e in json.load(sys.stdin)["entries"]:
    if e["last"]: print(e["id"], e["last"], e["last_late_ms"])' >> "$dir/late"
done
sort -u "$dir/late" | awk '{print $3}' | sort -n | awk -v e="$entries" -v m="$minutes" '
  { v[NR] = $1; sum += $1 }
  END {
    if (NR == 0) { print "no ticks"; exit 1 }
    printf "%d ticks (%d entries x %d minutes): lateness ms p50 %d, p90 %d, p99 %d, max %d, mean %.1f\n",
      NR, e, m, v[int(NR * 0.5) + (NR * 0.5 > int(NR * 0.5))], v[int(NR * 0.9 + 0.999)],
      v[int(NR * 0.99 + 0.999)], v[NR], sum / NR
  }'
