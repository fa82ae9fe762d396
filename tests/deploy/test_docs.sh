#!/usr/bin/env bash
# The manual pages render with no warning (groff -man -ww, what man -l uses),
# carry the package's version, and with docs/operations.md name every setting
# and option the binaries know.  Needs groff (Debian: groff-base).
. "$SV_SRCDIR/tests/deploy/lib.sh"
command -v groff >/dev/null || skip "groff not found (apt-get install groff-base)"
man8=$SV_SRCDIR/man/sofiia-supervisor.8
man1=$SV_SRCDIR/man/sofiia-ctl.1
version=$("$SV" --version | awk '{print $2}')
mapfile -t keys < <(setting_names)

for page in "$man8" "$man1"; do
    name=$(basename "$page")
    groff -man -Tutf8 -ww -z "$page" >"$tmp/$name.warn" 2>&1
    check "$name: groff -man -ww renders it without a warning" \
        bash -c "[ ! -s '$tmp/$name.warn' ] || { cat '$tmp/$name.warn'; false; }"
    check "$name: .TH carries version $version" grep -qE "^\.TH .*\"sofiia-supervisor $version\"" "$page"
    # rendered flat (no hyphenation, long lines) for the greps below
    groff -man -Tascii -rHY=0 -rLL=250n -P-cbou "$page" >"$tmp/$name.txt" 2>/dev/null
done

missing=()
for k in "${keys[@]}"; do grep -qw -- "$k" "$tmp/sofiia-supervisor.8.txt" || missing+=("$k"); done
check "sofiia-supervisor(8) describes every setting (missing: ${missing[*]:-none})" [ ${#missing[@]} -eq 0 ]
for opt in --config --check-config --check-plugin --help --version SIGHUP SIGTERM \
    PLUGIN_CACHE_DIR noexec "EXIT STATUS" "restart_needed"; do
    check "sofiia-supervisor(8) has $opt" grep -qF -- "$opt" "$tmp/sofiia-supervisor.8.txt"
done
for opt in --url --key --help --version graphs start get wait cancel list --input --workspace \
    --user --agent --idempotency-key --wait --timeout --graph --status --limit \
    SUPERVISOR_URL SUPERVISOR_INTERNAL_KEY "EXIT STATUS"; do
    check "sofiia-ctl(1) has $opt" grep -qF -- "$opt" "$tmp/sofiia-ctl.1.txt"
done

ops=$SV_SRCDIR/docs/operations.md
missing=()
for k in "${keys[@]}"; do grep -qF -- "\`$k\`" "$ops" || missing+=("$k"); done
check "docs/operations.md describes every setting (missing: ${missing[*]:-none})" [ ${#missing[@]} -eq 0 ]
check "the build installs both pages (dist_man_MANS)" \
    grep -qE '^dist_man_MANS = man/sofiia-supervisor\.8 man/sofiia-ctl\.1' "$SV_SRCDIR/man/local.am"

finish
