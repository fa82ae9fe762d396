#!/usr/bin/env bash
# Build and run every test: the normal build with -Werror, the integration
# tests again with the daemon on Redis, the whole suite again under
# AddressSanitizer + UBSan, the daemon under valgrind for the
# engine tests, and `make distcheck`.  Installs what is missing first.
#   ./test.sh          everything (what CI runs)
#   ./test.sh quick    only the normal build and its tests
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
mode=${1:-all}

# systemd: systemd-analyze for the unit; python3-yaml: the compose file;
# groff-base: the manual pages (tests/deploy); prometheus: promtool, which
# checks a real /metrics scrape (tests/integration/test_metrics); chromium, nodejs, npm: the run
# console's test in a browser (tests/browser) and the OpenAPI lint and response
# test (tests/openapi); clang, libclang-rt-dev: the fuzzers (libFuzzer)
# Node.js and npm from Debian unless a Node.js with npm is there already:
# NodeSource's nodejs package bundles npm, and Debian's npm conflicts with it.
node_pkgs=()
command -v node >/dev/null 2>&1 || node_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || node_pkgs+=(npm)
etc/install-deps.sh valgrind clang-format redis-server systemd python3-yaml groff-base \
    prometheus chromium "${node_pkgs[@]}" clang libclang-rt-dev
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

jobs=$(nproc)
step() { printf '\n=== %s ===\n' "$*"; }
show_failures() { # print the logs of failed tests, so CI shows why
    grep -l -E '^(FAIL|ERROR)' "$1"/tests/*/*.log "$1"/*.log 2>/dev/null | while read -r f; do
        echo "--- $f"; tail -n 80 "$f"; done
}

build() { # dir, configure flags...
    local dir=$1; shift
    mkdir -p "$dir"
    (cd "$dir" && "$top"/configure --enable-werror "$@" >configure.out 2>&1) || { cat "$dir"/configure.out; exit 1; }
    make -C "$dir" -j"$jobs" >/dev/null
}

# CUnit's "Run Summary" of every test program: sum of passed and failed tests.
passed=0
failed=0
tally() { # dir [test logs; default: all of them]
    local dir=$1 p f; shift
    [ $# -gt 0 ] || set -- "$dir"/tests/*/*.log
    read -r p f < <(awk '$1 == "tests" && NF == 6 { p += $4; f += $5 } END { print p + 0, f + 0 }' "$@")
    passed=$((passed + p))
    failed=$((failed + f))
    echo "$dir: $p CUnit tests passed, $f failed"
}

# Tests that could not run here (automake's SKIP, exit 77): named, and never
# counted as passed.
skips=0
skipped() { # dir
    local t n=0
    for t in $(grep -l '^:test-result: SKIP' "$1"/tests/*/*.trs 2>/dev/null); do
        echo "SKIPPED: ${t%.trs} ($(grep -m1 '^SKIP: ' "${t%.trs}.log" | cut -c7-))"
        n=$((n + 1))
    done
    skips=$((skips + n))
}

check() { # dir, extra make args...
    local dir=$1; shift
    if ! make -C "$dir" -j"$jobs" check "$@"; then
        show_failures "$dir"
        return 1
    fi
}

step "format (clang-format, .clang-format)"
# shellcheck disable=SC2046
if ! clang-format --dry-run --Werror $(git ls-files '*.c' '*.h' 2>/dev/null || find core sdk plugins tests bench docs -name '*.[ch]') 2>format.out; then
    head -n 40 format.out; echo "run: clang-format -i <files>"; exit 1
fi
rm -f format.out
echo "formatted"

step "build (gcc, -Wall -Wextra -Werror)"
build build
step "make check"
check build
tally build
skipped build

# What a deployment uses, beyond make check: the unit as `make install
# DESTDIR=…` installs it through systemd-analyze verify, and the etc/,
# container and manual-page checks again with every skip a failure (their
# tools were installed above).
step "deploy: systemd-analyze verify on a DESTDIR install; etc/, Dockerfile, compose, man pages; promtool on /metrics"
tests/deploy/verify_unit.sh build
SV_TEST_STRICT=1 check build TESTS="tests/deploy/test_etc.sh tests/deploy/test_container.sh tests/deploy/test_docs.sh tests/integration/test_metrics"

# The engine's integration tests once more with the daemon on Redis (each
# daemon gets a redis-server of its own, see tests/harness/harness.h).
step "make check: the integration tests again, on Redis"
on_redis="tests/integration/test_api tests/integration/test_engine tests/integration/test_plugins tests/integration/test_release_check tests/integration/test_incident_triage tests/integration/test_longpoll tests/integration/test_cli tests/integration/test_durable tests/integration/test_engine_v2 tests/integration/test_sse tests/integration/test_limits tests/integration/test_metrics tests/integration/test_trace tests/integration/test_retain"
SV_TEST_STORE=redis check build TESTS="$on_redis"
# shellcheck disable=SC2046
tally build $(for t in $on_redis; do echo "build/$t.log"; done)

# The run console in a real browser, outside make check: Debian's chromium
# driven by playwright-core (npm ci from the committed lock file; nothing
# downloads a browser), against the daemon and router-sim of this build.
step "browser: the run console (ui/) in headless Chromium"
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
if SV_BUILDDIR="$top/build" SV_SCREENSHOT_DIR="$top/build/ui-screenshots" \
    node --test tests/browser/console.test.mjs >build/browser.log 2>&1; then
    browser_rc=0
else
    browser_rc=1
fi
bp=$(sed -n 's/^# pass //p' build/browser.log | tail -n1)
bf=$(sed -n 's/^# fail //p' build/browser.log | tail -n1)
passed=$((passed + ${bp:-0}))
failed=$((failed + ${bf:-0}))
echo "browser: ${bp:-0} passed, ${bf:-0} failed (screenshots in build/ui-screenshots)"
[ "$browser_rc" -eq 0 ] || { tail -n 80 build/browser.log; exit 1; }

# docs/openapi.yaml: linted by Redocly CLI with the recommended-strict ruleset
# (every warning an error; tests/openapi/redocly.yaml), then the daemon's
# answers, on the embedded store and on Redis, checked against its schemas
# with Ajv (npm ci from the committed lock file).
step "openapi: redocly lint of docs/openapi.yaml; the daemon's answers against its schemas"
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
(cd tests/openapi && npm ci --no-audit --no-fund >/dev/null)
if ! (cd tests/openapi && npx --no-install redocly lint --config redocly.yaml --format=stylish \
    ../../docs/openapi.yaml) >build/openapi-lint.log 2>&1; then
    cat build/openapi-lint.log; exit 1
fi
if SV_BUILDDIR="$top/build" node --test tests/openapi/responses.test.mjs >build/openapi.log 2>&1; then
    openapi_rc=0
else
    openapi_rc=1
fi
op=$(sed -n 's/^# pass //p' build/openapi.log | tail -n1)
of=$(sed -n 's/^# fail //p' build/openapi.log | tail -n1)
passed=$((passed + ${op:-0}))
failed=$((failed + ${of:-0}))
echo "openapi: lint clean; responses: ${op:-0} passed, ${of:-0} failed"
[ "$openapi_rc" -eq 0 ] || { tail -n 80 build/openapi.log; exit 1; }

if [ "$mode" = quick ]; then
    echo "$passed passed, $failed failed, $skips skipped"
    exit 0
fi

# Two instances on one Redis while they are killed with kill -9 and restarted
# and Redis is frozen once: every run must end once, no call be sent under two
# call_ids (docs/operations.md, "Chaos test").  200 runs: under a minute,
# bounded to 3; the full test is tests/chaos/run.sh --runs 1000.
step "chaos: 200 runs on two instances, kill -9, restarts and a Redis freeze (tests/chaos/run.sh)"
CHAOS_BUDGET_SEC=180 tests/chaos/run.sh --build build --runs 200 | tee build/chaos.log
tally build build/chaos.log

# Each bounded, outside make check: 10,000 idle connections on loopback
# (about 15 s), and every libFuzzer target for FUZZ_SECONDS (60 s each,
# seven targets: about 8 minutes with their build).
step "10,000 idle connections: /healthz and a run start still answered (make stress)"
make -C build stress
step "fuzzing: each target for ${FUZZ_SECONDS:-60} s (make fuzz; findings in build/fuzz/findings)"
make -C build fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}"

step "AddressSanitizer + UBSan: the whole suite"
build build-asan --enable-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
check build-asan
tally build-asan
unset ASAN_OPTIONS UBSAN_OPTIONS

step "valgrind: unit tests, and the daemon under valgrind for the integration tests"
export SV_DAEMON_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --suppressions=$top/tests/valgrind.supp"
check build LOG_COMPILER="$top/tests/valgrind.sh"
tally build
unset SV_DAEMON_WRAPPER

step "make distcheck"
make -C build -j"$jobs" distcheck >build/distcheck.out 2>&1 || { tail -n 60 build/distcheck.out; exit 1; }
echo "distcheck: OK"

step "all tests passed"
echo "$passed passed, $failed failed, $skips skipped"
