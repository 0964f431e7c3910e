#!/bin/sh
# espgang report --format html: the page of a recorded 64-board run with failures
# (report_store.py makes the store: 16 slots, one with a bad pogo pin, several causes,
# boot checks) opened in headless Chromium: a screenshot is taken, the browser logs no
# console message at all (the page has no scripts; anything it tried to load would be
# a Content-Security-Policy error), and the numbers shown equal the database's
# (report_dom.py reads the DOM Chromium made and computes them with SQL). Then the
# page of more attempts than the device table shows, and refusals.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DBDIR=$(cd "$HERE/../../db" && pwd)
export TZ=UTC0
DB="$TMP/line1.db"

CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
    # Not skipped silently: the set-up installs it (tools/setup.sh).
    fail "no chromium: run tools/setup.sh"
    finish
fi
# chromium_run OUT ERR ARGS...: headless, as root, offline, with a fresh profile.
chromium_run() {
    out=$1 err=$2
    shift 2
    rm -rf "$TMP/profile"
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-default-apps \
        --user-data-dir="$TMP/profile" --enable-logging=stderr --v=0 "$@" >"$out" 2>"$err"
}
# console_lines ERR: what the page logged to its console.
console_lines() { grep -E ':CONSOLE[:(]' "$1"; }

python3 "$HERE/report_store.py" "$DBDIR" "$DB" || { fail "cannot make the test store"; finish; }
[ "$(sqlite3 "$DB" "SELECT count(*) FROM attempts WHERE run_id = 1")" -eq 64 ] &&
    pass "the store holds a 64-board run" || fail "the store's run 1 is not 64 boards"

# The page: one file, nothing from elsewhere.
expect_ok "html report" "$ESPGANG" report --db "$DB" --format html -o "$TMP/report.html"
grep -q "Wrote the report of '$DB' to '$TMP/report.html' as HTML" "$TMP/err" &&
    grep -q "^68 attempts: 59 pass, 7 fail" "$TMP/err" && pass "html: summary on standard error" ||
    fail "html stderr: $(cat "$TMP/err")"
expect_ok "html to standard output" "$ESPGANG" report --db "$DB" --format html
# The same page but for the minute it was made in.
sed 's/made [0-9-]* [0-9:]*/made X/' "$TMP/out" >"$TMP/a.html"
sed 's/made [0-9-]* [0-9:]*/made X/' "$TMP/report.html" >"$TMP/b.html"
same_files "-o equals standard output" "$TMP/a.html" "$TMP/b.html"
H="$TMP/report.html"
head -c 15 "$H" | grep -q '<!DOCTYPE html>' && pass "an HTML document" || fail "not HTML: $(head -c 80 "$H")"
grep -qi '<script' "$H" && fail "the page has a script" || pass "no scripts"
grep -Eqi '(src|href)="(https?:)?//' "$H" && fail "the page links elsewhere: $(grep -Eoi '(src|href)="(https?:)?//[^"]*' "$H" | head -3)" ||
    pass "no links to other hosts"
grep -Eqi '@import|@font-face|url\(' "$H" && fail "the CSS loads something" || pass "the CSS loads nothing"
grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$H" &&
    pass "a Content-Security-Policy that forbids loading anything" || fail "no CSP"
[ "$(grep -o '<svg' "$H" | wc -l)" -eq 3 ] && pass "inline SVG charts" ||
    fail "SVG charts: $(grep -o '<svg' "$H" | wc -l)"

# The browser notices a console message and a blocked load: the checks below can fail.
printf '<!DOCTYPE html><html><body><script>console.error("eg-control")</script></body></html>' \
    >"$TMP/control.html"
chromium_run "$TMP/control.dom" "$TMP/control.err" --dump-dom "file://$TMP/control.html"
console_lines "$TMP/control.err" | grep -q eg-control && pass "control: a console error is seen" ||
    fail "control: chromium's console log not seen: $(tail -3 "$TMP/control.err")"
sed 's|</head>|<img src="http://127.0.0.1:9/x.png"></head>|' "$H" >"$TMP/control2.html"
chromium_run "$TMP/control2.dom" "$TMP/control2.err" --dump-dom "file://$TMP/control2.html"
console_lines "$TMP/control2.err" | grep -q "Content Security Policy" &&
    pass "control: the page's policy blocks a load from elsewhere, and says so" ||
    fail "control: no CSP message: $(console_lines "$TMP/control2.err" | head -3)"

# The report in Chromium: a screenshot, no console message, the DOM read back.
chromium_run "$TMP/shot.out" "$TMP/shot.err" --hide-scrollbars --window-size=1600,2400 \
    --screenshot="$TMP/report.png" "file://$H"
size=$(wc -c <"$TMP/report.png" 2>/dev/null || echo 0)
[ "$(head -c 8 "$TMP/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
    [ "$size" -gt 50000 ] && pass "screenshot taken ($size bytes of PNG)" ||
    fail "screenshot: $size bytes; $(tail -3 "$TMP/shot.err")"
[ -n "${EG_REPORT_SCREENSHOT:-}" ] && cp "$TMP/report.png" "$EG_REPORT_SCREENSHOT"
chromium_run "$TMP/dom.html" "$TMP/dom.err" --dump-dom "file://$H"
[ -z "$(console_lines "$TMP/shot.err")" ] && [ -z "$(console_lines "$TMP/dom.err")" ] &&
    pass "no console messages" ||
    fail "console: $(console_lines "$TMP/shot.err" "$TMP/dom.err" | head -5)"
grep -q 'id="devices"' "$TMP/dom.html" && pass "chromium made the DOM" ||
    fail "no DOM: $(head -c 200 "$TMP/dom.html")"
if python3 "$HERE/report_dom.py" "$TMP/dom.html" "$DB" >"$TMP/dom.txt"; then
    pass "the numbers shown equal the database's ($(grep -c '^ok' "$TMP/dom.txt") checks)"
else
    fail "the numbers shown differ from the database's:"
    grep -v '^ok' "$TMP/dom.txt"
fi

# Filters narrow the page: run 2 alone (all passed).
expect_ok "html of run 2" "$ESPGANG" report --db "$DB" --format html --run 2 -o "$TMP/run2.html"
chromium_run "$TMP/run2.dom" "$TMP/run2.err" --dump-dom "file://$TMP/run2.html"
python3 - "$TMP/run2.dom" <<'PY' && pass "run 2: 4 rows, yield 100.0%, no fixture alert" || fail "run 2 page"
import re, sys
d = open(sys.argv[1]).read()
sys.exit(0 if len(re.findall(r'<tr class="dev ', d)) == 4 and 'data-k="yield" data-v="1"' in d
         and 'id="attention"' not in d and '>run 2' in d else 1)
PY

# More attempts than the table shows: the latest that did not pass, and a note.
python3 - "$DB" "$TMP/big.db" <<'PY' || fail "cannot make the big store"
import shutil, sqlite3, sys
shutil.copy(sys.argv[1], sys.argv[2])
db = sqlite3.connect(sys.argv[2])
db.execute("INSERT INTO runs (id, kind, version, host, pid, started_ms, ended_ms) VALUES "
           "(3, 'flash', '0.2.0', 'st1', 102, 1764600000000, 1764700000000)")
rows = []
for i in range(7000):
    failed = i % 7 == 3
    rows.append((3, i, i % 16 + 1, "/dev/ttyACM0", "flash", "fail" if failed else "pass",
                 "write" if failed else None, -4 if failed else None,
                 1764600000000 + i * 3000, 1764600000000 + i * 3000 + 40000))
db.executemany("INSERT INTO attempts (run_id, seq, slot, port, kind, result, failed_step, "
               "error_code, started_ms, ended_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
db.commit()
PY
expect_ok "html of 7,068 attempts" "$ESPGANG" report --db "$TMP/big.db" --format html -o "$TMP/big.html"
chromium_run "$TMP/big.dom" "$TMP/big.err" --dump-dom "file://$TMP/big.html"
grep -q 'id="rows-note"' "$TMP/big.dom" && pass "big: the table says what it shows" ||
    fail "big: no note on the rows"
if python3 "$HERE/report_dom.py" "$TMP/big.dom" "$TMP/big.db" 5000 >"$TMP/big.txt"; then
    pass "big: the numbers and the latest 5,000 attempts that did not pass"
else
    fail "big:"
    grep -v '^ok' "$TMP/big.txt"
fi

# Refusals: a device's history is not a page; a page cannot go where nothing can be
# written, and leaves the file it would have replaced alone.
expect_usage "html with --device" "a device's history is text, csv or json" \
    "$ESPGANG" report --db "$DB" --format html --device 24:0a:c4:12:00:01
expect_usage "--format text without --device" "--format text is for a device's history" \
    "$ESPGANG" report --db "$DB" --format text
expect_fail "html -o in a missing folder" "cannot create a file next to '$TMP/no/r.html'" 10 \
    "$ESPGANG" report --db "$DB" --format html -o "$TMP/no/r.html"
echo "old page" >"$TMP/keep.html"
printf 'not a database at all, but long enough to have a header of bytes %0200d\n' 0 >"$TMP/text.db"
expect_fail "html of a file that is not a store" "is not an SQLite database" 10 \
    "$ESPGANG" report --db "$TMP/text.db" --format html -o "$TMP/keep.html"
[ "$(cat "$TMP/keep.html")" = "old page" ] && pass "a failed page leaves -o's file alone" ||
    fail "-o file changed"
finish
