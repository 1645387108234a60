#!/usr/bin/env bash
# Compatibility test: the npm package faktory-worker (a third-party Faktory
# client) against a real werkd. Installs the client from the npm registry
# into the build tree on first use, starts werkd on a free loopback port with
# a password, runs compat_test.js, and stops the server by its PID.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${WERKD:?WERKD must point at the werkd binary}"
work="$(pwd)/compat-work"
mkdir -p "$work"

if [ ! -d "$work/node_modules/faktory-worker" ]; then
  cp "$here/package.json" "$work/package.json"
  (cd "$work" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

data="$(mktemp -d /tmp/werk-compat-XXXXXX)"
log="$data/werkd.log"
password="compat-$RANDOM-secret"
FAKTORY_PASSWORD="$password" "$WERKD" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$data/data" -c "$data/config" \
  > "$log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

port=""
for _ in $(seq 1 200); do
  port="$(grep -o '(port [0-9]*)' "$log" | grep -o '[0-9]*' || true)"
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "werkd did not start"; cat "$log"; exit 1; }

status=0
NODE_PATH="$work/node_modules" WERK_PORT="$port" WERK_PASSWORD="$password" \
  node "$here/compat_test.js" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- werkd log ---"
  tail -n 50 "$log"
fi
exit "$status"
