#!/usr/bin/env python3
"""Reads back the DOM that Chromium made of an HTML report (its --dump-dom) and checks
that the numbers shown equal the records store's, computed here from the database
with SQL and nothing of espgang's: the headline tiles (their data and the text shown),
the slots, the fixture alert, failures by cause and by step, the time per board, the
boards per hour and every row of the device table.

usage: report_dom.py DOM_FILE STORE [MAX_ROWS]
Prints "ok: ..." / "FAIL: ..." lines; exits 1 when anything failed."""

import html.parser
import sqlite3
import sys

ERROR_NAMES = {-1: "invalid input", -2: "out of memory", -3: "i/o error", -4: "timed out",
               -5: "protocol error", -6: "device reported a failure", -7: "not supported",
               -8: "not found", -9: "mismatch", -10: "canceled", -11: "busy", -12: "unplugged"}
BREAK_MS = 5 * 60 * 1000

fails = 0


def check(ok, what):
    global fails
    if ok:
        print("ok: " + what)
    else:
        fails += 1
        print("FAIL: " + what)


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], []

    def all_text(self):
        out = "".join(self.text)
        for c in self.children:
            out += c.all_text() + c.tail
        return out

    def find(self, pred):
        found = [self] if pred(self) else []
        for c in self.children:
            found += c.find(pred)
        return found


VOID = {"meta", "br", "img", "input", "link", "hr", "line", "rect", "col"}


class Tree(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root", [], None)
        self.root.tail = ""
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        n.tail = ""
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        n.tail = ""
        self.cur.children.append(n)

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        if self.cur.children:
            self.cur.children[-1].tail += data
        else:
            self.cur.text.append(data)


def has_class(n, c):
    return c in n.attrs.get("class", "").split()


def num(text):
    return int(text.replace(",", "").strip())


dom_path, db_path = sys.argv[1], sys.argv[2]
max_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
t = Tree()
with open(dom_path, encoding="utf-8") as f:
    t.feed(f.read())
root = t.root
db = sqlite3.connect(db_path)
q = lambda sql, *a: db.execute(sql, a).fetchall()
q1 = lambda sql, *a: db.execute(sql, a).fetchone()[0]

n_pass = q1("SELECT count(*) FROM attempts WHERE result = 'pass'")
n_fail = q1("SELECT count(*) FROM attempts WHERE result = 'fail'")
n_all = q1("SELECT count(*) FROM attempts")

# Headline tiles: the data and the text a person reads.
tiles = {n.attrs["data-k"]: n for n in root.find(lambda n: has_class(n, "tile"))}
check(set(tiles) >= {"yield", "pass", "fail", "attempts", "boards_per_hour", "median_ms"},
      "the headline tiles are there (%s)" % ", ".join(sorted(tiles)))


def shown(key):
    v = tiles[key].find(lambda n: has_class(n, "v"))
    return v[0].all_text().strip() if v else ""


y = n_pass / (n_pass + n_fail)
check(abs(float(tiles["yield"].attrs["data-v"]) - y) < 1e-6,
      "yield data %s = %d / %d" % (tiles["yield"].attrs["data-v"], n_pass, n_pass + n_fail))
check(shown("yield") == "%.1f%%" % (100 * y), "yield shown '%s' = %.1f%%" % (shown("yield"), 100 * y))
check(num(shown("pass")) == n_pass, "passed shown %s = %d" % (shown("pass"), n_pass))
check(num(shown("fail")) == n_fail, "failed shown %s = %d" % (shown("fail"), n_fail))
check(num(shown("attempts")) == n_all, "attempts shown %s = %d" % (shown("attempts"), n_all))
other = q1("SELECT count(*) FROM attempts WHERE result NOT IN ('pass', 'fail')")
sub = tiles["attempts"].find(lambda n: has_class(n, "s"))[0].all_text()
want = "%d canceled, %d interrupted, %d running" % tuple(
    q1("SELECT count(*) FROM attempts WHERE result = ?", r)
    for r in ("canceled", "interrupted", "running"))
check(not other or sub == want, "the other attempts: '%s'" % sub)

# Time per board: pass and fail attempts that ended; median at rank ceil(n/2), to 10 ms.
durs = sorted(r[0] for r in q("SELECT ended_ms - started_ms FROM attempts WHERE result IN "
                              "('pass', 'fail') AND ended_ms >= started_ms"))
med = durs[(len(durs) + 1) // 2 - 1] // 10 * 10
check(int(tiles["median_ms"].attrs["data-v"]) == med,
      "median time per board %s ms = %d ms" % (tiles["median_ms"].attrs["data-v"], med))
check(shown("median_ms") == "%.1f s" % (med / 1000), "median shown '%s'" % shown("median_ms"))

# Boards per hour while working: spans joined across pauses under 5 minutes.
busy, cur = 0, None
for s, e in q("SELECT started_ms, COALESCE(ended_ms, started_ms) FROM attempts ORDER BY id"):
    e = max(e, s)
    if cur and s <= cur[1] + BREAK_MS:
        cur = [min(cur[0], s), max(cur[1], e)]
    else:
        if cur:
            busy += cur[1] - cur[0]
        cur = [s, e]
busy += cur[1] - cur[0]
rate = (n_pass + n_fail) * 3600000 / busy
check(abs(float(tiles["boards_per_hour"].attrs["data-v"]) - rate) < 0.06,
      "boards per hour %s = %.1f" % (tiles["boards_per_hour"].attrs["data-v"], rate))
check(num(shown("boards_per_hour")) == int(rate + 0.5),
      "boards per hour shown %s" % shown("boards_per_hour"))

# Slots: every slot, its label (the last recorded), its passes and failures.
slots = {int(n.attrs["data-slot"]): n for n in root.find(lambda n: has_class(n, "slot"))}
rows = q("SELECT slot, sum(result = 'pass'), sum(result = 'fail'), count(*) FROM attempts "
         "GROUP BY slot ORDER BY slot")
check(sorted(slots) == [r[0] for r in rows], "slots shown: %s" % sorted(slots))
for slot, p, fl, a in rows:
    n = slots.get(slot)
    if not n:
        continue
    label = (q("SELECT slot_label FROM attempts WHERE slot = ? AND slot_label IS NOT NULL "
               "ORDER BY id DESC LIMIT 1", slot) or [(None,)])[0][0]
    cp = n.find(lambda x: has_class(x, "cp"))[0].all_text()
    cf = n.find(lambda x: has_class(x, "cf"))[0].all_text()
    check((int(n.attrs["data-pass"]), int(n.attrs["data-fail"]), int(n.attrs["data-attempts"]),
           n.attrs["data-label"], num(cp), num(cf)) == (p, fl, a, label or "", p, fl),
          "slot %d (%s): %s pass, %s fail shown; the store says %d, %d" % (slot, label, cp, cf, p, fl))
# Far worse: 3 failures or more, a fifth of its boards or more, and twice the failure
# rate of all the other slots together plus 10 points.
bad = []
for slot, p, fl, a in rows:
    op, of = n_pass - p, n_fail - fl
    rate, others = fl / max(p + fl, 1), of / (op + of) if op + of else 0
    if fl >= 3 and rate >= 0.2 and rate >= 2 * others + 0.1:
        bad.append(slot)
flagged = [int(n.attrs["data-slot"]) for n in root.find(lambda n: has_class(n, "suspect"))]
check(flagged == bad, "slots framed as far worse: %s (by the rule: %s)" % (flagged, bad))
alert = root.find(lambda n: n.attrs.get("id") == "attention")
named = [int(li.attrs["data-slot"]) for li in alert[0].find(lambda n: n.tag == "li")] if alert else []
check(named == bad, "the fixture alert names slots %s" % bad)

# Failures by cause and by step.
causes = {n.attrs["data-cause"]: int(n.attrs["data-count"])
          for n in root.find(lambda n: "data-cause" in n.attrs)}
want = {}
for step, code, c in q("SELECT failed_step, error_code, count(*) FROM attempts WHERE result = "
                       "'fail' GROUP BY 1, 2"):
    want["%s: %s" % (step, ERROR_NAMES[code])] = c
check(causes == want, "failures by cause %s" % causes)
shown_counts = [num(n.find(lambda x: has_class(x, "n"))[0].all_text())
                for n in root.find(lambda n: "data-cause" in n.attrs)]
check(shown_counts == sorted(want.values(), reverse=True), "cause counts shown, most first")
steps = {n.attrs["data-step"]: int(n.attrs["data-count"])
         for n in root.find(lambda n: "data-step" in n.attrs)}
check(steps == dict(q("SELECT failed_step, count(*) FROM attempts WHERE result = 'fail' GROUP BY 1")),
      "failures by step %s" % steps)

# The device table: every attempt in start order (or the latest that did not pass).
trs = root.find(lambda n: n.tag == "tr" and has_class(n, "dev"))
if n_all <= max_rows:
    want = q("SELECT COALESCE(mac, ''), COALESCE(serial_number, ''), result, slot, "
             "COALESCE(boot_result, ''), log_path FROM attempts ORDER BY id")
else:
    want = q("SELECT * FROM (SELECT COALESCE(mac, ''), COALESCE(serial_number, ''), result, slot, "
             "COALESCE(boot_result, ''), log_path, id FROM attempts WHERE result != 'pass' "
             "ORDER BY id DESC LIMIT ?) ORDER BY id", max_rows)
    want = [w[:6] for w in want]
got = []
for tr in trs:
    links = tr.find(lambda n: n.tag == "a")
    got.append((tr.attrs["data-mac"], tr.attrs["data-serial"], tr.attrs["data-result"],
                int(tr.attrs["data-slot"]), tr.attrs["data-boot"],
                links[0].attrs["href"] if links else None))
check(len(got) == len(want), "device table rows: %d (want %d)" % (len(got), len(want)))
check(got == want, "device table: MAC, serial, result, slot, boot result and log of every row")
# The cells a person reads say the same.
cells_ok = True
for tr, w in zip(trs, want):
    tds = [td.all_text().strip() for td in tr.find(lambda n: n.tag == "td")]
    if (w[0] and tds[2] != w[0]) or tds[3] != w[1] or tds[5].lower() != w[2]:
        cells_ok = False
        print("  row %s: %s" % (w, tds))
check(cells_ok, "device table cells show the MAC, serial number and result")
db.close()
print("%d failed" % fails)
sys.exit(1 if fails else 0)
