#!/bin/sh
# The rate changed by the ROM before the stub is uploaded: the upload runs at the new
# rate, OHAI comes at it, and the stub keeps it (espsim --pace makes the line's rate
# visible as time). ESP32's clock estimate and ESP32-C2's 40 MHz assumption apply to
# the ROM's change; the log gives the rate the line really runs at.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
STUBS=$(dirname "$ESPGANG")/stub

head -c 65536 /dev/urandom >"$TMP/a.bin"

# ---- ESP32-C3: CHANGE_BAUDRATE from the ROM, then the stub at 921600 ----------------
start_sim c3 --chip esp32c3 --tcp 0 --pace --log "$TMP/c3.log"
py "C3, paced: the stub uploaded at 115200 takes its wire time" '
import sys, time, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
t = time.monotonic(); ld.upload_stub(sys.argv[2] + "/esp32c3.json"); took = time.monotonic() - t
assert took >= 0.5, took
print("%.2f s" % took)
' "$SIM_ADDR" "$STUBS"
py "C3, paced: ROM to 921600, then the stub uploads 8x faster, says OHAI and keeps the rate" '
import sys, time, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
ld.change_baud(921600, 0)
t = time.monotonic(); ld.upload_stub(sys.argv[2] + "/esp32c3.json"); up = time.monotonic() - t
assert up < 0.3, up
assert ld.sync() == [0] * 8
t = time.monotonic(); data, digest = ld.read_flash(0, 0x8000); rd = time.monotonic() - t
# 32 KiB take 0.36 s on the wire at 921600 (2.8 s at 115200)
assert len(data) == 0x8000 and 0.3 <= rd < 1.2, rd
print("stub upload %.2f s, 32 KiB read %.2f s" % (up, rd))
' "$SIM_ADDR" "$STUBS"
log_has "C3: the log has the ROM's change, requested rate only (it is exact)" "$TMP/c3.log" \
    "CHANGE_BAUDRATE baud=921600 old=0$"
sed -n '/CHANGE_BAUDRATE baud=921600 old=0$/,$p' "$TMP/c3.log" | grep -m1 MEM_END |
    grep -q "running the flasher stub esp32c3" &&
    pass "C3: the stub ran after the change" || fail "C3: no stub after the change"

# ---- ESP32-C2 with a 26 MHz crystal: the ROM believes in 40 MHz --------------------
start_sim c2 --chip esp32c2 --tcp 0 --crystal 26 --pace --log "$TMP/c2.log"
py "C2 at 26 MHz: asked for 40/26 of 921600, the ROM runs at 921600; the stub keeps it" '
import sys, time, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
xtal = (ld.read_reg(0x60000014) & 0xFFFFF) * 115200
assert abs(xtal - 26e6) < 0.5e6, xtal
ld.change_baud(921600 * 40 // 26, 0)
t = time.monotonic(); ld.upload_stub(sys.argv[2] + "/esp32c2.json"); up = time.monotonic() - t
assert up < 0.3, up
t = time.monotonic(); data, digest = ld.read_flash(0, 0x8000); rd = time.monotonic() - t
assert 0.3 <= rd < 1.2, rd
# the stub knows its crystal: its own change is exact
ld.change_baud(460800, 921600)
t = time.monotonic(); data, digest = ld.read_flash(0, 0x8000); rd2 = time.monotonic() - t
assert rd2 > rd * 1.5, (rd, rd2)
print("upload %.2f s, reads %.2f s at 921600, %.2f s at 460800" % (up, rd, rd2))
' "$SIM_ADDR" "$STUBS"
log_has "C2: the log gives the effective rate of the ROM's change" "$TMP/c2.log" \
    "CHANGE_BAUDRATE baud=1417846 old=0 effective=92159[0-9]$"
log_has "C2: the stub's change is exact" "$TMP/c2.log" "CHANGE_BAUDRATE baud=460800 old=921600$"
py "C2 at 26 MHz: a client that forgets the quirk gets 26/40 of its rate" '
import sys, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
ld.change_baud(921600, 0)
' "$SIM_ADDR"
log_has "C2: the log shows the rate it really got" "$TMP/c2.log" "CHANGE_BAUDRATE baud=921600 old=0 effective=599040$"

# ---- ESP32: the ROM derives its clock from an estimate that drifts -----------------
for row in "40 3 949248 921600" "26 -4 884381 92159[0-9]"; do
    set -- $row
    mhz=$1 drift=$2 told=$3 eff=$4
    start_sim e$mhz --chip esp32 --tcp 0 --crystal "$mhz" --ck8m-drift "$drift" --pace --log "$TMP/e$mhz.log"
    py "ESP32, $mhz MHz, estimate ${drift}% off: a client that corrects for it gets 921600 before the stub" '
import sys, time, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
cali = (ld.read_reg(0x3FF5F06C) >> 7) & 0x1FFFFFF
ck8m = ld.read_reg(0x3FF5A010) & 0xFF
est = cali * 15625 * ck8m // 40
valid = 40000000 if est > 33000000 else 26000000
told = 921600 * est // valid
assert told == int(sys.argv[3]), told
ld.change_baud(told, 0)
t = time.monotonic(); ld.upload_stub(sys.argv[2] + "/esp32.json"); up = time.monotonic() - t
assert up < 0.4, up
assert ld.sync() == [0] * 8
print("told %d, upload %.2f s" % (told, up))
' "$SIM_ADDR" "$STUBS" "$told"
    log_has "ESP32 $mhz MHz: the log gives the effective rate" "$TMP/e$mhz.log" \
        "CHANGE_BAUDRATE baud=$told old=0 effective=$eff$"
done
py "ESP32, estimate 3% off: a client that trusts the estimate misses the rate" '
import sys, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
ld.change_baud(921600, 0)
' "$SIM_ADDR"
log_has "ESP32: the log shows the rate it really got" "$TMP/e26.log" "CHANGE_BAUDRATE baud=921600 old=0 effective=9[0-9]{5}$"
start_sim eg --chip esp32 --tcp 0 --ck8m-drift 3 --log "$TMP/eg.log"
expect_ok "espgang corrects for the drift (ROM)" \
    "$ESPGANG" write-bin -p "$SIM_ADDR" -B 921600 --no-stub --after no-reset 0x10000 "$TMP/a.bin"
log_has "espgang's ROM change lands on 921600" "$TMP/eg.log" "CHANGE_BAUDRATE baud=949248 old=0 effective=921600$"
start_sim e0 --chip esp32 --tcp 0 --log "$TMP/e0.log"
expect_ok "ESP32 without drift: espgang (ROM) at 921600" \
    "$ESPGANG" board-info -p "$SIM_ADDR" -B 921600 --no-stub
log_has "ESP32 without drift: the rate asked is the rate got" "$TMP/e0.log" "CHANGE_BAUDRATE baud=921600 old=0$"
expect_usage "--ck8m-drift on a chip without the estimate" "ESP32-C3's ROM does not estimate its clock" \
    "$ESPSIM" --chip esp32c3 --tcp 0 --ck8m-drift 2
expect_usage "--ck8m-drift beyond 10%" "--ck8m-drift" "$ESPSIM" --chip esp32 --tcp 0 --ck8m-drift 11
finish
