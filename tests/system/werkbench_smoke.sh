#!/usr/bin/env bash
# CI smoke of the load generator against the real server: every scenario
# runs small and must verify its jobs (correctness only, no timing).
set -euo pipefail
: "${WERKD:?}" "${WERKBENCH:?}"
dir="$(mktemp -d /tmp/werk-smoke-XXXXXX)"
"$WERKD" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/data" -l info > "$dir/werkd.log" 2>&1 &
pid=$!
# Four shards on whatever cores there are: most commands cross shards.
"$WERKD" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/data4" --shards 4 -l info > "$dir/werkd4.log" 2>&1 &
pid4=$!
"$WERKBENCH" --echo-server 0 2> "$dir/echo.log" &
echo_pid=$!
trap 'kill $pid $pid4 $echo_pid 2>/dev/null; wait $pid $pid4 $echo_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
port_of() {
  local p=""
  for _ in $(seq 200); do
    p=$(grep -o '(port [0-9]*)' "$1" | grep -o '[0-9]*' || true)
    [ -n "$p" ] && break
    sleep 0.05
  done
  [ -n "$p" ] || { cat "$1" >&2; return 1; }
  echo "$p"
}
port=$(port_of "$dir/werkd.log")
port4=$(port_of "$dir/werkd4.log")
run() {
  out=$("$WERKBENCH" --port "${target_port:-$port}" "$@")
  echo "$out" | cut -c1-160
  echo "$out" | grep -q '"verified":true'
}
run --scenario push --connections 8 --jobs 2000
run --scenario push --connections 8 --jobs 2000 --rate 2000
run --scenario pushb --connections 2 --batch 100 --jobs 5000
run --scenario lifecycle --producers 4 --workers 4 --jobs 3000
run --scenario lifecycle --producers 2 --workers 2 --jobs 2000 --pipeline 4
run --scenario drain --workers 4 --jobs 3000
run --scenario schedule-burst --workers 4 --jobs 2000 --lead-seconds 2
# Deep producer pipelines, PUSHes forwarded between shards while later ones run.
run --scenario lifecycle --producers 4 --workers 16 --jobs 20000 --pipeline 16
target_port=$port4 run --scenario lifecycle --producers 4 --workers 16 --jobs 20000 --pipeline 16
target_port=$port4 run --scenario pushb --connections 2 --batch 100 --jobs 5000
# The echo reference server, driven by the same client code.
echo_port=$(grep -o '(port [0-9]*)' "$dir/echo.log" | grep -o '[0-9]*')
out=$("$WERKBENCH" --port "$echo_port" --scenario echo --connections 4 --jobs 2000)
echo "$out" | cut -c1-120
echo "$out" | grep -q '"verified":true'
# Over TLS (--tls), against a werkd with a key and certificate made here.
bash "$(dirname "$0")/../support/make_test_certs.sh" "$dir/pki" "$dir/tls-config"
"$WERKD" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/data-tls" -c "$dir/tls-config" -l info \
  > "$dir/werkd-tls.log" 2>&1 &
pid_tls=$!
trap 'kill $pid $pid4 $pid_tls $echo_pid 2>/dev/null; wait $pid $pid4 $pid_tls $echo_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
port_tls=$(port_of "$dir/werkd-tls.log")
export SSL_CERT_FILE="$dir/pki/ca.pem"
target_port=$port_tls run --tls --scenario lifecycle --producers 4 --workers 4 --jobs 3000 --pipeline 4
target_port=$port_tls run --tls --scenario pushb --connections 2 --batch 100 --jobs 5000
unset SSL_CERT_FILE
echo "smoke: every scenario verified"
