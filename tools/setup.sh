#!/bin/sh
# Installs what building and testing espgang needs, when it is missing: Debian
# packages through apt-get (with sudo when not root). Safe to run repeatedly.
# chromium: the HTML report's test opens the page headless (screenshot, DOM).
# zsh, fish, elvish, groff, man-db, mandoc: the completions test reads each script with
# its shell and lints the manual page.
set -eu

PACKAGES="build-essential cmake pkgconf clang-format \
  libserialport-dev libudev-dev libsqlite3-dev libelf-dev libdw-dev libiberty-dev zlib1g-dev libssl-dev \
  libyaml-dev libjansson-dev libcmocka-dev gcc-riscv64-unknown-elf jq bc sqlite3 time \
  python3-serial umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi chromium strace \
  zsh fish elvish groff-base man-db mandoc"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# Node.js and npm fetch esptool-js (pinned by tools/npm/package-lock.json).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi

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

# esptool-js from npm, exactly as the lockfile pins it: its flasher stubs (Espressif's
# esp-flasher-stub) go into espgang's data directory at build time, and the
# conformance suite runs it as the reference client.
cd "$(dirname "$0")/npm"
want=$(sed -n 's/.*"esptool-js": "\(.*\)".*/\1/p' package.json)
have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' node_modules/esptool-js/package.json 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    echo "setup: installing esptool-js $want from npm"
    npm ci --no-audit --no-fund --loglevel=error
fi
