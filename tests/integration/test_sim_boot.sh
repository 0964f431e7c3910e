#!/bin/sh
# espsim's boot model, for espgang's boot check: a boot reads the flash (an erased or
# broken bootloader gives the ROM's loop, never an application), --app-output and the
# boot-panic fault, the RTC watchdog a client arms (over TCP), and the RFC 2217 server's
# reset into download mode with line changes arriving 100 ms apart.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
FIX=$(dirname "$ESPGANG")/fixtures
PARTS=$(dirname "$0")/../../profiles/demo/partitions.csv

# merged CHIP BOOTLOADER ELF OUT: bootloader, partition table and app as the flash holds them.
merged() {
    "$ESPGANG" save-image -c "$1" --merge --bootloader "$2" --partition-table "$PARTS" "$3" "$4" \
        >/dev/null 2>"$TMP/merge.err" || {
        fail "making $4"
        cat "$TMP/merge.err"
    }
}
merged esp32c3 "$FIX/esp32c3-bootloader.bin" "$FIX/esp32c3-appdesc.elf" "$TMP/c3.img"
merged esp32s3 "$FIX/idf-esp32s3/bootloader/bootloader.bin" "$FIX/esp32s3-appdesc.elf" "$TMP/s3.img"

# flash NAME FROM: a flash file for one board, a copy of FROM ("erased": all 0xFF).
flash() {
    if [ "$2" = erased ]; then ff_file "$TMP/$1.bin" 4194304; else cp "$2" "$TMP/$1.bin"; fi
}
# poke FILE OFFSET HEXBYTES: overwrites bytes of FILE.
poke() {
    "$PY" -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2], 0)); f.write(bytes.fromhex(sys.argv[3]))' "$@"
}

# The watchdog over TCP, then what the board prints for a while (CHIP ADDR SECONDS).
WATCH='
import sys, simclient as sc
chip, addr, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
ld = sc.Loader(sc.TcpLink(addr)); ld.sync()
sc.arm_rtc_watchdog(ld, chip)
lines = sc.lines_at(sc.read_for(ld.link, secs))
text = "\n".join(l for _, l in lines)
def at(pattern, start=0):
    for i in range(start, len(lines)):
        if pattern in lines[i][1]:
            return i
    raise SystemExit("no line with %r in:\n%s" % (pattern, text))
'

# ---- 1. An erased flash: the ROM's invalid header loop, never an application ------
flash erased1 erased
start_sim e1 --chip esp32c3 --tcp 0 --flash-file "$TMP/erased1.bin" --log "$TMP/e1.log"
py "erased flash, ESP32-C3: invalid header 0xffffffff every 100 ms, the RTC watchdog resets it every 2.9 s" "$WATCH"'
first = at("rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)")
assert lines[first - 2][1] == "ESP-ROM:esp32c3-api1-20210207", lines[first - 2]
assert lines[first + 1][1] == "invalid header: 0xffffffff", lines[first + 1]
second = at("rst:0x10 (RTCWDT_RTC_RST),boot:0xc (SPI_FAST_FLASH_BOOT)", first + 1)
third = at("rst:0x10 (RTCWDT_RTC_RST)", second + 1)
assert lines[second + 1][1].startswith("Saved PC:0x"), lines[second + 1]
bad = [l for _, l in lines[first + 1:second] if l != "invalid header: 0xffffffff" and l not in
       ("ESP-ROM:esp32c3-api1-20210207", "Build:Feb  7 2021")]
assert not bad, bad
n = sum(1 for _, l in lines[first:second] if l == "invalid header: 0xffffffff")
assert 25 <= n <= 31, n
cycle = lines[third][0] - lines[second][0]
assert 2.6 <= cycle <= 3.4, cycle
steps = [lines[i + 1][0] - lines[i][0] for i in range(second + 3, second + 12)]
assert all(0.05 <= s <= 0.2 for s in steps), steps
assert "entry" not in text and "boot:" not in text.replace("boot:0xc", ""), text
print("%d lines a cycle, cycle %.2f s" % (n, cycle))
' esp32c3 "$SIM_ADDR" 6.5
log_has "the log says why" "$TMP/e1.log" \
    "boot: invalid header 0xffffffff at 0x0: the ROM reads it again until its watchdog fires"
grep -q "running the application" "$TMP/e1.log" && fail "an erased flash ran an application" ||
    pass "an erased flash never runs an application"

# ESP32 v3 over RFC 2217 (it has no watchdog reset): opening the port resets nothing,
# the loop goes on: eight invalid headers, then the RTC watchdog, every 1.7 s.
flash erased2 erased
start_sim e2 --chip esp32 --rfc2217 0 --flash-file "$TMP/erased2.bin" --log "$TMP/e2.log"
py "erased flash, ESP32 v3: eight invalid headers and ets Jul 29 2019 with RTCWDT_RTC_RESET every 1.7 s" '
import sys, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=0.05)
lines = sc.lines_at(sc.read_for(sc.SerialLink(s), 4.5))
idx = [i for i, (_, l) in enumerate(lines) if l == "rst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"]
assert len(idx) >= 2, lines
a, b = idx[0], idx[1]
assert lines[a - 2][1] == "ets Jul 29 2019 12:21:46", lines[a - 2]
body = [l for _, l in lines[a + 1:b - 2]]
assert body == ["invalid header: 0xffffffff"] * 8, body
cycle = lines[b][0] - lines[a][0]
assert 1.4 <= cycle <= 2.0, cycle
print("cycle %.2f s" % cycle)
' "$SIM_ADDR"
grep -q "reset:.*POWERON" "$TMP/e2.log" && [ "$(grep -c "reset:" "$TMP/e2.log")" -ge 3 ] &&
    ! grep -q "download mode" "$TMP/e2.log" && pass "ESP32: only its watchdog reset it, never the open" ||
    fail "ESP32 resets: $(grep reset: "$TMP/e2.log" | head -5)"

# ---- 2. Broken bootloaders -----------------------------------------------------------
# A bad checksum (a byte of the first segment changed), an app image at the bootloader
# offset (flash-mapped segments the ROM cannot load), another chip's id in the header,
# no partition table, no application.
flash badsum "$TMP/c3.img"
poke "$TMP/badsum.bin" 0x30 00ff00ff
flash appat0 erased
"$ESPGANG" save-image -c esp32c3 "$FIX/esp32c3-appdesc.elf" "$TMP/app.bin" >/dev/null
dd if="$TMP/app.bin" of="$TMP/appat0.bin" conv=notrunc 2>/dev/null
flash chipid "$TMP/c3.img"
poke "$TMP/chipid.bin" 12 0900
flash noparts "$TMP/c3.img"
ff_file "$TMP/ff4k.bin" 4096
dd if="$TMP/ff4k.bin" of="$TMP/noparts.bin" bs=4096 seek=8 conv=notrunc 2>/dev/null
flash noapp "$TMP/c3.img"
head -c 65536 /dev/zero | tr '\0' '\377' | dd of="$TMP/noapp.bin" bs=65536 seek=1 conv=notrunc 2>/dev/null
start_sim broken --chip esp32c3 --tcp 0 --boards 5 --flash-file "$TMP/broken" --log "$TMP/broken.log"
i=0
for name in badsum appat0 chipid noparts noapp; do cp "$TMP/$name.bin" "$TMP/broken.$i"; i=$((i + 1)); done
set -- $SIM_ADDRS
py "bad bootloader checksum: the ROM stops and its watchdog resets it" "$WATCH"'
i = at("Checksum failure. Calculated 0x")
assert "stored 0x" in lines[i][1] and lines[i + 1][1].startswith("ets_main.c"), lines[i:i + 2]
j = at("rst:0x10 (RTCWDT_RTC_RST)", i)
assert "entry 0x" not in text and "2nd stage" not in text, text
' esp32c3 "$1" 3.5
py "an app image at the bootloader offset: ets_loader.c, then the TG0 watchdog" "$WATCH"'
i = at("load:0x3c")
assert lines[i + 1][1] == "ets_loader.c 78 ", lines[i + 1]
at("rst:0x7 (TG0WDT_SYS_RST)", i)
' esp32c3 "$2" 3.5
py "another chip s bootloader: mismatch chip ID, a software reset, again" "$WATCH"'
i = at("boot_comm: mismatch chip ID, expected 5, found 9")
at("entry 0x", 0)
j = at("rst:0x3 (RTC_SW_SYS_RST)", i)
at("boot_comm: mismatch chip ID", j)
assert "Loaded app" not in text
' esp32c3 "$3" 1.2
py "no partition table: the bootloader says so and resets" "$WATCH"'
i = at("E (")
assert "flash_parts: partition 0 invalid magic number 0xffff" in lines[i][1], lines[i]
at("boot: load partition table error!", i)
at("rst:0x3 (RTC_SW_SYS_RST)", i)
' esp32c3 "$4" 1.2
py "no application: nothing flashed at 0x10000, no bootable app partition" "$WATCH"'
i = at("esp_image: image at 0x10000 has invalid magic byte (nothing flashed here?)")
at("boot: No bootable app partitions in the partition table", i)
at("rst:0x3 (RTC_SW_SYS_RST)", i)
assert "Calling app_main" not in text
' esp32c3 "$5" 1.2
log_has "the log names each failure" "$TMP/broken.log" "board 2: boot: the bootloader is for chip id 9, not 5"

# ---- 3. A valid flash: --app-output after a watchdog reset over TCP --------------
cat >"$TMP/app.txt" <<'EOF'
app: serial number for {mac}
@300 app: sensors ready
@@ starts with an at sign
@200
app: SELFTEST PASS
EOF
flash good "$TMP/c3.img"
start_sim good --chip esp32c3 --tcp 0 --flash-file "$TMP/good.bin" --app-output "$TMP/app.txt" \
    --mac 24:0a:c4:00:10:01 --log "$TMP/good.log"
py "--app-output: the boot, then the file s lines at their times" "$WATCH"'
first = at("rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)")
for want in ("SPIWP:0xee", "entry 0x", "boot: ESP-IDF", "boot: Partition Table:",
             "factory          factory app      00 00 00010000 00100000",
             "boot: Loaded app from partition at offset 0x10000", "main_task: Calling app_main()"):
    at(want, first)
m = at("main_task: Calling app_main()")
got = [l for _, l in lines[m + 1:]]
assert got == ["app: serial number for 24:0a:c4:00:10:01", "app: sensors ready",
               "@ starts with an at sign", "app: SELFTEST PASS"], got
t = {l: tt for tt, l in lines}
d1 = t["app: serial number for 24:0a:c4:00:10:01"] - lines[m][0]
d2 = t["app: sensors ready"] - t["app: serial number for 24:0a:c4:00:10:01"]
d3 = t["@ starts with an at sign"] - t["app: sensors ready"]
d4 = t["app: SELFTEST PASS"] - t["@ starts with an at sign"]
assert 0.05 <= d1 <= 0.25 and 0.25 <= d2 <= 0.45 and 0.05 <= d3 <= 0.25 and 0.25 <= d4 <= 0.5, (d1, d2, d3, d4)
assert text.count("rst:") == 1, text
print("delays %.2f %.2f %.2f %.2f s" % (d1, d2, d3, d4))
' esp32c3 "$SIM_ADDR" 1.6
log_has "the watchdog write is logged with its timeout" "$TMP/good.log" \
    "WRITE_REG addr=0x60008090 value=0xd0000102 .*RTC watchdog: chip reset in 29 ms, 2000 ticks x2 at 136000 Hz"
log_has "the watchdog fired and the app runs" "$TMP/good.log" "boot: running the application \(app at 0x10000\)"

# A write without the key is ignored, as the hardware ignores it: no reset.
py "the watchdog's registers are write-protected without the key" '
import sys, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
sc.arm_rtc_watchdog(ld, "esp32c3", unlock=False)
text = b"".join(d for _, d in sc.read_for(ld.link, 0.6))
assert text == b"", text
assert ld.sync() == [0x20120707] * 8
' "$SIM_ADDR"
log_has "the log says the write was ignored" "$TMP/good.log" \
    "addr=0x60008090 value=0xd0000102 .* \(write-protected: ignored\)"

# espgang's own --after watchdog-reset reaches it.
before=$(grep -c "RTC watchdog fired" "$TMP/good.log")
expect_ok "espgang --after watchdog-reset over TCP" \
    "$ESPGANG" board-info -p "$SIM_ADDR" --before no-reset --after watchdog-reset
sleep 0.3
[ "$(grep -c "RTC watchdog fired" "$TMP/good.log")" -gt "$before" ] &&
    tail -3 "$TMP/good.log" | grep -q "boot: running the application" &&
    pass "espgang's watchdog reset booted the application from flash" ||
    { fail "no watchdog boot after espgang"; tail -5 "$TMP/good.log" | sed 's/^/    /'; }

# ---- 4. boot-panic: the Guru Meditation loop ------------------------------------------
flash panic "$TMP/c3.img"
start_sim panic --chip esp32c3 --tcp 0 --flash-file "$TMP/panic.bin" --app-output "$TMP/app.txt" \
    --fault boot-panic=1 --log "$TMP/panic.log"
py "boot-panic=1, RISC-V: one line, the Load access fault with its registers, RTC_SW_CPU_RST, again" "$WATCH"'
p1 = at("Guru Meditation Error: Core  0 panic'"'"'ed (Load access fault). Exception was unhandled.")
assert lines[p1 - 1][1] == "app: serial number for 24:0a:c4:00:00:01", lines[p1 - 1]
assert "SELFTEST" not in text and "sensors" not in text
at("Core  0 register dump:", p1)
at("MEPC    : 0x", p1)
at("MCAUSE  : 0x00000005  MTVAL   : 0x00000000", p1)
r = at("Rebooting...", p1)
assert lines[r + 1][1] == "ESP-ROM:esp32c3-api1-20210207", lines[r + 1]
assert lines[r + 3][1] == "rst:0xc (RTC_SW_CPU_RST),boot:0xc (SPI_FAST_FLASH_BOOT)", lines[r + 3]
assert lines[r + 4][1].startswith("Saved PC:0x4"), lines[r + 4]
p2 = at("Guru Meditation Error", r)
assert text.count("Guru Meditation Error") >= 3, text.count("Guru Meditation Error")
' esp32c3 "$SIM_ADDR" 1.6

flash s3panic "$TMP/s3.img"
start_sim s3panic --chip esp32s3 --tcp 0 --flash-file "$TMP/s3panic.bin" --fault boot-panic \
    --flash-size 8MB
py "boot-panic, Xtensa (ESP32-S3): LoadProhibited, EXCCAUSE 0x1c, a backtrace, before any line" "$WATCH"'
p1 = at("Guru Meditation Error: Core  0 panic'"'"'ed (LoadProhibited). Exception was unhandled.")
assert lines[p1 - 1][1].endswith("main_task: Calling app_main()") or "Loaded app" in lines[p1 - 1][1], lines[p1 - 1]
assert "app: espsim application started" not in text
at("EXCCAUSE: 0x0000001c", p1)
at("EXCVADDR: 0x00000000", p1)
at("Backtrace: 0x", p1)
r = at("Rebooting...", p1)
at("rst:0xc (RTC_SW_CPU_RST),boot:0x8 (SPI_FAST_FLASH_BOOT)", r)
at("Guru Meditation Error", r)
' esp32s3 "$SIM_ADDR" 1.0

# ---- 5. RFC 2217: the server's reset into download mode, line changes 100 ms apart ----
flash rfc "$TMP/c3.img"
start_sim rfc --chip esp32c3 --rfc2217 0 --line-delay 100 --flash-file "$TMP/rfc.bin" \
    --log "$TMP/rfc.log"
R=$SIM_ADDR
sleep 0.3 # the board boots its application at power-on

py "opening the port alone (pyserial: DTR and RTS on) resets nothing: the app goes on ticking" '
import sys, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=0.05)
text = b"".join(d for _, d in sc.read_for(sc.SerialLink(s), 1.3)).decode("latin1")
assert "app: tick" in text and "rst:" not in text, text
s.close()
' "$R"
[ "$(grep -c "reset:" "$TMP/rfc.log")" -eq 1 ] && pass "only the power-on reset is in the log" ||
    fail "resets: $(grep reset: "$TMP/rfc.log")"

# esptool's ClassicReset through pyserial: each change waits for its acknowledgement,
# and esptool sets DTR again after each RTS change.
py "esptool's classic reset through pyserial, acknowledgements 100 ms late: download mode" '
import sys, time, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=0.05)
def rts(v):
    s.rts = v
    s.dtr = s.dtr
t0 = time.monotonic()
s.dtr = False; rts(True); time.sleep(0.1)
s.dtr = True; rts(False); time.sleep(0.05)
s.dtr = False
took = time.monotonic() - t0
assert took >= 0.75, took
ld = sc.Loader(sc.SerialLink(s))
assert ld.sync() == [0x20120707] * 8
assert b"waiting for download" in ld.text, ld.text
s.close()
print("the sequence took %.2f s" % took)
' "$R"
log_has "the server ran the reset itself" "$TMP/rfc.log" \
    "rfc2217: DTR on while the client holds EN low: the server runs the reset into download mode"
# The client's next changes come while the sequence runs (then they are not passed on)
# or after it (then they leave IO0 and EN as a board's auto-reset circuit does): either
# way they reset nothing more.
[ "$(grep -c "reset:" "$TMP/rfc.log")" -eq 2 ] &&
    pass "and the changes that followed reset nothing" ||
    fail "resets after the server's: $(grep reset: "$TMP/rfc.log")"

py "a hard reset through pyserial (RTS 100 ms) boots the application" '
import sys, time, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=0.05)
s.dtr = False; s.rts = True; time.sleep(0.1); s.rts = False
text = b"".join(d for _, d in sc.read_for(sc.SerialLink(s), 0.6)).decode("latin1")
assert "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)" in text and "app: espsim application started" in text, text
assert "waiting for download" not in text
s.close()
' "$R"

py "a console read at the wrong rate gets noise (the chip prints at 115200 after a reset)" '
import sys, time, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=921600, timeout=0.05)
def hard_reset():
    s.dtr = False; s.rts = True; time.sleep(0.1); s.rts = False
    return b"".join(d for _, d in sc.read_for(sc.SerialLink(s), 0.5))
noise = hard_reset()
assert len(noise) > 200 and b"rst:" not in noise and b"boot" not in noise, noise[:200]
s.baudrate = 115200
text = hard_reset().decode("latin1")
assert "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)" in text, text
s.close()
' "$R"
log_has "the log says the boot was garbled" "$TMP/rfc.log" \
    "the chip prints at 115200 baud, the client's port runs at 921600: garbled"

py "espgang's tight reset through pyserial, each change acknowledged 100 ms late: download mode" '
import sys, time, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=0.05)
def both(d, r):
    s.dtr = d
    s.rts = r
both(False, False); both(True, True); both(False, True); time.sleep(0.1)
both(True, False); time.sleep(0.05); both(False, False); s.dtr = False
ld = sc.Loader(sc.SerialLink(s))
assert ld.sync() == [0x20120707] * 8
assert b"waiting for download" in ld.text, ld.text
s.close()
' "$R"

py "reopening a board in download mode resets nothing: the loader answers, no new banner" '
import sys, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=0.05)
ld = sc.Loader(sc.SerialLink(s))
assert ld.sync() == [0x20120707] * 8
assert b"rst:" not in ld.text, ld.text
s.close()
' "$R"

# espgang's own default reset (its changes come back to back; the server spaces them).
expect_ok "espgang's default reset with --line-delay 100: board-info" "$ESPGANG" board-info -p "$R"
grep -q "^Chip type: *ESP32-C3" "$TMP/out" && pass "espgang identified the chip" || fail "board-info: $(cat "$TMP/out")"
expect_ok "and --after hard-reset" "$ESPGANG" board-info -p "$R" --after hard-reset
sleep 0.4
tail -3 "$TMP/rfc.log" | grep -q "boot: running the application" &&
    pass "the hard reset ran the application from flash" ||
    { fail "no application after the hard reset"; tail -5 "$TMP/rfc.log" | sed 's/^/    /'; }

# ---- 6. Bad options ---------------------------------------------------------------
expect_usage "--app-output: a missing file" "--app-output: .*$TMP/none.txt" \
    "$ESPSIM" --chip esp32c3 --tcp 0 --app-output "$TMP/none.txt"
printf 'fine\n@12x nope\n' >"$TMP/badapp.txt"
expect_usage "--app-output: a bad delay names the line" \
    "--app-output '.*badapp.txt' line 2: '@' must be followed by a delay" \
    "$ESPSIM" --chip esp32c3 --tcp 0 --app-output "$TMP/badapp.txt"
expect_usage "--line-delay without --rfc2217" "--line-delay: only with --rfc2217" \
    "$ESPSIM" --chip esp32c3 --tcp 0 --line-delay 100
expect_usage "boot-panic=x" "bad value in fault 'boot-panic=x'" \
    "$ESPSIM" --chip esp32c3 --tcp 0 --fault boot-panic=x
finish
