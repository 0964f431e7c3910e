#!/bin/sh
# Installs what building and testing espgang needs, when it is missing: Debian
# packages through apt-get (with sudo when not root). Safe to run repeatedly.
set -eu

PACKAGES="build-essential cmake pkgconf clang-format \
  libserialport-dev libudev-dev libsqlite3-dev libelf-dev libdw-dev zlib1g-dev libssl-dev \
  libyaml-dev libjansson-dev libcmocka-dev gcc-riscv64-unknown-elf jq"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "setup: installing:$missing"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq $missing
fi
