#!/bin/sh
# espsim's RFC 2217 server against a stock client (pyserial) and at the telnet level:
# every COM-PORT-OPTION setting is acknowledged with its value, the modem state is
# announced and can be polled, the masks are taken, and a board whose stub still runs
# from an earlier connection is found as such.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
STUBS=$(dirname "$ESPGANG")/stub

if ! "$PY" -c 'import serial.rfc2217' 2>/dev/null; then
    fail "pyserial is missing for $PY (Debian package python3-serial; tools/setup.sh installs it)"
    finish
    exit 1
fi

start_sim r --chip esp32c3 --rfc2217 0 --log "$TMP/r.log"
P=$SIM_ADDR

# Resets into download mode by DTR/RTS, sent back to back as a flasher does (pyserial's
# own setters wait for each acknowledgement, which a development board's EN circuit
# does not allow between the two changes).
RESET='
import time, serial.rfc2217 as R
def download_mode(s):
    def lines(*vals):
        for v in vals:
            s.rfc2217_send_subnegotiation(R.SET_CONTROL, v)
    lines(R.SET_CONTROL_DTR_OFF, R.SET_CONTROL_RTS_ON)
    time.sleep(0.1)
    lines(R.SET_CONTROL_DTR_ON, R.SET_CONTROL_RTS_OFF)
    time.sleep(0.05)
    lines(R.SET_CONTROL_DTR_OFF)
'

py "pyserial opens the port, reads the modem lines, syncs with the ROM and closes" "$RESET"'
import sys, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=2)
assert s.is_open
assert (s.cts, s.dsr, s.ri, s.cd) == (False, False, False, False)
download_mode(s)
ld = sc.Loader(sc.SerialLink(s))
vals = ld.sync()
assert vals == [0x20120707] * 8, vals
assert b"waiting for download" in ld.text, ld.text
assert ld.read_reg(0x40001000) != 0
s.close()
print("opened, synced, closed")
' "$P"
py "pyserial opens and closes it again" '
import sys, serial
s = serial.serial_for_url(sys.argv[1], baudrate=921600, timeout=1)
assert s.dsr is False
s.close()
' "$P"
log_has "the baud rate pyserial asked for reached the board" "$TMP/r.log" "line: 921600 baud \(set by the client's port\)"
[ "$(grep -c 'board 0: disconnected' "$TMP/r.log")" -eq 2 ] && pass "espsim saw both clients leave" ||
    fail "disconnects: $(grep -c 'board 0: disconnected' "$TMP/r.log")"

# A stub left running by one client: the next one sees it (SYNC answered 8 times, 0).
py "pyserial uploads the flasher stub and leaves it running" "$RESET"'
import sys, serial, simclient as sc
s = serial.serial_for_url(sys.argv[1], baudrate=115200, timeout=2)
download_mode(s)
ld = sc.Loader(sc.SerialLink(s)); ld.sync()
ld.upload_stub(sys.argv[2] + "/esp32c3.json")
assert ld.sync() == [0] * 8
s.close()
' "$P" "$STUBS"
expect_ok "espgang finds the stub still running and works with it" "$ESPGANG" board-info -v \
    -p "$P" --before no-reset -a no-reset-no-stub
err_matches "  saying so" "the flasher stub is already running on the board: no upload needed"
expect_ok "and resets it into the ROM by DTR/RTS" "$ESPGANG" board-info -p "$P"

# The telnet level, byte by byte.
py "COM-PORT-OPTION answers: settings echoed as code+100, queries answered, masks taken" '
import socket, sys, time
host, port = sys.argv[1].split("://")[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=3)
IAC, SB, SE, WILL, DO = 255, 250, 240, 251, 253
buf = b""
def sb(cmd, *val):
    v = bytes(val).replace(b"\xff", b"\xff\xff")
    return bytes([IAC, SB, 44, cmd]) + v + bytes([IAC, SE])
def expect(want, what):
    global buf
    end = time.monotonic() + 3
    while want not in buf:
        s.settimeout(max(end - time.monotonic(), 0.01))
        try:
            buf += s.recv(4096)
        except socket.timeout:
            raise SystemExit("%s: %r not in %r" % (what, want, buf))
    buf = buf[buf.index(want) + len(want):]
s.sendall(bytes([IAC, WILL, 44]))
expect(bytes([IAC, DO, 44]), "DO COM-PORT-OPTION")
expect(sb(107, 0), "the modem state, unasked")
for cmd, val, ack in [(2, 7, 7), (2, 0, 7), (2, 9, 7), (3, 2, 2), (3, 0, 2), (4, 2, 2), (4, 0, 2)]:
    s.sendall(sb(cmd, val)); expect(sb(cmd + 100, ack), "setting %d=%d" % (cmd, val))
s.sendall(sb(1, 0, 0, 0, 0)); expect(sb(101, 0, 1, 0xC2, 0), "baud query: 115200")
s.sendall(sb(1, 0, 0x0E, 0x10, 0)); expect(sb(101, 0, 0x0E, 0x10, 0), "baud 921600")
s.sendall(sb(5, 0)); expect(sb(105, 1), "flow control query: none")
s.sendall(sb(5, 13)); expect(sb(105, 14), "inbound flow control query: none")
s.sendall(sb(5, 4)); expect(sb(105, 6), "break query: off")
s.sendall(sb(5, 8)); expect(sb(105, 8), "DTR on")
s.sendall(sb(5, 7)); expect(sb(105, 8), "DTR query: on")
s.sendall(sb(5, 9)); expect(sb(105, 9), "DTR off")
s.sendall(sb(5, 10)); expect(sb(105, 12), "RTS query: off")
s.sendall(sb(10, 0xFF)); expect(sb(110, 0xFF), "line state mask (0xFF doubled)")
s.sendall(sb(11, 0x30)); expect(sb(111, 0x30), "modem state mask")
s.sendall(sb(7)); expect(sb(107, 0), "modem state poll")
s.sendall(sb(6)); expect(bytes([IAC, SB, 44, 106]), "line state poll")
s.sendall(sb(12, 3)); expect(sb(112, 3), "purge both")
s.close()
' "$P"
[ "$(grep -c "line: 921600 baud" "$TMP/r.log")" -eq 2 ] && pass "the raw SET-BAUDRATE reached the board too" ||
    fail "SET-BAUDRATE: $(grep -c "line: 921600 baud" "$TMP/r.log") log lines"
finish
