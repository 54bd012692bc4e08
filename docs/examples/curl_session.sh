#!/usr/bin/env bash
# The same session with curl (and python3 to read JSON). PLAYGROUND defaults to the local server.
set -euo pipefail
P=${PLAYGROUND:-http://127.0.0.1:8000}
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

answer=$(curl -sf -X POST "$P/api/networks" -H 'Content-Type: application/json' \
  -d '{"dataset": {"name": "xor"}, "hidden": [3], "learning_rate": 0.5}')
ID=$(echo "$answer" | json '["id"]')
AUTH="Authorization: Bearer $(echo "$answer" | json '["token"]')"

curl -sf -X POST "$P/api/networks/$ID/forward" -H "$AUTH" -H 'Content-Type: application/json' -d '{}'
echo
curl -sf -X POST "$P/api/networks/$ID/backward" -H "$AUTH"
echo
curl -sf -X POST "$P/api/networks/$ID/update" -H "$AUTH"
echo
# Follow the stream (-N: no buffering) from before the run starts, until it is done.
exec 3< <(curl -sN "$P/api/networks/$ID/events")
IFS= read -r line <&3  # the stream is open: its first event, the snapshot, has begun
curl -sf -X POST "$P/api/networks/$ID/train" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"epochs": 1000}'
echo
while IFS= read -r line <&3; do
  case "$line" in
    "event: done") echo "$line"; IFS= read -r line <&3; echo "$line"; break ;;
    "event: progress") IFS= read -r line <&3; echo "progress ${line:0:60}..." ;;
  esac
done
kill $! 2>/dev/null || true
