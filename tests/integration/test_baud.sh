#!/bin/sh
# Baud changes through the ROM: ESP32-C2's ROM assumes a 40 MHz crystal, so on a
# 26 MHz board it must be asked for 40/26 of the rate wanted; the link then really
# runs at the rate wanted, and flashing works.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

head -c 65536 /dev/urandom >"$TMP/a.bin"
for mhz in 26 40; do
    start_sim c2_$mhz --chip esp32c2 --tcp 0 --crystal $mhz --log "$TMP/c2_$mhz.log"
    expect_ok "C2 at $mhz MHz: write-bin at 921600 baud" \
        "$ESPGANG" write-bin -p "$SIM_ADDR" -B 921600 --no-stub --after no-reset 0x10000 "$TMP/a.bin"
    line=$(grep CHANGE_BAUDRATE "$TMP/c2_$mhz.log")
    if [ $mhz = 26 ]; then
        echo "$line" | grep -q "baud=1417846 .*effective=92159[0-9]" &&
            pass "C2 at 26 MHz: asked for 1417846, runs at 921600 ($line)" ||
            fail "C2 at 26 MHz: $line"
    else
        echo "$line" | grep -q "baud=921600 old=0$" && pass "C2 at 40 MHz: asked for 921600" ||
            fail "C2 at 40 MHz: $line"
    fi
done

# With the flasher stub (fast connect, the default) the ROM raises the rate before the
# stub is uploaded: asked for 40/26 of it on a 26 MHz C2, before the stub runs, and the
# stub then needs no change of its own.
start_sim c2_stub --chip esp32c2 --tcp 0 --crystal 26 --log "$TMP/c2_stub.log"
expect_ok "C2 at 26 MHz, the ROM raises the rate before the stub" \
    "$ESPGANG" write-bin -p "$SIM_ADDR" -B 921600 --after no-reset 0x10000 "$TMP/a.bin"
grep -E 'CHANGE_BAUDRATE|MEM_END' "$TMP/c2_stub.log" >"$TMP/order"
if [ "$(grep -c CHANGE_BAUDRATE "$TMP/order")" = 1 ] &&
    head -n 1 "$TMP/order" | grep -q "CHANGE_BAUDRATE baud=1417846 old=0 effective=92159[0-9]"; then
    pass "fast connect: one change, by the ROM, before the upload"
else
    fail "fast connect: $(tr '\n' ';' <"$TMP/order")"
fi
grep -q "running the flasher stub esp32c2" "$TMP/c2_stub.log" && pass "the stub ran" || fail "no stub ran"

# --no-fast-connect: the stub is uploaded at 115200 and changes the rate as (new, old).
start_sim c2_slow --chip esp32c2 --tcp 0 --crystal 26 --log "$TMP/c2_slow.log"
expect_ok "C2 at 26 MHz through the stub, --no-fast-connect" \
    "$ESPGANG" write-bin -p "$SIM_ADDR" -B 921600 --no-fast-connect --after no-reset 0x10000 "$TMP/a.bin"
line=$(grep CHANGE_BAUDRATE "$TMP/c2_slow.log")
echo "$line" | grep -q "baud=921600 old=115200$" && pass "stub: asked for 921600 from 115200" ||
    fail "stub: $line"
# A ROM that acknowledges CHANGE_BAUDRATE but stays at 115200 (over RFC 2217 the port's
# rate reaches the board, and bytes at the wrong rate are lost): espgang does not hear
# it at the new rate, goes back to 115200, uploads the stub there, and raises the rate
# through the stub.
start_sim stuck --chip esp32c3 --rfc2217 0 --fault baud-stuck --log "$TMP/stuck.log"
addr=$(echo "$SIM_ADDR" | sed 's/^socket:/rfc2217:/')
expect_ok "a ROM stuck at 115200: write-bin at 921600" \
    "$ESPGANG" write-bin -p "$addr" -B 921600 --after no-reset 0x10000 "$TMP/a.bin"
grep -q "the ROM did not answer at 921600 baud: going on at 115200" "$TMP/err" &&
    pass "stuck ROM: espgang says it went back to 115200" || fail "stuck ROM: $(cat "$TMP/err")"
grep -q "CHANGE_BAUDRATE baud=921600 old=115200" "$TMP/stuck.log" &&
    pass "stuck ROM: the stub raised the rate instead" || fail "stuck ROM: $(grep CHANGE_BAUDRATE "$TMP/stuck.log")"
finish
