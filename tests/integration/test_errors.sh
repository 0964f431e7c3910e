#!/bin/sh
# Bad devices and bad input: each ends in a clear error, within a bounded time, with a
# non-zero exit, and damages nothing else.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

head -c 262144 /dev/urandom >"$TMP/data.bin"

# A device that never answers.
start_sim silent --chip esp32c3 --tcp 0 --fault silent
expect_fail "silent device, 2 attempts" "port 'socket://127.0.0.1:[0-9]+'.*no answer to SYNC after 2 attempts" 10 \
    "$ESPGANG" board-info -p "$SIM_ADDR" --connect-attempts 2
expect_fail "silent device, default attempts" "no answer to SYNC after 7 attempts" 20 \
    "$ESPGANG" board-info -p "$SIM_ADDR"

# A device that sends garbage.
start_sim garbage --chip esp32s3 --tcp 0 --fault garbage
expect_fail "device sending garbage" "not loader frames" 20 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" 0x10000 "$TMP/data.bin"

# The same two over a pseudo-terminal.
start_sim silentpty --chip esp32 --pty "$TMP/silent.tty" --fault silent
expect_fail "silent device on a pty" "port '.*silent.tty'.*no answer to SYNC after 2 attempts" 10 \
    "$ESPGANG" board-info -p "$TMP/silent.tty" --connect-attempts 2
start_sim garbagepty --chip esp32c2 --pty "$TMP/garbage.tty" --fault garbage
expect_fail "device sending garbage on a pty" "not loader frames" 20 \
    "$ESPGANG" board-info -p "$TMP/garbage.tty"

# A board running its application rather than the loader.
start_sim boot --chip esp32c3 --tcp 0 --fault wrong-boot
expect_fail "board in the wrong boot mode" "wrong boot mode \(boot:0xc\)" 20 \
    "$ESPGANG" board-info -p "$SIM_ADDR"

# Unplugged in the middle of a write: the error names the port and the step, and the
# flash outside the region being written is untouched.
head -c 4194304 /dev/urandom >"$TMP/flash.img"
cp "$TMP/flash.img" "$TMP/flash.orig"
start_sim unplug --chip esp32c6 --tcp 0 --flash-file "$TMP/flash.img" --fault disconnect-after=20
head -c 1048576 /dev/urandom >"$TMP/big.bin"
expect_fail "board unplugged mid-write" "port 'socket://.*writing flash at 0x00100000.*(went away|closed|unplugged)" 20 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" 0x100000 "$TMP/big.bin"
sleep 0.2
if cmp -s -n 1048576 "$TMP/flash.img" "$TMP/flash.orig" &&
    [ "$(tail -c 2097152 "$TMP/flash.img" | md5sum)" = "$(tail -c 2097152 "$TMP/flash.orig" | md5sum)" ]; then
    pass "unplug: flash outside the written region is intact"
else
    fail "unplug: flash outside the written region changed"
fi

# The flash reports a write error.
start_sim badwrite --chip esp32h2 --tcp 0 --fault bad-flash-write
expect_fail "flash write error from the device" "flash write error" 30 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --no-stub 0x10000 "$TMP/data.bin"
# The stub answers a block before writing it and reports the failure on the next command.
start_sim badwrite-stub --chip esp32c3 --tcp 0 --fault bad-flash-write
expect_fail "flash write error through the stub" "port 'socket://.*writing flash at 0x00010000: block 0 or 1: .*SPI operation failed" 30 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" 0x10000 "$TMP/data.bin"

# Nothing listening, no such device.
start_sim gone --chip esp32 --tcp 0
gone=$SIM_ADDR
kill ${SIM_PIDS##* }
wait ${SIM_PIDS##* } 2>/dev/null
expect_fail "connection refused" "port '$gone': cannot connect" 10 "$ESPGANG" board-info -p "$gone"
expect_fail "no such device" "/dev/ttyNOPE" 10 "$ESPGANG" board-info -p /dev/ttyNOPE
expect_fail "no port at all" "no port given" 5 env -u ESPGANG_PORT -u ESPFLASH_PORT HOME="$TMP" XDG_CONFIG_HOME="$TMP" "$ESPGANG" board-info

# Checks that happen before the board is touched.
start_sim good --chip esp32c3 --tcp 0 --flash-size 2MB --log "$TMP/good.log"
P="-p $SIM_ADDR"
expect_fail "region beyond the flash" "ends beyond the 2 MB flash" 10 \
    "$ESPGANG" write-bin $P 0x1F0000 "$TMP/data.bin"
expect_fail "read beyond the flash" "ends beyond the 2 MB flash" 10 \
    "$ESPGANG" read-flash $P 0x1FF000 0x2000 "$TMP/x.bin"
[ ! -e "$TMP/x.bin" ] && pass "no output file from a refused read" || fail "a refused read left a file"
if grep -qE "FLASH_(DEFL_)?(BEGIN|DATA)" "$TMP/good.log"; then
    fail "a refused write reached the flash"
else
    pass "refused writes sent no flash command"
fi
expect_fail "missing input file" "cannot open '.*nope.bin'" 5 "$ESPGANG" write-bin $P 0x10000 "$TMP/nope.bin"
expect_fail "read into an unwritable place" "cannot write '/nonexistent/out.bin'" 5 \
    "$ESPGANG" read-flash $P 0 0x1000 /nonexistent/out.bin
expect_fail "bad --before" "unknown --before 'sometimes'" 5 "$ESPGANG" board-info $P --before sometimes

# A flash whose JEDEC id does not tell its size: regions cannot be checked unless the
# size is given.
start_sim oddflash --chip esp32c3 --tcp 0 --flash-id 0xC84099 --log "$TMP/odd.log"
expect_fail "flash of unknown size" "size is unknown \(JEDEC id 0xc84099\).*--flash-size" 10 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" 0x10000 "$TMP/data.bin"
grep -q "FLASH_DEFL" "$TMP/odd.log" && fail "unknown size: a write reached the flash" ||
    pass "unknown size: nothing written"
expect_ok "flash of unknown size with --flash-size" \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --flash-size 4MB 0x10000 "$TMP/data.bin"

# A rate the port cannot run at is refused before the board is asked to change.
start_sim oddbaud --chip esp32s3 --pty "$TMP/oddbaud.tty" --log "$TMP/oddbaud.log"
expect_fail "baud rate a pty cannot run" "cannot run at 250000 baud" 10 \
    "$ESPGANG" board-info -p "$TMP/oddbaud.tty" -B 250000
grep -q CHANGE_BAUDRATE "$TMP/oddbaud.log" && fail "the board was asked to change its rate" ||
    pass "the board kept its rate"

# No flasher stub where espgang is told to look: writing fails with a clear error that
# names the ways out; reading the board needs none (the ROM loader answers).
head -c 4096 /dev/zero >"$TMP/zero.bin"
expect_fail "missing flasher stub" "no flasher stub 'esp32[a-z0-9]*' .*--no-stub" 10 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --stub-dir "$TMP/nostubs" 0x10000 "$TMP/zero.bin"
expect_ok "board-info needs no stub" "$ESPGANG" board-info -p "$SIM_ADDR" --stub-dir "$TMP/nostubs"
err_matches "  it says it goes on with the ROM loader" \
    "no flasher stub for the ESP32-[A-Z0-9]*: going on with the ROM loader"
expect_ok "checksum-md5 needs no stub (the chip given)" "$ESPGANG" checksum-md5 -p "$SIM_ADDR" -c esp32s3 \
    --stub-dir "$TMP/nostubs" 0 4096

# Resets need DTR/RTS, which neither a TCP socket nor a pseudo-terminal carries.
expect_fail "reset over TCP" "port 'socket://.*': no DTR/RTS lines" 5 "$ESPGANG" reset $P
expect_fail "hold-in-reset over a pty" "silent.tty': no DTR/RTS lines" 5 \
    "$ESPGANG" hold-in-reset -p "$TMP/silent.tty"

# Usage errors exit with 2.
for args in "write-bin 0x10000" "write-bin 0x1001 $TMP/data.bin" "checksum-md5 0x0 lots" \
    "erase-region 0x0 0x800" "board-info --frobnicate" "read-flash 0 0x1000" \
    "board-info --flash-size 3MB" "board-info -B fast" "board-info --chip esp99"; do
    # shellcheck disable=SC2086
    "$ESPGANG" $args $P >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "espgang" "$TMP/err"; then
        pass "usage error '$args' exits 2: $(head -1 "$TMP/err")"
    else
        fail "usage error '$args' exited $rc"
    fi
done

finish
