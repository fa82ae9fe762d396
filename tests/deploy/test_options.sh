#!/usr/bin/env bash
# Both binaries' --help and --version, and sofiia-supervisor --check-config on
# good and bad settings: exit status, masked keys, the line naming the setting.
. "$SV_SRCDIR/tests/deploy/lib.sh"

plugins=$tmp/plugins
mkdir -m 0755 "$plugins"
cache=$tmp/cache
base=(PLUGIN_DIR="$plugins" PLUGIN_CACHE_DIR="$cache")
mapfile -t keys < <(setting_names)
check "the daemon names its settings (${#keys[@]})" [ "${#keys[@]}" -ge 20 ]

# --- --version ---------------------------------------------------------------
run version -- "$SV" --version
check "sofiia-supervisor --version: exit 0" status_is 0 version
check "sofiia-supervisor --version: name, version, SDK ABI" \
    grep -qE '^sofiia-supervisor [0-9]+\.[0-9]+\.[0-9]+ \(SDK ABI [0-9]+\.[0-9]+\)$' "$tmp/version.out"
version=$(awk '{print $2}' "$tmp/version.out")
run ctl-version -- "$CTL" --version
check "sofiia-ctl --version: exit 0" status_is 0 ctl-version
check "sofiia-ctl --version: the same version" grep -qx "sofiia-ctl $version" "$tmp/ctl-version.out"

# --- --help ------------------------------------------------------------------
run help -- "$SV" --help
check "sofiia-supervisor --help: exit 0" status_is 0 help
for opt in "-c, --config FILE" --check-config "--check-plugin FILE.so" "-h, --help" --version \
    SIGHUP SIGTERM "Exit status"; do
    check "sofiia-supervisor --help names $opt" has help.out "$opt"
done
missing=()
for k in "${keys[@]}"; do grep -qE "^  $k( |\$)" "$tmp/help.out" || missing+=("$k"); done
check "sofiia-supervisor --help lists every setting (missing: ${missing[*]:-none})" [ ${#missing[@]} -eq 0 ]
check "--help: the live settings are marked" grep -qE '^  LOG_LEVEL +\(SIGHUP applies a change\)' "$tmp/help.out"
check "--help: defaults are shown" has help.out "default: 0.0.0.0:8080"
check "--help: nothing on stderr" [ ! -s "$tmp/help.err" ]
run help-short -- "$SV" -h
check "sofiia-supervisor -h: the same text" cmp -s "$tmp/help.out" "$tmp/help-short.out"

run ctl-help -- "$CTL" --help
check "sofiia-ctl --help: exit 0" status_is 0 ctl-help
for opt in "-u, --url URL" "-k, --key KEY" "-h, --help" --version graphs "start GRAPH" \
    "get RUN_ID" "wait RUN_ID" "--timeout SEC" "cancel RUN_ID" list --graph --status \
    --workspace --limit "-i, --input" --user --agent --idempotency-key "--wait [SEC]" \
    SUPERVISOR_URL SUPERVISOR_INTERNAL_KEY "Exit status"; do
    check "sofiia-ctl --help names $opt" has ctl-help.out "$opt"
done

# --- bad arguments -------------------------------------------------------------
run unknown -- "$SV" --bogus
check "sofiia-supervisor --bogus: exit 2" status_is 2 unknown
check "... says which argument" has unknown.err 'unknown argument --bogus'
run noval -- "$SV" -c
check "sofiia-supervisor -c without a file: exit 2" status_is 2 noval
check "... says it needs a value" has noval.err '-c needs a value'
run ctl-unknown -- "$CTL" --bogus graphs
check "sofiia-ctl --bogus: exit 2" status_is 2 ctl-unknown
check "... says which option" has ctl-unknown.err 'unknown option --bogus'

# --- --check-config: good ------------------------------------------------------
run good "${base[@]}" SUPERVISOR_API_KEY=router-secret-4711 \
    SUPERVISOR_INTERNAL_KEY=caller-secret-4712 \
    REDIS_URL=redis://:redis-secret-4713@127.0.0.1:6379/0 -- "$SV" --check-config
check "--check-config (environment only): exit 0" status_is 0 good
check "... the verdict on stderr" has good.err "configuration test is successful"
notonce=()
for k in "${keys[@]}"; do [ "$(grep -c "^$k=" "$tmp/good.out")" -eq 1 ] || notonce+=("$k"); done
check "--check-config prints every setting once (not: ${notonce[*]:-none})" [ ${#notonce[@]} -eq 0 ]
check "... PLUGIN_DIR from the environment" grep -qE "^PLUGIN_DIR=$plugins +# environment\$" "$tmp/good.out"
check "... RUN_TTL_SEC by default" grep -qE '^RUN_TTL_SEC=86400 +# default$' "$tmp/good.out"
check "... SUPERVISOR_API_KEY masked" grep -qE '^SUPERVISOR_API_KEY=\*{8} +# environment$' "$tmp/good.out"
check "... SUPERVISOR_INTERNAL_KEY masked" grep -qE '^SUPERVISOR_INTERNAL_KEY=\*{8} ' "$tmp/good.out"
check "... the Redis password masked, the rest shown" \
    grep -qF 'REDIS_URL=redis://:********@127.0.0.1:6379/0' "$tmp/good.out"
check "... no secret anywhere in the output" \
    bash -c "! grep -qE 'secret-47' '$tmp/good.out' '$tmp/good.err'"
check "... nothing was created (PLUGIN_CACHE_DIR is checked, not made)" [ ! -e "$cache" ]

conf=$tmp/good.conf
printf '# a comment\n\nLOG_LEVEL = "debug"\nRUN_TTL_SEC=60\nPLUGIN_DIR=%s\n' "$plugins" >"$conf"
run file PLUGIN_CACHE_DIR="$cache" RUN_TTL_SEC=30 -- "$SV" --check-config -c "$conf"
check "--check-config -c FILE: exit 0" status_is 0 file
check "... LOG_LEVEL from the file" grep -qE '^LOG_LEVEL=debug +# file$' "$tmp/file.out"
check "... the environment wins over the file" grep -qE '^RUN_TTL_SEC=30 +# environment$' "$tmp/file.out"
check "... names the file" has file.out "configuration file: $conf"
check "... the verdict names the file" has file.err "configuration $conf test is successful"
run envfile PLUGIN_CACHE_DIR="$cache" SUPERVISOR_CONFIG="$conf" -- "$SV" --check-config
check "SUPERVISOR_CONFIG=FILE --check-config: the file is read" \
    grep -qE '^LOG_LEVEL=debug +# file$' "$tmp/envfile.out"

# --- --check-config: bad -------------------------------------------------------
expect_bad() { # name, the text the one line must have, env and args...
    local name=$1 text=$2; shift 2
    run "$name" "$@"
    check "--check-config $name: exit 1" status_is 1 "$name"
    check "... names it: $text" has "$name.err" "$text"
    check "... configuration test failed" has "$name.err" "configuration test failed"
    check "... prints no settings" [ ! -s "$tmp/$name.out" ]
}
printf 'LOG_LEVEL=info\nWORKER_THREADS=abc\n' >"$tmp/bad.conf"
expect_bad bad-number 'line 2: WORKER_THREADS="abc": not a whole number' \
    "${base[@]}" -- "$SV" --check-config -c "$tmp/bad.conf"
printf 'RUN_TTL_SECS=5\n' >"$tmp/typo.conf"
expect_bad typo 'unknown setting "RUN_TTL_SECS"' "${base[@]}" -- "$SV" --check-config -c "$tmp/typo.conf"
expect_bad no-file "config file $tmp/missing.conf" "${base[@]}" -- "$SV" --check-config -c "$tmp/missing.conf"
expect_bad bad-url 'GATEWAY_BASE_URL="ftp://router"' "${base[@]}" GATEWAY_BASE_URL=ftp://router -- \
    "$SV" --check-config
expect_bad no-plugin-dir "PLUGIN_DIR=\"$tmp/nowhere\"" PLUGIN_DIR="$tmp/nowhere" \
    PLUGIN_CACHE_DIR="$cache" -- "$SV" --check-config
expect_bad relative-cache 'PLUGIN_CACHE_DIR="cache": expected an absolute path' \
    PLUGIN_DIR="$plugins" PLUGIN_CACHE_DIR=cache -- "$SV" --check-config
expect_bad bad-key 'SUPERVISOR_API_KEY: contains a space' "${base[@]}" \
    "SUPERVISOR_API_KEY=has space 4714" -- "$SV" --check-config
check "... and does not show the key" bash -c "! grep -q 4714 '$tmp/bad-key.err'"

# The daemon itself on a bad setting: exit 2 and one JSON line (unchanged).
run start-bad "${base[@]}" WORKER_THREADS=0 -- "$SV"
check "sofiia-supervisor with WORKER_THREADS=0: exit 2" status_is 2 start-bad
check "... one 'bad configuration' line naming it" \
    grep -qE '"msg":"bad configuration".*WORKER_THREADS=\\"0\\"' "$tmp/start-bad.err"

finish
