#!/usr/bin/env bash
# Build and run every benchmark against a configured build directory and
# print one table.  See docs/performance.md.  When redis-server is on PATH,
# every benchmark also measures the Redis store (bench_runs: both stores in
# the same rounds; bench_waiting and bench_list: one after the other).
#
#   bench/run.sh BUILD_DIR [--quick] [--callgrind]
#
#   --quick      smaller counts (500 runs x 1 round, 2000 waiting runs, 2000 listed)
#   --callgrind  also count instructions per node (bench/callgrind.sh; ~1 min)
#
# Only reports numbers: the exit status is non-zero only when something did
# not build, did not start, or runs did not end as they should.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--quick] [--callgrind]" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
quick=0 cg=0
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    --callgrind) cg=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
    esac
done

make -C "$build" -j"$(nproc)" bench >/dev/null

if [ $quick = 1 ]; then
    runs_args=(--runs 500 --rounds 1 --warmup 100)
    wait_args=(--runs 2000)
    list_args=(--runs 2000)
else
    runs_args=()
    wait_args=()
    list_args=()
fi
# Redis too when there is a redis-server to start.
if command -v redis-server >/dev/null; then
    store=both
else
    store=memory
    echo "(no redis-server on PATH: the embedded store only)"
fi
runs_args+=(--store $store)
wait_args+=(--store $store)
list_args+=(--store $store)

log=$(mktemp -d "${TMPDIR:-/tmp}/sv-bench-run.XXXXXX")
trap 'rm -rf "$log"' EXIT
echo "== bench_runs ${runs_args[*]}"
"$build"/bench/bench_runs "${runs_args[@]}" --json | tee "$log/runs.txt"
echo
echo "== bench_waiting ${wait_args[*]}"
"$build"/bench/bench_waiting "${wait_args[@]}" --json | tee "$log/waiting.txt"
echo
echo "== bench_list ${list_args[*]}"
"$build"/bench/bench_list "${list_args[@]}" --json | tee "$log/list.txt"
if [ $cg = 1 ]; then
    echo
    echo "== callgrind"
    "$here"/callgrind.sh "$build" | tee "$log/callgrind.txt"
fi

# "key" from the BENCH_JSON line of a file
j() { sed -n 's/^BENCH_JSON //p' "$1" | grep -o "\"$2\":[^,}]*" | head -1 | cut -d: -f2; }
r=$log/runs.txt w=$log/waiting.txt l=$log/list.txt
echo
echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-52s %s\n' \
    "runs/s (test_chain, 3 nodes)" "$(j $r runs_per_s)" \
    "nodes/s = tool calls/s through the daemon" "$(j $r nodes_per_s)" \
    "direct router-sim calls/s, same clients" "$(j $r baseline_calls_per_s)" \
    "ratio: daemon wall per tool call / direct call" "$(j $r ratio)" \
    "daemon CPU per run, us" "$(j $r daemon_cpu_us_per_run)" \
    "daemon CPU per node, us" "$(j $r daemon_cpu_us_per_node)" \
    "  net of one client-side HTTP call, us" "$(j $r daemon_cpu_us_per_node_net)" \
    "KiB per waiting run" "$(j $w kib_per_waiting_run)" \
    "threads before / with runs waiting" "$(j $w threads_before) / $(j $w threads_parked)" \
    "runs started/s (test_wait)" "$(j $w starts_per_s)" \
    "cancel requests/s" "$(j $w cancel_requests_per_s)" \
    "cancelled runs/s (each one on_cancel tool call)" "$(j $w cancelled_runs_per_s)" \
    "GET /v1/runs?limit=50 with the runs stored, ms" "$(j $w list_newest_ms)" \
    "GET /v1/runs filtered, matching none, ms" "$(j $w list_scan_ms)" \
    "bench_list: GET /v1/runs?graph=nomatch, memory, ms" "$(j $l memory_scan_ms)"
if [ $store = both ]; then
    printf '%-52s %s\n' \
        "Redis store: runs/s (test_chain)" "$(j $r redis_runs_per_s)" \
        "Redis store: nodes/s" "$(j $r redis_nodes_per_s)" \
        "Redis store: daemon CPU per node, us" "$(j $r redis_daemon_cpu_us_per_node)" \
        "Redis store: redis-server CPU per node, us" "$(j $r redis_server_cpu_us_per_node)" \
        "Redis store: round trips to Redis per node" "$(j $r redis_round_trips_per_node)" \
        "redis / memory, same rounds: runs/s" "$(j $r redis_vs_memory_runs_per_s)" \
        "redis / memory, same rounds: daemon CPU per node" "$(j $r redis_vs_memory_daemon_cpu)" \
        "Redis store: daemon KiB per waiting run" "$(j $w redis_kib_per_waiting_run)" \
        "Redis store: Redis used_memory KiB per waiting run" "$(j $w redis_used_kib_per_waiting_run)" \
        "Redis store: runs started/s (test_wait)" "$(j $w redis_starts_per_s)" \
        "Redis store: cancelled runs/s" "$(j $w redis_cancelled_runs_per_s)" \
        "bench_list: GET /v1/runs?graph=nomatch, Redis, ms" "$(j $l redis_scan_ms)"
fi
if [ $cg = 1 ]; then
    printf '%-52s %s\n' "callgrind Ir per node" "$(j $log/callgrind.txt ir_per_node)"
fi
