#!/bin/sh
# RFC 2217: DTR/RTS and the baud rate cross the network, and espsim boots like a
# development board (power-on and hard resets boot the application from the flash; the
# DTR/RTS dance enters the ROM's download mode).
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

head -c 65536 /dev/urandom >"$TMP/a.bin"
# A flash holding a bootloader, the partition table and an application, as the board
# boots them (the random data goes beyond the app's partition).
FIX=$(dirname "$ESPGANG")/fixtures
"$ESPGANG" save-image -c esp32c3 --merge --bootloader "$FIX/esp32c3-bootloader.bin" \
    --partition-table "$(dirname "$0")/../../profiles/demo/partitions.csv" \
    "$FIX/esp32c3-appdesc.elf" "$TMP/flash.bin" >/dev/null || fail "making the flash image"
start_sim r --chip esp32c3 --rfc2217 0 --log "$TMP/r.log" --flash-file "$TMP/flash.bin"
P=$SIM_ADDR
case $P in rfc2217://127.0.0.1:*) pass "espsim serves $P" ;; *) fail "address $P" ;; esac
sleep 1.2 # the application prints a line a second

expect_fail "no-reset on a board running its application" \
    "port 'rfc2217://.*seems to run its application \(last: .*app: tick" 15 \
    "$ESPGANG" board-info -p "$P" --before no-reset --connect-attempts 3
grep -qE "SYNC$" "$TMP/r.log" && fail "the application answered SYNC" ||
    pass "the running application answered nothing"

expect_ok "default-reset reaches the loader from the application" \
    "$ESPGANG" write-bin -p "$P" -B 921600 0x200000 "$TMP/a.bin"
grep -q "download mode (IO0 low)" "$TMP/r.log" && pass "DTR/RTS put the chip in download mode" ||
    fail "no download-mode boot in the log"
grep -q "CHANGE_BAUDRATE baud=921600" "$TMP/r.log" && pass "the baud change crossed RFC 2217" ||
    fail "no CHANGE_BAUDRATE"
sleep 0.3
tail -3 "$TMP/r.log" | grep -q "boot: running the application" &&
    pass "--after hard-reset left it running the application" ||
    { fail "no application boot after the write"; tail -3 "$TMP/r.log" | sed 's/^/    /'; }

expect_fail "the application runs after the hard reset" \
    "wrong boot mode \(boot:0xc\)|seems to run its application" 15 \
    "$ESPGANG" board-info -p "$P" --before no-reset --connect-attempts 3

expect_ok "reset" "$ESPGANG" reset -p "$P"
sleep 0.3
tail -2 "$TMP/r.log" | grep -q "boot: running the application" && pass "reset restarts the application" ||
    fail "reset did not restart the application"

expect_ok "hold-in-reset" "$ESPGANG" hold-in-reset -p "$P"
sleep 0.3
grep -q "EN low: held in reset" "$TMP/r.log" && ! tail -1 "$TMP/r.log" | grep -q "running the application" &&
    pass "the board stays in reset" || fail "the board did not stay in reset"
expect_fail "a board held in reset is silent" "no answer to SYNC after 1 attempts" 10 \
    "$ESPGANG" board-info -p "$P" --before no-reset --connect-attempts 1
expect_ok "and comes back with a reset into download mode" "$ESPGANG" board-info -p "$P"
finish
