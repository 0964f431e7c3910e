#!/bin/sh
# Where a real chip is stricter than a kind simulator would be: the ROM reaches the
# flash only after SPI_ATTACH with the pins the flash is on (ESP32's in-package flash
# on the pads its eFuses name), the flasher stub attaches it itself and answers SYNC
# eight times, and stubs may come from several directories.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
STUBS=$(dirname "$ESPGANG")/stub

head -c 65536 /dev/urandom >"$TMP/a.bin"

# ---- before SPI_ATTACH -------------------------------------------------------------
start_sim rom --chip esp32c3 --tcp 0 --log "$TMP/rom.log"
P=$SIM_ADDR
py "no SPI_ATTACH: RDID reads 0xffffff and SFDP 0xff bytes; FLASH_BEGIN hangs the ROM" '
import sys, struct, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
c3 = sc.SPI["esp32c3"]
rdid = sc.spi_command(ld, c3, 0x9F, 24)[0] & 0xFFFFFF
assert rdid == 0xFFFFFF, hex(rdid)
sfdp = sc.spi_command(ld, c3, 0x5A, 64, addr=0x10)
assert sfdp == [0xFFFFFFFF, 0xFFFFFFFF], sfdp
ld.send(sc.FLASH_BEGIN, struct.pack("<IIIII", 0x1000, 4, 0x400, 0x10000, 0))
try:
    print("FLASH_BEGIN answered", ld.response(sc.FLASH_BEGIN, 2)); sys.exit(1)
except sc.NoAnswer:
    pass
ld.send(sc.READ_REG, struct.pack("<I", 0x40001000))
try:
    print("a hung ROM answered READ_REG", ld.response(sc.READ_REG, 1)); sys.exit(1)
except sc.NoAnswer:
    pass
print("rdid 0x%06x" % rdid)
' "$P"
log_has "the log says the ROM hangs in FLASH_BEGIN" "$TMP/rom.log" \
    "FLASH_BEGIN size=0x1000 blocks=4 block_size=0x400 offset=0x10000 encrypted=0 \(hangs: the flash is not attached, no SPI_ATTACH found it; the ROM waits for it until reset\)"
log_has "and that it answers nothing after" "$TMP/rom.log" \
    "READ_REG len=4 \(ignored: hung since FLASH_BEGIN without the flash\)"

for cmd in "SPI_FLASH_MD5:struct.pack('<IIII', 0x10000, 0x1000, 0, 0)" \
    "READ_FLASH_SLOW:struct.pack('<II', 0x10000, 64)" \
    "FLASH_DEFL_BEGIN:struct.pack('<IIIII', 0x1000, 1, 0x400, 0x10000, 0)"; do
    name=${cmd%%:*}
    py "no SPI_ATTACH: $name hangs" '
import sys, struct, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
op = getattr(sc, sys.argv[2])
ld.send(op, eval(sys.argv[3]))
try:
    print("answered", ld.response(op, 1.5)); sys.exit(1)
except sc.NoAnswer:
    pass
' "$P" "$name" "${cmd#*:}"
done

py "a new session (a reset) brings the ROM back; SPI_ATTACH 0 finds the flash" '
import sys, struct, hashlib, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
val, body, status, err = ld.spi_attach(0)
assert status == 0, (status, err)
c3 = sc.SPI["esp32c3"]
rdid = sc.spi_command(ld, c3, 0x9F, 24)[0] & 0xFFFFFF
assert rdid == 0x1640C8, hex(rdid)
magic = sc.spi_command(ld, c3, 0x5A, 32, addr=0)[0]
assert magic == 0x50444653, hex(magic)
assert ld.md5(0x10000, 0x1000) == hashlib.md5(b"\xff" * 0x1000).hexdigest()
print("rdid 0x%06x" % rdid)
' "$P"
py "SPI_ATTACH with pins where no flash is (HSPI): RDID 0xffffff, MD5 hangs" '
import sys, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
assert ld.spi_attach(1)[2] == 0
rdid = sc.spi_command(ld, sc.SPI["esp32c3"], 0x9F, 24)[0] & 0xFFFFFF
assert rdid == 0xFFFFFF, hex(rdid)
try:
    print("answered", ld.md5(0x10000, 0x1000, timeout=1.5)); sys.exit(1)
except sc.NoAnswer:
    pass
' "$P"
log_has "the log names the pins that find the flash" "$TMP/rom.log" \
    "SPI_ATTACH pins=0x00000001 legacy=0 \(no flash on these pins \(it answers on 0x00000000\): flash commands will hang\)"

# espgang attaches the flash before anything else; with the ROM and with the stub.
expect_ok "espgang with the ROM: write and verify" \
    "$ESPGANG" write-bin -p "$P" --no-stub --after no-reset 0x10000 "$TMP/a.bin"
expect_ok "espgang with the stub: read back" \
    "$ESPGANG" read-flash -p "$P" --after no-reset 0x10000 0x10000 "$TMP/back.bin" &&
    same_files "the read equals the write" "$TMP/a.bin" "$TMP/back.bin"

# ---- the flasher stub: attached at start, SYNC eight times -------------------------
py "the stub reaches the flash without SPI_ATTACH, and answers SYNC 8 times with 0" '
import sys, hashlib, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
ld.upload_stub(sys.argv[2] + "/esp32c3.json")
rdid = sc.spi_command(ld, sc.SPI["esp32c3"], 0x9F, 24)[0] & 0xFFFFFF
assert rdid == 0x1640C8, hex(rdid)
want = hashlib.md5(open(sys.argv[3], "rb").read()).hexdigest()
assert ld.md5(0x10000, 0x10000) == want
vals = ld.sync()
assert vals == [0] * 8, vals
# the stub takes SPI_ATTACH with the pins alone, and refuses the ROM form
assert ld.spi_attach(0)[2] == 0
ld.send(sc.SPI_ATTACH, bytes(8))
status = ld.response(sc.SPI_ATTACH)[2]
assert status == 0xC0, hex(status)
print("sync answers", vals)
' "$P" "$STUBS" "$TMP/a.bin"

# ---- ESP32: an in-package flash on the pads its eFuses name -----------------------
start_sim pads --chip esp32 --tcp 0 --spi-pads 6,17,8,11,16 --log "$TMP/pads.log"
expect_ok "ESP32 with the flash on eFuse pads: espgang (ROM) finds it" \
    "$ESPGANG" board-info -p "$SIM_ADDR" --no-stub
grep -q "^Flash size: *4MB" "$TMP/out" && pass "the flash answered through those pads" ||
    fail "no flash size: $(cat "$TMP/out")"
log_has "SPI_ATTACH named the pads (clk 6, q 17, d 8, hd 11, cs 16)" "$TMP/pads.log" \
    "SPI_ATTACH pins=0x0b408446 legacy=0$"
expect_ok "ESP32 with eFuse pads: espgang with the stub writes" \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --after no-reset 0x10000 "$TMP/a.bin"
py "ESP32 with eFuse pads: SPI_ATTACH 0 (the usual pins) finds no flash" '
import sys, simclient as sc
ld = sc.Loader(sc.TcpLink(sys.argv[1])); ld.sync()
assert ld.spi_attach(0)[2] == 0
rdid = sc.spi_command(ld, sc.SPI["esp32"], 0x9F, 24)[0] & 0xFFFFFF
assert rdid == 0xFFFFFF, hex(rdid)
' "$SIM_ADDR"
start_sim nopads --chip esp32 --tcp 0 --log "$TMP/nopads.log"
expect_ok "ESP32 without pads in the eFuses: espgang (ROM) attaches with 0" \
    "$ESPGANG" board-info -p "$SIM_ADDR" --no-stub
log_has "SPI_ATTACH pins 0" "$TMP/nopads.log" "SPI_ATTACH pins=0x00000000 legacy=0$"
expect_usage "--spi-pads on a chip without pad eFuses" "--spi-pads: ESP32-C3's eFuses name no flash pads" \
    "$ESPSIM" --chip esp32c3 --tcp 0 --spi-pads 6,17,8,11,16
expect_usage "--spi-pads with four pads" "--spi-pads: '6,17,8,11' is not five pad numbers" \
    "$ESPSIM" --chip esp32 --tcp 0 --spi-pads 6,17,8,11
expect_usage "--spi-pads above 31" "is not five pad numbers" \
    "$ESPSIM" --chip esp32 --tcp 0 --spi-pads 6,17,8,11,32

# ---- --stub-dir, more than once ----------------------------------------------------
mkdir -p "$TMP/sa" "$TMP/sb" "$TMP/sc"
cp "$STUBS/esp32.json" "$TMP/sa/"
cp "$STUBS/esp32c3.json" "$TMP/sb/"
# A second, different esp32c3 stub (one data byte changed), as a newer release would be.
"$PY" -c '
import base64, json, sys
s = json.load(open(sys.argv[1]))
d = bytearray(base64.b64decode(s["data"])); d[-1] ^= 0x55
s["data"] = base64.b64encode(bytes(d)).decode()
json.dump(s, open(sys.argv[2], "w"))
' "$STUBS/esp32c3.json" "$TMP/sc/esp32c3.json"
start_sim dirs --chip esp32c3 --tcp 0 --stub-dir "$TMP/sa" --stub-dir "$TMP/sb" --stub-dir "$TMP/sc" \
    --log "$TMP/dirs.log"
grep -q "no flasher stub for esp32c3 in '$TMP/sa'" "$TMP/dirs.err" && pass "a directory without the chip's stub is named" ||
    fail "no warning for $TMP/sa: $(cat "$TMP/dirs.err")"
for d in sb sc; do
    expect_ok "--stub-dir given thrice: the stub from $d runs" \
        "$ESPGANG" board-info -p "$SIM_ADDR" --stub-dir "$TMP/$d"
done
[ "$(grep -c 'running the flasher stub esp32c3' "$TMP/dirs.log")" -eq 2 ] &&
    pass "both stubs were recognised" || fail "stubs recognised: $(grep -c 'running the flasher stub' "$TMP/dirs.log")"
start_sim onedir --chip esp32c3 --tcp 0 --stub-dir "$TMP/sb" --log "$TMP/onedir.log"
expect_fail "a stub from no --stub-dir is code espsim cannot run" "OHAI|no answer|timed out" 20 \
    "$ESPGANG" board-info -p "$SIM_ADDR" --stub-dir "$TMP/sc"
log_has "the log says so" "$TMP/onedir.log" "unknown RAM code at 0x[0-9a-f]+: the chip runs it and stops answering"
finish
