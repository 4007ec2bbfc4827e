#!/usr/bin/env bash
# Where the CPU of a warm sync invoke goes: wrk posts to /v1/functions/hello/invoke (a Node
# hello handler) over CONNECTIONS connections for SECONDS_EACH seconds, while `perf stat`
# counts the task clock and context switches of the eddy server and of its runtime
# processes. Prints requests/s and, per request, each side's CPU µs and context switches.
#
#   bench/invoke_cpu.sh                    # BUILD=build CONNECTIONS=4 SECONDS_EACH=4 ROUNDS=3
#   bench/invoke_cpu.sh --threads 1        # arguments go to `eddy serve`
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
EDDY=$BUILD/eddy
CONNECTIONS=${CONNECTIONS:-4}
SECONDS_EACH=${SECONDS_EACH:-4}
ROUNDS=${ROUNDS:-3}
[[ -x $EDDY ]] || { echo "bench/invoke_cpu.sh: $EDDY is missing (make build)" >&2; exit 1; }
for tool in wrk perf; do
  command -v $tool >/dev/null || { echo "bench/invoke_cpu.sh: $tool is not installed" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/eddy-invoke-cpu-XXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/code"
echo "exports.handler = async () => ({ hello: 'world' });" >"$WORK/code/index.js"
chmod -R a+rX "$WORK/code"
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
LUA
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$EDDY" serve --listen 127.0.0.1:$PORT --data-dir "$WORK/data" --fsync interval:100 "$@" \
  >"$WORK/eddy.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
until curl -fsS -o /dev/null http://127.0.0.1:$PORT/healthz 2>/dev/null; do sleep 0.05; done
curl -fsS -o /dev/null -X PUT http://127.0.0.1:$PORT/v1/functions/hello -d \
  "{\"runtime\":\"nodejs\",\"handler\":\"index.handler\",\"code\":{\"path\":\"$WORK/code\"},\"max_concurrency\":16}"
URL=http://127.0.0.1:$PORT/v1/functions/hello/invoke
wrk -t1 -c$CONNECTIONS -d2s -s "$WORK/post.lua" $URL >/dev/null  # instances up, code warm

# perf stat -x, prints "value,unit,event,..."; task-clock is in ms.
per_request() {  # FILE EVENT REQUESTS
  awk -F, -v e=$2 -v n=$3 '$3==e {printf "%.2f", (e=="task-clock" ? $1*1000 : $1)/n}' "$1"
}
printf "%-6s %10s %14s %10s %17s %12s\n" round "req/s" "eddy cpu µs" "eddy cs" "runtimes cpu µs" "runtimes cs"
for ((r = 1; r <= ROUNDS; r++)); do
  RUNTIMES=$(pgrep -P $SERVER | paste -sd,)
  perf stat -x, -e task-clock,context-switches -p $SERVER -o "$WORK/eddy.stat" -- \
    sleep $((SECONDS_EACH + 1)) >/dev/null 2>&1 &
  P1=$!
  perf stat -x, -e task-clock,context-switches -p "$RUNTIMES" -o "$WORK/rt.stat" -- \
    sleep $((SECONDS_EACH + 1)) >/dev/null 2>&1 &
  P2=$!
  sleep 0.3
  wrk -t1 -c$CONNECTIONS -d${SECONDS_EACH}s -s "$WORK/post.lua" $URL >"$WORK/wrk.out"
  wait $P1 $P2
  N=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
  printf "%-6s %10s %14s %10s %17s %12s\n" $r "$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")" \
    "$(per_request "$WORK/eddy.stat" task-clock $N)" "$(per_request "$WORK/eddy.stat" context-switches $N)" \
    "$(per_request "$WORK/rt.stat" task-clock $N)" "$(per_request "$WORK/rt.stat" context-switches $N)"
done
