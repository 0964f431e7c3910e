#!/usr/bin/env python3
"""Makes a records store as a factory station's espgang leaves it, for the HTML report
test: the schema from db/ (schema.sql and every migration, in order), then one
shift's run of 64 boards on a 16-slot fixture and a second run that flashes some of
them again, with a realistic spread of results:

- slot 7 ("A7") has a bad pogo pin: most of its boards fail to write or verify;
- a few other boards fail elsewhere (no answer to SYNC, a flash write timing out, a
  boot check that sees a panic or times out);
- one board is canceled and one interrupted;
- passing boards get a serial number, a log file and a passing boot check.

usage: report_store.py DB_DIR STORE
Deterministic (a seeded generator): the same store every time."""

import glob
import os
import random
import sqlite3
import sys

db_dir, path = sys.argv[1], sys.argv[2]
con = sqlite3.connect(path)
scripts = [os.path.join(db_dir, "schema.sql")] + sorted(
    glob.glob(os.path.join(db_dir, "migrations", "*.sql")))
for version, script in enumerate(scripts, 1):
    with open(script) as f:
        con.executescript(f.read())
    con.execute("PRAGMA user_version = %d" % version)

rng = random.Random(42)
T0 = 1764576000000  # 2025-12-01T08:00:00Z
EG_ETIMEDOUT, EG_EMISMATCH, EG_EIO = -4, -9, -3
LABELS = ["A%d" % (i % 8 + 1) if i < 8 else "B%d" % (i % 8 + 1) for i in range(16)]
SHA = {"bootloader": "5f" * 32, "partition-table": "a1" * 32, "app": "c2" * 32}
MD5 = {"bootloader": "9a" * 16, "partition-table": "3c" * 16, "app": "41" * 16}
OFFSETS = {"bootloader": 0x0, "partition-table": 0x8000, "app": 0x10000}
SIZES = {"bootloader": 0x5000, "partition-table": 0xc00, "app": 0x40000}

con.executemany("INSERT INTO contents (id, label, size, sha256, md5_expected) VALUES (?, ?, ?, ?, ?)",
                [(i + 1, k, SIZES[k], SHA[k], MD5[k]) for i, k in enumerate(SHA)])
content_id = {k: i + 1 for i, k in enumerate(SHA)}
con.execute("INSERT INTO runs (id, station, operator_name, lot, profile_name, kind, version, host, "
            "pid, started_ms, ended_ms) VALUES (1, 'line-1', 'ana', 'L42', 'wx-sensor', 'flash', "
            "'0.2.0', 'st1', 100, ?, ?)", (T0, T0 + 2 * 3600000))
con.execute("INSERT INTO runs (id, station, operator_name, lot, profile_name, kind, version, host, "
            "pid, started_ms, ended_ms) VALUES (2, 'line-1', 'ana', 'L42', 'wx-sensor', 'flash', "
            "'0.2.0', 'st1', 101, ?, ?)", (T0 + 3 * 3600000, T0 + 4 * 3600000))

attempt_id = 0
serial_seq = 0
serials = {}


def mac_of(n):
    return "24:0a:c4:12:%02x:%02x" % (n >> 8, n & 0xff)


def add(run, seq, slot, started, dur, mac, result, step=None, code=None, message=None,
        boot=None, boot_line=None, region_fail=None):
    global attempt_id, serial_seq
    attempt_id += 1
    ended = None if result in ("running", "interrupted") else started + dur
    serial = None
    if mac and result in ("pass", "fail") and step not in ("connect", "identify"):
        if mac not in serials:
            serial_seq += 1
            serials[mac] = ("WX-L42-%06d" % serial_seq, serial_seq)
            con.execute("INSERT INTO serial_numbers VALUES ('WX-L42-{seq:06}', ?, ?, ?, ?)",
                        (serial_seq, serials[mac][0], mac, started + 900))
        serial = serials[mac][0]
    if mac:
        con.execute("INSERT INTO devices VALUES (?, 'ESP32-S3', ?, ?) ON CONFLICT (mac) DO UPDATE "
                    "SET last_seen_ms = excluded.last_seen_ms", (mac, started, started))
    log = "logs/%d/%03d-slot%02d.log" % (run, seq, slot)
    tail = "rst:0x1 (POWERON_RESET)\nboot:0x8 (SPI_FAST_FLASH_BOOT)\n" + (boot_line or "")
    ms = [None] * 8
    if ended is not None:
        ms = [120, 40, 3, None, int(dur * 0.7), int(dur * 0.15), 8, 900 if boot else None]
    con.execute(
        "INSERT INTO attempts (id, run_id, seq, slot, slot_label, port, usb_location, kind, chip, "
        "revision, mac, flash_id, flash_size, result, failed_step, error_code, error_message, "
        "retries, ms_connect, ms_identify, ms_check, ms_erase, ms_write, ms_verify, ms_finish, "
        "ms_boot, started_ms, ended_ms, serial_number, log_path, boot_result, boot_line, boot_tail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'flash', ?, ?, ?, 1064216, 8388608, ?, ?, ?, ?, 0, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (attempt_id, run, seq, slot, LABELS[slot - 1], "/dev/ttyACM%d" % (slot - 1),
         "1-2.%d.%d" % ((slot - 1) // 4 + 1, (slot - 1) % 4 + 1), "ESP32-S3" if mac else None,
         2 if mac else None, mac, result, step, code, message, *ms, started, ended, serial, log,
         boot, boot_line, tail if boot else None))
    if mac and result in ("pass", "fail") and step not in ("connect", "identify"):
        for k in ("bootloader", "partition-table", "app"):
            failed = region_fail == k
            outcome = "failed" if failed else "written"
            device = ("00" * 16) if failed else MD5[k]
            con.execute("INSERT INTO regions VALUES (?, ?, ?, ?, ?)",
                        (attempt_id, OFFSETS[k], content_id[k], device, outcome))


# Run 1: 64 boards, 4 rounds of the 16 slots, a round every ~25 minutes.
n = 0
for rnd in range(4):
    for slot in range(1, 17):
        n += 1
        started = T0 + rnd * 25 * 60000 + slot * 1500 + rng.randrange(0, 900)
        dur = 38000 + rng.randrange(-4000, 9000)
        mac = mac_of(n)
        if slot == 7 and rnd != 2:  # the bad pogo pin
            if rnd == 0:
                add(1, n, slot, started, dur + 20000, mac, "fail", "write", EG_ETIMEDOUT,
                    "port '/dev/ttyACM6': writing flash at 0x00010000: block 12: timed out, "
                    "\"no answer\"", region_fail="app")
            else:
                add(1, n, slot, started, dur, mac, "fail", "verify", EG_EMISMATCH,
                    "verify: app at 0x10000: md5 differs", region_fail="app")
        elif n == 12:
            add(1, n, slot, started, 9000, None, "fail", "connect", EG_ETIMEDOUT,
                "no answer to SYNC after 7 attempts")
        elif n == 30:
            add(1, n, slot, started, dur + 30000, mac, "fail", "boot", EG_EMISMATCH,
                "boot check: the console said: Guru Meditation Error", boot="fail",
                boot_line="Guru Meditation Error: Core  0 panic'ed (LoadProhibited)")
        elif n == 41:
            add(1, n, slot, started, dur + 60000, mac, "fail", "boot", EG_ETIMEDOUT,
                "boot check: 'app: ready' did not appear within 10 s", boot="timeout",
                boot_line=None)
        elif n == 50:
            add(1, n, slot, started, dur, mac, "fail", "write", EG_ETIMEDOUT,
                "writing flash at 0x00000000: timed out", region_fail="bootloader")
        elif n == 57:
            add(1, n, slot, started, 5000, mac, "canceled", "write", -10, "stopped on request")
        elif n == 60:
            add(1, n, slot, started, 0, mac, "interrupted")
        else:
            add(1, n, slot, started, dur, mac, "pass", boot="pass",
                boot_line="I (312) app: ready")
# Run 2: the failed boards of slot 7 and board 50 again, on slot 8 (now they pass).
for i, again in enumerate((7, 23, 55, 50)):
    add(2, i + 1, 8, T0 + 3 * 3600000 + i * 60000, 41000, mac_of(again), "pass", boot="pass",
        boot_line="I (312) app: ready")
con.commit()
con.close()
