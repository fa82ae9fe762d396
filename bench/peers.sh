#!/usr/bin/env bash
# The daemon against its peers, in one invocation, with the shared harness
# (../shared/bench: drive.mjs, bench.sh, the fake gateway): sofiia-supervisor
# with the embedded store (sofiia) and on Redis (sofiia-redis), the
# LangGraph.js peer (lgjs) and the BullMQ peer on Redis (bullmq), at gateway
# latency 0, 20 and 200 ms.  Prints one table (bench/peers-table.mjs): median
# runs/s, start p99, server CPU per run and per node, peak RSS, and the
# ratios to BullMQ and LangGraph.js.  See bench/README.md.
#
#   bench/peers.sh [BUILD_DIR] [--quick] [--no-build] [--setup-only]
#
#   BUILD_DIR     configured build directory (default: build/ beside bench/)
#   --quick       1 repetition of 3 s per cell, smaller warm-up (~2 min; full: ~10 min)
#   --no-build    measure the binaries already built (default: make them first)
#   --setup-only  install, copy the harness, npm ci, build; run nothing
#
# Env (defaults): SV_SHARED_BENCH ($srcdir/../shared/bench), PEERS_WORKDIR
# (BUILD_DIR/bench/peers-bench), PEERS_SERVERS ("sofiia sofiia-redis lgjs
# bullmq"), PEERS_MATRIX ("0/release_check:32 20/release_check:128
# 200/release_check:128": GW_LATENCY_MS/bench.sh scenario), REPS (3; 1 with
# --quick), DURATION (10 s; 3), WARMUP (runs before measuring: 300 below
# 100 ms gateway latency, 128 from it; 100 and 32 with --quick),
# PEERS_TIMEOUT_S (per server and latency: REPS x scenarios x (DURATION +
# 240) + 30).  Results: WORKDIR/results/<UTC time>/*.jsonl (drive.mjs lines),
# table.md, summary.md (summarize.mjs), bench.log.
#
# Loopback only; every process is started by the harness's bench.sh, which
# stops them by pid, under timeout(1).  A server whose bench.sh fails (did not
# start) is tried once more.  Exit status 1 when a cell has no result.
set -euo pipefail

usage() { sed -n '10,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(dirname "$here")
build="" quick=0 do_build=1 setup_only=0
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    --no-build) do_build=0 ;;
    --setup-only) setup_only=1 ;;
    -h | --help) usage ;;
    -*) echo "unknown option $a" >&2; usage ;;
    *) [ -z "$build" ] || usage; build=$a ;;
    esac
done
build=$(cd "${build:-$srcdir/build}" && pwd)
shared=${SV_SHARED_BENCH:-$srcdir/../shared/bench}
if [ ! -f "$shared/bench.sh" ] || [ ! -f "$shared/drive.mjs" ]; then
    echo "no harness at $shared (set SV_SHARED_BENCH)" >&2
    exit 2
fi
shared=$(cd "$shared" && pwd)
work=${PEERS_WORKDIR:-$build/bench/peers-bench}
servers=${PEERS_SERVERS:-"sofiia sofiia-redis lgjs bullmq"}
matrix=${PEERS_MATRIX:-"0/release_check:32 20/release_check:128 200/release_check:128"}
if [ $quick = 1 ]; then
    REPS=${REPS:-1} DURATION=${DURATION:-3}
else
    REPS=${REPS:-3} DURATION=${DURATION:-10}
fi
t_begin=$(date +%s)

# ---------------------------------------------------------------- packages
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v curl >/dev/null || need+=(curl)
if ! command -v cc >/dev/null || ! command -v make >/dev/null; then need+=(build-essential); fi
if ! pkg-config --exists libmicrohttpd 2>/dev/null; then need+=(pkg-config libmicrohttpd-dev); fi
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
    "$srcdir/etc/install-deps.sh" "${need[@]}"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || echo "warning: node $(node --version); the peers ask for >= 20" >&2

# ---------------------------------------------------------------- the harness, copied
# Refreshed from $shared on every invocation; node_modules, fakegw and results stay.
mkdir -p "$work"
find "$work" -path "$work/*/node_modules" -prune -o ! -perm -u+w -exec chmod u+w {} +
cp -R "$shared/." "$work/"
find "$work" -path "$work/*/node_modules" -prune -o ! -perm -u+w -exec chmod u+w {} +
for d in langgraphjs bullmq; do
    if [ ! -d "$work/$d/node_modules" ] ||
        ! cmp -s "$work/$d/package-lock.json" "$work/$d/node_modules/.peers-package-lock.json"; then
        echo "== npm ci in $d (once; a few minutes)"
        (cd "$work/$d" && timeout 1200 npm ci --no-audit --no-fund --loglevel=error)
        cp "$work/$d/package-lock.json" "$work/$d/node_modules/.peers-package-lock.json"
    fi
done
make -s -C "$work/fakegw" >/dev/null

# ---------------------------------------------------------------- the daemon, snapshotted
# A copy, so that a rebuild during the run changes nothing in this invocation.
if [ $do_build = 1 ]; then
    if ! make -s -C "$build" -j"$(nproc)" sofiia-supervisor plugins/release_check/release_check.la \
        >"$work/make.log" 2>&1; then
        tail -20 "$work/make.log" >&2
        echo "make -C $build failed (--no-build measures what is built)" >&2
        exit 1
    fi
fi
rc_so=$(find "$build/plugins" -name release_check.so -path '*/.libs/*' 2>/dev/null | head -1)
if [ ! -x "$build/sofiia-supervisor" ] || [ -z "$rc_so" ]; then
    echo "no $build/sofiia-supervisor or release_check.so: build first (make -C $build)" >&2
    exit 1
fi
rm -rf "$work/daemon"
mkdir -p "$work/daemon/plugins"
cp "$build/sofiia-supervisor" "$work/daemon/"
cp "$rc_so" "$work/daemon/plugins/"
# chain_N graphs, when a build has them (the harness's chain_N scenarios)
find "$build/plugins" -name 'chain_*.so' -path '*/.libs/*' -exec cp {} "$work/daemon/plugins/" \; 2>/dev/null || true
daemon=$work/daemon/sofiia-supervisor
"$daemon" --check-plugin "$work/daemon/plugins/release_check.so" >/dev/null
[ $setup_only = 0 ] || { echo "setup done in $work"; exit 0; }

# ---------------------------------------------------------------- ports (free ones, loopback)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=" "
pick_port() {
    local p=$1
    while [[ $taken == *" $p "* ]] || ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}
PORT=$(pick_port 18080); taken="$taken$PORT "
GW_PORT=$(pick_port 19100); taken="$taken$GW_PORT "
REDIS_PORT=$(pick_port 16379)

# ---------------------------------------------------------------- servers
q_daemon=$(printf %q "$daemon")
q_plugins=$(printf %q "$work/daemon/plugins")
sv_cmd() { # $1: extra env -u args; the daemon's names for what bench.sh exports
    echo "exec env -u SUPERVISOR_INTERNAL_KEY -u SUPERVISOR_API_KEY $1" \
        "SUPERVISOR_LISTEN=127.0.0.1:\$PORT PLUGIN_DIR=$q_plugins GATEWAY_BASE_URL=\$GATEWAY_BASE_URL $q_daemon"
}
start_cmd() {
    case $1 in
    sofiia) sv_cmd "-u REDIS_URL" ;;
    sofiia-redis) sv_cmd "" ;;
    lgjs) echo 'cd langgraphjs && exec node server.mjs' ;;
    bullmq) echo 'cd bullmq && exec node server.mjs' ;;
    *) echo "unknown server $1 (sofiia sofiia-redis lgjs bullmq)" >&2; return 1 ;;
    esac
}
with_redis() { case $1 in sofiia-redis | bullmq) echo 1 ;; *) echo 0 ;; esac; }
for s in $servers; do start_cmd "$s" >/dev/null; done

# ---------------------------------------------------------------- the matrix
res=$work/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$res"
build_src=$(sed -n 's/^abs_top_srcdir = //p' "$build/Makefile" 2>/dev/null || true)
{
    echo "date $(date -u +%FT%TZ)  nproc $(nproc)  load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "daemon: $("$daemon" --version), $build/sofiia-supervisor built $(date -u -r "$build/sofiia-supervisor" +%FT%TZ)" \
        "from ${build_src:-?} ($(git -C "${build_src:-/nonexistent}" describe --always --dirty 2>/dev/null || echo "not a git tree"))"
    echo "node $(node --version), $(redis-server --version | cut -d' ' -f1-3)"
    echo "REPS=$REPS DURATION=$DURATION servers: $servers; matrix (gateway ms/scenario): $matrix"
} >"$res/info.txt"
echo "== results in $res"
lats=()
declare -A scen=()
for m in $matrix; do
    lat=${m%%/*} sc=${m#*/}
    if ! [[ $lat =~ ^[0-9]+$ ]] || [ -z "$sc" ] || [ "$sc" = "$m" ]; then
        echo "bad PEERS_MATRIX entry $m (want LATENCY_MS/graph:C)" >&2
        exit 2
    fi
    [ -n "${scen[$lat]:-}" ] || lats+=("$lat")
    scen[$lat]="${scen[$lat]:-} $sc"
done

# timeout(1) runs bench.sh in a process group of its own, out of reach of ^C: on
# any exit, signal it, and it passes the signal to the whole group (the driver,
# the servers, the gateway, redis-server; bench.sh stops them by pid).
tpid=""
stop_cell() { if [ -n "$tpid" ]; then kill -TERM "$tpid" 2>/dev/null || true; wait "$tpid" 2>/dev/null || true; fi; }
trap stop_cell EXIT
trap 'exit 130' INT TERM
failed_cells=()
run_cell() { # server latency
    local srv=$1 lat=$2 name="$1@gw$2" warm nsc rc attempt tmp sc_list cell_log
    if [ -n "${WARMUP:-}" ]; then warm=$WARMUP
    elif [ "$lat" -lt 100 ]; then warm=$((quick ? 100 : 300))
    else warm=$((quick ? 32 : 128)); fi
    read -ra sc_list <<<"${scen[$lat]}"
    nsc=${#sc_list[@]}
    local tmo=${PEERS_TIMEOUT_S:-$((REPS * nsc * (DURATION + 240) + 30))}
    for attempt in 1 2; do
        tmp=$res/.$name.try$attempt.jsonl
        echo "== $name:${scen[$lat]}  (REPS $REPS, ${DURATION} s, warm-up $warm runs; try $attempt)"
        cell_log=$res/.$name.try$attempt.log
        : >"$cell_log"
        NAME=$name START_CMD=$(start_cmd "$srv") WITH_REDIS=$(with_redis "$srv") \
            GW_LATENCY_MS=$lat SCENARIOS="${scen[$lat]# }" REPS=$REPS DURATION=$DURATION WARMUP=$warm \
            PORT=$PORT GW_PORT=$GW_PORT REDIS_PORT=$REDIS_PORT RESULTS_DIR=$res OUT=$tmp \
            timeout -k 15 "$tmo" bash "$work/bench.sh" >"$cell_log" 2>&1 &
        tpid=$!
        # the progress lines; in the background, so that a signal is handled at once
        tail -n +1 -f --pid="$tpid" "$cell_log" |
            grep --line-buffered -E 'graph=|^  runs/s|driver reported|not ready|error samples' | sed 's/^/   /' &
        rc=0
        wait "$tpid" || rc=$?
        wait $! || true
        tpid=""
        cat "$cell_log" >>"$res/bench.log"
        rm -f "$cell_log"
        [ -f "$tmp" ] && cat "$tmp" >>"$res/$name.jsonl"
        rm -f "$tmp"
        [ "$rc" = 0 ] && return 0
        echo "   bench.sh exited $rc ($( [ "$rc" = 124 ] && echo "timed out after $tmo s" || echo "see $res/bench.log and $res/logs/"))" >&2
        [ "$rc" = 124 ] && break
    done
    failed_cells+=("$name (exit $rc)")
}
for lat in "${lats[@]}"; do
    for s in $servers; do run_cell "$s" "$lat"; done
done

# ---------------------------------------------------------------- report
shopt -s nullglob
files=("$res"/*@gw*.jsonl)
if [ ${#files[@]} -gt 0 ]; then
    node "$work/summarize.mjs" "${files[@]}" >"$res/summary.md" 2>&1 || true
fi
echo
node "$here/peers-table.mjs" --servers "$servers" --info "$res/info.txt" "${files[@]}" | tee "$res/table.md"
echo
echo "results: $res (table.md; summary.md: every column, median (min-max); bench.log)"
echo "took $(( $(date +%s) - t_begin )) s"
if [ ${#failed_cells[@]} -gt 0 ]; then
    echo "FAILED: ${failed_cells[*]}" >&2
    exit 1
fi
