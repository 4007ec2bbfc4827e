#!/usr/bin/env bash
# Subscription benchmarks of eddy beside NATS JetStream, in one run on this machine:
#   pull + ack throughput (batches of BATCH; fsync interval:100 and always) against a
#   JetStream durable pull consumer with explicit acks fetching the same batches of the same
#   bytes; push throughput to a local endpoint; publish -> long-poll pull latency.
# Every measurement starts a fresh server on a free loopback port with a fresh data dir.
# ROUNDS rounds (default 3) alternate the systems; the table shows the median of each.
#
#   bench/subscriptions.sh              # BUILD=build ROUNDS=3 EVENTS=200000 BATCH=100
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-200000}
BATCH=${BATCH:-100}
SAMPLES=${SAMPLES:-2000}
PY=/usr/bin/python3

EDDY=$BUILD/eddy
NATS_PEER=$BUILD/bench/nats_peer
[[ -f $BUILD/build.ninja ]] || cmake -S "$ROOT" -B "$BUILD" -G Ninja >/dev/null
cmake --build "$BUILD" --target eddy nats_peer -j "${JOBS:-2}" >/dev/null
command -v nats-server >/dev/null || { echo "bench/subscriptions.sh: nats-server is not installed (make deps)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-sub-XXXXXX")
RESULTS=$WORK/results.jsonl
NATS_PID=""
cleanup() {
  if [[ -n $NATS_PID ]]; then kill "$NATS_PID" 2>/dev/null || true; wait "$NATS_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

record() {  # NAME JSON
  echo "{\"name\":\"$1\",\"figures\":$2}" >>"$RESULTS"
  echo "  $1: $2" >&2
}

# The bytes eddy's benchmarks publish, for JetStream to carry.
"$EDDY" bench publish --print-body --batch 1 --data-bytes 100 >"$WORK/event.json"

jetstream_pull() {
  local port dir
  port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  dir=$WORK/nats-$RANDOM
  mkdir -p "$dir"
  nats-server -js -sd "$dir/js" -a 127.0.0.1 -p "$port" >"$dir/log" 2>&1 &
  NATS_PID=$!
  for _ in $(seq 200); do grep -q "Server is ready" "$dir/log" && break; sleep 0.02; done
  record "jetstream pull consumer, batch $BATCH" \
    "$("$NATS_PEER" pull --url "nats://127.0.0.1:$port" --payload-file "$WORK/event.json" \
        --messages "$EVENTS" --batch "$BATCH")"
  kill "$NATS_PID"; wait "$NATS_PID" 2>/dev/null || true; NATS_PID=""
  rm -rf "$dir"
}

for ROUND in $(seq "$ROUNDS"); do
  echo "round $ROUND of $ROUNDS" >&2
  record "eddy pull, batch $BATCH, interval:100" \
    "$("$EDDY" bench pull --json --events "$EVENTS" --batch "$BATCH" --fsync interval:100)"
  jetstream_pull
  record "eddy pull, batch $BATCH, always" \
    "$("$EDDY" bench pull --json --events "$EVENTS" --batch "$BATCH" --fsync always)"
  record "eddy push, concurrency 16, interval:100" \
    "$("$EDDY" bench push --json --events $((EVENTS / 4)) --fsync interval:100)"
  record "eddy publish->pull latency, interval:100" \
    "$("$EDDY" bench pull-latency --json --samples "$SAMPLES" --fsync interval:100)"
  record "eddy publish->pull latency, always" \
    "$("$EDDY" bench pull-latency --json --samples "$SAMPLES" --fsync always)"
done

$PY - "$RESULTS" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["name"], []).append(r["figures"])
print(f"{'benchmark (median of rounds)':<44} {'events/s':>10} {'p50 us':>9} {'p99 us':>9}")
for name, figs in rows.items():
    def med(key):
        vals = [f[key] for f in figs if key in f]
        return statistics.median(vals) if vals else None
    eps, p50, p99 = med("events_per_sec"), med("p50_us"), med("p99_us")
    fmt = lambda v, width, spec: format(v, f">{width}{spec}") if v is not None else "-".rjust(width)
    print(f"{name:<44} {fmt(eps, 10, ',.0f')} {fmt(p50, 9, '.1f')} {fmt(p99, 9, '.1f')}")
PY
