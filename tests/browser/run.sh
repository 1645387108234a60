#!/usr/bin/env bash
# Browser test: werk's Web UI in Debian's headless Chromium, driven by the
# npm package playwright-core (which downloads no browser), against a real
# werkd with a password. Installs the npm packages into the build tree on
# first use, starts werkd on free loopback ports, runs browser_test.js, and
# stops the server by its PID. Screenshots of every page go to
# ./browser-screenshots (in the build tree).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${WERKD:?WERKD must point at the werkd binary}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "no Chromium at $chromium (Debian package chromium)"; exit 1; }
work="$(pwd)/browser-work"
shots="$(pwd)/browser-screenshots"
mkdir -p "$work" "$shots"

if [ ! -d "$work/node_modules/playwright-core" ] || [ ! -d "$work/node_modules/faktory-worker" ]; then
  cp "$here/package.json" "$work/package.json"
  (cd "$work" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

data="$(mktemp -d /tmp/werk-browser-XXXXXX)"
log="$data/werkd.log"
password="browser-$RANDOM-secret"
mkdir -p "$data/config/conf.d"
cat > "$data/config/conf.d/cron.toml" <<'TOML'
[[cron]]
name = "nightly report"
schedule = "30 2 * * *"
timezone = "Europe/Berlin"
[cron.job]
type = "NightlyReport"
queue = "reports"
TOML
FAKTORY_PASSWORD="$password" "$WERKD" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$data/data" \
  -c "$data/config" --shards 2 > "$log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

port=""
web_port=""
for _ in $(seq 1 400); do
  port="$(grep -o '(port [0-9]*)' "$log" | grep -o '[0-9]*' || true)"
  web_port="$(grep -o '(web port [0-9]*)' "$log" | grep -o '[0-9]*' || true)"
  [ -n "$port" ] && [ -n "$web_port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.05
done
[ -n "$port" ] && [ -n "$web_port" ] || { echo "werkd did not start"; cat "$log"; exit 1; }

status=0
NODE_PATH="$work/node_modules" WERK_PORT="$port" WERK_WEB_PORT="$web_port" \
  WERK_PASSWORD="$password" CHROMIUM="$chromium" SCREENSHOTS="$shots" \
  node "$here/browser_test.js" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- werkd log ---"
  tail -n 50 "$log"
fi
exit "$status"
