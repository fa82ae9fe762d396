#!/usr/bin/env bash
# Instructions per run and per node of the daemon, counted by callgrind:
# repeatable on a noisy machine where CPU seconds are not.
#
#   bench/callgrind.sh BUILD_DIR [N1 N2]
#
# Runs bench_runs twice with the daemon under `valgrind --tool=callgrind`,
# once with N1 runs of test_chain (default 100) and once with N2 (default 400),
# same warm-up; (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one run with the
# start-up, warm-up and shutdown taken out.  Then prints the daemon functions
# with the largest inclusive counts in the N2 profile, per run.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [N1 N2]" >&2; exit 2; }
build=$(cd "$1" && pwd)
n1=${2:-100}
n2=${3:-400}
[ "$n2" -gt "$n1" ] || { echo "N2 must be larger than N1" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
out=$(mktemp -d "${TMPDIR:-/tmp}/sv-callgrind.XXXXXX")
warm=20

profile() { # runs -> prints the profile file
    local n=$1
    "$build"/bench/bench_runs --runs "$n" --rounds 1 --warmup $warm --no-baseline \
        --clients 4 --timeout 600 \
        --wrapper "valgrind --tool=callgrind --callgrind-out-file=$out/cg.$n.out" \
        >"$out/bench.$n.txt" 2>&1 || { cat "$out/bench.$n.txt" >&2; exit 1; }
    echo "$out/cg.$n.out"
}
total() { sed -n 's/^summary: *//p' "$1" | head -1; }

f1=$(profile "$n1")
f2=$(profile "$n2")
i1=$(total "$f1")
i2=$(total "$f2")
per_run=$(((i2 - i1) / (n2 - n1)))
echo "callgrind: $n1 runs: $i1 Ir; $n2 runs: $i2 Ir (both after $warm warm-up runs)"
echo "callgrind: $per_run Ir per run of test_chain, $((per_run / 3)) Ir per node (3 nodes, 3 tool calls)"
echo "BENCH_JSON {\"bench\":\"callgrind\",\"ir_per_run\":$per_run,\"ir_per_node\":$((per_run / 3)),\"n1\":$n1,\"n2\":$n2}"
echo
echo "largest inclusive costs in the $n2-run profile, per run ($((n2 + warm)) runs in it):"
callgrind_annotate --inclusive=yes --auto=no "$f2" 2>/dev/null |
    awk -v runs=$((n2 + warm)) '
        / PROGRAM TOTALS/ || !/^ *[0-9,]+ \(/ { next }
        !/core\/|libcurl|libjson-c|libmicrohttpd|libcrypto|malloc|strftime|vfprintf/ { next }
        shown < 40 {
            ir = $1; gsub(",", "", ir)
            line = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
            lib = ""
            if (match(line, / \[[^]]*\]$/)) {
                lib = substr(line, RSTART + 2, RLENGTH - 3); sub(/.*\//, "", lib)
                line = substr(line, 1, RSTART - 1)
            }
            sub(/^.*\/(core|malloc|libio|time|stdio-common)\//, "", line)
            printf "  %9d Ir/run  %s%s\n", ir / runs, line, (line ~ /^\?\?\?/ ? "  (" lib ")" : "")
            shown++
        }'
echo
echo "profiles kept in $out (callgrind_annotate --inclusive=yes $f2)"
