#!/usr/bin/env bash
# Install what building, testing and the demo need on Debian 12, skipping
# what is already there.  Run as root (or with sudo available).
set -euo pipefail

pkgs=(build-essential autoconf automake libtool pkg-config
      libmicrohttpd-dev libhiredis-dev libcurl4-openssl-dev libjson-c-dev libcunit1-dev libssl-dev
      curl jq "$@")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
