#!/bin/sh
# make demo: starts virtual boards of different chips (espsim) and runs the
# board-level commands against each: board-info, write-bin, checksum-md5, read-flash;
# then flashes an app ELF (test firmware from tools/fixtures) with its bootloader and
# partition table, twice: the second time nothing needs writing.
set -eu
BUILD=${1:-build}
ESPGANG=$BUILD/espgang
ESPSIM=$BUILD/espsim
WORK=$(mktemp -d "${TMPDIR:-/tmp}/espgang-demo.XXXXXX")
PIDS=""

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

head -c 262144 /dev/urandom >"$WORK/app.bin"
n=0
for chip in esp32 esp32c3 esp32s3 esp32c6; do
    n=$((n + 1))
    "$ESPSIM" --chip "$chip" --tcp 0 --mac "24:0a:c4:de:00:0$n" --flash-size 4MB >"$WORK/$chip.out" 2>"$WORK/$chip.err" &
    PIDS="$PIDS $!"
done
for chip in esp32 esp32c3 esp32s3 esp32c6; do
    i=0
    until grep -q ' ready on ' "$WORK/$chip.out"; do
        i=$((i + 1))
        [ $i -lt 200 ] || { cat "$WORK/$chip.err"; exit 1; }
        sleep 0.05
    done
done

echo "Virtual boards:"
cat "$WORK"/*.out
for chip in esp32 esp32c3 esp32s3 esp32c6; do
    port=$(sed -n 's/.* ready on \([^ ]*\) .*/\1/p' "$WORK/$chip.out")
    printf '\n\033[1m== %s on %s\033[0m\n' "$chip" "$port"
    set -- -p "$port" --after no-reset
    step "$ESPGANG" board-info "$@"
    step "$ESPGANG" write-bin "$@" 0x10000 "$WORK/app.bin"
    step "$ESPGANG" checksum-md5 "$@" 0x10000 256k
    printf '%s  (md5sum of the file)\n' "$(md5sum <"$WORK/app.bin" | cut -d' ' -f1)"
    step "$ESPGANG" read-flash "$@" 0x10000 256k "$WORK/back.bin"
    if cmp -s "$WORK/app.bin" "$WORK/back.bin"; then
        echo "read back: identical to what was written"
    else
        echo "read back: DIFFERS from what was written" >&2
        exit 1
    fi
done
FIX=$BUILD/fixtures
port=$(sed -n 's/.* ready on \([^ ]*\) .*/\1/p' "$WORK/esp32c3.out")
printf '\n\033[1m== flashing an app on the esp32c3 at %s\033[0m\n' "$port"
set -- -p "$port" --after no-reset
# Any valid ESP32-C3 image serves as the bootloader here; ESP-IDF builds the real one.
step "$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$FIX/esp32c3-ram.elf" "$WORK/bootloader.bin"
step "$ESPGANG" flash "$@" --bootloader "$WORK/bootloader.bin" "$FIX/esp32c3-appdesc.elf"
step "$ESPGANG" flash "$@" --bootloader "$WORK/bootloader.bin" "$FIX/esp32c3-appdesc.elf"
step "$ESPGANG" read-flash "$@" 0x8000 0xc00 "$WORK/table.bin"
step "$ESPGANG" partition-table "$WORK/table.bin"
step "$ESPGANG" read-flash "$@" 0x10000 0x30000 "$WORK/app-back.bin"
step "$ESPGANG" image-info "$WORK/app-back.bin"
printf '\nDemo done: 4 virtual boards flashed, verified and read back; an app flashed.\n'
