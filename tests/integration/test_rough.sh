#!/bin/sh
# The rough edges an espflash user meets first: espflash's short flags and modes, numbers
# with '_', revisions as major.minor, suggestions for mistyped commands and options, a
# missing port, binary output refused on a terminal, wrong-chip images named.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

FIX=$(dirname "$ESPGANG")/fixtures

# --- -b/--before and -a/--after, and how each --after leaves the board. Over RFC 2217
# the virtual board keeps its state between connections, as a board on a cable does.
start_sim modes --chip esp32c3 --rfc2217 0 --log "$TMP/modes.log"
expect_ok "-b default-reset -a no-reset-no-stub" "$ESPGANG" board-info -p "$SIM_ADDR" \
    -b default-reset -a no-reset-no-stub
grep -q "FLASH_END" "$TMP/modes.log" && fail "no-reset-no-stub: the stub was told to end" ||
    pass "no-reset-no-stub: the stub is left running"
# The stub still answers: a second connection without a reset syncs with it, no upload.
expect_ok "then board-info without a reset (the stub answers)" "$ESPGANG" board-info -v \
    -p "$SIM_ADDR" --before no-reset -a no-reset
grep -q "the flasher stub is already running on the board: no upload needed" "$TMP/err" &&
    pass "  which espgang says" || fail "  no word of the running stub: $(cat "$TMP/err")"
[ "$(grep -c "MEM_END" "$TMP/modes.log")" -eq 1 ] && pass "  the stub was uploaded once" ||
    fail "  stub uploads: $(grep -c MEM_END "$TMP/modes.log")"
# A stub left at a raised rate is brought back to 115200 first, where the next one looks.
expect_ok "-B 460800 -a no-reset-no-stub" "$ESPGANG" board-info -p "$SIM_ADDR" -b no-reset \
    -B 460800 -a no-reset-no-stub
expect_ok "  then board-info at 115200 without a reset finds the stub" "$ESPGANG" board-info -v \
    -p "$SIM_ADDR" --before no-reset -a no-reset-no-stub
err_matches "  (it says so)" "the flasher stub is already running on the board"
log_has "-a no-reset: the stub hands the board back to the ROM loader" "$TMP/modes.log" \
    "FLASH_END flag=0 \(reboot\) \(the stub resets the chip into the ROM loader\)"
log_has "  which then listens" "$TMP/modes.log" "RTC_SW_SYS_RST\): download mode"
expect_ok "  and answers the next connection" "$ESPGANG" board-info -p "$SIM_ADDR" -b no-reset \
    -a no-reset-no-stub
[ "$(grep -c "MEM_END" "$TMP/modes.log")" -eq 2 ] && pass "  (a ROM: the stub is uploaded again)" ||
    fail "  stub uploads: $(grep -c MEM_END "$TMP/modes.log")"
expect_usage "an unknown --after lists the modes" \
    "unknown --after 'stay' \(hard-reset, no-reset, no-reset-no-stub, watchdog-reset\)" \
    "$ESPGANG" board-info -p "$SIM_ADDR" -a stay

# --- Numbers grouped with '_' (espflash reads them as Rust does); revisions as major.minor.
head -c 8192 /dev/urandom >"$TMP/data.bin"
expect_ok "write-bin at 0x1_0000" "$ESPGANG" write-bin -p "$SIM_ADDR" -b no-reset -a no-reset-no-stub \
    0x1_0000 "$TMP/data.bin"
expect_ok "  read back from 0x10000" "$ESPGANG" read-flash -p "$SIM_ADDR" -b no-reset \
    -a no-reset-no-stub 0x10000 8_192 "$TMP/back.bin"
same_files "  the same bytes" "$TMP/data.bin" "$TMP/back.bin"
expect_usage "a misplaced '_' is no number" "'0x1_0000_' is not a number" \
    "$ESPGANG" write-bin -p "$SIM_ADDR" 0x1_0000_ "$TMP/data.bin"
expect_usage "--min-chip-rev 1 is refused, not taken as v0.1" \
    "--min-chip-rev '1' is not a revision: give major.minor \(0.3, v1.0\)" \
    "$ESPGANG" save-image -c esp32c3 --min-chip-rev 1 "$FIX/esp32c3-appdesc.elf" "$TMP/x.bin"
[ ! -e "$TMP/x.bin" ] && pass "  and nothing is written" || fail "  an image was written"
expect_ok "--min-chip-rev v0.3" "$ESPGANG" save-image -c esp32c3 --min-chip-rev v0.3 \
    "$FIX/esp32c3-appdesc.elf" "$TMP/r3.bin"
"$ESPGANG" image-info "$TMP/r3.bin" >"$TMP/info" 2>&1
grep -q "v0.3" "$TMP/info" && pass "  the image says v0.3" || fail "  image-info: $(cat "$TMP/info")"

# --- Slips of the keyboard: the nearest command or option is suggested.
expect_usage "flsh: did you mean flash" "unknown command 'flsh' \(did you mean 'flash'\?\)" \
    "$ESPGANG" flsh app.elf
expect_usage "help boardinfo: did you mean board-info" \
    "unknown command 'boardinfo' \(did you mean 'board-info'\?\)" "$ESPGANG" help boardinfo
expect_usage "--prot: did you mean --port" "unknown option '--prot' \(did you mean '--port'\?\)" \
    "$ESPGANG" flash --prot /dev/ttyUSB0 app.elf
expect_usage "nothing near: no suggestion" "unknown option '--frobnicate'$" \
    "$ESPGANG" flash --frobnicate
grep -q "did you mean" "$TMP/err" && fail "  a far-fetched suggestion: $(cat "$TMP/err")" ||
    pass "  (no far-fetched suggestion)"

# --- A port that is not there points at list-ports.
expect_fail "a missing port" "port '/dev/ttyUSB_none': no such port \(is the board plugged in\?\)" 5 \
    "$ESPGANG" board-info -p /dev/ttyUSB_none
err_matches "  and list-ports is named" "'espgang list-ports' shows the serial ports there are"

# --- Binary on a terminal is refused; through a pipe it goes.
PT=$(dirname "$0")/../data/partitions
csv=$(ls "$PT"/good/*.csv | head -n 1)
script -qec "$ESPGANG partition-table --to-binary $csv" /dev/null >"$TMP/tty.out" 2>&1
rc=$?
grep -q "writes binary: give -o FILE, or redirect it" "$TMP/tty.out" && [ $rc -ne 0 ] &&
    pass "partition-table --to-binary to a terminal is refused ($(head -c 120 "$TMP/tty.out" | tr -d '\r' | tr '\n' ' '))" ||
    fail "to a terminal: exit $rc: $(head -c 300 "$TMP/tty.out")"
"$ESPGANG" partition-table --to-binary "$csv" >"$TMP/pt.bin" && [ "$(head -c 2 "$TMP/pt.bin" | od -An -tx1 | tr -d ' ')" = "aa50" ] &&
    pass "  and to a pipe or file it is written" || fail "  binary to a file"

# --- The flasher stubs are inside espgang: a copy alone in a folder flashes through one.
mkdir -p "$TMP/alone"
cp "$ESPGANG" "$TMP/alone/espgang"
start_sim alone --chip esp32s3 --tcp 0 --log "$TMP/alone.log"
expect_ok "a copied espgang, alone in a folder, writes" "$TMP/alone/espgang" write-bin \
    -p "$SIM_ADDR" 0x10000 "$TMP/data.bin"
log_has "  through the built-in flasher stub" "$TMP/alone.log" "running the flasher stub esp32s3"

# --- An ELF is checked against the board's memory map, metadata or not: an ESP32-C6 app
# is refused on an ESP32-C3 before anything is written.
start_sim c3 --chip esp32c3 --tcp 0 --log "$TMP/c3.log"
expect_fail "an ESP32-C6 app on an ESP32-C3 board" \
    "section \.[a-z0-9_.]* at 0x408[0-9a-f]* is not in the ESP32-C3's memory map: the ELF looks built for the ESP32-C5, ESP32-C6 or ESP32-H2" \
    10 "$ESPGANG" flash -p "$SIM_ADDR" -a no-reset-no-stub "$FIX/esp32c6-appdesc.elf"
grep -qE "FLASH_BEGIN|FLASH_DEFL_BEGIN|ERASE" "$TMP/c3.log" && fail "  something was written" ||
    pass "  nothing was written"
expect_fail "save-image of an ESP32-C3 app for an ESP32-C6" \
    "section \.[a-z0-9_.]* at 0x3c[0-9a-f]* is not in the ESP32-C6's memory map: the ELF looks built for the ESP32-C3$" \
    5 "$ESPGANG" save-image -c esp32c6 "$FIX/esp32c3-appdesc.elf" "$TMP/wrong.bin"
[ ! -e "$TMP/wrong.bin" ] && pass "  no image written" || fail "  an image was written"

# --- ESP-IDF 4.x puts the app descriptor at the start of .flash.rodata, not in a section
# of its own: such an ELF is an app like any other.
riscv64-unknown-elf-objcopy --rename-section .flash.appdesc=.flash.rodata \
    "$FIX/esp32c3-appdesc.elf" "$TMP/idf4.elf"
"$ESPGANG" save-image -c esp32c3 "$FIX/esp32c3-appdesc.elf" "$TMP/idf5.bin" >/dev/null
expect_ok "an IDF 4.x style ELF (descriptor at the start of .flash.rodata): save-image" \
    "$ESPGANG" save-image -c esp32c3 "$TMP/idf4.elf" "$TMP/idf4.bin"
# The same image but for the descriptor's ELF SHA-256, which is the file's own.
"$ESPGANG" image-info "$TMP/idf4.bin" | grep -vE "^(File|Checksum|SHA-256|  ELF SHA-256):" >"$TMP/i4"
"$ESPGANG" image-info "$TMP/idf5.bin" | grep -vE "^(File|Checksum|SHA-256|  ELF SHA-256):" >"$TMP/i5"
cmp -s "$TMP/i4" "$TMP/i5" && pass "  the same image as with .flash.appdesc" ||
    fail "  images differ: $(diff "$TMP/i4" "$TMP/i5" | head -5)"
"$ESPGANG" image-info "$TMP/idf4.bin" | grep -q "ELF SHA-256: *$(sha256sum "$TMP/idf4.elf" | cut -c1-64)" &&
    pass "  its descriptor found and given the ELF's SHA-256" || fail "  descriptor not patched"
"$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$FIX/esp32c3-ram.elf" "$TMP/boot.bin" >/dev/null
expect_ok "  and flash" "$ESPGANG" flash -p "$SIM_ADDR" -a no-reset-no-stub --bootloader "$TMP/boot.bin" \
    "$TMP/idf4.elf"
# Without the magic word at that place there is no descriptor.
riscv64-unknown-elf-objcopy --remove-section .flash.appdesc "$FIX/esp32c3-appdesc.elf" "$TMP/nodesc.elf"
expect_fail "an ELF with no descriptor anywhere" "has no app descriptor .*--ignore-app-descriptor" 5 \
    "$ESPGANG" flash -p "$SIM_ADDR" "$TMP/nodesc.elf"

# --- A bootloader ELF given as the app says what it is.
expect_fail "a bootloader ELF as the app (flash)" \
    "esp32s3-boot.elf': the ELF maps nothing from flash and has no app descriptor: it looks like a bootloader, not an app" \
    5 "$ESPGANG" flash -p "$SIM_ADDR" -c esp32s3 "$FIX/esp32s3-boot.elf"
expect_fail "  (save-image)" "it looks like a bootloader, not an app \(give a bootloader with --bootloader FILE" \
    5 "$ESPGANG" save-image -c esp32s3 "$FIX/esp32s3-boot.elf" "$TMP/boot.bin"

# --- flash says what it found and what it does.
start_sim say --chip esp32c3 --tcp 0
"$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$FIX/esp32c3-ram.elf" "$TMP/boot.bin" >/dev/null
expect_ok "flash with a bootloader" "$ESPGANG" flash -p "$SIM_ADDR" -a no-reset-no-stub \
    --bootloader "$TMP/boot.bin" "$FIX/esp32c3-appdesc.elf"
for want in "^Chip type: *ESP32-C3 \(QFN32\) \(revision v0\.4\)$" "^Crystal frequency: *40 MHz$" \
    "^Flash size: *4MB$" "^Features: *Wi-Fi" "^MAC address: *24:0a:c4:00:00:01$" \
    "^App/part\. size: *154,336/4,128,768 bytes, 3\.74% \(partition 'factory'\)$" \
    "^Bootloader: *19,760 bytes at 0x0, written$"; do
    grep -qE "$want" "$TMP/err" && pass "  says /$want/" || fail "  no /$want/ in: $(cat "$TMP/err")"
done
grep -q "^Writing: .* in [0-9.]* s (.*/s)$" "$TMP/err" && pass "  ends the write with its time and speed" ||
    fail "  no final write line: $(cat "$TMP/err")"
grep -qE "Reading|Checking" "$TMP/err" && fail "  internal reads shown without -v" ||
    pass "  internal reads stay quiet"
expect_ok "flash again, keeping the board's bootloader" "$ESPGANG" flash -p "$SIM_ADDR" \
    -a no-reset-no-stub "$FIX/esp32c3-appdesc.elf"
grep -q "^Bootloader: *the board's, kept (a valid ESP32-C3 bootloader)$" "$TMP/err" &&
    pass "  says the board's bootloader is kept" || fail "  bootloader line: $(cat "$TMP/err")"

# --- Progress: not on a terminal, a line every 10 %; on one, a bar that fits.
head -c 3000000 /dev/urandom >"$TMP/big.bin"
expect_ok "write-bin, progress to a file" "$ESPGANG" write-bin -p "$SIM_ADDR" -a no-reset-no-stub \
    0x10000 "$TMP/big.bin"
[ "$(grep -c "^Writing: [1-9]0% (" "$TMP/err")" -eq 9 ] && pass "  a line at each 10 %" ||
    fail "  progress lines: $(grep -c "^Writing: [1-9]0%" "$TMP/err")"
script -qec "stty cols 50; $ESPGANG write-bin -p $SIM_ADDR -a no-reset-no-stub --no-skip 0x10000 $TMP/big.bin" \
    /dev/null >"$TMP/tty50.out" 2>&1
tr '\r' '\n' <"$TMP/tty50.out" | sed 's/\x1b\[K//g' | grep "^Writing \[" >"$TMP/bars"
long=$(awk 'length($0) > 49' "$TMP/bars" | wc -l)
[ -s "$TMP/bars" ] && [ "$long" -eq 0 ] && pass "  on a 50-column terminal: $(wc -l <"$TMP/bars") redraws, none wider than 49" ||
    fail "  bars: $long too wide of $(wc -l <"$TMP/bars"): $(head -c 300 "$TMP/tty50.out")"
grep -q "MiB/2.9 MiB" "$TMP/bars" && pass "  with bytes done of all" || fail "  bar text: $(tail -1 "$TMP/bars")"

# --- Ctrl-C while writing says what is left and how to finish.
start_sim slow --chip esp32c3 --tcp 0 --pace
head -c 400000 /dev/urandom >"$TMP/slow.bin"
# (A shell starts a background command with SIGINT ignored, and espgang leaves an ignored
# SIGINT ignored; the command starts here with it as a terminal would deliver it.)
/usr/bin/python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
    "$ESPGANG" write-bin -p "$SIM_ADDR" -B 921600 -a no-reset-no-stub 0x10000 "$TMP/slow.bin" \
    >"$TMP/out" 2>"$TMP/err" &
pid=$!
i=0
while ! grep -q "^Writing: [1-9]0%" "$TMP/err" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
[ $rc -ne 0 ] && pass "Ctrl-C during a write: exit $rc" || fail "Ctrl-C: exit 0"
err_matches "  says what is left partly written" \
    "stopped while writing '.*slow.bin' \(0x10000, 400000 bytes\): it is left partly written"
err_matches "  and that a rerun finishes it" "run the same command again to finish"
expect_ok "  the rerun finishes it" "$ESPGANG" write-bin -p "$SIM_ADDR" -B 921600 -a no-reset-no-stub \
    0x10000 "$TMP/slow.bin"
expect_ok "  read back" "$ESPGANG" read-flash -p "$SIM_ADDR" -B 921600 -a no-reset-no-stub 0x10000 400000 \
    "$TMP/slow.back"
same_files "  the flash holds it" "$TMP/slow.bin" "$TMP/slow.back"

# --- Memory the maps leave out (the ESP32-P4's L2 top, its SCP/TCM) is no other chip's:
# such an ELF is let be.
riscv64-unknown-elf-objcopy --change-section-address .dram0.data=0x4ffa8000 \
    "$FIX/esp32p4-appdesc.elf" "$TMP/p4-l2top.elf" 2>/dev/null
expect_ok "an ESP32-P4 app with data at the top of L2 memory" "$ESPGANG" save-image -c esp32p4 \
    "$TMP/p4-l2top.elf" "$TMP/p4.bin"

# in_cfgdir CMD...: CMD run in $TMP/cfgdir, its espflash files the only ones it can find
# (no global folder, no port in the environment); its output in $TMP/out and $TMP/err.
in_cfgdir() {
    (cd "$TMP/cfgdir" && HOME=$TMP/cfgdir XDG_CONFIG_HOME= ESPGANG_PORT= ESPFLASH_PORT= \
        timeout 10 "$@" >"$TMP/out" 2>"$TMP/err")
}

# --- Hostile configuration files: not a regular file, too big.
mkdir -p "$TMP/cfgdir"
ln -sf /dev/zero "$TMP/cfgdir/espflash.toml"
in_cfgdir "$ESPGANG" board-info -p /dev/null
rc=$?
[ $rc -eq 1 ] && err_matches "espflash.toml that is /dev/zero: refused at once" \
    "cannot read '.*espflash.toml': not a regular file" || fail "/dev/zero config: exit $rc"
rm -f "$TMP/cfgdir/espflash.toml"
head -c 2000000 /dev/zero | tr '\0' '#' >"$TMP/cfgdir/espflash.toml"
in_cfgdir "$ESPGANG" board-info -p /dev/null
err_matches "a 2 MB espflash.toml: refused" "2000000 bytes, more than a configuration file has"
rm -f "$TMP/cfgdir/espflash.toml"

# --- flash checks its ELF before it looks for a port (which may ask on a terminal).
in_cfgdir "$ESPGANG" flash "$TMP/missing.elf"
err_matches "flash of a missing ELF, no port given: the ELF is named, no port sought" \
    "cannot open '.*missing.elf'"
grep -q "port" "$TMP/err" && fail "  a port was sought: $(cat "$TMP/err")" || pass "  (no word of ports)"

# --- A value espflash takes but espgang cannot use is blamed on the file that gave it.
printf '[flash]\nsize = "256KB"\n' >"$TMP/cfgdir/espflash.toml"
in_cfgdir "$ESPGANG" save-image -c esp32c3 "$FIX/esp32c3-appdesc.elf" "$TMP/cfg.bin"
err_matches "espflash.toml's [flash] size = 256KB names the file" \
    "cfgdir/espflash.toml: \[flash\] size: unknown flash size '256KB'"
[ ! -e "$TMP/cfg.bin" ] && pass "  and writes nothing" || fail "  an image was written"
rm -f "$TMP/cfgdir/espflash.toml"

finish
