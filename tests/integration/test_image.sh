#!/bin/sh
# App images against Espressif's elf2image: every fixture ELF (tools/fixtures, built
# into BUILD/fixtures) with the options in tests/data/images/golden.tsv must give an
# image whose SHA-256, size, header and segment layout equal esptool 5.3.1's; image-info
# must call it valid; the bad ELFs must end in clear errors and write nothing.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
GOLDEN=$HERE/../data/images/golden.tsv
FIX=$(dirname "$ESPGANG")/fixtures

if [ ! -f "$FIX/esp32c3-appdesc.elf" ]; then
    fail "no fixtures in $FIX (is gcc-riscv64-unknown-elf installed? run tools/setup.sh)"
    finish
    exit 1
fi
rows=0
while IFS='	' read -r fixture chip options size sha header segments checksum; do
    case $fixture in '#'* | fixture | '') continue ;; esac
    rows=$((rows + 1))
    out=$TMP/img.bin
    rm -f "$out"
    # shellcheck disable=SC2086 # options are words
    if ! "$ESPGANG" save-image --chip "$chip" $options --ignore-app-descriptor "$FIX/$fixture" "$out" \
        >"$TMP/out" 2>"$TMP/err"; then
        fail "$fixture $options: save-image failed: $(cat "$TMP/err")"
        continue
    fi
    got=$(sha256sum "$out" | cut -d' ' -f1)
    got_size=$(wc -c <"$out")
    got_header=$(head -c 24 "$out" | od -An -tx1 | tr -d ' \n')
    if [ "$got" = "$sha" ] && [ "$got_size" -eq "$size" ] && [ "$got_header" = "$header" ]; then
        pass "$fixture $options: byte for byte esptool's image ($size bytes)"
    else
        fail "$fixture $options: sha256 $got size $got_size header $got_header, esptool: $sha $size $header"
    fi
    # Segment layout as image-info reports it.
    "$ESPGANG" image-info "$out" >"$TMP/info" 2>&1 || fail "$fixture: image-info calls it invalid"
    want_segs=$(echo "$segments" | tr ',' '\n' | while IFS=: read -r sa so sl; do
        printf '%d %d %d\n' "$((sa))" "$((so))" "$((sl))"
    done)
    got_segs=$(awk '/^  [0-9]+ +0x/ {print $2, $3, $4}' "$TMP/info" | while read -r ga go gl; do
        printf '%d %d %d\n' "$((ga))" "$((go))" "$gl"
    done)
    [ "$want_segs" = "$got_segs" ] && pass "$fixture $options: segments as esptool laid them out" ||
        fail "$fixture $options: segments differ: got [$got_segs] want [$want_segs]"
done <"$GOLDEN"
[ "$rows" -ge 36 ] && pass "$rows golden rows checked" || fail "only $rows golden rows"

# Without --ignore-app-descriptor an ELF lacking one is refused; with one it is fine.
expect_fail "no app descriptor" "no app descriptor" 5 \
    "$ESPGANG" save-image -c esp32c3 "$FIX/esp32c3.elf" "$TMP/x.bin"
[ -e "$TMP/x.bin" ] && fail "no app descriptor: an output file was written"
expect_ok "app descriptor present" "$ESPGANG" save-image -c esp32c3 "$FIX/esp32c3-appdesc.elf" "$TMP/y.bin"

# Bad ELFs: a clear error each, and no output file.
B=$FIX/bad
expect_fail "truncated ELF" "truncated|damaged|missing" 5 \
    "$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$B/truncated.elf" "$TMP/bad.bin"
expect_fail "17 segments" "17 segments.*16" 5 \
    "$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$B/esp32c3-17-segments.elf" "$TMP/bad.bin"
expect_fail "two flash sections in one page (C3)" "same 64 KB flash page" 5 \
    "$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$B/esp32c3-flash-page-conflict.elf" "$TMP/bad.bin"
expect_fail "two flash sections in one page (S3)" "same 64 KB flash page" 5 \
    "$ESPGANG" save-image -c esp32s3 --ignore-app-descriptor "$B/esp32s3-flash-page-conflict.elf" "$TMP/bad.bin"
expect_fail "nothing to load" "no sections to load" 5 \
    "$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$B/esp32c3-no-loadable.elf" "$TMP/bad.bin"
expect_fail "wrong machine" "not an Xtensa or RISC-V ELF file \\(machine 40\\)" 5 \
    "$ESPGANG" save-image -c esp32s3 --ignore-app-descriptor "$B/esp32s3-wrong-machine.elf" "$TMP/bad.bin"
expect_fail "host object" "not an Xtensa or RISC-V ELF file \\(machine 62\\)|32-bit" 5 \
    "$ESPGANG" save-image -c esp32s3 --ignore-app-descriptor "$B/host-object.o" "$TMP/bad.bin"
expect_fail "not an ELF" "not an ELF file" 5 \
    "$ESPGANG" save-image -c esp32s3 --ignore-app-descriptor "$B/not-an-elf.bin" "$TMP/bad.bin"
[ -e "$TMP/bad.bin" ] && fail "a bad ELF left an output file" || pass "no bad ELF left an output file"
expect_fail "unknown chip" "unknown chip 'esp99'" 5 \
    "$ESPGANG" save-image -c esp99 "$FIX/esp32c3-appdesc.elf" "$TMP/bad.bin"
expect_fail "frequency the chip lacks" "not one ESP32-H2 can use" 5 \
    "$ESPGANG" save-image -c esp32h2 -f 80m "$FIX/esp32h2-appdesc.elf" "$TMP/bad.bin"
expect_fail "image-info on an ELF" "not an ESP image" 5 "$ESPGANG" image-info "$FIX/esp32c3.elf"
finish
