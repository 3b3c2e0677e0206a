#!/usr/bin/env bash
# Records the data folder JournalFormatTests reads: what the first release of storage format 2 (the account journal)
# wrote, so that every later release is tested on reading it. Run it only to record that release's folder again (it
# is the fixture, not the test): it builds the server, drives it over HTTP, kills it with SIGKILL right after its last
# answer (so some entries are still in the log, not yet moved), and keeps the database plus expected.json, the facts
# the server answered before it was killed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
work=$(mktemp -d)
trap 'status=$?; kill -9 "${pid:-0}" 2>/dev/null || true; [ $status = 0 ] || tail -40 "$work/server.log" 2>/dev/null; rm -rf "$work"' EXIT

dotnet build -c Release "$root/src/OrleansOps.Server" -v q -nologo >/dev/null
token=fixture-admin-token-0123456789
key=fixture-key-0123456789
read -r port silo_port gateway_port < <(python3 -c '
import socket; ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(*(s.getsockname()[1] for s in ss))')
url=http://127.0.0.1:$port
mkdir "$work/data" "$work/config"
dotnet "$root/src/OrleansOps.Server/bin/Release/net10.0/OrleansOps.Server.dll" --urls "$url" \
  --OrleansOps:DataPath="$work/data" --OrleansOps:ConfigPath="$work/config" --OrleansOps:AdminToken=$token \
  --OrleansOps:SiloPort=$silo_port --OrleansOps:GatewayPort=$gateway_port \
  --OrleansOps:RateLimits:IngestPerSecond=0 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 120); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.5; done

admin() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
ingest() { curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$url/api/v2/alerts" -d "$1"; }
alerts() { # name count first [severity]
  python3 -c 'import json,sys; n,c,f,s=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),sys.argv[4]
print(json.dumps([{"labels":{"alertname":n,"instance":f"node-{i}","severity":s},"annotations":{"summary":f"{n} on node-{i}"},
  "startsAt":"2026-12-06T10:00:00Z"} for i in range(f,f+c)]))' "$1" "$2" "$3" "${4:-critical}"; }

curl -sf -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/yaml' "$url/api/v1/accounts/fixture/config" --data-binary @- >/dev/null <<YAML
id: fixture
name: Journal format 2
services:
  - {id: db, escalationPolicy: standard}
  - {id: api, dependsOn: [db], escalationPolicy: standard}
channels:
  - {id: console, kind: log}
escalationPolicies:
  - id: standard
    levels:
      - {delay: 0m, targets: ["channel:console"]}
correlation:
  groupBy: [alertname]
sla:
  availability:
    - {name: availability, target: 99.9, window: 30d, services: [api, db]}
  response: {sev1: 15m}
  resolution: {sev1: 2h}
integrationKeys:
  - {name: fixture, key: $key, defaultService: api}
YAML

# DiskFull: 2,500 alerts in one incident, enough history (over 256 KB) for it to be snapshotted; then 50 of them
# again (repeats).
for first in $(seq 0 100 2400); do ingest "$(alerts DiskFull 100 $first)" >/dev/null; done
ingest "$(alerts DiskFull 50 0)" >/dev/null
ingest "$(alerts DiskFull 50 0)" >/dev/null
# ApiLatency: acknowledged, with a note. DbDown on db: resolved.
latency=$(ingest "$(alerts ApiLatency 3 0 warning)" | jq -r '.alerts[0].incidentId')
admin -X POST "$url/api/v1/incidents/$latency/ack" -d '{"actor":"ana"}' >/dev/null
admin -X POST "$url/api/v1/incidents/$latency/notes" -d '{"actor":"ana","text":"looking at the load balancer"}' >/dev/null
dbdown=$(python3 -c 'import json; print(json.dumps([{"labels":{"alertname":"DbDown","instance":"db-1","severity":"critical","service":"db"}}]))')
down=$(ingest "$dbdown" | jq -r '.alerts[0].incidentId')
admin -X POST "$url/api/v1/incidents/$down/resolve" -d '{"actor":"ben","note":"failed over"}' >/dev/null
silence=$(admin -X POST "$url/api/v1/accounts/fixture/silences" \
  -d '{"matchers":["alertname=\"Maintenance\""],"endsAt":"2036-01-01T00:00:00Z","createdBy":"ana","comment":"fixture"}' | jq -r .id)
sleep 7 # the repeats' counts are journaled within 5 s

# The facts, as the server answers them.
python3 - "$url" "$token" "$silence" >"$work/expected.json" <<'PY'
import json, sys, urllib.request
url, token, silence = sys.argv[1:]
def get(path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(request))
account = get("/api/v1/accounts/fixture")
incidents = []
for item in get("/api/v1/accounts/fixture/incidents?limit=500")["items"]:
    incident = get(f"/api/v1/incidents/{item['id']}")
    verify = get(f"/api/v1/incidents/{item['id']}/chronicle/verify")
    alerts, cursor = [], None
    while True:
        page = get(f"/api/v1/incidents/{item['id']}/alerts?limit=500" + (f"&cursor={cursor}" if cursor else ""))
        alerts += page["items"]
        cursor = page.get("next")
        if not cursor: break
    incidents.append({"id": incident["id"], "title": incident["title"], "service": incident["service"], "status": incident["status"],
        "groupKey": incident["groupKey"], "alertCount": incident["alertCount"], "chronicleEntries": verify["entries"],
        "headHash": verify["headHash"], "alerts": {a["fingerprint"]: a["count"] for a in alerts}})
print(json.dumps({"configVersion": account["configVersion"], "silence": silence, "incidents": incidents}, indent=1))
PY

# Last, alerts whose entries are still in the log when the process dies: the test finds them too.
ingest "$(alerts ApiLatency 5 100 warning)" | jq '{lastBatch: [.alerts[] | {fingerprint, incidentId}]}' >"$work/last.json"
kill -9 $pid
wait $pid 2>/dev/null || true
unmoved=$(sqlite3 "$work/data/orleansops.db" "SELECT count(*) FROM journal_log")
[ "$unmoved" -gt 0 ] || { echo "the log was moved before the kill; run again" >&2; exit 1; }
snapshots=$(sqlite3 "$work/data/orleansops.db" "SELECT count(*) FROM snapshots WHERE stream LIKE 'incident/%'")
[ "$snapshots" -gt 0 ] || { echo "no incident was snapshotted: send more alerts" >&2; exit 1; }
rm -f "$here/orleansops.db"
sqlite3 "$work/data/orleansops.db" "VACUUM INTO '$here/orleansops.db'"
jq -s '.[0] + .[1]' "$work/expected.json" "$work/last.json" >"$here/expected.json"
echo "recorded $(du -h "$here/orleansops.db" | cut -f1) with $unmoved entries not yet moved, $snapshots incident snapshots, $(jq '.incidents | length' "$here/expected.json") incidents"
