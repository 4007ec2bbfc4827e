#!/usr/bin/env bash
# `make run`: starts eddy, sets up a small event-driven app with the CLI, shows it working,
# and keeps the server running until Ctrl-C. The app: a topic `orders`, a Node function
# `greet` (examples/demo), an HTTP route GET /hello/{name} to it, and a subscription that
# delivers every paid order to it.
set -euo pipefail

BUILD=${BUILD:-build}
LISTEN=${EDDY_LISTEN:-127.0.0.1:8400}
DATA=${EDDY_DATA_DIR:-./eddy-data}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
eddy() { "$BUILD/eddy" --endpoint "http://$LISTEN" "$@"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

"$BUILD/eddy" serve --listen "$LISTEN" --data-dir "$DATA" --fsync always &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server"' INT TERM EXIT
for _ in $(seq 100); do
  curl -fs "http://$LISTEN/healthz" >/dev/null && break
  kill -0 "$server" 2>/dev/null || exit 1
  sleep 0.1
done

step eddy topic create orders --partitions 3
eddy topic create orders --partitions 3
step eddy function deploy greet --runtime nodejs --handler index.handler --code examples/demo
eddy function deploy greet --runtime nodejs --handler index.handler --code "$ROOT/examples/demo"
step eddy route put hello --method GET --path '/hello/{name}' --function greet
eddy route put hello --method GET --path '/hello/{name}' --function greet
step eddy sub create shipping --topic orders --function greet --filter '{"type":["order.paid"]}'
eddy sub create shipping --topic orders --function greet --filter '{"type":["order.paid"]}' \
  --start earliest >/dev/null && echo '(created)'

step curl "http://$LISTEN/hello/eddy"
curl -s "http://$LISTEN/hello/eddy"
echo
step eddy publish orders "'{...\"id\":\"o-1\",\"type\":\"order.created\"...}' '{...\"id\":\"o-2\",\"type\":\"order.paid\"...}'"
eddy publish orders \
  '{"specversion":"1.0","id":"o-1","source":"/shop","type":"order.created","data":{"total":31.5}}' \
  '{"specversion":"1.0","id":"o-2","source":"/shop","type":"order.paid","data":{"total":31.5}}'
sleep 1
step eddy function logs greet
eddy function logs greet | grep order || true

cat <<MSG

eddy is running at http://$LISTEN (data in $DATA); Ctrl-C stops it. Try:
  curl http://$LISTEN/hello/you
  $BUILD/eddy publish orders '{"specversion":"1.0","id":"o-3","source":"/shop","type":"order.paid","data":{"total":9}}'
  $BUILD/eddy function logs greet
  $BUILD/eddy tail orders --from-beginning
  curl http://$LISTEN/_eddy/metrics
MSG
wait "$server"
