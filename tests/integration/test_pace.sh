#!/bin/sh
# espsim --pace runs the line at the board's rate and --flash-timing makes erasing take
# a real flash's time: checked as lower bounds (what the model must cost at least),
# not as speed targets (those are measured by tools/bench).
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

ms() { echo $(($(date +%s%N) / 1000000)); }
head -c 16384 /dev/urandom >"$TMP/r.bin"

start_sim paced --chip esp32c3 --tcp 0 --pace
t0=$(ms)
expect_ok "paced write at 115200" "$ESPGANG" write-bin -p "$SIM_ADDR" --no-stub --after no-reset 0x10000 "$TMP/r.bin"
took=$(($(ms) - t0))
# 16 KiB of random data is over 16 KiB on the wire: at least 1.42 s at 115200 baud.
[ $took -ge 1400 ] && pass "the paced line took $took ms (wire time 1422 ms or more)" ||
    fail "paced write took only $took ms"

start_sim timed --chip esp32c3 --tcp 0 --flash-timing
t0=$(ms)
expect_ok "erasing 1 MiB through the ROM" "$ESPGANG" erase-region -p "$SIM_ADDR" --no-stub --after no-reset 0x100000 0x100000
took=$(($(ms) - t0))
# 16 blocks of 64 KiB at 150 ms each.
[ $took -ge 2400 ] && pass "the ROM's erase took $took ms (2400 ms or more)" ||
    fail "erase took only $took ms"
finish
