"""run --watch in a umockdev test bed: boards plugged in, unplugged and re-enumerating.

Run under umockdev-wrapper (see usb_bed.py):

  umockdev-wrapper /usr/bin/python3 watch_bed.py ESPGANG ESPSIM DIR

The bed's terminals are pseudo-terminals; behind each, this script relays the bytes to
one of espsim's virtual boards (over TCP), so espgang meets real libudev hotplug events
and a board that answers. One `espgang run --watch --json` takes, in turn:

  1. a board plugged into slot A1 (a CP2102): flashed, PASS;
  2. a slow board plugged into slot A2 (a CH340) and pulled out mid-write: FAIL
     'unplugged' at once, while the board in A1 is left alone;
  3. A1's board unplugged (the slot empties) and another board plugged in there: PASS;
  4. the first board plugged into A2: 'already passed', not written again;
  5. a board on the chip's own USB (303a:1001) in slot JTAG that leaves the bus when
     its worker resets it and comes back as another terminal: the same attempt, PASS;
  6. a slow board plugged in, then Ctrl-C: the running board finishes (PASS), nothing
     new starts (a board plugged in after Ctrl-C is left alone), exit 0.

Then the records are checked. Prints 'ok: ...' or 'FAIL: ...' per check; exits 1 when
any failed.
"""
import json
import os
import select
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import usb_bed  # noqa: E402

FAILS = []


def check(ok, what, detail=""):
    print(("ok: " if ok else "FAIL: ") + what + ("" if ok else ": " + str(detail)), flush=True)
    if not ok:
        FAILS.append(what)


# What plugs in: VID, PID, manufacturer, product, driver (None: cdc_acm, a ttyACM).
KINDS = {
    "cp210x": ("10c4", "ea60", "Silicon Labs", "CP2102 USB to UART Bridge Controller", "cp210x"),
    "ch341": ("1a86", "7523", "QinHeng Electronics", "USB Serial", "ch341"),
    "jtag": ("303a", "1001", "Espressif", "USB JTAG/serial debug unit", None),
}
# The bed keeps a terminal's name once used: every plug takes a new one, as a kernel
# does while the old one is still held open.
NEXT = {"ttyUSB": 0, "ttyACM": 0}


class Board:
    """One of espsim's boards, plugged into a USB port of the bed (or not)."""

    def __init__(self, bed, addr):
        self.bed = bed
        self.addr = addr

    def plug(self, loc, kind, serial):
        vid, pid, man, prod, driver = KINDS[kind]
        prefix = "ttyUSB" if driver else "ttyACM"
        tty = prefix + str(NEXT[prefix])
        NEXT[prefix] += 1
        self.dev = "/dev/" + tty
        self.bed.add_from_string(usb_bed.device_text(loc, tty, vid, pid, man, prod, serial, driver))
        self.paths = usb_bed.device_paths(loc, tty, driver)
        self.fd = self.bed.get_dev_fd("/dev/" + tty)
        self.sock = socket.create_connection(self.addr)
        self.stop = False
        self.thread = threading.Thread(target=self.relay, daemon=True)
        self.thread.start()

    def relay(self):
        fd, sock = self.fd, self.sock
        while not self.stop:
            try:
                r, _, _ = select.select([fd, sock], [], [], 0.1)
                if fd in r:
                    data = os.read(fd, 4096)
                    if data:
                        sock.sendall(data)
                if sock in r:
                    data = sock.recv(4096)
                    if not data:
                        return
                    os.write(fd, data)
            except OSError:
                time.sleep(0.05)  # the terminal is closed between connections

    def unplug(self):
        self.stop = True
        self.thread.join()
        for path in self.paths:  # the terminal first, as the kernel announces it
            self.bed.uevent(path, "remove")
            self.bed.remove_device(path)
        self.sock.close()


class Espgang:
    """espgang run --watch --json, its events read as they come."""

    def __init__(self, args, log):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
        self.events = []
        self.cv = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                e = {"event": "bad", "text": line}
            with self.cv:
                self.events.append(e)
                self.cv.notify_all()
        with self.cv:
            self.events.append({"event": "exit"})
            self.cv.notify_all()

    def wait(self, pred, timeout=20, start=0):
        """The first event from index start on that pred accepts, or None."""
        end = time.time() + timeout
        with self.cv:
            while True:
                for e in self.events[start:]:
                    if pred(e):
                        return e
                left = end - time.time()
                if left <= 0 or (self.events and self.events[-1].get("event") == "exit"):
                    return None
                self.cv.wait(left)

    def mark(self):
        with self.cv:
            return len(self.events)


def done_at(slot):
    return lambda e: e.get("event") == "done" and e.get("slot") == slot


def main():
    espgang, espsim, tmp = sys.argv[1:4]
    bed = UMockdev.Testbed.new()
    data = os.urandom(256 * 1024)
    with open(os.path.join(tmp, "data.bin"), "wb") as f:
        f.write(data)
    import hashlib

    with open(os.path.join(tmp, "p.yaml"), "w") as f:
        f.write(
            "version: 1\nname: watch test\nchip: esp32c3\n"
            "connection: {connect_attempts: 2}\n"
            "retries: {connect: 3}\n"
            "images:\n  regions: [{offset: 0x10000, file: data.bin, sha256: %s}]\n"
            % hashlib.sha256(data).hexdigest()
        )
    with open(os.path.join(tmp, "slots.yaml"), "w") as f:
        f.write('version: 1\nslots:\n  1-2.1: {slot: 1, label: A1}\n  1-2.2: {slot: 2, label: A2}\n'
                '  1-2.3: {slot: 3, label: JTAG}\n')
    # Boards 1 and 5 answer slowly (their writes take seconds).
    sim = subprocess.Popen(
        [espsim, "--chip", "esp32c3", "--tcp", "0", "--boards", "6", "--fault", "1:stall=150",
         "--fault", "5:stall=100"],
        stdout=subprocess.PIPE, text=True)
    addrs = []
    for _ in range(6):
        line = sim.stdout.readline()
        host, port = line.split(" ready on socket://")[1].split()[0].split(":")
        addrs.append((host, int(port)))
    boards = [Board(bed, a) for a in addrs]
    db = os.path.join(tmp, "w.db")
    eg = Espgang([espgang, "run", os.path.join(tmp, "p.yaml"), "--watch", "--json", "--slots",
                  os.path.join(tmp, "slots.yaml"), "--db", db], os.path.join(tmp, "eg.err"))
    try:
        scenario(eg, boards)
    finally:
        if eg.p.poll() is None:
            eg.p.kill()
        sim.kill()
        with open(os.path.join(tmp, "events.jsonl"), "w") as f:
            for e in eg.events:
                f.write(json.dumps(e) + "\n")
    records(db)
    sys.exit(1 if FAILS else 0)


def scenario(eg, boards):
    b0, b1, b2, b3, b4, b5 = boards
    e = eg.wait(lambda e: e.get("event") == "watching")
    check(e is not None, "espgang watches", eg.events)
    # 1. A board in slot A1.
    b0.plug("1-2.1", "cp210x", "0001")
    e = eg.wait(done_at(1))
    check(e and e["result"] == "PASS" and e.get("slot_label") == "A1" and e["mac"].endswith(":01"),
          "a board plugged into A1 is flashed: PASS", e)
    # 2. A slow board in A2, pulled out mid-write.
    m = eg.mark()
    b1.plug("1-2.2", "ch341", "")
    e = eg.wait(lambda e: e.get("event") == "step" and e.get("slot") == 2 and e["step"] == "write"
                and e["state"] == "start", start=m)
    check(e is not None, "the slow board in A2 starts writing", eg.events[m:])
    time.sleep(0.5)
    t0 = time.time()
    b1.unplug()
    e = eg.wait(done_at(2), start=m)
    took = time.time() - t0
    check(e and e["result"] == "FAIL" and e["cause"].endswith("unplugged") and took < 3,
          "pulled out mid-write: FAIL unplugged at once (%.1f s)" % took, e)
    check(eg.wait(lambda e: e.get("event") == "slot" and e.get("slot") == 1 and "unplugged" in e["text"],
                  timeout=0.1) is None, "the board in A1 is left alone")
    # 3. A1 emptied, and another board there.
    m = eg.mark()
    b0.unplug()
    e = eg.wait(lambda e: e.get("event") == "slot" and e.get("slot") == 1, start=m)
    check(e and e["text"] == "unplugged" and e["state"] == "empty", "unplugging A1's board empties the slot", e)
    b2.plug("1-2.1", "cp210x", "0002")
    e = eg.wait(done_at(1), start=m)
    check(e and e["result"] == "PASS" and e["mac"].endswith(":03"), "the next board in A1: PASS", e)
    # 4. The first board again, in A2: already passed.
    m = eg.mark()
    b0.plug("1-2.2", "ch341", "")
    e = eg.wait(done_at(2), start=m)
    check(e and e["result"] == "already passed" and e["mac"].endswith(":01") and
          "passed this profile before" in e["message"], "a board that passed before: already passed", e)
    writes = [x for x in eg.events[m:] if x.get("event") == "step" and x.get("slot") == 2
              and x["step"] in ("erase", "write")]
    check(not writes, "  and not written again", writes)
    # 5. USB-Serial-JTAG: leaves the bus as its worker resets it, back as ttyACM1.
    m = eg.mark()
    b3.plug("1-2.3", "jtag", "24:0A:C4:00:00:04")
    e = eg.wait(lambda e: e.get("event") == "step" and e.get("slot") == 3 and e["step"] == "connect"
                and e["state"] == "start", start=m)
    b3.unplug()
    time.sleep(0.3)
    b3.plug("1-2.3", "jtag", "24:0A:C4:00:00:04")
    e = eg.wait(done_at(3), start=m)
    check(e and e["result"] == "PASS" and e["port"] == "/dev/ttyACM1",
          "a USB-Serial-JTAG board back under another name: the same attempt, PASS", e)
    back = [x for x in eg.events[m:] if x.get("event") == "slot" and x.get("slot") == 3]
    check([x["text"] for x in back] == ["board plugged in at /dev/ttyACM0",
                                        "left the bus after its reset; waiting for it to come back",
                                        "back after its reset as /dev/ttyACM1"],
          "  said: plugged in, left the bus after its reset, back", back)
    seqs = {x.get("seq") for x in eg.events[m:] if x.get("slot") == 3 and x.get("seq")}
    check(len(seqs) == 1, "  one attempt", seqs)
    # 6. Ctrl-C while a slow board writes: it finishes; a board plugged in after is left alone.
    b0.unplug()  # A2 empties
    m = eg.mark()
    b5.plug("1-2.2", "ch341", "")
    e = eg.wait(lambda e: e.get("event") == "step" and e.get("slot") == 2 and e["step"] == "write"
                and e["state"] == "start", start=m)
    eg.p.send_signal(2)
    e = eg.wait(lambda e: e.get("event") == "stopping", start=m)
    check(e is not None and not e["now"], "Ctrl-C: stopping, the running boards finish", e)
    b2.unplug()
    b4.plug("1-2.1", "cp210x", "0005")
    e = eg.wait(done_at(2), start=m, timeout=30)
    check(e and e["result"] == "PASS", "  the running board finished: PASS", e)
    rc = eg.p.wait(timeout=20)
    check(rc == 0, "  then espgang exits 0", rc)
    late = [x for x in eg.events[m:] if x.get("slot") == 1 and x.get("event") in ("step", "done")]
    check(not late, "  a board plugged in after Ctrl-C is left alone", late)
    s = eg.wait(lambda e: e.get("event") == "summary", timeout=1)
    check(s and s["passed"] == 4 and s["failed"] == 1 and s["already_passed"] == 1,
          "  summary: 4 passed, 1 failed, 1 already passed", s)


def records(db):
    c = sqlite3.connect(db)
    rows = c.execute("select seq, slot, result, failed_step, error_code, mac, port from attempts "
                     "order by seq").fetchall()
    got = [(r[1], r[2]) for r in rows]
    check(got == [(1, "pass"), (2, "fail"), (1, "pass"), (2, "canceled"), (3, "pass"), (2, "pass")],
          "records: every attempt once, by slot and result", rows)
    unpl = [r for r in rows if r[2] == "fail"]
    check(unpl and unpl[0][4] == -12, "records: the unplugged attempt's error is 'unplugged'", unpl)
    already = [r for r in rows if r[2] == "canceled"]
    check(already and already[0][3] == "identify" and already[0][4] == -13,
          "records: 'already passed' is canceled at identify", already)
    check(c.execute("select count(*) from runs where ended_ms is null").fetchone()[0] == 0,
          "records: the run is ended")


if __name__ == "__main__":
    main()
