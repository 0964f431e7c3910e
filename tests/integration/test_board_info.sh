#!/bin/sh
# board-info against every chip espsim plays: the package name, revision, crystal,
# features and flash maker, exactly as text and as JSON; package variants, other
# crystals (ESP32's and ESP32-C2's measured from the UART divider, ESP32-C5's 48 MHz
# from its register), flash parts, an unknown package and an unknown flash maker.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

n=0
# board NAME EXPECTED-TEXT EXPECTED-JSON ESPSIM-ARGS...: board-info's text must be
# EXPECTED-TEXT line for line (the MAC and the security line left out), and its JSON,
# cut to the fields below, EXPECTED-JSON.
board() {
    name=$1 want_text=$2 want_json=$3
    shift 3
    n=$((n + 1))
    mac=$(printf '24:0a:c4:00:0b:%02x' $n)
    start_sim "$name" --tcp 0 --mac "$mac" "$@"
    if expect_ok "$name: board-info" "$ESPGANG" board-info -p "$SIM_ADDR" --after no-reset; then
        grep -q "^MAC address:        $mac$" "$TMP/out" && grep -q "^Security: " "$TMP/out" ||
            fail "$name: no MAC $mac or no security line: $(cat "$TMP/out")"
        grep -v -e '^MAC address:' -e '^Security:' "$TMP/out" >"$TMP/got"
        printf '%s\n' "$want_text" >"$TMP/want"
        if cmp -s "$TMP/want" "$TMP/got"; then
            pass "$name: text"
        else
            fail "$name: text differs (- wanted, + got):"
            diff "$TMP/want" "$TMP/got" | sed 's/^/    /'
        fi
    fi
    if expect_ok "$name: board-info --json" "$ESPGANG" board-info --json -p "$SIM_ADDR" \
        --after no-reset; then
        got=$(jq -c '{chip_name, package, package_version, revision, crystal_mhz, features,
            flash_manufacturer, flash_manufacturer_id, flash_device_id, flash_id, flash_size}' \
            "$TMP/out")
        [ "$got" = "$want_json" ] && pass "$name: JSON" ||
            { fail "$name: JSON"; echo "    want $want_json"; echo "    got  $got"; }
    fi
}

GD4='Flash manufacturer: GigaDevice (0xc8)
Flash device:       0x4016
Flash size:         4MB
Flash id:           0x1640c8'
GD4J='"flash_manufacturer":"GigaDevice","flash_manufacturer_id":"0xc8","flash_device_id":"0x4016","flash_id":"0x1640c8","flash_size":4194304'

# ---- every chip as espsim plays it by default -------------------------------------
board esp32 "Chip type:          ESP32-D0WD-V3 (revision v3.1)
Revision:           v3.1
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT, Dual Core + LP Core, 240MHz, Vref calibration in eFuse, Coding Scheme None
$GD4" '{"chip_name":"ESP32","package":"ESP32-D0WD-V3","package_version":1,"revision":"v3.1","crystal_mhz":40,"features":["Wi-Fi","BT","Dual Core + LP Core","240MHz","Vref calibration in eFuse","Coding Scheme None"],'"$GD4J}" \
    --chip esp32

board esp32s2 "Chip type:          ESP32-S2 (revision v0.0)
Revision:           v0.0
Crystal frequency:  40 MHz
Features:           Wi-Fi, Single Core, 240MHz, No Embedded Flash, No Embedded PSRAM, ADC and temperature sensor calibration in BLK2 of eFuse V2
$GD4" '{"chip_name":"ESP32-S2","package":"ESP32-S2","package_version":0,"revision":"v0.0","crystal_mhz":40,"features":["Wi-Fi","Single Core","240MHz","No Embedded Flash","No Embedded PSRAM","ADC and temperature sensor calibration in BLK2 of eFuse V2"],'"$GD4J}" \
    --chip esp32s2

board esp32s3 "Chip type:          ESP32-S3 (QFN56) (revision v0.2)
Revision:           v0.2
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT 5 (LE), Dual Core + LP Core, 240MHz
$GD4" '{"chip_name":"ESP32-S3","package":"ESP32-S3 (QFN56)","package_version":0,"revision":"v0.2","crystal_mhz":40,"features":["Wi-Fi","BT 5 (LE)","Dual Core + LP Core","240MHz"],'"$GD4J}" \
    --chip esp32s3

board esp32c2 "Chip type:          ESP32-C2 (revision v1.0)
Revision:           v1.0
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT 5 (LE), Single Core, 120MHz
$GD4" '{"chip_name":"ESP32-C2","package":"ESP32-C2","package_version":0,"revision":"v1.0","crystal_mhz":40,"features":["Wi-Fi","BT 5 (LE)","Single Core","120MHz"],'"$GD4J}" \
    --chip esp32c2

board esp32c3 "Chip type:          ESP32-C3 (QFN32) (revision v0.4)
Revision:           v0.4
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT 5 (LE), Single Core, 160MHz
$GD4" '{"chip_name":"ESP32-C3","package":"ESP32-C3 (QFN32)","package_version":0,"revision":"v0.4","crystal_mhz":40,"features":["Wi-Fi","BT 5 (LE)","Single Core","160MHz"],'"$GD4J}" \
    --chip esp32c3

board esp32c5 "Chip type:          ESP32-C5 (revision v1.0)
Revision:           v1.0
Crystal frequency:  48 MHz
Features:           Wi-Fi 6 (dual-band), BT 5 (LE), IEEE802.15.4, Single Core + LP Core, 240MHz
$GD4" '{"chip_name":"ESP32-C5","package":"ESP32-C5","package_version":0,"revision":"v1.0","crystal_mhz":48,"features":["Wi-Fi 6 (dual-band)","BT 5 (LE)","IEEE802.15.4","Single Core + LP Core","240MHz"],'"$GD4J}" \
    --chip esp32c5

board esp32c6 "Chip type:          ESP32-C6FH4 (QFN32) (revision v0.1)
Revision:           v0.1
Crystal frequency:  40 MHz
Features:           Wi-Fi 6, BT 5 (LE), IEEE802.15.4, Single Core + LP Core, 160MHz, Embedded Flash 4MB
$GD4" '{"chip_name":"ESP32-C6","package":"ESP32-C6FH4 (QFN32)","package_version":1,"revision":"v0.1","crystal_mhz":40,"features":["Wi-Fi 6","BT 5 (LE)","IEEE802.15.4","Single Core + LP Core","160MHz","Embedded Flash 4MB"],'"$GD4J}" \
    --chip esp32c6

board esp32h2 "Chip type:          ESP32-H2 (revision v0.1)
Revision:           v0.1
Crystal frequency:  32 MHz
Features:           BT 5 (LE), IEEE802.15.4, Single Core, 96MHz
$GD4" '{"chip_name":"ESP32-H2","package":"ESP32-H2","package_version":0,"revision":"v0.1","crystal_mhz":32,"features":["BT 5 (LE)","IEEE802.15.4","Single Core","96MHz"],'"$GD4J}" \
    --chip esp32h2

board esp32p4 "Chip type:          ESP32-P4 (revision v1.0)
Revision:           v1.0
Crystal frequency:  40 MHz
Features:           Dual Core + LP Core, 400MHz
$GD4" '{"chip_name":"ESP32-P4","package":"ESP32-P4","package_version":0,"revision":"v1.0","crystal_mhz":40,"features":["Dual Core + LP Core","400MHz"],'"$GD4J}" \
    --chip esp32p4

# ---- package variants, crystals, flash parts ----------------------------------------
# ESP32 below v3 is the plain D0WD; a 26 MHz crystal is seen through the UART divider.
board esp32-v1-26mhz "Chip type:          ESP32-D0WD (revision v1.2)
Revision:           v1.2
Crystal frequency:  26 MHz
Features:           Wi-Fi, BT, Dual Core + LP Core, 240MHz, Vref calibration in eFuse, Coding Scheme None
$GD4" '{"chip_name":"ESP32","package":"ESP32-D0WD","package_version":1,"revision":"v1.2","crystal_mhz":26,"features":["Wi-Fi","BT","Dual Core + LP Core","240MHz","Vref calibration in eFuse","Coding Scheme None"],'"$GD4J}" \
    --chip esp32 --revision v1.2 --crystal 26

board esp32-pico "Chip type:          ESP32-PICO-V3-02 (revision v3.1)
Revision:           v3.1
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT, Dual Core + LP Core, 240MHz, Embedded Flash, Embedded PSRAM, Vref calibration in eFuse, Coding Scheme None
Flash manufacturer: GigaDevice (0xc8)
Flash device:       0x4017
Flash size:         8MB
Flash id:           0x1740c8" '{"chip_name":"ESP32","package":"ESP32-PICO-V3-02","package_version":6,"revision":"v3.1","crystal_mhz":40,"features":["Wi-Fi","BT","Dual Core + LP Core","240MHz","Embedded Flash","Embedded PSRAM","Vref calibration in eFuse","Coding Scheme None"],"flash_manufacturer":"GigaDevice","flash_manufacturer_id":"0xc8","flash_device_id":"0x4017","flash_id":"0x1740c8","flash_size":8388608}' \
    --chip esp32 --package ESP32-PICO-V3-02 --flash-chip GD25Q64C

board esp32-s0wd "Chip type:          ESP32-S0WD (revision v1.0)
Revision:           v1.0
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT, Single Core + LP Core, 160MHz, Vref calibration in eFuse, Coding Scheme None
$GD4" '{"chip_name":"ESP32","package":"ESP32-S0WD","package_version":1,"revision":"v1.0","crystal_mhz":40,"features":["Wi-Fi","BT","Single Core + LP Core","160MHz","Vref calibration in eFuse","Coding Scheme None"],'"$GD4J}" \
    --chip esp32 --revision v1.0 --package esp32-s0wd

board esp32s2-fnr2 "Chip type:          ESP32-S2FNR2 (revision v0.0)
Revision:           v0.0
Crystal frequency:  40 MHz
Features:           Wi-Fi, Single Core, 240MHz, Embedded Flash 4MB, Embedded PSRAM 2MB, ADC and temperature sensor calibration in BLK2 of eFuse V2
$GD4" '{"chip_name":"ESP32-S2","package":"ESP32-S2FNR2","package_version":18,"revision":"v0.0","crystal_mhz":40,"features":["Wi-Fi","Single Core","240MHz","Embedded Flash 4MB","Embedded PSRAM 2MB","ADC and temperature sensor calibration in BLK2 of eFuse V2"],'"$GD4J}" \
    --chip esp32s2 --package ESP32-S2FNR2

# An ESP32-S3 with flash and PSRAM in the package, on a Winbond flash.
board esp32s3-fh4r2 "Chip type:          ESP32-S3 (QFN56) (revision v0.2)
Revision:           v0.2
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT 5 (LE), Dual Core + LP Core, 240MHz, Embedded Flash 4MB (XMC), Embedded PSRAM 2MB (AP_3v3)
Flash manufacturer: Winbond (0xef)
Flash device:       0x4018
Flash size:         16MB
Flash id:           0x1840ef" '{"chip_name":"ESP32-S3","package":"ESP32-S3 (QFN56)","package_version":0,"revision":"v0.2","crystal_mhz":40,"features":["Wi-Fi","BT 5 (LE)","Dual Core + LP Core","240MHz","Embedded Flash 4MB (XMC)","Embedded PSRAM 2MB (AP_3v3)"],"flash_manufacturer":"Winbond","flash_manufacturer_id":"0xef","flash_device_id":"0x4018","flash_id":"0x1840ef","flash_size":16777216}' \
    --chip esp32s3 --package ESP32-S3FH4R2 --flash-chip W25Q128JV

board esp32s3-pico "Chip type:          ESP32-S3-PICO-1 (LGA56) (revision v0.2)
Revision:           v0.2
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT 5 (LE), Dual Core + LP Core, 240MHz, Embedded Flash 8MB (XMC), Embedded PSRAM 2MB (AP_3v3)
$GD4" '{"chip_name":"ESP32-S3","package":"ESP32-S3-PICO-1 (LGA56)","package_version":1,"revision":"v0.2","crystal_mhz":40,"features":["Wi-Fi","BT 5 (LE)","Dual Core + LP Core","240MHz","Embedded Flash 8MB (XMC)","Embedded PSRAM 2MB (AP_3v3)"],'"$GD4J}" \
    --chip esp32s3 --package ESP32-S3-PICO-1-N8R2

board esp32c2-26mhz "Chip type:          ESP8684H (revision v1.0)
Revision:           v1.0
Crystal frequency:  26 MHz
Features:           Wi-Fi, BT 5 (LE), Single Core, 120MHz, Embedded Flash 2MB (GD)
Flash manufacturer: XMC/Micron (0x20)
Flash device:       0x4016
Flash size:         4MB
Flash id:           0x164020" '{"chip_name":"ESP32-C2","package":"ESP8684H","package_version":1,"revision":"v1.0","crystal_mhz":26,"features":["Wi-Fi","BT 5 (LE)","Single Core","120MHz","Embedded Flash 2MB (GD)"],"flash_manufacturer":"XMC/Micron","flash_manufacturer_id":"0x20","flash_device_id":"0x4016","flash_id":"0x164020","flash_size":4194304}' \
    --chip esp32c2 --package ESP8684H2 --crystal 26 --flash-chip XM25QH32C

board esp32c3-esp8685 "Chip type:          ESP8685 (QFN28) (revision v0.4)
Revision:           v0.4
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT 5 (LE), Single Core, 160MHz, Embedded Flash 4MB (XMC)
$GD4" '{"chip_name":"ESP32-C3","package":"ESP8685 (QFN28)","package_version":1,"revision":"v0.4","crystal_mhz":40,"features":["Wi-Fi","BT 5 (LE)","Single Core","160MHz","Embedded Flash 4MB (XMC)"],'"$GD4J}" \
    --chip esp32c3 --package ESP8685H4

board esp32c5-40mhz "Chip type:          ESP32-C5 (revision v1.0)
Revision:           v1.0
Crystal frequency:  40 MHz
Features:           Wi-Fi 6 (dual-band), BT 5 (LE), IEEE802.15.4, Single Core + LP Core, 240MHz
$GD4" '{"chip_name":"ESP32-C5","package":"ESP32-C5","package_version":0,"revision":"v1.0","crystal_mhz":40,"features":["Wi-Fi 6 (dual-band)","BT 5 (LE)","IEEE802.15.4","Single Core + LP Core","240MHz"],'"$GD4J}" \
    --chip esp32c5 --crystal 40

board esp32c6-qfn40 "Chip type:          ESP32-C6 (QFN40) (revision v0.1)
Revision:           v0.1
Crystal frequency:  40 MHz
Features:           Wi-Fi 6, BT 5 (LE), IEEE802.15.4, Single Core + LP Core, 160MHz
$GD4" '{"chip_name":"ESP32-C6","package":"ESP32-C6 (QFN40)","package_version":0,"revision":"v0.1","crystal_mhz":40,"features":["Wi-Fi 6","BT 5 (LE)","IEEE802.15.4","Single Core + LP Core","160MHz"],'"$GD4J}" \
    --chip esp32c6 --package ESP32-C6

# A package version no name is known for (ESP32-C3 block 1 word 3 bits 21-23 = 5) and
# a flash maker the table lacks: said as unknown, with their numbers.
board esp32c3-unknown "Chip type:          ESP32-C3, package unknown (5) (revision v0.4)
Revision:           v0.4
Crystal frequency:  40 MHz
Features:           Wi-Fi, BT 5 (LE), Single Core, 160MHz
Flash manufacturer: unknown (0x42)
Flash device:       0x4016
Flash size:         4MB
Flash id:           0x164042" '{"chip_name":"ESP32-C3","package":"unknown (5)","package_version":5,"revision":"v0.4","crystal_mhz":40,"features":["Wi-Fi","BT 5 (LE)","Single Core","160MHz"],"flash_manufacturer":null,"flash_manufacturer_id":"0x42","flash_device_id":"0x4016","flash_id":"0x164042","flash_size":4194304}' \
    --chip esp32c3 --efuse 0x60008850=0xA00000 --flash-id 0x164042

# ---- the crystal is measured before the rate is raised ---------------------------
# At 921600 baud (the ROM's rate raised for the stub) the 26 MHz ESP32 and the 48 MHz
# ESP32-C5 still say their crystals.
start_sim e26 --chip esp32 --tcp 0 --crystal 26 --log "$TMP/e26.log"
expect_ok "ESP32 at 26 MHz, -B 921600" "$ESPGANG" board-info -p "$SIM_ADDR" -B 921600 --after no-reset &&
    grep -q "^Crystal frequency:  26 MHz$" "$TMP/out" && grep -q "CHANGE_BAUDRATE" "$TMP/e26.log" &&
    pass "ESP32 at 921600: 26 MHz" || fail "ESP32 at 921600: $(grep Crystal "$TMP/out")"
start_sim c5 --chip esp32c5 --tcp 0 --log "$TMP/c5.log"
expect_ok "ESP32-C5, -B 921600" "$ESPGANG" board-info -p "$SIM_ADDR" -B 921600 --after no-reset &&
    grep -q "^Crystal frequency:  48 MHz$" "$TMP/out" &&
    grep -q "CHANGE_BAUDRATE baud=921600" "$TMP/c5.log" &&
    pass "ESP32-C5 at 921600: 48 MHz, the ROM asked for 921600 itself" ||
    fail "ESP32-C5 at 921600: $(grep Crystal "$TMP/out"), $(grep CHANGE_BAUDRATE "$TMP/c5.log")"

# ---- espsim refuses boards that do not exist --------------------------------------
sim_refuses() {
    desc=$1 pattern=$2
    shift 2
    if timeout 10 "$ESPSIM" --tcp 0 "$@" >"$TMP/out" 2>"$TMP/err"; then
        fail "espsim $desc: started"
    else
        err_matches "espsim $desc" "$pattern"
    fi
}
sim_refuses "--package of another chip" \
    "ESP32-C6 has no package 'ESP32-S3FN8' \\(ESP32-C6FH4, ESP32-C6FH8, ESP32-C6\\)" \
    --chip esp32c6 --package ESP32-S3FN8
sim_refuses "a -V3 package below v3" "ESP32-D0WD-V3 exists only as revision v3 \\(this board is v1.x\\)" \
    --chip esp32 --revision v1.0 --package ESP32-D0WD-V3
sim_refuses "a pre-v3 package at v3" "ESP32-PICO-D4 exists only below revision v3" \
    --chip esp32 --package ESP32-PICO-D4
sim_refuses "--crystal 26 on ESP32-C5" "ESP32-C5 has a 48 or 40 MHz crystal, not 26" \
    --chip esp32c5 --crystal 26
sim_refuses "--crystal 40 on ESP32-H2" "ESP32-H2 has a 32 MHz crystal, not 40" \
    --chip esp32h2 --crystal 40
sim_refuses "an unknown flash part" "--flash-chip: unknown part 'W25Q999'" \
    --chip esp32c3 --flash-chip W25Q999
sim_refuses "a flash part and another size" "W25Q32JV holds 4 MB, --flash-size says 8 MB" \
    --chip esp32c3 --flash-chip W25Q32JV --flash-size 8MB
sim_refuses "a malformed --efuse" "--efuse: '0x60008850' is not ADDR=VALUE" \
    --chip esp32c3 --efuse 0x60008850
sim_refuses "an --efuse address off a word" "--efuse: '0x60008851=1': the address is not a word's" \
    --chip esp32c3 --efuse 0x60008851=1

finish
