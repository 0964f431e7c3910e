#!/bin/sh
# espsim's faults for gang tests: a flash that fails at one address, a board unplugged
# after so many bytes of flash data, a board that answers late; each on one board of
# several, the others unharmed.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

# 64 KiB without 0xFF bytes, so that a byte left erased cannot pass for one written.
head -c 65536 /dev/urandom | tr '\377' '\376' >"$TMP/a.bin"
head -c 65536 /dev/urandom | tr '\377' '\376' >"$TMP/b.bin"
ff_file "$TMP/ff64k.bin" 65536

# fresh_flash NAME: a 4 MB flash file of random bytes, and a copy to compare with.
fresh_flash() {
    head -c 4194304 /dev/urandom >"$TMP/$1.img"
    cp "$TMP/$1.img" "$TMP/$1.orig"
}

# outside_intact DESC NAME START END: the flash outside [START, END) is as it was.
outside_intact() {
    if cmp -s -n "$3" "$TMP/$2.img" "$TMP/$2.orig" &&
        [ "$(tail -c +$(($4 + 1)) "$TMP/$2.img" | md5sum)" = "$(tail -c +$(($4 + 1)) "$TMP/$2.orig" | md5sum)" ]; then
        pass "$1"
    else
        fail "$1: the flash outside 0x$(printf %x "$3")-0x$(printf %x "$4") changed"
    fi
}

# ---- flash-fail-at=ADDR ----------------------------------------------------------
fail_at=$((0x12345))
fresh_flash ffa
start_sim ffa --chip esp32c3 --tcp 0 --flash-file "$TMP/ffa.img" --fault flash-fail-at=0x12345 \
    --log "$TMP/ffa.log"
expect_fail "flash-fail-at, ROM: the write fails with the ROM's flash write error" \
    "port 'socket://.*writing flash at 0x00010000.*flash write error" 20 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --no-stub --after no-reset 0x10000 "$TMP/a.bin"
log_has "flash-fail-at, ROM: the block that writes 0x12345 got error 0x08" "$TMP/ffa.log" \
    "FLASH_DEFL_DATA seq=[0-9]+ len=[0-9]+ -> error 0x08 \(flash write error: fault flash-fail-at=0x12345\)"
sleep 0.2
if [ "$(part "$TMP/ffa.img" $((0x10000)) $((fail_at - 0x10000)) | md5sum)" = "$(head -c $((fail_at - 0x10000)) "$TMP/a.bin" | md5sum)" ]; then
    pass "flash-fail-at, ROM: everything before 0x12345 was written"
else
    fail "flash-fail-at, ROM: the bytes before 0x12345 are not the data"
fi
if [ "$(part "$TMP/ffa.img" "$fail_at" $((0x20000 - fail_at)) | md5sum)" = "$(head -c $((0x20000 - fail_at)) "$TMP/ff64k.bin" | md5sum)" ]; then
    pass "flash-fail-at, ROM: 0x12345 and after stay erased (not written)"
else
    fail "flash-fail-at, ROM: bytes from 0x12345 on were written: $(part "$TMP/ffa.img" "$fail_at" 8 | od -An -tx1)"
fi
outside_intact "flash-fail-at, ROM: the flash outside the region is untouched" ffa $((0x10000)) $((0x20000))
expect_ok "flash-fail-at: a write elsewhere succeeds (ROM)" \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --no-stub --after no-reset 0x30000 "$TMP/b.bin"
sleep 0.2
[ "$(part "$TMP/ffa.img" $((0x30000)) 65536 | md5sum)" = "$(md5sum <"$TMP/b.bin")" ] &&
    pass "flash-fail-at: the other write is in the flash" || fail "flash-fail-at: the other write is not in the flash"

# The stub answers the block and reports the failure on the next command (C4).
expect_fail "flash-fail-at, stub: the write fails with the stub's SPI error" \
    "port 'socket://.*writing flash at 0x00010000.*SPI operation failed" 20 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --after no-reset --no-skip 0x10000 "$TMP/b.bin"
log_has "flash-fail-at, stub: the block was acknowledged, its failure noted" "$TMP/ffa.log" \
    "FLASH_DEFL_DATA seq=[0-9]+ len=[0-9]+ \(fault flash-fail-at=0x12345: the write failed, the next command says so\)"
log_has "flash-fail-at, stub: the next command failed" "$TMP/ffa.log" \
    "-> error 0x08 \(flash write error: a block written before failed\)"
sleep 0.2
[ "$(part "$TMP/ffa.img" "$fail_at" $((0x20000 - fail_at)) | md5sum)" = "$(head -c $((0x20000 - fail_at)) "$TMP/ff64k.bin" | md5sum)" ] &&
    pass "flash-fail-at, stub: 0x12345 and after not written" || fail "flash-fail-at, stub: bytes at 0x12345 written"
[ "$(part "$TMP/ffa.img" $((0x10000)) $((fail_at - 0x10000)) | md5sum)" = "$(head -c $((fail_at - 0x10000)) "$TMP/b.bin" | md5sum)" ] &&
    pass "flash-fail-at, stub: the bytes before 0x12345 were written" || fail "flash-fail-at, stub: bytes before 0x12345 wrong"
outside_intact "flash-fail-at, stub: the flash outside the writes is untouched" ffa $((0x10000)) $((0x40000))

# Plain (uncompressed) FLASH_DATA through the ROM: the block covering the address fails,
# and a retry of it fails again, as a bad flash would.
expect_fail "flash-fail-at, ROM, plain write" "flash write error" 20 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --no-stub -u --after no-reset 0x11000 "$TMP/a.bin"
log_has "flash-fail-at, plain: block 4 (0x12000-0x123ff) failed" "$TMP/ffa.log" \
    "FLASH_DATA seq=4 len=1024 addr=0x12000 -> error 0x08 \(flash write error: fault flash-fail-at=0x12345\)"

# ---- unplug-after=BYTES ------------------------------------------------------------
# Plain ROM writes send 1 KiB blocks: 100000 bytes are reached in the 98th block of the
# board's life; the first write (64 blocks) passes, the second dies at its 34th block.
fresh_flash unp
start_sim unp --chip esp32c6 --tcp 0 --flash-file "$TMP/unp.img" --fault unplug-after=100000 \
    --log "$TMP/unp.log"
unp_addr=$SIM_ADDR
expect_ok "unplug-after: a first write below the count passes" \
    "$ESPGANG" write-bin -p "$unp_addr" --no-stub -u --after no-reset 0x10000 "$TMP/a.bin"
expect_fail "unplug-after: the board goes mid-write" \
    "port 'socket://.*writing flash at 0x00030000.*(went away|closed|unplugged|reset)" 20 \
    "$ESPGANG" write-bin -p "$unp_addr" --no-stub -u --after no-reset 0x30000 "$TMP/b.bin"
log_has "unplug-after: unplugged at block 33 of the second write" "$TMP/unp.log" \
    "FLASH_DATA len=1040 \(ignored: fault unplug-after=100000: unplugged\)"
[ "$(grep -c 'FLASH_DATA seq=' "$TMP/unp.log")" -eq $((64 + 33)) ] &&
    pass "unplug-after: 97 blocks were written before" ||
    fail "unplug-after: $(grep -c 'FLASH_DATA seq=' "$TMP/unp.log") blocks written"
sleep 0.2
[ "$(part "$TMP/unp.img" $((0x30000)) $((33 * 1024)) | md5sum)" = "$(head -c $((33 * 1024)) "$TMP/b.bin" | md5sum)" ] &&
    [ "$(part "$TMP/unp.img" $((0x30000 + 33 * 1024)) $((31 * 1024)) | md5sum)" = "$(head -c $((31 * 1024)) "$TMP/ff64k.bin" | md5sum)" ] &&
    pass "unplug-after: the flash holds the 33 blocks before, the rest erased" ||
    fail "unplug-after: the flash does not hold what came before the unplug"
outside_intact "unplug-after: the flash outside the writes is untouched" unp $((0x10000)) $((0x40000))
expect_fail "unplug-after: the board stays gone" "port '$unp_addr': cannot connect" 10 \
    "$ESPGANG" board-info -p "$unp_addr"

# The stub's compressed blocks count too; and over a pty, the link goes away.
start_sim unpty --chip esp32c6 --pty "$TMP/unp.tty" --fault unplug-after=20000 --log "$TMP/unpty.log"
head -c 262144 /dev/urandom >"$TMP/r256.bin"
expect_fail "unplug-after over a pty, through the stub" \
    "port '.*unp.tty'.*writing flash at 0x00010000" 30 \
    "$ESPGANG" write-bin -p "$TMP/unp.tty" --after no-reset 0x10000 "$TMP/r256.bin"
log_has "unplug-after, stub: the second 16 KiB block unplugged it" "$TMP/unpty.log" \
    "FLASH_DEFL_DATA len=[0-9]+ \(ignored: fault unplug-after=20000: unplugged\)"
[ ! -e "$TMP/unp.tty" ] && pass "unplug-after: the pty link is gone" || fail "unplug-after: the pty link is still there"

# ---- stall=MS ------------------------------------------------------------------------
start_sim stall --chip esp32c3 --tcp 0 --fault stall=300 --log "$TMP/stall.log"
py "stall: each reply leaves 300 ms late, also when requests come together" '
import sys, time, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1]))
t = time.monotonic(); vals = ld.sync(wait=1.0); took = time.monotonic() - t
assert len(vals) == 8 and took >= 0.3, (vals, took)
t = time.monotonic(); ld.read_reg(0x40001000); took = time.monotonic() - t
assert 0.29 <= took < 0.6, took
# three requests at once: each answer 300 ms after its request, not 900 ms for the last
t = time.monotonic()
for _ in range(3):
    ld.send(sc.READ_REG, bytes(4))
for _ in range(3):
    ld.response(sc.READ_REG, 2)
took = time.monotonic() - t
assert 0.29 <= took < 0.6, took
print("three at once: %.2f s" % took)
' "$SIM_ADDR"
t0=$(date +%s%N)
expect_ok "stall=300: espgang copes (board-info)" "$ESPGANG" board-info -p "$SIM_ADDR" --no-stub
took=$((($(date +%s%N) - t0) / 1000000))
[ "$took" -ge 3000 ] && pass "stall=300: board-info took $took ms (a dozen late replies)" ||
    fail "stall=300: board-info took only $took ms"

start_sim stall2 --chip esp32c3 --tcp 0 --fault stall=5000
expect_fail "stall=5000: espgang gives up cleanly" "port 'socket://.*(no answer|timed out|timeout)" 60 \
    "$ESPGANG" board-info -p "$SIM_ADDR" --connect-attempts 2

# ---- one faulty board among several -----------------------------------------------
start_sim gang --chip esp32c3 --tcp 0 --boards 4 --fault 1:stall=150 --fault 2:flash-fail-at=0x18000 \
    --fault 3:unplug-after=30000 --fault 3:stall=20 --log "$TMP/gang.log"
set -- $SIM_ADDRS
head -c 131072 /dev/urandom >"$TMP/g.bin"
i=0
for addr in "$@"; do
    "$ESPGANG" write-bin -p "$addr" --after no-reset 0x10000 "$TMP/g.bin" >"$TMP/g$i.out" 2>"$TMP/g$i.err" &
    eval "gpid$i=\$!"
    i=$((i + 1))
done
for i in 0 1 2 3; do
    eval "wait \$gpid$i"
    eval "grc$i=\$?"
done
[ "$grc0" -eq 0 ] && pass "gang: board 0 (no fault) flashed" || { fail "gang: board 0 failed"; cat "$TMP/g0.err"; }
[ "$grc1" -eq 0 ] && pass "gang: board 1 (stall=150) flashed, slowly" || { fail "gang: board 1 failed"; cat "$TMP/g1.err"; }
[ "$grc2" -ne 0 ] && grep -q "SPI operation failed" "$TMP/g2.err" &&
    pass "gang: board 2 (flash-fail-at) failed: $(head -1 "$TMP/g2.err")" || { fail "gang: board 2"; cat "$TMP/g2.err"; }
[ "$grc3" -ne 0 ] && grep -q "writing flash" "$TMP/g3.err" &&
    pass "gang: board 3 (unplug-after, stall) went away: $(head -1 "$TMP/g3.err")" || { fail "gang: board 3"; cat "$TMP/g3.err"; }
grep -q "board 3: FLASH_DEFL_DATA len=[0-9]* (ignored: fault unplug-after=30000: unplugged)" "$TMP/gang.log" &&
    ! grep -q "board [012]: .*unplugged" "$TMP/gang.log" && pass "gang: only board 3 was unplugged" ||
    fail "gang: unplugs in the log: $(grep unplugged "$TMP/gang.log")"

# ---- bad fault specifications --------------------------------------------------------
for f in "stall=0" "stall=fast" "unplug-after=0" "flash-fail-at=" "flash-fail-at=0x100000000" \
    "disconnect-after=0" "bogus" "stall"; do
    expect_usage "--fault $f is refused" "espsim: --fault: (bad value in|unknown) fault '$f'" \
        "$ESPSIM" --chip esp32c3 --tcp 0 --fault "$f"
done
expect_usage "--fault for a board that is not there" "no board 2" \
    "$ESPSIM" --chip esp32c3 --tcp 0 --boards 2 --fault 2:stall=10
"$ESPSIM" --help >"$TMP/help" 2>&1
for k in flash-fail-at=ADDR unplug-after=BYTES stall=MS disconnect-after=N bad-flash-write; do
    grep -q -- "$k" "$TMP/help" && pass "--help names $k" || fail "--help lacks $k"
done
finish
