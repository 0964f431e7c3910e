#!/bin/sh
# Conformance: Espressif's esptool-js (pinned in tools/npm) drives espsim, every chip.
# A disagreement is fixed in espsim (and in espgang where both were wrong).
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/../integration/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 ||
    [ ! -f "$HERE/../../tools/npm/node_modules/esptool-js/package.json" ]; then
    fail "esptool-js is not installed (run tools/setup.sh)"
    finish
    exit 1
fi
n=1
for pair in esp32:ESP32 esp32s2:ESP32-S2 esp32s3:ESP32-S3 esp32c2:ESP32-C2 esp32c3:ESP32-C3 \
    esp32c5:ESP32-C5 esp32c6:ESP32-C6 esp32h2:ESP32-H2 esp32p4:ESP32-P4; do
    chip=${pair%%:*}
    chip_name=${pair#*:}
    mac=$(printf '24:0a:c4:00:0c:%02x' $n)
    n=$((n + 1))
    start_sim "$chip" --chip "$chip" --tcp 0 --mac "$mac" --log "$TMP/$chip.log"
    port=${SIM_ADDR##*:}
    timeout 120 node "$HERE/conformance.mjs" "$port" "$chip_name" "$mac" >"$TMP/js.out" 2>&1
    rc=$?
    while IFS= read -r line; do
        case $line in
        ok:*) pass "esptool-js ${line#ok: }" ;;
        FAIL:*) fail "esptool-js ${line#FAIL: }" ;;
        esac
    done <"$TMP/js.out"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$TMP/js.out"; then
        fail "esptool-js on $chip exited $rc:"
        sed 's/^/    /' "$TMP/js.out" | tail -20
    fi
done
finish
