#!/usr/bin/env bash
# The files of etc/ as the build makes them: the sample configuration (every
# setting, commented, with its real default; it parses as shipped and with
# every line uncommented) and the systemd unit (the hardening and paths the
# deployment needs).  systemd-analyze verify on an installed tree is CI's
# step after `make check` (tests/deploy/verify_unit.sh).
. "$SV_SRCDIR/tests/deploy/lib.sh"

conf=$SV_BUILDDIR/etc/sofiia-supervisor.conf
unit=$SV_BUILDDIR/etc/sofiia-supervisor.service
plugins=$tmp/plugins
mkdir -m 0755 "$plugins"
base=(PLUGIN_DIR="$plugins" PLUGIN_CACHE_DIR="$tmp/cache")
mapfile -t keys < <(setting_names)

# --- the sample configuration ----------------------------------------------------
check "the build made etc/sofiia-supervisor.conf" [ -s "$conf" ]
check "... every @VARIABLE@ substituted" bash -c "! grep -nE '@[A-Za-z_]+@' '$conf'"
sample_keys() { sed -n 's/^#\([A-Z][A-Z0-9_]*\)=.*/\1/p' "$conf"; }
missing=()
for k in "${keys[@]}"; do [ "$(sample_keys | grep -cx "$k")" -eq 1 ] || missing+=("$k"); done
check "... every setting once, commented (missing or repeated: ${missing[*]:-none})" [ ${#missing[@]} -eq 0 ]
extra=()
for k in $(sample_keys); do printf '%s\n' "${keys[@]}" | grep -qx "$k" || extra+=("$k"); done
check "... nothing that is not a setting (extra: ${extra[*]:-none})" [ ${#extra[@]} -eq 0 ]
check "... no setting left active" bash -c "! grep -qE '^[[:space:]]*[A-Z][A-Z0-9_]*=' '$conf'"

run shipped "${base[@]}" -- "$SV" --check-config -c "$conf"
check "--check-config -c the sample as shipped: exit 0" status_is 0 shipped
check "... every value the default" bash -c "! grep -E ' # (file|environment)' '$tmp/shipped.out' | grep -vE '^PLUGIN_(CACHE_)?DIR='"

# Uncommented, it must parse, and show the daemon's real defaults.
sed 's/^#\([A-Z][A-Z0-9_]*=\)/\1/' "$conf" >"$tmp/active.conf"
run active "${base[@]}" -- "$SV" --check-config -c "$tmp/active.conf"
check "--check-config -c the sample, every line uncommented: exit 0" status_is 0 active
run defaults "${base[@]}" -- "$SV" --check-config
differ=()
for k in "${keys[@]}"; do
    case $k in
    # shown as an example, the comment says what the default is
    WORKER_THREADS | PLUGIN_DIR | PLUGIN_CACHE_DIR) continue ;;
    esac
    shown=$(sed -n "s/^#$k=//p" "$conf")
    real=$(sed -n "s/^$k=\([^ ]*\) .*/\1/p" "$tmp/defaults.out")
    [ "$shown" = "$real" ] || differ+=("$k: sample '$shown', daemon '$real'")
done
check "... each value shown is the daemon's default (${differ[*]:-all equal})" [ ${#differ[@]} -eq 0 ]
run help -- "$SV" --help
plugindir=$(sed -n 's/^#PLUGIN_DIR=//p' "$conf")
check "... PLUGIN_DIR shown as the built-in default ($plugindir)" has help.out "default: $plugindir"
check "... it tells where the keys belong" grep -q 'sofiia-supervisor.env' "$conf"

# --- the systemd unit --------------------------------------------------------------
check "the build made etc/sofiia-supervisor.service" [ -s "$unit" ]
check "... every @VARIABLE@ substituted" bash -c "! grep -nE '@[A-Za-z_]+@' '$unit'"
for line in Type=exec Restart=on-failure DynamicUser=yes ProtectSystem=strict \
    NoNewPrivileges=yes PrivateTmp=yes StateDirectory=sofiia-supervisor \
    WantedBy=multi-user.target; do
    check "... $line" grep -qx "$line" "$unit"
done
check "... LimitNOFILE set" grep -qE '^LimitNOFILE=[0-9]+$' "$unit"
check "... ExecStart: the installed binary with the installed configuration" \
    grep -qE '^ExecStart=/[^ ]*/bin/sofiia-supervisor -c /[^ ]*/sofiia-supervisor\.conf$' "$unit"
check "... EnvironmentFile for the keys (optional)" \
    grep -qE '^EnvironmentFile=-/[^ ]*/sofiia-supervisor\.env$' "$unit"
check "... reload is SIGHUP" grep -qE '^ExecReload=.*kill -HUP \$MAINPID$' "$unit"
check "... no Type=notify (no libsystemd)" bash -c "! grep -q '^Type=notify' '$unit'"
check "... a bad setting (exit 2) is not restarted in a loop" grep -qx 'RestartPreventExitStatus=2' "$unit"

finish
