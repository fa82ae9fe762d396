#!/usr/bin/env bash
# PLUGIN_CACHE_DIR on a file system mounted noexec (where no plugin copy could
# be mapped executable) or read-only: --check-config says so and exits 1, the
# daemon refuses to start (exit 2) with one line naming the setting.  Needs
# root to mount a tmpfs; a visible SKIP otherwise (never counted as a pass).
. "$SV_SRCDIR/tests/deploy/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to mount a noexec tmpfs (CI runs test.sh as root)"
plugins=$tmp/plugins
mkdir -m 0755 "$plugins"
mnt=$tmp/noexec
mkdir "$mnt"
mount -t tmpfs -o noexec,nosuid,size=4m sv-test-noexec "$mnt" 2>"$tmp/mount.err" ||
    skip "mount -t tmpfs -o noexec failed: $(cat "$tmp/mount.err") (a container without CAP_SYS_ADMIN?)"
cleanup_hooks+=("umount '$mnt'")
mkdir -m 0700 "$mnt/cache"

run check-noexec PLUGIN_DIR="$plugins" PLUGIN_CACHE_DIR="$mnt/cache" -- "$SV" --check-config
check "--check-config, PLUGIN_CACHE_DIR on a noexec mount: exit 1" status_is 1 check-noexec
check "... names the setting and the value" has check-noexec.err "PLUGIN_CACHE_DIR=\"$mnt/cache\""
check "... says noexec" has check-noexec.err "mounted noexec"

# not there yet: it would be created on the same mount
run check-child PLUGIN_DIR="$plugins" PLUGIN_CACHE_DIR="$mnt/cache/new" -- "$SV" --check-config
check "--check-config, a directory still to be made on it: exit 1, noexec" \
    bash -c "[ $rc -eq 1 ] && grep -q 'mounted noexec' '$tmp/check-child.err'"

# The daemon: refused at once (a deadline, in case it were not).
RUN_PREFIX="timeout 60" run start PLUGIN_DIR="$plugins" PLUGIN_CACHE_DIR="$mnt/cache" \
    SUPERVISOR_LISTEN=127.0.0.1:0 -- "$SV"
check "the daemon with it: exit 2 (not 124: it did not run on)" status_is 2 start
check "... one 'bad configuration' line naming PLUGIN_CACHE_DIR and noexec" \
    grep -qE '"msg":"bad configuration".*PLUGIN_CACHE_DIR=.*mounted noexec' "$tmp/start.err"
check "... nothing was copied there" bash -c "[ -z \"\$(ls -A '$mnt/cache')\" ]"

# A read-only mount is refused as well.
ro=$tmp/ro
mkdir "$ro"
if mount -t tmpfs -o ro,mode=0700,size=1m sv-test-ro "$ro" 2>/dev/null; then
    cleanup_hooks+=("umount '$ro'")
    run check-ro PLUGIN_DIR="$plugins" PLUGIN_CACHE_DIR="$ro" -- "$SV" --check-config
    check "--check-config, PLUGIN_CACHE_DIR on a read-only mount: exit 1" status_is 1 check-ro
    check "... says read-only" has check-ro.err "read-only file system"
else
    bad "mount -t tmpfs -o ro failed after a noexec mount succeeded"
fi
finish
