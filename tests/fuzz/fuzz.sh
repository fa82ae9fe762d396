#!/usr/bin/env bash
# make fuzz: build each libFuzzer target with clang (-fsanitize=fuzzer,
# address,undefined) and run it for FUZZ_SECONDS (default 60) from its seed
# corpus.  Run from the build tree (make sets SV_SRCDIR, SV_BUILDDIR).
#   tests/fuzz/fuzz.sh [TARGET...]      default: all of them
# Built in fuzz/ of the build tree; new inputs the fuzzer keeps go to
# fuzz/work/TARGET (copy the ones worth keeping into the corpus), and a
# finding to fuzz/findings/TARGET-crash-* (replay it with
# `tests/fuzz/replay TARGET FILE` from a gcc build; then fix it, and add the
# file to tests/fuzz/corpus/TARGET/ as its regression test).
set -euo pipefail
src=${SV_SRCDIR:?run through make fuzz}
build=${SV_BUILDDIR:?run through make fuzz}
cc=${FUZZ_CC:-clang}
secs=${FUZZ_SECONDS:-60}
all="request schema gateway config scenario release_check incident_triage"
targets=${*:-$all}
out=$build/fuzz
mkdir -p "$out/obj" "$out/bin" "$out/work" "$out/findings"

if ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' |
    "$cc" -fsanitize=fuzzer,address,undefined -x c - -o "$out/obj/probe" 2>"$out/obj/probe.log"; then
    echo "make fuzz needs clang with libFuzzer: apt-get install clang libclang-rt-dev" >&2
    echo "(or set FUZZ_CC); $cc said:" >&2
    head -n 5 "$out/obj/probe.log" >&2
    exit 1
fi

libs="libmicrohttpd hiredis libcurl json-c libcrypto"
# shellcheck disable=SC2086
pkgc=$(pkg-config --cflags $libs)
# shellcheck disable=SC2086
pkgl=$(pkg-config --libs $libs)
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -DSV_FUZZ_LIBFUZZER $san -I$src/sdk/include -I$src/core \
-I$build -I$src/tests/fuzz -I$src/sdk/test -I$src/tests/sim $pkgc"

# stale OBJ: is the object missing, or older than a file it was made from
# (its source and headers, from the compiler's depfile) or than this script?
stale() {
    local o=$1 d
    [ -e "$o" ] && [ -e "$o.d" ] && [ ! "$0" -nt "$o" ] || return 0
    for d in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$o.d"); do
        [ "$d" -nt "$o" ] && return 0
    done
    return 1
}

# cc_obj SRC OBJ [flags...]: compile when stale; print the object.
cc_obj() {
    local s=$1 o=$2; shift 2
    if stale "$o"; then
        mkdir -p "$(dirname "$o")"
        # shellcheck disable=SC2086
        "$cc" $cflags -fsanitize=fuzzer-no-link "$@" -MMD -MF "$o.d" -c "$s" -o "$o"
    fi
    echo "$o"
}

# The core as one archive: each target links what it uses.
core=()
for s in "$src"/core/*.c; do
    [ "$(basename "$s")" = main.c ] && continue
    core+=("$(cc_obj "$s" "$out/obj/core/$(basename "$s" .c).o")")
done
rm -f "$out/libcore.a"
ar rcs "$out/libcore.a" "${core[@]}"

# A graph's sources, with its descriptor renamed as the targets name it.
graph_objs() { # graph plugin-dir prefix
    local g=$1 d=$2 s o
    for s in "$src"/plugins/"$d"/*.c; do
        o=$(cc_obj "$s" "$out/obj/$g/$(basename "$s" .c).o" -fPIC \
            -Dsv_graph_descriptor=sv_fuzz_${g}_graph -I"$src/plugins/$d")
        echo "$o"
    done
}

# The request target loads the real graphs from a PLUGIN_DIR, as the daemon:
# built here too, instrumented, with their own descriptor names.
plugin_so() { # graph
    local g=$1 objs=() s
    for s in "$src"/plugins/"$g"/*.c; do
        objs+=("$(cc_obj "$s" "$out/obj/plugin-$g/$(basename "$s" .c).o" -fPIC \
            -fvisibility=hidden -I"$src/plugins/$g")")
    done
    mkdir -p "$out/plugins"
    chmod 0700 "$out/plugins"
    # shellcheck disable=SC2086
    "$cc" -shared -fPIC $san "${objs[@]}" -o "$out/plugins/$g.so" $(pkg-config --libs json-c)
}

link() { # target objects...
    local t=$1; shift
    # shellcheck disable=SC2086
    "$cc" $cflags -fsanitize=fuzzer "$@" "$out/libcore.a" -o "$out/bin/fuzz_$t" $pkgl -ldl -lpthread -lm
}

sim=()
for s in sim_scenario sim_rules sim_template sim_json; do
    sim+=("$(cc_obj "$src/tests/sim/$s.c" "$out/obj/sim/$s.o")")
done
# The SDK's test kit (its core objects come from libcore.a).
kit=()
for s in "$src"/sdk/test/*.c; do
    kit+=("$(cc_obj "$s" "$out/obj/kit/$(basename "$s" .c).o")")
done
graph=$(cc_obj "$src/tests/fuzz/fuzz_graph.c" "$out/obj/fuzz/fuzz_graph.o")

for t in $targets; do
    obj=$(cc_obj "$src/tests/fuzz/fuzz_$t.c" "$out/obj/fuzz/fuzz_$t.o")
    case $t in
    scenario) link "$t" "$obj" "${sim[@]}" ;;
    release_check) mapfile -t g < <(graph_objs release_check release_check)
        link "$t" "$obj" "$graph" "${kit[@]}" "${g[@]}" ;;
    incident_triage) mapfile -t g < <(graph_objs incident_triage incident_triage)
        link "$t" "$obj" "$graph" "${kit[@]}" "${g[@]}" ;;
    request) plugin_so release_check; plugin_so incident_triage; link "$t" "$obj" ;;
    *) link "$t" "$obj" ;;
    esac
done

failed=()
for t in $targets; do
    echo "=== fuzz_$t: ${secs} s from tests/fuzz/corpus/$t"
    mkdir -p "$out/work/$t"
    dict=()
    [ -f "$src/tests/fuzz/$t.dict" ] && dict=(-dict="$src/tests/fuzz/$t.dict")
    # libFuzzer ends a run with _Exit: what a target put in TMPDIR stays here
    rm -rf "$out/tmp" && mkdir -p "$out/tmp"
    if ! TMPDIR="$out/tmp" SV_FUZZ_PLUGIN_DIR="$out/plugins" "$out/bin/fuzz_$t" -max_total_time="$secs" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$out/findings/$t-" "$out/work/$t" "$src/tests/fuzz/corpus/$t" \
        >"$out/$t.log" 2>&1; then
        failed+=("$t")
        tail -n 60 "$out/$t.log"
    fi
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ *DONE)' "$out/$t.log" |
        tr '\n' ' ' || true
    echo
done
rm -rf "$out/tmp"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found something in: ${failed[*]} (inputs in $out/findings/)"
    exit 1
fi
echo "fuzzing: nothing found in $secs s per target ($targets)"
