#!/usr/bin/env bash
# The container files, checked without Docker (none runs here or in CI): the
# Dockerfile's stages, user, health check and PLUGIN_DIR; the NODA2 compose
# file parsed as YAML (services, 8084 -> 8080, volumes, AOF, networks); the
# .env.example of the seed.  Needs python3 with PyYAML (Debian: python3-yaml).
. "$SV_SRCDIR/tests/deploy/lib.sh"
# the first python3 with PyYAML: PATH's, else Debian's (python3-yaml)
py=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || skip "no python3 with PyYAML (apt-get install python3-yaml)"
setting_names >"$tmp/settings"
# and the variables the shipped graphs declare as their own (SDK 1.1 graph
# settings, e.g. incident_triage's INCIDENT_MAX_TIME_WINDOW_H)
grep -ho '#define [A-Z_]*_KEY "[A-Z][A-Z0-9_]*"' "$SV_SRCDIR"/plugins/*/*.h 2>/dev/null |
    sed 's/.*"\(.*\)"/\1/' >>"$tmp/settings"
check "the daemon names its settings" [ -s "$tmp/settings" ]
if "$py" "$SV_SRCDIR/tests/deploy/check_container.py" "$SV_SRCDIR" "$tmp/settings"; then
    ok "container files"
else
    bad "container files (above)"
fi
finish
