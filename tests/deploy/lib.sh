# lib.sh - sourced by the shell tests of tests/deploy (run by `make check`,
# which sets SV_BUILDDIR and SV_SRCDIR).  Each check prints one line; the test
# exits 1 when any failed, 77 (automake's SKIP) when it cannot run here, which
# SV_TEST_STRICT=1 turns into a failure.
set -u
: "${SV_BUILDDIR:?run through make check (SV_BUILDDIR unset)}"
: "${SV_SRCDIR:?run through make check (SV_SRCDIR unset)}"
failures=0
checks=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sv-deploy.XXXXXX")
cleanup_hooks=()
cleanup() {
    for h in "${cleanup_hooks[@]+"${cleanup_hooks[@]}"}"; do eval "$h" || true; done
    [ -n "${SV_TEST_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
check() { # description, command...: ok when the command succeeds
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
skip() {
    echo "SKIP: $*"
    if [ "${SV_TEST_STRICT:-}" = 1 ]; then
        echo "FAIL: SV_TEST_STRICT=1: this check must run here"
        exit 1
    fi
    exit 77
}
finish() {
    if [ "$failures" -eq 0 ]; then
        echo "PASS: $checks checks"
        exit 0
    fi
    echo "FAIL: $failures of $checks checks"
    exit 1
}

# The binaries, under SV_DAEMON_WRAPPER (valgrind in CI) when set, in a clean
# environment: only what the test gives, plus PATH, TMPDIR and the
# sanitizers' settings.
run_clean() {
    local pass=(PATH="$PATH" TMPDIR="$tmp")
    local v
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        [ -z "${!v+x}" ] || pass+=("$v=${!v}")
    done
    # shellcheck disable=SC2086
    env -i "${pass[@]}" "$@"
}
SV="$SV_BUILDDIR/sofiia-supervisor"
CTL="$SV_BUILDDIR/sofiia-ctl"
# run NAME [VAR=VALUE...] -- PROGRAM ARGS...: stdout in $tmp/NAME.out,
# stderr in $tmp/NAME.err, the exit status in $rc.  RUN_PREFIX (e.g.
# "timeout 60") goes before the wrapper.
run() {
    local name=$1; shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    rc=0
    # shellcheck disable=SC2086
    run_clean "${envs[@]+"${envs[@]}"}" ${RUN_PREFIX:-} ${SV_DAEMON_WRAPPER:-} "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
}
has() { grep -qF -- "$2" "$tmp/$1"; }         # has FILE TEXT
hasnt() { ! grep -qF -- "$2" "$tmp/$1"; }
status_is() { [ "$rc" -eq "$1" ] || { echo "   exit status $rc, expected $1; stderr:"; sed 's/^/   | /' "$tmp/$2.err" | head -n 20; return 1; }; }

# Every setting's name, from the daemon itself.
setting_names() {
    mkdir -p "$tmp/keys-plugins" && chmod 0755 "$tmp/keys-plugins"
    run_clean PLUGIN_DIR="$tmp/keys-plugins" PLUGIN_CACHE_DIR="$tmp/keys-cache" \
        "$SV" --check-config 2>/dev/null | sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p'
}
