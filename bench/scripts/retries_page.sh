#!/usr/bin/env bash
# The first page of a large retry set in the Web UI: fills a werkd's retry
# set with N jobs (PUSHB, then FETCH and FAIL, pipelined over one
# connection), then times GET /retries (the first page, 25 jobs) ROUNDS
# times with curl, and one JSON page through WERK JOBS for comparison.
#   N=1000000 SHARDS=2 bash bench/scripts/retries_page.sh <build> [rounds]
set -euo pipefail
build="$1"
rounds="${2:-10}"
n="${N:-1000000}"
shards="${SHARDS:-1}"
dir="$(mktemp -d /tmp/werk-retries-XXXXXX)"
"$build/tools/werkd" -b 127.0.0.1:0 -w 127.0.0.1:0 -d "$dir/data" --shards "$shards" -l info \
  > "$dir/werkd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 200); do
  grep -q "(port " "$dir/werkd.log" && grep -q "(web port " "$dir/werkd.log" && break
  sleep 0.05
done
port=$(grep -o "(port [0-9]*)" "$dir/werkd.log" | grep -o '[0-9]*')
web=$(grep -o "(web port [0-9]*)" "$dir/werkd.log" | grep -o '[0-9]*')
python3 - "$port" "$n" <<'PY'
import json, socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def line():
    return f.readline()
def reply():
    l = line()
    if l.startswith(b"$"):
        size = int(l[1:])
        if size < 0:
            return None
        body = f.read(size + 2)[:-2]
        return body
    if l.startswith(b"-"):
        raise SystemExit("error: " + l.decode())
    return l
reply()  # +HI
s.sendall(b'HELLO {"v":2}\r\n'); reply()
t0 = time.time()
batch = 1000
for start in range(0, n, batch):
    jobs = [{"jid": "retry-%09d" % i, "jobtype": "Report", "queue": "fill",
             "args": [i, "customer-%d" % (i % 977)], "retry": 25,
             # As if failed 10 times already: the next retry is hours away
             # (retry_count^4 s), so none comes due while the set fills.
             "failure": {"retry_count": 10, "errtype": "Timeout", "message": "earlier"}}
            for i in range(start, min(n, start + batch))]
    s.sendall(b"PUSHB " + json.dumps(jobs).encode() + b"\r\n")
    r = reply()
    if r != b"{}":
        raise SystemExit("PUSHB refused: %r" % r)
chunk = 500
failed = 0
while failed < n:
    k = min(chunk, n - failed)
    s.sendall(b"FETCH fill\r\n" * k)
    jids = [json.loads(reply())["jid"] for _ in range(k)]
    s.sendall(b"".join(b'FAIL {"jid":"%s","errtype":"Timeout","message":"report timed out","backtrace":["report.rb:12"]}\r\n' % j.encode() for j in jids))
    for _ in range(k):
        reply()
    failed += k
print("%d jobs failed into the retry set in %.1f s" % (n, time.time() - t0))
PY
times=()
for i in $(seq "$rounds"); do
  t=$(curl -s -o "$dir/page.html" -w '%{time_total}' "http://127.0.0.1:$web/retries")
  times+=("$t")
done
rows=$(grep -o 'name="key"' "$dir/page.html" | wc -l)
printf '%s\n' "${times[@]}" | sort -n | awk -v r="$rows" '{v[NR]=$1} END {printf "GET /retries (first page, %d rows): min %.1f ms, median %.1f ms, max %.1f ms over %d requests\n", r, v[1]*1000, v[int((NR+1)/2)]*1000, v[NR]*1000, NR}'
grep -o '[0-9,]* in all' "$dir/page.html" | head -1
