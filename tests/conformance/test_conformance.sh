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
# chip:name:package esptool-js should read (-: not checked):crystal MHz:espsim options.
# esptool-js 0.7.0 reads ESP32-C6's package from bits 21-23 of eFuse block 1 word 3,
# where esptool reads bits 24-26 (and espsim puts it): its C6 name is not checked.
for entry in "esp32:ESP32:ESP32-D0WD-V3:40:" "esp32s2:ESP32-S2:ESP32-S2FNR2:40:--package ESP32-S2FNR2" \
    "esp32s3:ESP32-S3:ESP32-S3-PICO-1 (LGA56):40:--package ESP32-S3-PICO-1-N8R2" \
    "esp32c2:ESP32-C2:ESP32-C2:26:--crystal 26" "esp32c3:ESP32-C3:ESP8685 (QFN28):40:--package ESP8685H4" \
    "esp32c5:ESP32-C5:ESP32-C5:48:" "esp32c6:ESP32-C6:-:40:" "esp32h2:ESP32-H2:ESP32-H2:32:" \
    "esp32p4:ESP32-P4:ESP32-P4:40:"; do
    chip=${entry%%:*}
    rest=${entry#*:}
    chip_name=${rest%%:*}
    rest=${rest#*:}
    package=${rest%%:*}
    rest=${rest#*:}
    crystal=${rest%%:*}
    sim_opts=${rest#*:}
    mac=$(printf '24:0a:c4:00:0c:%02x' $n)
    n=$((n + 1))
    # shellcheck disable=SC2086
    start_sim "$chip" --chip "$chip" --tcp 0 --mac "$mac" --log "$TMP/$chip.log" $sim_opts
    port=${SIM_ADDR##*:}
    timeout 120 node "$HERE/conformance.mjs" "$port" "$chip_name" "$mac" "$package" "$crystal" \
        >"$TMP/js.out" 2>&1
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
