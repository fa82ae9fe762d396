#!/usr/bin/env bash
# systemd-analyze verify on sofiia-supervisor.service as `make install
# DESTDIR=…` installs it, with the binary and man page it names.  CI runs it
# after `make check` (test.sh); it needs systemd-analyze (Debian: systemd).
#   tests/deploy/verify_unit.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: verify_unit.sh BUILD_DIR}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (apt-get install systemd)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/sv-verify.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
make -C "$build" install DESTDIR="$root" >"$work/install.out" 2>&1 || { cat "$work/install.out"; exit 1; }
unit=$(find "$root" -name sofiia-supervisor.service -type f)
[ -n "$unit" ] || { echo "make install put no sofiia-supervisor.service under $root"; exit 1; }
echo "installed: ${unit#"$root"}"
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$root$exe" ] || { echo "ExecStart=$exe: not installed at $root$exe"; exit 1; }

# --root= reads everything from the tree, so it checks the ExecStart= binary
# the install put there.  The tree also needs what the host would give the
# unit: systemd's own units (the default dependencies, sysinit.target, ...)
# and the kill(1) of ExecReload=.  Ours are never overwritten.
sysunits=/usr/lib/systemd/system
[ -d "$sysunits" ] || sysunits=/lib/systemd/system
mkdir -p "$root/usr/lib/systemd/system" "$root/usr/bin"
cp -rn "$sysunits"/. "$root/usr/lib/systemd/system/"
[ -e "$root/usr/bin/kill" ] || cp "$(type -P kill || echo /usr/bin/kill)" "$root/usr/bin/kill"
# Documentation=man:sofiia-supervisor(8) must name an installed page.
mandir=$(dirname "$(dirname "$(find "$root" -name sofiia-supervisor.8 -type f)")")

out=$work/verify.out
status=0
MANPATH=$mandir systemd-analyze verify --root="$root" sofiia-supervisor.service >"$out" 2>&1 || status=$?
cat "$out"
if [ "$status" -ne 0 ]; then
    echo "systemd-analyze verify: exit status $status"
    exit 1
fi
# Warnings do not change the exit status: any line about our unit fails too.
if grep -q 'sofiia-supervisor' "$out"; then
    echo "systemd-analyze verify: warnings about sofiia-supervisor.service"
    exit 1
fi
echo "systemd-analyze verify: sofiia-supervisor.service OK ($(systemd-analyze --version | head -n 1))"
