#!/bin/sh
# Writing safely and not more than needed: a region the flash already holds is skipped
# (espsim's log shows no write), --no-skip writes anyway, --no-verify leaves out the
# MD5 check, erase-flash empties the flash through the stub or the ROM.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

head -c 300000 /dev/urandom >"$TMP/app.bin"
start_sim w --chip esp32s3 --tcp 0 --log "$TMP/w.log"
P="-p $SIM_ADDR --after no-reset"
count() { grep -cE "$1" "$TMP/w.log"; }

# shellcheck disable=SC2086
expect_ok "first write" "$ESPGANG" write-bin $P 0x20000 "$TMP/app.bin"
b1=$(count 'FLASH_DEFL_BEGIN')
[ "$b1" -eq 1 ] && pass "first write sent one FLASH_DEFL_BEGIN" || fail "first write: $b1 begins"

# shellcheck disable=SC2086
expect_ok "same write again" "$ESPGANG" write-bin $P 0x20000 "$TMP/app.bin"
grep -q "Skipped '.*app.bin' at 0x00020000: the flash already holds it" "$TMP/err" &&
    [ "$(count 'FLASH_DEFL_BEGIN')" -eq 1 ] && [ "$(count 'FLASH_DEFL_DATA')" -eq "$(count 'FLASH_DEFL_DATA')" ] &&
    pass "unchanged region skipped: no write reached the board" ||
    fail "unchanged region was written again ($(count 'FLASH_DEFL_BEGIN') begins)"

# One byte differs: written again, verified.
cp "$TMP/app.bin" "$TMP/app2.bin"
printf 'X' | dd of="$TMP/app2.bin" bs=1 seek=150000 conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
expect_ok "changed region" "$ESPGANG" write-bin $P 0x20000 "$TMP/app2.bin"
[ "$(count 'FLASH_DEFL_BEGIN')" -eq 2 ] && grep -q "Wrote and verified" "$TMP/err" &&
    pass "a changed region is written and verified" || fail "changed region not written"

# shellcheck disable=SC2086
expect_ok "--no-skip" "$ESPGANG" write-bin $P --no-skip 0x20000 "$TMP/app2.bin"
[ "$(count 'FLASH_DEFL_BEGIN')" -eq 3 ] && pass "--no-skip writes an unchanged region" ||
    fail "--no-skip did not write"

md5s=$(count 'SPI_FLASH_MD5')
# shellcheck disable=SC2086
expect_ok "--no-verify" "$ESPGANG" write-bin $P --no-skip --no-verify 0x20000 "$TMP/app.bin"
[ "$(count 'SPI_FLASH_MD5')" -eq "$md5s" ] && grep -q "not verified" "$TMP/err" &&
    pass "--no-verify (with --no-skip) asks for no MD5" || fail "--no-verify still checked"
# shellcheck disable=SC2086
expect_ok "read back" "$ESPGANG" read-flash $P 0x20000 300000 "$TMP/back.bin" &&
    same_files "the unverified write is right all the same" "$TMP/app.bin" "$TMP/back.bin"

# shellcheck disable=SC2086
expect_ok "erase-flash through the stub" "$ESPGANG" erase-flash $P
[ "$(count 'ERASE_FLASH')" -eq 1 ] && pass "one ERASE_FLASH" || fail "no ERASE_FLASH"
ff_file "$TMP/ff.bin" 300000
# shellcheck disable=SC2086
expect_ok "read erased" "$ESPGANG" read-flash $P 0x20000 300000 "$TMP/e.bin" &&
    same_files "erased flash reads 0xFF" "$TMP/ff.bin" "$TMP/e.bin"

# shellcheck disable=SC2086
expect_ok "write again" "$ESPGANG" write-bin $P 0x20000 "$TMP/app.bin"
# shellcheck disable=SC2086
expect_ok "erase-flash through the ROM" "$ESPGANG" erase-flash $P --no-stub
grep -q "FLASH_BEGIN size=0x400000 .*offset=0x0" "$TMP/w.log" && pass "the ROM erased all 4 MB" ||
    fail "no whole-flash FLASH_BEGIN"
# shellcheck disable=SC2086
expect_ok "read erased" "$ESPGANG" read-flash $P 0x20000 300000 "$TMP/e2.bin" &&
    same_files "ROM-erased flash reads 0xFF" "$TMP/ff.bin" "$TMP/e2.bin"
finish
