#!/usr/bin/env bash
# The demo: build, start the router simulator and the daemon (embedded
# store, default settings but for where the plugins and the router are),
# run the seed's release_check and incident_triage examples, print results.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

etc/install-deps.sh
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build
[ -f build/Makefile ] || (cd build && "$top"/configure >configure.out 2>&1) || { cat build/configure.out; exit 1; }
echo "building..."
make -C build -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/sofiia-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo; echo "logs kept in $work (daemon.log: JSON lines, hashes and sizes only)"
}
trap cleanup EXIT
mkdir "$work/plugins"
cp build/plugins/release_check/.libs/release_check.so build/plugins/incident_triage/.libs/incident_triage.so "$work/plugins/"

# Wait for a condition, at most ~10 s.
wait_for() { for _ in $(seq 200); do eval "$1" && return 0; sleep 0.05; done; echo "timed out: $1" >&2; exit 1; }

build/router-sim --scenario etc/scenarios/demo.json --port-file "$work/sim.port" \
    --record "$work/requests.jsonl" >"$work/sim.log" 2>&1 &
pids+=($!)
wait_for '[ -s "$work/sim.port" ]'
sim_port=$(cat "$work/sim.port")

SUPERVISOR_LISTEN=127.0.0.1:0 PLUGIN_DIR="$work/plugins" \
GATEWAY_BASE_URL="http://127.0.0.1:$sim_port" SUPERVISOR_API_KEY=demo-router-key \
    build/sofiia-supervisor 2>"$work/daemon.log" &
pids+=($!)
wait_for 'grep -q "\"msg\":\"listening\"" "$work/daemon.log"'
port=$(grep -o '"msg":"listening".*"port":[0-9]*' "$work/daemon.log" | grep -o '[0-9]*$')
api="http://127.0.0.1:$port"
echo "sofiia-supervisor on $api, router simulator on :$sim_port"
echo; echo "GET /v1/graphs:"
curl -s "$api/v1/graphs" | jq -r '.graphs[] | "  \(.name) \(.version): \(.nodes | join(" -> "))"'

run() { # graph, body
    local id
    echo; echo "POST /v1/graphs/$1/runs"
    id=$(curl -s -X POST "$api/v1/graphs/$1/runs" -H 'Content-Type: application/json' -d "$2" | tee /dev/stderr | jq -r .run_id)
    echo
    wait_for '[ "$(curl -s "$api/v1/runs/$id" | jq -r ".status | IN(\"succeeded\",\"failed\",\"cancelled\")")" = true ]'
    echo "GET /v1/runs/$id:"
    curl -s "$api/v1/runs/$id" | jq '{run_id, graph, graph_version, status, started_at, finished_at, error, result,
        events: [.events[] | [.type, .node, (if .details.tool then "\(.details.tool)/\(.details.action) attempt \(.details.attempt): \(.details.http_status)" else null end)] | map(select(. != null)) | join(" ")]}'
}

run release_check '{
  "workspace_id": "daarion", "user_id": "sofiia", "agent_id": "sofiia",
  "input": {"service_name": "router", "run_deps": true, "run_drift": true, "poll_interval_ms": 300}
}'

run incident_triage '{
  "workspace_id": "daarion", "user_id": "helion", "agent_id": "sofiia",
  "input": {"service": "router", "symptom": "High error rate after deploy", "env": "prod",
            "include_traces": true,
            "time_range": {"from": "2026-02-23T09:00:00Z", "to": "2026-02-23T10:00:00Z"}}
}'
