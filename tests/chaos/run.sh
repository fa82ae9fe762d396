#!/usr/bin/env bash
# tests/chaos/run.sh - the chaos test (tests/chaos/test_chaos.c): runs on two
# instances sharing one Redis while instances are killed with SIGKILL and
# restarted, and Redis is frozen once; then every run must have ended once,
# as the scenario implies, with no call sent under two call_ids.
#
#   tests/chaos/run.sh [--build DIR] [--runs N] [--seed N] [--kills N]
#                      [--window-sec N] [--freeze-ms N] [--ttl-sec N]
#                      [--drain-sec N] [--poll-ms N]
#
#   tests/chaos/run.sh --runs 1000     the full test (about 2 minutes)
#   tests/chaos/run.sh --runs 200      the short one test.sh runs (under a minute)
#   tests/chaos/run.sh --seed 1234     the same schedule of kills, restarts and freeze again
#
# DIR is a configured build tree (default: build); what the test needs is
# built first.  CHAOS_BUDGET_SEC (default 900) bounds the whole run: past it
# the test is stopped and kills every process it started.  SV_TEST_KEEP=1
# keeps the daemons' logs and the router's record (they are kept anyway when
# the test fails; it prints where).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
if [ "${1:-}" = --build ]; then
    [ $# -ge 2 ] || { echo "run.sh: --build needs a directory" >&2; exit 2; }
    build=$(cd "$2" && pwd)
    shift 2
fi
[ -f "$build/Makefile" ] || { echo "run.sh: $build is not a configured build tree (run configure there)" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "run.sh: redis-server is not on PATH (Debian: apt-get install redis-server)" >&2; exit 2; }

# the test program, the daemon, router-sim and the two graphs it uses
if ! make -C "$build" -j"$(nproc)" tests/chaos/test_chaos sofiia-supervisor router-sim \
    plugins/release_check/release_check.la tests/plugins/test_chain.la >"$build/chaos-make.log" 2>&1; then
    tail -n 40 "$build/chaos-make.log"
    exit 1
fi

cd "$build"
export SV_BUILDDIR=$build SV_SRCDIR=$top
exec timeout --signal=TERM --kill-after=30 "${CHAOS_BUDGET_SEC:-900}" \
    nice ./tests/chaos/test_chaos "$@"
