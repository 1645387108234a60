#!/usr/bin/env bash
# CI smoke of the load generator against the real server: every scenario
# runs small and must verify its jobs (correctness only, no timing).
set -euo pipefail
: "${WERKD:?}" "${WERKBENCH:?}"
dir="$(mktemp -d /tmp/werk-smoke-XXXXXX)"
"$WERKD" -b 127.0.0.1:0 -d "$dir/data" -l info > "$dir/werkd.log" 2>&1 &
pid=$!
"$WERKBENCH" --echo-server 0 2> "$dir/echo.log" &
echo_pid=$!
trap 'kill $pid $echo_pid 2>/dev/null; wait $pid $echo_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 200); do
  port=$(grep -o '(port [0-9]*)' "$dir/werkd.log" | grep -o '[0-9]*' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$dir/werkd.log"; exit 1; }
run() {
  out=$("$WERKBENCH" --port "$port" "$@")
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
# The echo reference server, driven by the same client code.
echo_port=$(grep -o '(port [0-9]*)' "$dir/echo.log" | grep -o '[0-9]*')
out=$("$WERKBENCH" --port "$echo_port" --scenario echo --connections 4 --jobs 2000)
echo "$out" | cut -c1-120
echo "$out" | grep -q '"verified":true'
echo "smoke: every scenario verified"
