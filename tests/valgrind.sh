#!/usr/bin/env bash
# LOG_COMPILER for `make check` under valgrind: unit tests run inside it;
# integration tests run as they are (their daemon is wrapped through
# SV_DAEMON_WRAPPER instead, since valgrind on the test driver proves little).
case "$1" in
*/integration/*) exec "$@" ;;
# shell tests wrap the binaries they run in SV_DAEMON_WRAPPER themselves
*.sh) exec "$@" ;;
esac
exec valgrind --quiet --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --suppressions="$(dirname "$0")/valgrind.supp" "$@"
