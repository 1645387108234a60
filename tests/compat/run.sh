#!/usr/bin/env bash
# Compatibility test: the npm package faktory-worker (a third-party Faktory
# client) against a real werkd. Installs the client from the npm registry
# into the build tree on first use, starts werkd on a free loopback port with
# a password, runs compat_test.js, and stops the server by its PID.
#
# `run.sh tls`: the same over TLS. Makes a test CA, a server certificate for
# localhost and 127.0.0.1 and an unrelated CA with the openssl command,
# puts the key and certificate into werkd's config directory and runs
# tls_test.js, which trusts the test CA through NODE_EXTRA_CA_CERTS.
set -euo pipefail
mode="${1:-plain}"
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
script="$here/compat_test.js"
extra_args=()
if [ "$mode" = tls ]; then
  pki="$data/pki"
  bash "$here/../support/make_test_certs.sh" "$pki" "$data/config"
  script="$here/tls_test.js"
  # A plaintext client gets no greeting and is closed at the handshake
  # deadline: a short one keeps the test short.
  extra_args=(--handshake-timeout 2)
fi
FAKTORY_PASSWORD="$password" "$WERKD" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$data/data" -c "$data/config" \
  "${extra_args[@]}" > "$log" 2>&1 &
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
if [ "$mode" = tls ]; then
  NODE_PATH="$work/node_modules" WERK_PORT="$port" WERK_PASSWORD="$password" \
    NODE_EXTRA_CA_CERTS="$pki/ca.pem" WERK_TLS_CA="$pki/ca.pem" WERK_TLS_OTHER_CA="$pki/other.pem" \
    node "$script" || status=$?
else
  NODE_PATH="$work/node_modules" WERK_PORT="$port" WERK_PASSWORD="$password" \
    node "$script" || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "--- werkd log ---"
  tail -n 50 "$log"
fi
exit "$status"
