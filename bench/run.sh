#!/usr/bin/env bash
# Publish benchmarks of eddy and its peers, side by side in one run on this machine:
#   eddy in-process append, eddy HTTP publish (batch 1 and 100; fsync always and
#   interval:100), publish -> read latency, idle RSS; NATS JetStream async publish
#   (nats-server + libnats); Redis Streams XADD (redis-server + redis-benchmark).
# Every measurement starts a fresh server on a free loopback port with a fresh data dir.
# The systems alternate within each round; ROUNDS rounds (default 3), and the table shows
# the median. Everything is bounded in count and time (about 4-5 minutes in all).
#
#   bench/run.sh                 # BUILD=build ROUNDS=3 DURATION_MS=3000
#   BUILD=build-bench bench/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROUNDS=${ROUNDS:-3}
DURATION_MS=${DURATION_MS:-3000}
CONNECTIONS=${CONNECTIONS:-16}
DATA_BYTES=${DATA_BYTES:-100}
NATS_MSGS=${NATS_MSGS:-1000000}    # upper bound; NATS_SECONDS bounds the time
NATS_SECONDS=${NATS_SECONDS:-3}
# redis-benchmark is bounded by count only: these counts take ~2-4 s each here.
REDIS_N=${REDIS_N:-100000}                # XADD one at a time
REDIS_N_PIPELINED=${REDIS_N_PIPELINED:-1000000}
REDIS_N_ALWAYS=${REDIS_N_ALWAYS:-10000}   # one at a time with an fsync per event-loop turn
PY=/usr/bin/python3

EDDY=$BUILD/eddy
NATS_PEER=$BUILD/bench/nats_peer
if [[ ! -x $EDDY || ! -x $NATS_PEER ]]; then
  [[ -f $BUILD/build.ninja ]] || cmake -S "$ROOT" -B "$BUILD" -G Ninja >/dev/null
fi
cmake --build "$BUILD" --target eddy nats_peer -j "${JOBS:-2}" >/dev/null
for tool in nats-server redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is not installed (make deps)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-run-XXXXXX")
RESULTS=$WORK/results.jsonl
PEER_PID=""
cleanup() {
  if [[ -n $PEER_PID ]]; then kill "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# record NAME JSON: one measurement of this round.
record() {
  echo "{\"name\":\"$1\",\"round\":$ROUND,\"figures\":$2}" >>"$RESULTS"
  echo "  $1: $2" >&2
}

stop_peer() {
  kill "$PEER_PID" 2>/dev/null || true
  wait "$PEER_PID" 2>/dev/null || true
  PEER_PID=""
}

# CPU seconds (user + system) process $1 has used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# add_cpu JSON EVENTS SERVER_CPU_S [CLIENT_CPU_S]: JSON with the CPU µs per event added.
add_cpu() {
  $PY -c '
import json, sys
f, events = json.loads(sys.argv[1]), float(sys.argv[2])
f["server_cpu_us_per_event"] = round(float(sys.argv[3]) * 1e6 / events, 2)
if len(sys.argv) > 4:
    f["client_cpu_us_per_event"] = round(float(sys.argv[4]) * 1e6 / events, 2)
print(json.dumps(f))
' "$@"
}

# The exact bytes eddy receives, for the peers to send.
"$EDDY" bench publish --print-body --batch 1 --data-bytes "$DATA_BYTES" >"$WORK/event.json"
"$EDDY" bench publish --print-body --batch 100 --data-bytes "$DATA_BYTES" >"$WORK/batch100.json"
EVENT=$(cat "$WORK/event.json")

eddy_publish() {  # NAME BATCH FSYNC
  local out
  out=$("$EDDY" bench publish --json --batch "$2" --fsync "$3" --connections "$CONNECTIONS" \
    --data-bytes "$DATA_BYTES" --duration-ms "$DURATION_MS")
  record "$1" "$out"
}

jetstream() {  # NAME PAYLOAD_FILE EVENTS_PER_MSG
  local port dir out cpu0 cpu1 events
  port=$(free_port)
  dir=$WORK/nats-$RANDOM
  mkdir -p "$dir"
  nats-server -js -sd "$dir/js" -a 127.0.0.1 -p "$port" >"$dir/log" 2>&1 &
  PEER_PID=$!
  for _ in $(seq 200); do grep -q "Server is ready" "$dir/log" && break; sleep 0.02; done
  cpu0=$(cpu_seconds "$PEER_PID")
  out=$("$NATS_PEER" publish --url "nats://127.0.0.1:$port" --payload-file "$2" --events-per-msg "$3" \
    --messages "$NATS_MSGS" --max-seconds "$NATS_SECONDS")
  cpu1=$(cpu_seconds "$PEER_PID")
  stop_peer
  rm -rf "$dir"
  events=$($PY -c 'import json, sys; f = json.loads(sys.argv[1]); print(f["messages"] * f["events_per_msg"])' "$out")
  record "$1" "$(add_cpu "$out" "$events" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')")"
}

redis_xadd() {  # NAME PIPELINE N CONFIG...
  local name=$1 pipeline=$2 n=$3 port dir line cpu0 cpu1 client_cpu
  shift 3
  port=$(free_port)
  dir=$WORK/redis-$RANDOM
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no "$@" >"$dir/log" 2>&1 &
  PEER_PID=$!
  for _ in $(seq 200); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.02; done
  cpu0=$(cpu_seconds "$PEER_PID")
  line=$(/usr/bin/time -f "%U %S" -o "$dir/client-cpu" \
    redis-benchmark -p "$port" -n "$n" -c "$CONNECTIONS" -P "$pipeline" --csv XADD bench '*' f "$EVENT" | tail -1)
  cpu1=$(cpu_seconds "$PEER_PID")
  client_cpu=$(awk '{ print $1 + $2 }' "$dir/client-cpu")
  stop_peer
  rm -rf "$dir"
  record "$name" "$(add_cpu "$($PY -c '
import json, sys
f = sys.argv[1].rsplit("\",\"", 7)[1:]
rps, avg, mn, p50, p95, p99, mx = (float(x.strip("\"")) for x in f)
print(json.dumps({"events_per_sec": round(rps), "p50_us": round(p50 * 1000), "p99_us": round(p99 * 1000)}))
' "$line")" "$n" "$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }')" "$client_cpu")"
}

{
  echo "bench/run.sh: $ROUNDS rounds, $CONNECTIONS connections, events of $(wc -c <"$WORK/event.json") B" \
    "(data $DATA_BYTES B), eddy runs of ${DURATION_MS} ms"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >&2
# What one small write + fdatasync costs on this disk right now: it bounds every
# fsync=always figure (eddy's and Redis' appendfsync always alike).
FSYNC_US=$($PY - "$WORK/fsync-probe" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
n, t0 = 0, time.monotonic()
while n < 500 and time.monotonic() - t0 < 1.0:
    os.write(fd, b"x" * 200)
    os.fdatasync(fd)
    n += 1
print(round((time.monotonic() - t0) / n * 1e6))
EOF
)
echo "fdatasync of a 200 B append: $FSYNC_US µs" >&2
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
START=$(date +%s)

for ROUND in $(seq "$ROUNDS"); do
  echo "round $ROUND" >&2
  record eddy_append "$("$EDDY" bench append --json --batch 100)"
  eddy_publish eddy_b1_always 1 always
  jetstream js_1 "$WORK/event.json" 1
  eddy_publish eddy_b100_always 100 always
  redis_xadd redis_rdb 1 "$REDIS_N"
  eddy_publish eddy_b1_interval 1 interval:100
  jetstream js_100 "$WORK/batch100.json" 100
  eddy_publish eddy_b100_interval 100 interval:100
  redis_xadd redis_rdb_p100 100 "$REDIS_N_PIPELINED"
  redis_xadd redis_aof_everysec 1 "$REDIS_N" --appendonly yes --appendfsync everysec
  redis_xadd redis_aof_everysec_p100 100 "$REDIS_N_PIPELINED" --appendonly yes --appendfsync everysec
  redis_xadd redis_aof_always 1 "$REDIS_N_ALWAYS" --appendonly yes --appendfsync always
  redis_xadd redis_aof_always_p100 100 "$REDIS_N_PIPELINED" --appendonly yes --appendfsync always
  record eddy_latency_interval "$("$EDDY" bench latency --json --fsync interval:100)"
  record eddy_latency_always "$("$EDDY" bench latency --json --fsync always)"
  record eddy_idle "$("$EDDY" bench idle --json)"
done

{
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); took $(($(date +%s) - START)) s"
  awk -v l="$LOAD_START" 'BEGIN { if (l > 1.0) print "warning: the machine was busy at start (load " l "); figures will be low" }'
} >&2

# The table: medians of the rounds.
$PY - "$RESULTS" "$ROUNDS" "$FSYNC_US" "$LOAD_START" <<'EOF'
import json, statistics, sys

rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["name"], []).append(r["figures"])

def med(name, key):
    vals = [f[key] for f in rows.get(name, []) if key in f]
    return statistics.median(vals) if vals else None

def fmt(v, unit=""):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}{unit}"
    return f"{v:.1f}{unit}"

table = [
    ("eddy in-process append (batch 100, 100 B records)", "eddy_append", "fsync never"),
    ("eddy HTTP publish, batch 1", "eddy_b1_always", "fsync always"),
    ("eddy HTTP publish, batch 1", "eddy_b1_interval", "fsync interval:100"),
    ("eddy HTTP publish, batch 100", "eddy_b100_always", "fsync always"),
    ("eddy HTTP publish, batch 100", "eddy_b100_interval", "fsync interval:100"),
    ("JetStream async publish, 1 event/msg", "js_1", "file store, defaults"),
    ("JetStream async publish, 100 events/msg", "js_100", "file store, defaults"),
    ("Redis XADD", "redis_rdb", "default (RDB)"),
    ("Redis XADD, pipeline 100", "redis_rdb_p100", "default (RDB)"),
    ("Redis XADD", "redis_aof_everysec", "AOF everysec"),
    ("Redis XADD, pipeline 100", "redis_aof_everysec_p100", "AOF everysec"),
    ("Redis XADD", "redis_aof_always", "AOF always"),
    ("Redis XADD, pipeline 100", "redis_aof_always_p100", "AOF always"),
]
print(f"Medians of {sys.argv[2]} rounds. fdatasync of a 200 B append took {sys.argv[3]} µs; "
      f"load average at start {sys.argv[4]}.\n")
print("| benchmark | durability | events/s | p50 µs | p99 µs | server CPU µs/event | client CPU µs/event | server RSS MB |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
def cpu(v):
    return "–" if v is None else f"{v:.2f}"
for label, name, durability in table:
    if name not in rows:
        continue
    print(f"| {label} | {durability} | {fmt(med(name, 'events_per_sec'))} | "
          f"{fmt(med(name, 'p50_us'))} | {fmt(med(name, 'p99_us'))} | "
          f"{cpu(med(name, 'server_cpu_us_per_event'))} | {cpu(med(name, 'client_cpu_us_per_event'))} | "
          f"{fmt(med(name, 'rss_mb'))} |")
print()
print("| publish → read latency (one long-polling reader) | durability | samples | p50 µs | p99 µs | p99.9 µs | publisher's 2xx p50 µs |")
print("|---|---|---:|---:|---:|---:|---:|")
for name, durability in (("eddy_latency_interval", "fsync interval:100"), ("eddy_latency_always", "fsync always")):
    if name in rows:
        print(f"| eddy | {durability} | {fmt(med(name, 'samples'))} | {fmt(med(name, 'p50_us'))} | "
              f"{fmt(med(name, 'p99_us'))} | {fmt(med(name, 'p999_us'))} | {fmt(med(name, 'ack_p50_us'))} |")
print()
print(f"Idle server RSS: {fmt(med('eddy_idle', 'rss_mb'), ' MB')} (target ≤ 30 MB)\n")

js = med("js_1", "events_per_sec")
def ratio(name, target=None):
    v = med(name, "events_per_sec")
    if not v or not js:
        return "–"
    text = f"{v / js:.2f}×"
    if target is not None:
        text += " (target ≥ %g×: %s)" % (target, "met" if v / js >= target else "MISSED")
    return text
print("| ratio (events/s) | value |")
print("|---|---:|")
print(f"| eddy batch 100, interval:100 / JetStream 1 event/msg | {ratio('eddy_b100_interval', 3)} |")
print(f"| eddy batch 100, always / JetStream 1 event/msg | {ratio('eddy_b100_always', 1)} |")
print(f"| eddy batch 1, interval:100 / JetStream 1 event/msg | {ratio('eddy_b1_interval')} |")
print(f"| eddy batch 1, always / JetStream 1 event/msg | {ratio('eddy_b1_always')} |")
# The same comparison per CPU-second (server + client), which the load of a shared machine
# distorts much less than events/s.
def cpu_per_event(name):
    a, b = med(name, "server_cpu_us_per_event"), med(name, "client_cpu_us_per_event")
    return a + b if a is not None and b is not None else None
js_cpu = cpu_per_event("js_1")
for name, label in (("eddy_b100_interval", "eddy batch 100, interval:100"), ("eddy_b100_always", "eddy batch 100, always")):
    c = cpu_per_event(name)
    if c and js_cpu:
        print(f"| {label} / JetStream 1 event/msg, events per CPU-second | {js_cpu / c:.2f}× |")
b100 = med("eddy_b100_interval", "events_per_sec")
js100 = med("js_100", "events_per_sec")
if b100 and js100:
    print(f"| eddy batch 100, interval:100 / JetStream 100 events/msg | {b100 / js100:.2f}× |")
EOF
