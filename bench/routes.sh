#!/usr/bin/env bash
# HTTP route -> Node handler, side by side in one run with wrk:
#   eddy        GET /hello through a route (API Gateway payload 2.0) to a Node function
#   sls-offline the same handler behind serverless-offline 13 (an httpApi GET /hello event)
#   bare-node   a bare node `http` server answering the same JSON (the ceiling)
# Throughput over CONNECTIONS keep-alive connections, latency over 1 connection. The three
# alternate within each round; ROUNDS rounds (default 3); the table shows medians. eddy
# runs with --fsync interval:100 (no event is written on this path either way).
#
#   bench/routes.sh                       # BUILD=build ROUNDS=3 SECONDS_EACH=5 CONNECTIONS=4
#   BUILD=build-routes bench/routes.sh --json
# serverless-offline comes from SLS_DIR (default bench/functions: npm ci --prefix bench/functions).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SLS_DIR=${SLS_DIR:-$ROOT/bench/functions}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-5}
CONNECTIONS=${CONNECTIONS:-4}
JSON_OUT=0
[[ ${1:-} == --json ]] && JSON_OUT=1
PY=/usr/bin/python3
EDDY=$BUILD/eddy

[[ -x $EDDY ]] || { echo "bench/routes.sh: $EDDY is missing (make build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench/routes.sh: wrk is not installed (make deps)" >&2; exit 1; }
[[ -x $SLS_DIR/node_modules/.bin/serverless ]] ||
  { echo "bench/routes.sh: serverless-offline is missing: npm ci --prefix ${SLS_DIR#$ROOT/}" >&2; exit 1; }

WORK=$(mktemp -d /tmp/eddy-bench-routes-XXXXXX)
chmod 755 "$WORK"  # functions run as nobody when this runs as root
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_http URL: polls until URL answers 2xx (30 s at most).
wait_http() {
  local deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    (( SECONDS < deadline )) || { echo "bench/routes.sh: $1 did not come up" >&2; exit 1; }
    sleep 0.05
  done
}

# The handler all three serve.
mkdir -p "$WORK/code"
cat >"$WORK/code/index.js" <<'JS'
exports.handler = async () => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: 'world' }),
});
JS
chmod -R a+rX "$WORK/code"

cat >"$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"errors":%d,"non2xx_or_socket":%d,"seconds":%.3f,"p50_us":%d,"p90_us":%d,"p99_us":%d}\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
LUA

# measure NAME URL: wrk with CONNECTIONS, then with 1; appends one JSON line.
measure() {
  local name=$1 url=$2 many one
  wrk -t1 -c"$CONNECTIONS" -d1s "$url" >/dev/null 2>&1  # warm up
  many=$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" -s "$WORK/report.lua" "$url" | sed -n 's/^RESULT //p')
  one=$(wrk -t1 -c1 -d"${SECONDS_EACH}s" -s "$WORK/report.lua" "$url" | sed -n 's/^RESULT //p')
  echo "{\"name\":\"$name\",\"round\":$ROUND,\"many\":$many,\"one\":$one}" >>"$WORK/results.jsonl"
  echo "  $name: $many / 1 conn: $one" >&2
}

# eddy
EDDY_PORT=$(free_port)
"$EDDY" serve --listen "127.0.0.1:$EDDY_PORT" --data-dir "$WORK/eddy-data" --fsync interval:100 \
  >"$WORK/eddy.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$EDDY_PORT/healthz"
curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$EDDY_PORT/v1/functions/hello" \
  -d "{\"runtime\":\"nodejs\",\"handler\":\"index.handler\",\"code\":{\"path\":\"$WORK/code\"}}"
curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$EDDY_PORT/v1/routes/hello" \
  -d '{"method":"GET","path":"/hello","function":"hello","payload_version":"2.0"}'
wait_http "http://127.0.0.1:$EDDY_PORT/hello"

# serverless-offline
SLS_PORT=$(free_port); SLS_LAMBDA_PORT=$(free_port); SLS_WS_PORT=$(free_port)
mkdir -p "$WORK/sls"
cp "$WORK/code/index.js" "$WORK/sls/"
ln -s "$SLS_DIR/node_modules" "$WORK/sls/node_modules"
cat >"$WORK/sls/serverless.yml" <<YML
service: eddybench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
functions:
  hello:
    handler: index.handler
    events:
      - httpApi:
          method: GET
          path: /hello
plugins:
  - serverless-offline
custom:
  serverless-offline:
    host: 127.0.0.1
    httpPort: $SLS_PORT
    lambdaPort: $SLS_LAMBDA_PORT
    websocketPort: $SLS_WS_PORT
YML
(cd "$WORK/sls" && SLS_TELEMETRY_DISABLED=1 exec ./node_modules/.bin/serverless offline start \
  >"$WORK/sls.log" 2>&1) &
PIDS+=($!)
wait_http "http://127.0.0.1:$SLS_PORT/hello"

# bare node http
NODE_PORT=$(free_port)
node -e "
const http = require('http');
const { handler } = require('$WORK/code/index.js');
http.createServer(async (req, res) => {
  const r = await handler({});
  res.writeHead(r.statusCode, r.headers);
  res.end(r.body);
}).listen($NODE_PORT, '127.0.0.1');
" >"$WORK/node.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$NODE_PORT/hello"

for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  echo "round $ROUND/$ROUNDS" >&2
  measure eddy "http://127.0.0.1:$EDDY_PORT/hello"
  measure sls_offline "http://127.0.0.1:$SLS_PORT/hello"
  measure bare_node "http://127.0.0.1:$NODE_PORT/hello"
done

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
$PY - "$WORK/results.jsonl" "$JSON_OUT" "$CONNECTIONS" "$LOAD" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
as_json, conns, load = sys.argv[2] == "1", sys.argv[3], sys.argv[4]
fig = {}
for name in ("eddy", "sls_offline", "bare_node"):
    mine = [r for r in rows if r["name"] == name]
    med = lambda f: statistics.median(f(r) for r in mine)
    fig[f"{name}_requests_per_sec"] = round(med(lambda r: r["many"]["requests"] / r["many"]["seconds"]))
    fig[f"{name}_p50_us"] = med(lambda r: r["many"]["p50_us"])
    fig[f"{name}_p99_us"] = med(lambda r: r["many"]["p99_us"])
    fig[f"{name}_1conn_p50_us"] = med(lambda r: r["one"]["p50_us"])
    fig[f"{name}_1conn_p99_us"] = med(lambda r: r["one"]["p99_us"])
    fig[f"{name}_errors"] = sum(r["many"]["errors"] + r["many"]["non2xx_or_socket"] +
                                r["one"]["errors"] + r["one"]["non2xx_or_socket"] for r in mine)
fig["eddy_vs_sls_offline_x"] = round(fig["eddy_requests_per_sec"] / max(1, fig["sls_offline_requests_per_sec"]), 1)
fig["eddy_added_1conn_p50_us"] = fig["eddy_1conn_p50_us"] - fig["bare_node_1conn_p50_us"]
fig["connections"] = int(conns)
fig["load_average"] = load
if as_json:
    print(json.dumps(fig))
else:
    print(f"| figure ({conns} connections; load {load}) | eddy route | serverless-offline | bare node http |")
    print("| --- | --- | --- | --- |")
    print("| requests/s | {eddy_requests_per_sec:,} | {sls_offline_requests_per_sec:,} | {bare_node_requests_per_sec:,} |".format(**fig))
    print("| p50 / p99 | {eddy_p50_us} µs / {eddy_p99_us} µs | {sls_offline_p50_us} µs / {sls_offline_p99_us} µs | {bare_node_p50_us} µs / {bare_node_p99_us} µs |".format(**fig))
    print("| 1 connection p50 / p99 | {eddy_1conn_p50_us} µs / {eddy_1conn_p99_us} µs | {sls_offline_1conn_p50_us} µs / {sls_offline_1conn_p99_us} µs | {bare_node_1conn_p50_us} µs / {bare_node_1conn_p99_us} µs |".format(**fig))
    print("| errors | {eddy_errors} | {sls_offline_errors} | {bare_node_errors} |".format(**fig))
    print()
    print(f"eddy / serverless-offline throughput: {fig['eddy_vs_sls_offline_x']}x; "
          f"eddy p50 over bare node (1 connection): {fig['eddy_added_1conn_p50_us']} µs")
PY
