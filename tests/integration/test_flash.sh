#!/bin/sh
# flash and save-image --merge end to end against espsim: what flash writes is what
# save-image --merge saves, byte for byte; a second flash writes nothing; everything
# that could make the board refuse the app or mis-flash it is refused before anything
# is written (espsim's log shows no flash command); --ram, --idf-build, erase-parts and
# partition-table.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

FIX=$(dirname "$ESPGANG")/fixtures
PARTS=$(dirname "$0")/../data/partitions
if [ ! -f "$FIX/esp32c3-appdesc.elf" ]; then
    echo "no fixtures in $FIX: build the 'fixtures' target"
    exit 1
fi

# Flash commands in espsim's log (what writes or erases).
WRITES='FLASH_BEGIN|FLASH_DEFL_BEGIN|ERASE_REGION|ERASE_FLASH|FLASH_DATA|FLASH_DEFL_DATA'
# (An empty FLASH_BEGIN is --after no-reset handing the stub back to the ROM loader.)
writes() { grep -E "$WRITES" "$1" | grep -vc "FLASH_BEGIN size=0x0 "; }
# no_writes DESCRIPTION LOG: the command just run sent no flash command.
no_writes() {
    if [ "$(writes "$2")" -eq 0 ]; then
        pass "$1: nothing was written"
    else
        fail "$1: $(writes "$2") flash commands reached the board"
        grep -E "$WRITES" "$2" | head -3 | sed 's/^/    /'
    fi
}

# A bootloader for tests: any valid image for the chip will do (ESP-IDF's is one too).
# $1 chip, $2 ELF, $3 output.
make_bootloader() {
    "$ESPGANG" save-image -c "$1" --ignore-app-descriptor "$2" "$3" >/dev/null ||
        fail "save-image of the test bootloader for $1"
}

# --- Merged image == what flash writes, for chips with bootloaders at 0x0, 0x1000, 0x2000.
# The ESP32-C3 bootloader is the RAM-only firmware; the others are big enough to need
# the partition table moved up.
make_bootloader esp32c3 "$FIX/esp32c3-ram.elf" "$TMP/esp32c3-boot.bin"
for spec in esp32c3:0x8000 esp32:0x40000 esp32p4:0x40000 esp32s3:0x40000; do
    chip=${spec%%:*}
    table=${spec#*:}
    [ "$chip" = esp32c3 ] || make_bootloader "$chip" "$FIX/$chip.elf" "$TMP/$chip-boot.bin"
    start_sim "m-$chip" --chip "$chip" --tcp 0 --log "$TMP/m-$chip.log"
    P="-p $SIM_ADDR --after no-reset"
    O="--bootloader $TMP/$chip-boot.bin --partition-table-offset $table"
    # shellcheck disable=SC2086
    expect_ok "$chip: save-image --merge" "$ESPGANG" save-image -c "$chip" $O --merge \
        "$FIX/$chip-appdesc.elf" "$TMP/$chip-merged.bin"
    size=$(stat -c %s "$TMP/$chip-merged.bin")
    [ "$size" -eq 4194304 ] && pass "$chip: the merged image is padded to the 4MB flash" ||
        fail "$chip: merged image is $size bytes"
    # shellcheck disable=SC2086
    expect_ok "$chip: flash" "$ESPGANG" flash $P $O "$FIX/$chip-appdesc.elf"
    # shellcheck disable=SC2086
    expect_ok "$chip: read back" "$ESPGANG" read-flash $P 0 4MB "$TMP/$chip-back.bin"
    same_files "$chip: the flash read back equals the merged image" \
        "$TMP/$chip-back.bin" "$TMP/$chip-merged.bin"

    # Second flash: every region is skipped, no flash command reaches the board.
    : >"$TMP/m-$chip.log"
    # shellcheck disable=SC2086
    expect_ok "$chip: second flash" "$ESPGANG" flash $P $O "$FIX/$chip-appdesc.elf"
    [ "$(grep -c '^Skipped' "$TMP/err")" -eq 3 ] && pass "$chip: all three regions skipped" ||
        fail "$chip: not every region skipped: $(cat "$TMP/err")"
    no_writes "$chip: second flash" "$TMP/m-$chip.log"
done

# The merged image holds the app image at its partition, the bootloader patched with
# the flash settings, and --skip-padding ends it after the app.
expect_ok "save-image (app only)" "$ESPGANG" save-image -c esp32c3 -s 2MB -f 80m \
    "$FIX/esp32c3-appdesc.elf" "$TMP/c3-app.bin"
expect_ok "save-image --merge --skip-padding" "$ESPGANG" save-image -c esp32c3 -s 2MB -f 80m \
    --merge --skip-padding --bootloader "$TMP/esp32c3-boot.bin" "$FIX/esp32c3-appdesc.elf" \
    "$TMP/c3-merged.bin"
app_len=$(stat -c %s "$TMP/c3-app.bin")
[ "$(stat -c %s "$TMP/c3-merged.bin")" -eq $((0x10000 + app_len)) ] &&
    pass "--skip-padding: the file ends with the app" ||
    fail "--skip-padding: $(stat -c %s "$TMP/c3-merged.bin") bytes, app ends at $((0x10000 + app_len))"
tail -c +$((0x10000 + 1)) "$TMP/c3-merged.bin" >"$TMP/c3-merged-app.bin"
same_files "merged: the app at 0x10000 is save-image's" "$TMP/c3-merged-app.bin" "$TMP/c3-app.bin"
"$ESPGANG" image-info "$TMP/c3-merged.bin" >"$TMP/boot-info" 2>&1
grep -q "size 2MB, frequency 80m" "$TMP/boot-info" && grep -q "SHA-256: .*(valid)" "$TMP/boot-info" &&
    pass "merged: the bootloader carries -s 2MB -f 80m with a valid digest" ||
    fail "merged bootloader header: $(cat "$TMP/boot-info")"
dd if="$TMP/c3-merged.bin" of="$TMP/c3-merged-pt.bin" bs=4096 skip=8 count=1 2>/dev/null
expect_ok "merged: the table at 0x8000 parses" "$ESPGANG" partition-table "$TMP/c3-merged-pt.bin"
grep -q "factory .*0x10000" "$TMP/out" && pass "merged: the default table has factory at 0x10000" ||
    fail "merged table: $(cat "$TMP/out")"

# --- Refused before anything is written.
start_sim r --chip esp32c3 --tcp 0 --log "$TMP/r.log"
P="-p $SIM_ADDR --after no-reset"
R="$TMP/r.log"
: >"$R"
# shellcheck disable=SC2086
expect_fail "wrong --chip" "not the ESP32-S3 given with --chip" 10 \
    "$ESPGANG" flash $P --chip esp32s3 "$FIX/esp32c3-appdesc.elf"
no_writes "wrong --chip" "$R"
start_sim s3 --chip esp32s3 --tcp 0 --log "$TMP/s3.log"
# shellcheck disable=SC2086
expect_fail "an ESP32-C3 ELF on an ESP32-S3" "the ELF is for RISC-V, but ESP32-S3 is an Xtensa chip" 10 \
    "$ESPGANG" flash -p "$SIM_ADDR" --after no-reset --bootloader "$TMP/esp32s3-boot.bin" \
    "$FIX/esp32c3-appdesc.elf"
no_writes "ELF for another chip" "$TMP/s3.log"
# shellcheck disable=SC2086
expect_fail "save-image for the wrong chip" "the ELF is for Xtensa, but ESP32-C3 is a RISC-V chip" 5 \
    "$ESPGANG" save-image -c esp32c3 "$FIX/esp32s3-appdesc.elf" "$TMP/x.bin"
[ ! -e "$TMP/x.bin" ] && pass "save-image wrote no file" || fail "save-image left $TMP/x.bin"

# shellcheck disable=SC2086
expect_fail "no bootloader on the board" "no valid ESP32-C3 bootloader at 0x0: give one with --bootloader" 10 \
    "$ESPGANG" flash $P "$FIX/esp32c3-appdesc.elf"
no_writes "no bootloader on the board" "$R"
cp "$TMP/esp32c3-boot.bin" "$TMP/bad-boot.bin"
printf '\125' | dd of="$TMP/bad-boot.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
expect_fail "corrupt bootloader" "bootloader '.*bad-boot.bin': its checksum or SHA-256 does not match" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/bad-boot.bin" "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_fail "bootloader for another chip" "bootloader '.*esp32s3-boot.bin' is an image for the ESP32-S3 \(chip id 9\), not the ESP32-C3" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32s3-boot.bin" --partition-table-offset 0x40000 \
    "$FIX/esp32c3-appdesc.elf"
make_bootloader esp32c3 "$FIX/esp32c3.elf" "$TMP/big-boot.bin"
# shellcheck disable=SC2086
expect_fail "bootloader into the table" "big-boot.bin' \\([0-9]+ bytes at 0x0\\) runs into the partition table at 0x8000" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/big-boot.bin" "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_fail "bootloader file missing" "nope.bin" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/nope.bin" "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_fail "bad partition CSV" "app_offset_align.csv:[0-9]+: .*aligned to 0x10000" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32c3-boot.bin" \
    --partition-table "$PARTS/bad/app_offset_align.csv" "$FIX/esp32c3-appdesc.elf"
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,64K,\n' >"$TMP/small.csv"
# shellcheck disable=SC2086
expect_fail "app too big for its partition" "does not fit partition 'factory' \\(65536 bytes\\)" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32c3-boot.bin" --partition-table "$TMP/small.csv" \
    "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_fail "no such target partition" "ota_3" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32c3-boot.bin" --target-app-partition ota_3 \
    "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_fail "board older than the app" "revision v0.4, but the app needs v9.9 or newer \\(--force" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32c3-boot.bin" --min-chip-rev 9.9 \
    "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_fail "no app descriptor" "has no app descriptor .*--ignore-app-descriptor" 5 \
    "$ESPGANG" flash $P "$FIX/esp32c3.elf"
# shellcheck disable=SC2086
expect_fail "unknown --erase-parts name" "no partition named 'nope'" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32c3-boot.bin" --erase-parts nvs,nope \
    "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_fail "corrupt ELF" "truncated.elf" 5 "$ESPGANG" flash $P "$FIX/bad/truncated.elf"
no_writes "every refused flash" "$R"

# The ELF's .espressif.metadata: the chip it names is checked against the board before
# anything is written (and against --chip before connecting: espsim sees nothing), its
# minimum revision against the board's (v0.4).
: >"$R"
# shellcheck disable=SC2086
expect_fail "metadata names another chip" "this board is an ESP32-C3, not the ESP32-C6 '.*esp32c3-meta-c6.elf' was built for" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32c3-boot.bin" "$FIX/esp32c3-meta-c6.elf"
no_writes "metadata chip" "$R"
: >"$R"
# shellcheck disable=SC2086
expect_fail "metadata against --chip" "esp32c3-meta-c6.elf' was built for ESP32-C6, not ESP32-C3" 5 \
    "$ESPGANG" flash $P -c esp32c3 "$FIX/esp32c3-meta-c6.elf"
[ ! -s "$R" ] && pass "metadata against --chip: refused without touching the board" ||
    { fail "metadata against --chip: the board saw $(wc -l <"$R") commands"; head -5 "$R"; }
expect_fail "save-image: metadata names another chip" "was built for ESP32-C6, not ESP32-C3" 5 \
    "$ESPGANG" save-image -c esp32c3 "$FIX/esp32c3-meta-c6.elf" "$TMP/x.bin"
# shellcheck disable=SC2086
expect_fail "metadata minimum revision" "revision v0.4, but the app needs v1.1 or newer" 10 \
    "$ESPGANG" flash $P --bootloader "$TMP/esp32c3-boot.bin" "$FIX/esp32c3-meta.elf"
# shellcheck disable=SC2086
expect_usage "bad --flash-mode" "unknown flash mode|flash mode" "$ESPGANG" flash $P -m fast \
    "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_usage "bad --flash-freq for the chip" "flash frequency" "$ESPGANG" flash $P -c esp32c3 \
    -f 120m "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_usage "bad --min-chip-rev" "is not a revision" "$ESPGANG" flash $P --min-chip-rev x.y \
    "$FIX/esp32c3-appdesc.elf"
# shellcheck disable=SC2086
expect_usage "erase-parts without a name" "which partitions" "$ESPGANG" erase-parts $P ", "
no_writes "metadata and option refusals" "$R"
# shellcheck disable=SC2086
expect_ok "--force flashes below the metadata's revision" "$ESPGANG" flash $P --force \
    --bootloader "$TMP/esp32c3-boot.bin" "$FIX/esp32c3-meta.elf"

# A signed bootloader (data after its digest) keeps its header: a change would break
# the signature.
cp "$TMP/esp32c3-boot.bin" "$TMP/signed-boot.bin"
head -c 1200 /dev/urandom >>"$TMP/signed-boot.bin"
# shellcheck disable=SC2086
expect_ok "signed bootloader with -f 80m" "$ESPGANG" flash $P -f 80m \
    --bootloader "$TMP/signed-boot.bin" "$FIX/esp32c3-appdesc.elf"
grep -q "Note: bootloader '.*signed-boot.bin': it is signed" "$TMP/err" &&
    pass "signed bootloader: a note says its settings stay" || fail "no note for a signed bootloader"
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0 "$(stat -c %s "$TMP/signed-boot.bin")" "$TMP/signed-back.bin" 2>/dev/null
same_files "signed bootloader: written unchanged" "$TMP/signed-back.bin" "$TMP/signed-boot.bin"

# --force passes the revision check; the app goes to --target-app-partition.
cat >"$TMP/ota.csv" <<'EOF'
# Name,   Type, SubType, Offset,  Size
nvs,      data, nvs,     0x9000,  0x4000
otadata,  data, ota,     0xd000,  0x2000
phy_init, data, phy,     0xf000,  0x1000
ota_0,    app,  ota_0,   0x10000, 1M
ota_1,    app,  ota_1,   ,        1M
EOF
# shellcheck disable=SC2086
expect_ok "--force, --target-app-partition ota_1" "$ESPGANG" flash $P --force --min-chip-rev 9.9 \
    --bootloader "$TMP/esp32c3-boot.bin" --partition-table "$TMP/ota.csv" \
    --target-app-partition ota_1 "$FIX/esp32c3-appdesc.elf"
"$ESPGANG" save-image -c esp32c3 --min-chip-rev 9.9 "$FIX/esp32c3-appdesc.elf" "$TMP/c3-9.9.bin" >/dev/null
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0x110000 "$(stat -c %s "$TMP/c3-9.9.bin")" "$TMP/ota1.bin" 2>/dev/null
same_files "the app is at ota_1 (0x110000)" "$TMP/ota1.bin" "$TMP/c3-9.9.bin"

# --erase-parts and --erase-data-parts empty the partitions, nothing else.
head -c 16384 /dev/urandom >"$TMP/nvs.bin"
head -c 8192 /dev/urandom >"$TMP/otadata.bin"
# shellcheck disable=SC2086
"$ESPGANG" write-bin $P 0x9000 "$TMP/nvs.bin" 0xd000 "$TMP/otadata.bin" 2>/dev/null
# shellcheck disable=SC2086
expect_ok "--erase-data-parts ota" "$ESPGANG" flash $P --force --bootloader "$TMP/esp32c3-boot.bin" \
    --partition-table "$TMP/ota.csv" --target-app-partition ota_1 --erase-data-parts ota \
    "$FIX/esp32c3-appdesc.elf"
ff_file "$TMP/ff8k" 8192
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0xd000 8192 "$TMP/otadata-back.bin" 2>/dev/null
same_files "--erase-data-parts ota erased otadata" "$TMP/otadata-back.bin" "$TMP/ff8k"
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0x9000 16384 "$TMP/nvs-back.bin" 2>/dev/null
same_files "... and left nvs alone" "$TMP/nvs-back.bin" "$TMP/nvs.bin"

# erase-parts, with the table on the board: an unknown name erases nothing.
# shellcheck disable=SC2086
expect_fail "erase-parts: unknown name" "no partition named 'nvs2'" 10 \
    "$ESPGANG" erase-parts $P nvs nvs2
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0x9000 16384 "$TMP/nvs-back.bin" 2>/dev/null
same_files "erase-parts: nothing erased on an unknown name" "$TMP/nvs-back.bin" "$TMP/nvs.bin"
# shellcheck disable=SC2086
expect_ok "erase-parts nvs (board's table)" "$ESPGANG" erase-parts $P nvs
ff_file "$TMP/ff16k" 16384
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0x9000 16384 "$TMP/nvs-back.bin" 2>/dev/null
same_files "erase-parts nvs erased it" "$TMP/nvs-back.bin" "$TMP/ff16k"
# shellcheck disable=SC2086
expect_fail "erase-parts: bad table file" "app_offset_align.csv:[0-9]+:" 10 \
    "$ESPGANG" erase-parts $P --partition-table "$PARTS/bad/app_offset_align.csv" nvs

# --- flash --ram: RAM only, through the ROM loader, then it runs; the flash is untouched.
: >"$R"
# shellcheck disable=SC2086
expect_fail "--ram with flash-mapped sections" "cannot run from RAM: section .flash.text is mapped from flash" 10 \
    "$ESPGANG" flash $P --ram "$FIX/esp32c3-appdesc.elf"
grep -q MEM_BEGIN "$R" && fail "--ram: MEM_BEGIN sent for a flash ELF" ||
    pass "--ram: nothing loaded for an ELF mapped from flash"
# shellcheck disable=SC2086
expect_ok "--ram" "$ESPGANG" flash $P --ram "$FIX/esp32c3-ram.elf"
entry=$(grep -o 'entry 0x[0-9a-f]*' "$TMP/err" | head -1)
grep -q "MEM_END flag=0 entry=0x40380080" "$R" && [ "$entry" = "entry 0x40380080" ] &&
    pass "--ram: loaded and started at the ELF's entry" || fail "--ram: no MEM_END with the entry"
[ "$(grep -c 'MEM_BEGIN' "$R")" -eq 3 ] && pass "--ram: three sections loaded through the ROM" ||
    fail "--ram: $(grep -c MEM_BEGIN "$R") MEM_BEGINs (stub uploaded?)"
no_writes "--ram" "$R"
# shellcheck disable=SC2086
expect_usage "--ram with --bootloader" "--bootloader does not apply to --ram" \
    "$ESPGANG" flash $P --ram --bootloader x "$FIX/esp32c3-ram.elf"

# --- flash --idf-build: what flasher_args.json lists.
start_sim idf --chip esp32c3 --tcp 0 --log "$TMP/idf.log"
P="-p $SIM_ADDR --after no-reset"
D="$TMP/build"
mkdir -p "$D/bootloader" "$D/partition_table"
cp "$TMP/esp32c3-boot.bin" "$D/bootloader/bootloader.bin"
expect_ok "partition-table --to-binary" "$ESPGANG" partition-table "$TMP/ota.csv" --to-binary \
    -o "$D/partition_table/partition-table.bin"
"$ESPGANG" save-image -c esp32c3 "$FIX/esp32c3-appdesc.elf" "$D/hello.bin" >/dev/null
idf_json() { # $1 app file, $2 chip
    cat <<EOF
{
    "write_flash_args" : [ "--flash_mode", "dio", "--flash_size", "2MB", "--flash_freq", "80m" ],
    "flash_settings" : { "flash_mode": "dio", "flash_size": "2MB", "flash_freq": "80m" },
    "flash_files" : {
        "0x0" : "bootloader/bootloader.bin",
        "0x10000" : "$1",
        "0x8000" : "partition_table/partition-table.bin"
    },
    "bootloader" : { "offset" : "0x0", "file" : "bootloader/bootloader.bin", "encrypted" : "false" },
    "app" : { "offset" : "0x10000", "file" : "$1", "encrypted" : "false" },
    "partition-table" : { "offset" : "0x8000", "file" : "partition_table/partition-table.bin", "encrypted" : "false" },
    "extra_esptool_args" : { "after" : "hard_reset", "before" : "default_reset", "stub" : true, "chip" : "$2" }
}
EOF
}
idf_json hello.bin esp32c3 >"$D/flasher_args.json"
# shellcheck disable=SC2086
expect_ok "flash --idf-build" "$ESPGANG" flash $P --idf-build "$D"
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0x10000 "$(stat -c %s "$D/hello.bin")" "$TMP/idf-app.bin" 2>/dev/null
same_files "--idf-build: the app is at 0x10000" "$TMP/idf-app.bin" "$D/hello.bin"
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0 32768 "$TMP/idf-boot.bin" 2>/dev/null
"$ESPGANG" image-info "$TMP/idf-boot.bin" >"$TMP/boot-info" 2>&1
grep -q "size 2MB, frequency 80m" "$TMP/boot-info" && grep -q "SHA-256: .*(valid)" "$TMP/boot-info" &&
    pass "--idf-build: the bootloader carries flash_settings (2MB, 80m)" ||
    fail "--idf-build bootloader header: $(cat "$TMP/boot-info")"
: >"$TMP/idf.log"
# shellcheck disable=SC2086
expect_ok "flash --idf-build again" "$ESPGANG" flash $P --idf-build "$D"
no_writes "--idf-build a second time" "$TMP/idf.log"

mkdir -p "$TMP/b1" "$TMP/b2" "$TMP/b3"
printf '{"flash_files": {"0x0": "x.bin",\n' >"$TMP/b1/flasher_args.json"
# shellcheck disable=SC2086
expect_fail "--idf-build: broken JSON" "b1/flasher_args.json:2:" 5 "$ESPGANG" flash $P --idf-build "$TMP/b1"
# shellcheck disable=SC2086
expect_fail "--idf-build: no build there" "flasher_args.json.*ESP-IDF build directory" 5 \
    "$ESPGANG" flash $P --idf-build "$TMP/none"
idf_json missing.bin esp32c3 >"$TMP/b2/flasher_args.json"
cp -r "$D/bootloader" "$D/partition_table" "$TMP/b2/"
# shellcheck disable=SC2086
expect_fail "--idf-build: a listed file is missing" "flash_files \"0x10000\": .*missing.bin" 5 \
    "$ESPGANG" flash $P --idf-build "$TMP/b2"
# An app for another chip in the build.
cp -r "$D/bootloader" "$D/partition_table" "$TMP/b3/"
"$ESPGANG" save-image -c esp32s3 "$FIX/esp32s3-appdesc.elf" "$TMP/b3/s3.bin" >/dev/null
idf_json s3.bin esp32c3 >"$TMP/b3/flasher_args.json"
: >"$TMP/idf.log"
# shellcheck disable=SC2086
expect_fail "--idf-build: app for another chip" "'s3.bin' at 0x10000 is an image for the ESP32-S3 \(chip id 9\), not the ESP32-C3" 10 \
    "$ESPGANG" flash $P --idf-build "$TMP/b3"
cp "$D/hello.bin" "$TMP/b3/"
idf_json hello.bin esp32s3 >"$TMP/b3/flasher_args.json"
# shellcheck disable=SC2086
# The build says ESP32-S3 but holds ESP32-C3 images: refused before the board is touched.
expect_fail "--idf-build: build for another chip" "'bootloader/bootloader.bin' at 0x0 is an image for the ESP32-C3 \(chip id 5\), not the ESP32-S3" 10 \
    "$ESPGANG" flash $P --idf-build "$TMP/b3"
# shellcheck disable=SC2086
expect_fail "--idf-build: --chip against the build's" "the build is for ESP32-S3, not esp32c3" 5 \
    "$ESPGANG" flash $P --idf-build "$TMP/b3" --chip esp32c3
# A build whose partition table is not one, whose app is not at an app partition or
# is too big for it, or whose bootloader goes where this chip does not boot from.
mkdir -p "$TMP/b4/bootloader" "$TMP/b4/partition_table"
cp "$D/bootloader/bootloader.bin" "$TMP/b4/bootloader/"
cp "$D/hello.bin" "$TMP/b4/"
head -c 3072 /dev/urandom >"$TMP/b4/partition_table/partition-table.bin"
idf_json hello.bin esp32c3 >"$TMP/b4/flasher_args.json"
# shellcheck disable=SC2086
expect_fail "--idf-build: corrupt partition table" "partition-table.bin: " 10 \
    "$ESPGANG" flash $P --idf-build "$TMP/b4"
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x20000,1M,\n' >"$TMP/b4.csv"
"$ESPGANG" partition-table "$TMP/b4.csv" --to-binary -o "$TMP/b4/partition_table/partition-table.bin" 2>/dev/null
# shellcheck disable=SC2086
expect_fail "--idf-build: app outside an app partition" "'hello.bin' at 0x10000 is not at the start of an app partition" 10 \
    "$ESPGANG" flash $P --idf-build "$TMP/b4"
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,64K,\n' >"$TMP/b4.csv"
"$ESPGANG" partition-table "$TMP/b4.csv" --to-binary -o "$TMP/b4/partition_table/partition-table.bin" 2>/dev/null
# shellcheck disable=SC2086
expect_fail "--idf-build: app too big" "'hello.bin' \\([0-9]+ bytes\\) does not fit partition 'factory' \\(65536 bytes\\)" 10 \
    "$ESPGANG" flash $P --idf-build "$TMP/b4"
sed 's/"bootloader" : { "offset" : "0x0"/"bootloader" : { "offset" : "0x1000"/' "$D/flasher_args.json" >"$TMP/b4/flasher_args.json"
cp "$D/partition_table/partition-table.bin" "$TMP/b4/partition_table/"
# shellcheck disable=SC2086
expect_fail "--idf-build: bootloader offset of another chip" "puts the bootloader at 0x1000, but the ESP32-C3 boots from 0x0" 10 \
    "$ESPGANG" flash $P --idf-build "$TMP/b4"
sed 's/"0x10000" : "hello.bin",/"0x10000" : "hello.bin", "0xd000" : "hello.bin",/; s/"extra_esptool_args"/"otadata" : { "offset" : "0xd000", "file" : "ota.bin", "encrypted" : "true" },\n    "extra_esptool_args"/' \
    "$D/flasher_args.json" >"$TMP/b4/flasher_args.json"
# shellcheck disable=SC2086
expect_fail "--idf-build: an encrypted entry" "\"otadata\" is to be written encrypted" 5 \
    "$ESPGANG" flash $P --idf-build "$TMP/b4"
no_writes "refused --idf-build" "$TMP/idf.log"

# --erase-data-parts with a build: the build's table says where.
head -c 8192 /dev/urandom >"$TMP/ota-data.bin"
# shellcheck disable=SC2086
"$ESPGANG" write-bin $P 0xd000 "$TMP/ota-data.bin" 2>/dev/null
# shellcheck disable=SC2086
expect_ok "--idf-build --erase-data-parts ota" "$ESPGANG" flash $P --idf-build "$D" --erase-data-parts ota
# shellcheck disable=SC2086
"$ESPGANG" read-flash $P 0xd000 8192 "$TMP/otadata-back.bin" 2>/dev/null
same_files "--idf-build --erase-data-parts ota erased otadata" "$TMP/otadata-back.bin" "$TMP/ff8k"

# --- partition-table: CSV -> binary -> CSV keeps the table; errors name the line.
for t in singleapp auto_offsets flags; do
    expect_ok "partition-table $t.csv --to-binary" "$ESPGANG" partition-table \
        "$PARTS/good/$t.csv" --to-binary -o "$TMP/$t.bin"
    same_files "partition-table: $t.csv gives gen_esp32part's binary" "$TMP/$t.bin" "$PARTS/good/$t.bin"
    expect_ok "partition-table $t.bin --to-csv" "$ESPGANG" partition-table "$TMP/$t.bin" --to-csv \
        -o "$TMP/$t-back.csv"
    expect_ok "partition-table: the CSV converts back" "$ESPGANG" partition-table \
        "$TMP/$t-back.csv" --to-binary -o "$TMP/$t-back.bin"
    same_files "partition-table: $t survives CSV -> binary -> CSV -> binary" "$TMP/$t-back.bin" "$TMP/$t.bin"
done
expect_ok "partition-table prints a table" "$ESPGANG" partition-table "$PARTS/good/singleapp.csv"
grep -qE '^Name +Type +SubType +Offset +Size' "$TMP/out" && grep -qE '^factory +app +factory +0x10000 +1MB' "$TMP/out" &&
    pass "partition-table: aligned table" || fail "partition-table output: $(cat "$TMP/out")"
# The corpus's "# gen:" lines give gen_esp32part's options; the bootloader offset is
# the chip's here (the recovery bootloader's offset is a project setting: not asked).
n=0
for f in "$PARTS"/bad/*.csv; do
    want=$(sed -n 's/^# expect: //p' "$f" | head -1)
    gen=$(sed -n 's/^# gen: //p' "$f" | head -1)
    case "$gen" in *--recovery-bootloader-offset*) continue ;; esac
    # shellcheck disable=SC2086
    set -- $(echo "$gen" | sed -e 's/--flash-size/-s/' -e 's/--offset/--partition-table-offset/' \
        -e 's/--primary-bootloader-offset 0x0/-c esp32c3/' \
        -e 's/--primary-bootloader-offset 0x1000/-c esp32/')
    n=$((n + 1))
    "$ESPGANG" partition-table "$@" "$f" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$want" "$TMP/err"; then
        PASSES=$((PASSES + 1))
    else
        fail "partition-table $(basename "$f"): exit $rc, $(cat "$TMP/err") (want: $want)"
    fi
done
[ "$n" -gt 40 ] && pass "partition-table: all $n bad CSVs of the corpus exit 1 with their error" ||
    fail "partition-table: only $n bad CSVs found"
expect_usage "partition-table: --to-csv and --to-binary" "not both" \
    "$ESPGANG" partition-table --to-csv --to-binary "$PARTS/good/singleapp.csv"
expect_usage "save-image --merge without a bootloader" "--merge needs the bootloader" \
    "$ESPGANG" save-image -c esp32c3 --merge "$FIX/esp32c3-appdesc.elf" "$TMP/m.bin"
expect_usage "save-image --skip-padding alone" "--skip-padding goes with --merge" \
    "$ESPGANG" save-image -c esp32c3 --skip-padding "$FIX/esp32c3-appdesc.elf" "$TMP/m.bin"
expect_usage "save-image --bootloader without --merge" "--bootloader goes with --merge" \
    "$ESPGANG" save-image -c esp32c3 --bootloader "$TMP/esp32c3-boot.bin" "$FIX/esp32c3-appdesc.elf" "$TMP/m.bin"
[ ! -e "$TMP/m.bin" ] && pass "refused save-images wrote no file" || fail "a refused save-image wrote $TMP/m.bin"

finish
