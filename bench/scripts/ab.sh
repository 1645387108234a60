#!/usr/bin/env bash
# Before/after for a change on a hot path: two builds of werkd (A = before,
# B = after), each with its own warmed-up data directory, measured
# alternately ROUNDS times with the same werkbench load; prints each round and
# the medians of jobs/s, of the server's CPU time per job (from /proc, the
# werkd process only) and of the p99 latency of the first command kind.
#   SHARDS=2 bash bench/scripts/ab.sh <build A> <build B> [rounds] [werkbench args...]
# Default load: lifecycle, 32 producers + 32 workers, 2 requests in flight.
# WARMUP_JOBS (default 600000) of the same load run first on each server, so
# both logs are in steady state (checkpoints taken, segments recycled).
# STANDBY=1 gives B a synchronous standby (a third werkd of build B started
# with --replica-of B's replication port; policy required): A against B is
# then "alone" against "with a standby" when both builds are the same; the
# standby's CPU per job is printed too.
# B_CONF_D=<conf.d directory> starts B with that configuration (e.g. a cron
# table from bench/scripts/cron_table.sh): A against B is then "without"
# against "with" it when both builds are the same.
# B_TLS=1 makes B serve TLS (a key and certificate made here, in B's config
# directory) and drives it with werkbench --tls: A against B is then
# plaintext against TLS when both builds are the same.
# B_WEB_LOAD=1 keeps B's web port busy during B's rounds as an operator's
# tools would: /metrics scraped every second (Prometheus) and the dashboard
# open (its /stats poll every 5 s, the page itself reloaded every 5 s).
set -euo pipefail
a_build="$1"
b_build="$2"
rounds="${3:-5}"
shift 3 || shift $#
args=("$@")
[ "${#args[@]}" -gt 0 ] ||
  args=(--scenario lifecycle --producers 32 --workers 32 --pipeline 2 --jobs 200000)
shards="${SHARDS:-1}"
standby="${STANDBY:-0}"
dir="$(mktemp -d /tmp/werk-ab-XXXXXX)"
s=""
trap 'kill $a $b $s 2>/dev/null; wait $a $b $s 2>/dev/null || true; rm -rf "$dir"' EXIT
b_extra=()
[ "$standby" = 1 ] && b_extra=(--replication-bind 127.0.0.1:0 --standby-policy required)
if [ -n "${B_CONF_D:-}" ]; then
  mkdir -p "$dir/b-config"
  cp -r "$B_CONF_D" "$dir/b-config/conf.d"
fi
b_tls=()
if [ "${B_TLS:-0}" = 1 ]; then
  bash "$(dirname "$0")/../../tests/support/make_test_certs.sh" "$dir/pki" "$dir/b-config"
  export SSL_CERT_FILE="$dir/pki/ca.pem"
  b_tls=(--tls)
fi
[ -d "$dir/b-config" ] && b_extra+=(-c "$dir/b-config")
"$a_build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/a" --shards "$shards" -l info > "$dir/a.log" 2>&1 &
a=$!
"$b_build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/b" --shards "$shards" -l info "${b_extra[@]}" \
  > "$dir/b.log" 2>&1 &
b=$!
port() {  # port <log> [word before "port"]
  for _ in $(seq 200); do
    p=$(grep -o "(${2:-}port [0-9]*)" "$1" | grep -o '[0-9]*' || true)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.05
  done
  echo "werkd did not start: $(cat "$1")" >&2
  exit 1
}
pa=$(port "$dir/a.log"); pb=$(port "$dir/b.log")
if [ "$standby" = 1 ]; then
  rb_port=$(port "$dir/b.log" "replication ")
  "$b_build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/s" -l info --replica-of "127.0.0.1:$rb_port" \
    > "$dir/s.log" 2>&1 &
  s=$!
  port "$dir/s.log" > /dev/null
fi
web_load() {  # web_load <web port>: a scraper and an open dashboard, until killed
  local i=0
  while :; do
    curl -sf -o /dev/null "http://127.0.0.1:$1/metrics" || echo "scrape failed" >&2
    if [ $((i % 5)) = 0 ]; then
      curl -sf -o /dev/null "http://127.0.0.1:$1/stats" || true
      curl -sf -o /dev/null "http://127.0.0.1:$1/" || true
    fi
    i=$((i + 1))
    sleep 1
  done
}
ticks() { [ -n "$1" ] && awk '{print $14+$15}' "/proc/$1/stat" || echo 0; }
hz=$(getconf CLK_TCK)
run() {  # run <pid> <port> [werkbench args]: "jobs_per_sec cpu_us_per_job p99_us standby_us_per_job"
  local pid="$1" port="$2" c0 c1 s0 s1 out other=""
  shift 2
  [ "$pid" = "$b" ] && other="$s"
  local web=""
  if [ "$pid" = "$b" ] && [ "${B_WEB_LOAD:-0}" = 1 ]; then
    web_load "$(port "$dir/b.log" "web ")" &
    web=$!
  fi
  c0=$(ticks "$pid"); s0=$(ticks "$other")
  local tls=()
  [ "$pid" = "$b" ] && tls=("${b_tls[@]}")
  out=$("$b_build/tools/werkbench" --port "$port" "${tls[@]}" "$@")
  c1=$(ticks "$pid"); s1=$(ticks "$other")
  if [ -n "$web" ]; then kill "$web"; wait "$web" 2>/dev/null || true; fi
  echo "$out" | grep -q '"verified":true' || { echo "run failed: $out" >&2; exit 1; }
  local rate n p99
  rate=$(echo "$out" | grep -o '"per_sec":[0-9]*' | head -1 | cut -d: -f2)
  n=$(echo "$out" | grep -o '"jobs":[0-9]*' | head -1 | cut -d: -f2)
  p99=$(echo "$out" | grep -o '"p99":[0-9.]*' | head -1 | cut -d: -f2)
  awk -v r="$rate" -v t="$((c1 - c0))" -v st="$((s1 - s0))" -v hz="$hz" -v n="$n" -v p="$p99" \
    'BEGIN{printf "%d %.1f %s %.1f\n", r, t*1e6/hz/n, p, st*1e6/hz/n}'
}
warm="${WARMUP_JOBS:-600000}"
if [ "$warm" -gt 0 ]; then
  warm_args=("${args[@]}")
  for i in "${!warm_args[@]}"; do
    [ "${warm_args[$i]}" = "--jobs" ] && warm_args[$((i + 1))]="$warm"
    [ "${warm_args[$i]}" = "--rate" ] && warm_args[$((i + 1))]=0
  done
  run "$a" "$pa" "${warm_args[@]}" > /dev/null
  run "$b" "$pb" "${warm_args[@]}" > /dev/null
fi
ra=(); rb=(); ca=(); cb=(); pa99=(); pb99=(); cs=()
for i in $(seq "$rounds"); do
  read -r r c p _ < <(run "$a" "$pa" "${args[@]}"); ra+=("$r"); ca+=("$c"); pa99+=("$p")
  read -r r c p x < <(run "$b" "$pb" "${args[@]}"); rb+=("$r"); cb+=("$c"); pb99+=("$p"); cs+=("$x")
  echo "round $i: A ${ra[-1]} jobs/s ${ca[-1]} us/job p99 ${pa99[-1]} us |" \
    "B ${rb[-1]} jobs/s ${cb[-1]} us/job p99 ${pb99[-1]} us"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "shards $shards, ${args[*]}"
echo "A ($a_build): median $(median "${ra[@]}") jobs/s, $(median "${ca[@]}") us server CPU/job," \
  "p99 $(median "${pa99[@]}") us"
echo "B ($b_build$([ "$standby" = 1 ] && echo ", with a standby")): median $(median "${rb[@]}") jobs/s," \
  "$(median "${cb[@]}") us server CPU/job, p99 $(median "${pb99[@]}") us"
[ "$standby" = 1 ] && echo "standby: median $(median "${cs[@]}") us CPU/job"
exit 0
