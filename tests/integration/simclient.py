"""A small client of the serial loader protocol for espsim's own tests.

It is written from Espressif's published protocol description (SLIP frames, the
command header, the status bytes), sharing nothing with espgang or espsim, so that a
test can send exactly the requests a check needs, in an order espgang never uses, and
look at exactly what comes back. Used by tests/integration/test_sim_*.sh.
"""

import base64
import json
import socket
import struct
import time

SYNC, READ_REG, WRITE_REG = 0x08, 0x0A, 0x09
MEM_BEGIN, MEM_END, MEM_DATA = 0x05, 0x06, 0x07
FLASH_BEGIN, FLASH_DATA, FLASH_END = 0x02, 0x03, 0x04
SPI_ATTACH, READ_FLASH_SLOW, CHANGE_BAUDRATE = 0x0D, 0x0E, 0x0F
FLASH_DEFL_BEGIN, SPI_FLASH_MD5 = 0x10, 0x13
READ_FLASH = 0xD2

SYNC_DATA = b"\x07\x07\x12\x20" + 32 * b"\x55"


class NoAnswer(Exception):
    """The board said nothing in time."""


def slip(data):
    body = data.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


def checksum(data):
    x = 0xEF
    for b in data:
        x ^= b
    return x


class TcpLink:
    """socket://HOST:PORT, or any object with the same write/read/close."""

    def __init__(self, addr):
        host, port = addr.split("://", 1)[-1].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data):
        self.sock.sendall(data)

    def read(self, timeout):
        """Whatever arrives within timeout seconds (b'' when nothing)."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return b""
        if not data:
            raise ConnectionError("the board closed the connection")
        return data

    def close(self):
        self.sock.close()


class SerialLink:
    """A pyserial port (rfc2217://...) as a link."""

    def __init__(self, port):
        self.port = port

    def write(self, data):
        self.port.write(data)

    def read(self, timeout):
        self.port.timeout = max(timeout, 0.001)
        return self.port.read(max(self.port.in_waiting, 1))

    def close(self):
        self.port.close()


class Loader:
    """Requests and responses of the ROM loader and of the flasher stub."""

    def __init__(self, link):
        self.link = link
        self.pending = b""  # bytes read and not yet taken apart
        self.text = b""  # bytes that were outside frames (boot logs)
        self.stub = False

    def send(self, op, data=b"", chk=0):
        self.link.write(slip(struct.pack("<BBHI", 0, op, len(data), chk) + data))

    def frame(self, timeout=3.0):
        """The next whole SLIP frame, unescaped; NoAnswer when none comes in time."""
        deadline = time.monotonic() + timeout
        while True:
            start = self.pending.find(b"\xc0")
            if start > 0:
                self.text += self.pending[:start]
                self.pending = self.pending[start:]
                start = 0
            if start == 0:
                end = self.pending.find(b"\xc0", 1)
                if end == 1:  # two delimiters in a row: an empty frame
                    self.pending = self.pending[1:]
                    continue
                if end > 1:
                    body = self.pending[1:end]
                    self.pending = self.pending[end + 1:]
                    return body.replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb")
            else:
                self.text += self.pending
                self.pending = b""
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoAnswer("no frame within %.1f s" % timeout)
            self.pending += self.link.read(left)

    def response(self, op, timeout=3.0):
        """(val, data, status, error) of the next response to op."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.frame(max(deadline - time.monotonic(), 0.0))
            if len(f) < 8 or f[0] != 1 or f[1] != op:
                continue
            _, _, size, val = struct.unpack("<BBHI", f[:8])
            data = f[8:8 + size]
            n = 2 if self.stub else 4
            if len(data) < n:
                raise ValueError("response to 0x%02x with %d data bytes" % (op, len(data)))
            return val, data[:-n], data[-n], data[-n + 1]

    def command(self, op, data=b"", chk=0, timeout=3.0):
        self.send(op, data, chk)
        return self.response(op, timeout)

    def check(self, op, data=b"", chk=0, timeout=3.0):
        """Like command, but a failure status raises."""
        val, body, status, error = self.command(op, data, chk, timeout)
        if status != 0:
            raise RuntimeError("command 0x%02x failed: status %d error 0x%02x" % (op, status, error))
        return val, body

    def sync(self, attempts=10, wait=0.2):
        """SYNC until the loader answers (waiting wait seconds for each answer); returns
        the vals of every answer it sent."""
        for _ in range(attempts):
            self.send(SYNC, SYNC_DATA)
            vals = []
            try:
                while True:
                    vals.append(self.response(SYNC, wait)[0])
            except NoAnswer:
                pass
            if vals:
                return vals
        raise NoAnswer("no answer to SYNC")

    def read_reg(self, addr):
        return self.check(READ_REG, struct.pack("<I", addr))[0]

    def write_reg(self, addr, value):
        self.check(WRITE_REG, struct.pack("<IIII", addr, value, 0xFFFFFFFF, 0))

    def spi_attach(self, pins=0):
        data = struct.pack("<I", pins) + (b"" if self.stub else b"\0\0\0\0")
        return self.command(SPI_ATTACH, data)

    def change_baud(self, new, old=0):
        self.check(CHANGE_BAUDRATE, struct.pack("<II", new, old))

    def upload_stub(self, path):
        """MEM_BEGIN/MEM_DATA/MEM_END of a stub JSON file; waits for OHAI."""
        with open(path) as f:
            stub = json.load(f)
        for key in ("text", "data"):
            if key not in stub:
                continue
            blob = base64.b64decode(stub[key])
            addr = stub[key + "_start"]
            block = 0x1800
            blocks = (len(blob) + block - 1) // block
            self.check(MEM_BEGIN, struct.pack("<IIII", len(blob), blocks, block, addr))
            for seq in range(blocks):
                part = blob[seq * block:(seq + 1) * block]
                self.check(MEM_DATA, struct.pack("<IIII", len(part), seq, 0, 0) + part,
                           checksum(part))
        self.check(MEM_END, struct.pack("<II", 0, stub["entry"]))
        deadline = time.monotonic() + 3
        while True:
            if self.frame(max(deadline - time.monotonic(), 0.0)) == b"OHAI":
                self.stub = True
                return

    def md5(self, addr, size, timeout=5.0):
        val, body = self.check(SPI_FLASH_MD5, struct.pack("<IIII", addr, size, 0, 0),
                               timeout=timeout)
        return body.hex() if self.stub else body.decode()

    def read_flash(self, addr, size, packet=0x1000):
        """The stub's READ_FLASH: packets, an acknowledgement after each, then the MD5."""
        self.check(READ_FLASH, struct.pack("<IIII", addr, size, packet, 64))
        data = b""
        while len(data) < size:
            data += self.frame()
            self.link.write(slip(struct.pack("<I", len(data))))
        digest = self.frame()
        return data, digest


def spi_command(ld, chip, cmd, miso_bits, addr=None):
    """Runs a flash command through the SPI controller's user registers (as flashers do
    for RDID and SFDP) and returns the first register of what it read. chip holds the
    controller's base and register offsets."""
    base = chip["base"]
    usr = 1 << 31 | (1 << 28 if miso_bits else 0) | (1 << 30 if addr is not None else 0)
    ld.write_reg(base + chip["usr"], usr)
    ld.write_reg(base + chip["usr2"], 7 << 28 | cmd)
    if addr is not None:
        ld.write_reg(base + 4, addr << 8 if chip["addr_msb"] else addr)
        ld.write_reg(base + chip["usr1"], 23 << 26)
    ld.write_reg(base + chip["miso_dlen"], miso_bits - 1 if miso_bits else 0)
    ld.write_reg(base + chip["w0"], 0)
    ld.write_reg(base, 1 << 18)
    for _ in range(10):
        if not ld.read_reg(base) & (1 << 18):
            break
    words = [ld.read_reg(base + chip["w0"] + 4 * i) for i in range((miso_bits + 31) // 32)]
    return words


# SPI controller registers (Espressif's register maps; FACTS.md lists them).
SPI = {
    "esp32": dict(base=0x3FF42000, usr=0x1C, usr1=0x20, usr2=0x24, miso_dlen=0x2C, w0=0x80,
                  addr_msb=True),
    "esp32c3": dict(base=0x60002000, usr=0x18, usr1=0x1C, usr2=0x20, miso_dlen=0x28, w0=0x58,
                    addr_msb=False),
}


# The RTC watchdog's registers (write-protect, config0, config1), from Espressif's
# register maps: what a client writes for a watchdog reset.
RTC_WDT = {
    "esp32c3": (0x600080A8, 0x60008090, 0x60008094),
    "esp32s3": (0x600080B0, 0x60008098, 0x6000809C),
}
WDT_KEY = 0x50D83AA1


def arm_rtc_watchdog(ld, chip, ticks=2000, unlock=True):
    """Arms the RTC watchdog as esptool's watchdog_reset does: unlock, stage 0 timeout,
    enable (stage 0 resets, chip reset on), lock."""
    wprotect, config0, config1 = RTC_WDT[chip]
    if unlock:
        ld.write_reg(wprotect, WDT_KEY)
    ld.write_reg(config1, ticks)
    ld.write_reg(config0, 1 << 31 | 5 << 28 | 1 << 8 | 2)
    ld.write_reg(wprotect, 0)


def read_for(link, seconds):
    """Everything the board prints for seconds, as (time, bytes) pieces, times from the
    call."""
    t0 = time.monotonic()
    pieces = []
    while True:
        left = seconds - (time.monotonic() - t0)
        if left <= 0:
            return pieces
        data = link.read(min(left, 0.05))
        if data:
            pieces.append((time.monotonic() - t0, data))


def lines_at(pieces):
    """The text's lines with the time their end arrived."""
    out, part = [], b""
    for t, data in pieces:
        part += data
        while b"\n" in part:
            line, part = part.split(b"\n", 1)
            out.append((t, line.rstrip(b"\r").decode("latin1")))
    return out
