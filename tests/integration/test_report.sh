#!/bin/sh
# espgang report: usage errors (exit 2), stores it cannot read (exit 1, the path named),
# and the files it writes: CSV and JSON, the filters, -o (atomic, nothing left behind)
# and --summary. The store is made here with db/schema.sql and rows put in with the
# sqlite3 shell, as another station's espgang would have left them.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
SCHEMA="$(cd "$(dirname "$0")/../.." && pwd)/db/schema.sql"
export TZ=UTC0
DB="$TMP/records.db"
SHA_B=$(printf 'b%.0s' $(seq 64)) SHA_A=$(printf 'a%.0s' $(seq 64))
MD5_B=$(printf '1%.0s' $(seq 32)) MD5_A=$(printf '2%.0s' $(seq 32)) MD5_X=$(printf '3%.0s' $(seq 32))

# 2025-12-01T08:00:00Z = 1764576000000
{
    cat "$SCHEMA"
    cat <<SQL
PRAGMA user_version = 1;
INSERT INTO runs (id, station, lot, kind, version, host, pid, started_ms, ended_ms) VALUES
  (1, 'st1', 'LOT-A', 'flash', '0.1.0', 'h', 1, 1764576000000, 1764579600000),
  (2, 'st1', 'LOT-B', 'flash', '0.1.0', 'h', 1, 1764590400000, 1764594000000);
INSERT INTO devices VALUES ('24:0a:c4:00:00:01', 'ESP32-C3', 1764576000000, 1764576000000),
  ('24:0a:c4:00:00:02', 'ESP32-C3', 1764576060000, 1764576060000),
  ('24:0a:c4:00:00:03', 'ESP32-S3', 1764590400000, 1764590400000);
INSERT INTO attempts (id, run_id, seq, slot, port, usb_location, kind, chip, revision, mac,
  result, failed_step, error_code, error_message, started_ms, ended_ms) VALUES
  (1, 1, 1, 1, '/dev/ttyUSB0', '1-1.1', 'flash', 'ESP32-C3', 4, '24:0a:c4:00:00:01',
   'pass', NULL, NULL, NULL, 1764576000000, 1764576003500),
  (2, 1, 2, 2, '/dev/ttyUSB1', NULL, 'flash', 'ESP32-C3', 4, '24:0a:c4:00:00:02',
   'fail', 'write', -4, 'port ''/dev/ttyUSB1'': block 3, "no answer"' || char(10) || 'after 3 tries',
   1764576060000, 1764576062000),
  (3, 2, 1, 1, '/dev/ttyUSB0', '1-1.1', 'flash', 'ESP32-S3', 102, '24:0a:c4:00:00:03',
   'pass', NULL, NULL, NULL, 1764590400000, 1764590401000),
  (4, 2, 2, 2, '/dev/ttyUSB1', NULL, 'flash', NULL, NULL, NULL,
   'fail', 'connect', -4, 'no answer to SYNC', 1764590460000, 1764590470000);
INSERT INTO contents VALUES (1, 'bootloader', 20480, '$SHA_B', '$MD5_B'),
  (2, 'app', 65536, '$SHA_A', '$MD5_A');
INSERT INTO regions VALUES (1, 0, 1, '$MD5_B', 'written'), (1, 65536, 2, '$MD5_A', 'written'),
  (2, 0, 1, '$MD5_B', 'skipped'), (2, 65536, 2, '$MD5_X', 'failed'),
  (3, 0, 1, '$MD5_B', 'verified');
SQL
} | sqlite3 "$DB" || { echo "cannot make the test store with sqlite3"; exit 1; }

# Usage errors: exit 2, nothing written.
expect_usage "no --format" "give --format csv, json or html" "$ESPGANG" report --db "$DB"
expect_usage "unknown format" "report format 'xml' is not csv, json, html or text" \
    "$ESPGANG" report --db "$DB" --format xml
expect_usage "--run not a number" "--run 'abc' is not a run number" \
    "$ESPGANG" report --db "$DB" --format csv --run abc
expect_usage "--run 0" "--run '0' is not a run number" "$ESPGANG" report --db "$DB" --format csv --run 0
expect_usage "--since garbage" "--since 'yesterday' is not a date" \
    "$ESPGANG" report --db "$DB" --format csv --since yesterday
expect_usage "--since bad date" "--since '2025-02-30' is not a valid date" \
    "$ESPGANG" report --db "$DB" --format csv --since 2025-02-30
expect_usage "--lot empty" "--lot needs a lot name" "$ESPGANG" report --db "$DB" --format csv --lot ""
expect_usage "-o and --summary the same" "name the same file" \
    "$ESPGANG" report --db "$DB" --format csv -o "$TMP/x" --summary "$TMP/x"
expect_usage "unknown option" "unknown option '--frobnicate'" "$ESPGANG" report --frobnicate
expect_usage "an argument" "too many arguments" "$ESPGANG" report --format csv extra
[ ! -e "$TMP/x" ] && pass "usage errors write nothing" || fail "a usage error wrote $TMP/x"

# Stores it cannot read: exit 1, the path named.
expect_fail "missing store" "cannot open records store '$TMP/none.db'" 10 \
    "$ESPGANG" report --db "$TMP/none.db" --format csv
[ ! -e "$TMP/none.db" ] && pass "a missing store is not created" || fail "report created a store"
(cd "$TMP" && "$ESPGANG" report --format csv >"$TMP/out" 2>"$TMP/err")
[ $? -eq 1 ] && grep -q "'espgang.db'" "$TMP/err" && pass "default store: espgang.db here" ||
    fail "default store: $(cat "$TMP/err")"
printf 'lot,station\nA,1\n%0200d\n' 0 >"$TMP/text.db"
expect_fail "not a database" "'$TMP/text.db' is not an SQLite database" 10 \
    "$ESPGANG" report --db "$TMP/text.db" --format json
cp "$DB" "$TMP/newer.db"
sqlite3 "$TMP/newer.db" "PRAGMA user_version = 7"
expect_fail "newer store" "'$TMP/newer.db' was written by a newer espgang \\(schema 7, this one knows 2\\)" \
    10 "$ESPGANG" report --db "$TMP/newer.db" --format csv

# CSV to standard output: a header and one row per attempt; counts on stderr.
expect_ok "csv report" "$ESPGANG" report --db "$DB" --format csv
cp "$TMP/out" "$TMP/all.csv"
[ "$(head -1 "$TMP/all.csv")" = "run,seq,slot,slot_label,port,usb_location,kind,chip,revision,mac,serial_number,result,failed_step,error,message,started,ended,duration_ms,boot_result,boot_line,boot_tail,log_path,regions" ] &&
    pass "csv header" || fail "csv header: $(head -1 "$TMP/all.csv")"
[ "$(sed -n 2p "$TMP/all.csv")" = "1,1,1,,/dev/ttyUSB0,1-1.1,flash,ESP32-C3,v0.4,24:0a:c4:00:00:01,,pass,,,,2025-12-01T08:00:00.000+00:00,2025-12-01T08:00:03.500+00:00,3500,,,,,0x0:bootloader:written:$SHA_B:$MD5_B:$MD5_B;0x10000:app:written:$SHA_A:$MD5_A:$MD5_A" ] &&
    pass "csv row of a pass" || fail "csv row: $(sed -n 2p "$TMP/all.csv")"
# The failure's message holds a comma, quotes and a line break: quoted, quotes doubled.
[ "$(sed -n 3p "$TMP/all.csv")" = "1,2,2,,/dev/ttyUSB1,,flash,ESP32-C3,v0.4,24:0a:c4:00:00:02,,fail,write,timed out,\"port '/dev/ttyUSB1': block 3, \"\"no answer\"\"" ] &&
    [ "$(sed -n 4p "$TMP/all.csv")" = "after 3 tries\",2025-12-01T08:01:00.000+00:00,2025-12-01T08:01:02.000+00:00,2000,,,,,0x0:bootloader:skipped:$SHA_B:$MD5_B:$MD5_B;0x10000:app:failed:$SHA_A:$MD5_A:$MD5_X" ] &&
    pass "csv quoting of a message" || fail "csv rows 3-4: $(sed -n 3,4p "$TMP/all.csv")"
[ "$(sed -n 6p "$TMP/all.csv")" = "2,2,2,,/dev/ttyUSB1,,flash,,,,,fail,connect,timed out,no answer to SYNC,2025-12-01T12:01:00.000+00:00,2025-12-01T12:01:10.000+00:00,10000,,,,," ] &&
    pass "csv row of a board never identified" || fail "csv row 6: $(sed -n 6p "$TMP/all.csv")"
[ "$(wc -l <"$TMP/all.csv")" -eq 6 ] && pass "csv: header and 4 attempts (one spans 2 lines)" ||
    fail "csv line count $(wc -l <"$TMP/all.csv")"
grep -q "^4 attempts: 2 pass, 2 fail, 0 canceled, 0 interrupted, 0 running" "$TMP/err" &&
    grep -q "^yield: 50.00%" "$TMP/err" && grep -q "1  connect: timed out" "$TMP/err" &&
    grep -q "1  write: timed out" "$TMP/err" && pass "summary on standard error" ||
    fail "summary: $(cat "$TMP/err")"

# Filters.
expect_ok "--run 2" "$ESPGANG" report --db "$DB" --format csv --run 2
[ "$(cut -d, -f1,2 "$TMP/out" | tr '\n' ' ')" = "run,seq 2,1 2,2 " ] && pass "--run 2 rows" ||
    fail "--run 2: $(cat "$TMP/out")"
expect_ok "--lot LOT-A" "$ESPGANG" report --db "$DB" --format json --lot LOT-A
[ "$(jq -c '[.attempts[] | [.run, .seq]]' "$TMP/out")" = "[[1,1],[1,2]]" ] &&
    [ "$(jq -c .filter "$TMP/out")" = '{"run":null,"lot":"LOT-A","since":null}' ] &&
    pass "--lot rows and filter" || fail "--lot: $(head -c 300 "$TMP/out")"
expect_ok "--since" "$ESPGANG" report --db "$DB" --format json --since 2025-12-01T08:00:30
[ "$(jq -c '[.attempts[] | .seq]' "$TMP/out")" = "[2,1,2]" ] &&
    [ "$(jq -r .filter.since "$TMP/out")" = "2025-12-01T08:00:30.000+00:00" ] &&
    pass "--since a time" || fail "--since: $(head -c 300 "$TMP/out")"
expect_ok "--since a duration" "$ESPGANG" report --db "$DB" --format csv --since 1h
[ "$(wc -l <"$TMP/out")" -eq 1 ] && pass "--since 1h: nothing that recent" ||
    fail "--since 1h: $(cat "$TMP/out")"
expect_ok "--lot and --since" "$ESPGANG" report --db "$DB" --format json --lot LOT-B --since 2025-12-01T12:00:30
[ "$(jq -c '[.attempts[] | [.run, .seq]]' "$TMP/out")" = "[[2,2]]" ] && pass "filters combine" ||
    fail "combined filters: $(head -c 300 "$TMP/out")"

# JSON to a file, and the summary CSV.
expect_ok "json -o with --summary" "$ESPGANG" report --db "$DB" --format json -o "$TMP/r.json" \
    --summary "$TMP/s.csv"
[ "$(jq -c '.summary | {attempts, running, pass, fail, canceled, interrupted, yield, runs, from, to, failures_by_cause, failures_by_step}' "$TMP/r.json")" = '{"attempts":4,"running":0,"pass":2,"fail":2,"canceled":0,"interrupted":0,"yield":0.5,"runs":2,"from":"2025-12-01T08:00:00.000+00:00","to":"2025-12-01T12:01:10.000+00:00","failures_by_cause":[{"step":"connect","cause":"connect: timed out","count":1},{"step":"write","cause":"write: timed out","count":1}],"failures_by_step":[{"step":"connect","count":1},{"step":"write","count":1}]}' ] &&
    pass "json summary" || fail "json summary: $(jq -c .summary "$TMP/r.json")"
# Per slot, per hour, boards per hour (4 boards in 2 stretches of work: 2 + 10 s and
# 1 + 10 s, joined over pauses under 5 minutes: 62 s and 70 s), time per board.
[ "$(jq -c '.summary.slots' "$TMP/r.json")" = '[{"slot":1,"label":null,"attempts":2,"pass":2,"fail":0,"yield":1},{"slot":2,"label":null,"attempts":2,"pass":0,"fail":2,"yield":0}]' ] &&
    [ "$(jq -c '[.summary.hours[] | [.hour, .attempts, .yield]]' "$TMP/r.json")" = '[["2025-12-01T08:00:00.000+00:00",2,0.5],["2025-12-01T12:00:00.000+00:00",2,0.5]]' ] &&
    [ "$(jq -c '.summary.boards_per_hour' "$TMP/r.json")" = '{"rate":109.1,"busy_ms":132000,"peak":2,"peak_hour":"2025-12-01T08:00:00.000+00:00"}' ] &&
    [ "$(jq -c '.summary.time_per_board | [.boards, .min_ms, .median_ms, .p90_ms, .max_ms, .bin_ms, (.histogram | length), ([.histogram[].count] | add)]' "$TMP/r.json")" = '[4,1000,2000,10000,10000,500,19,4]' ] &&
    pass "json statistics" || fail "json statistics: $(jq -c .summary "$TMP/r.json")"
[ "$(jq -r '.attempts[1].message' "$TMP/r.json")" = "port '/dev/ttyUSB1': block 3, \"no answer\"
after 3 tries" ] && pass "json message escaped and read back" || fail "json message"
[ "$(jq -c '.attempts[1].regions[1]' "$TMP/r.json")" = "{\"offset\":65536,\"size\":65536,\"label\":\"app\",\"sha256\":\"$SHA_A\",\"md5_expected\":\"$MD5_A\",\"md5_device\":\"$MD5_X\",\"outcome\":\"failed\"}" ] &&
    pass "json region" || fail "json region: $(jq -c '.attempts[1].regions[1]' "$TMP/r.json")"
[ "$(jq -c '.attempts[3] | [.chip, .revision, .mac, .error, .duration_ms, .regions]' "$TMP/r.json")" = '[null,null,null,"timed out",10000,[]]' ] &&
    pass "json nulls of a board never identified" || fail "json attempt 4"
[ "$(head -14 "$TMP/s.csv")" = "measure,step,cause,slot,slot_label,time,from_ms,to_ms,value
attempts,,,,,,,,4
running,,,,,,,,0
pass,,,,,,,,2
fail,,,,,,,,2
canceled,,,,,,,,0
interrupted,,,,,,,,0
yield,,,,,,,,0.5
runs,,,,,,,,2
failure,connect,timed out,,,,,,1
failure,write,timed out,,,,,,1
failed_step,connect,,,,,,,1
failed_step,write,,,,,,,1
slot_attempts,,,1,,,,,2" ] && grep -qx "hour_yield,,,,,2025-12-01T12:00:00.000+00:00,,,0.5" "$TMP/s.csv" &&
    grep -qx "boards_per_hour,,,,,,,,109.1" "$TMP/s.csv" &&
    grep -qx "time_per_board_median_ms,,,,,,,,2000" "$TMP/s.csv" &&
    grep -qx "time_per_board_bin,,,,,,10000,10500,1" "$TMP/s.csv" &&
    [ "$(awk -F, '{ print NF }' "$TMP/s.csv" | sort -u)" = 9 ] && pass "--summary CSV" ||
    fail "--summary: $(cat "$TMP/s.csv")"
grep -q "Wrote the report of '$DB' to '$TMP/r.json' as JSON" "$TMP/err" && pass "-o says where" ||
    fail "-o message: $(cat "$TMP/err")"

# -o: the same bytes as standard output, nothing left beside it; a failed report
# leaves the file as it was.
expect_ok "csv -o" "$ESPGANG" report --db "$DB" --format csv -o "$TMP/r.csv"
same_files "-o equals standard output" "$TMP/r.csv" "$TMP/all.csv"
[ -z "$(ls "$TMP" | grep '\.tmp-')" ] && pass "no temporary file left" || fail "temporary files: $(ls "$TMP")"
echo "previous report" >"$TMP/keep.csv"
expect_fail "failed report" "is not an SQLite database" 10 \
    "$ESPGANG" report --db "$TMP/text.db" --format csv -o "$TMP/keep.csv"
[ "$(cat "$TMP/keep.csv")" = "previous report" ] && pass "a failed report leaves -o's file alone" ||
    fail "-o file changed"
expect_fail "-o in a missing folder" "cannot create a file next to '$TMP/no/dir/r.csv'" 10 \
    "$ESPGANG" report --db "$DB" --format csv -o "$TMP/no/dir/r.csv"
# A device's history: text by default, CSV and JSON; a MAC as people write it.
expect_ok "--device text" "$ESPGANG" report --db "$DB" --device 24:0A:C4:00:00:02
grep -q "^device 24:0a:c4:00:00:02 (ESP32-C3), seen 2025-12-01T08:01:00.000+00:00" "$TMP/out" &&
    grep -q "^2025-12-01T08:01:00.000+00:00  run 1 #2, station st1, lot LOT-A$" "$TMP/out" &&
    grep -q "^  slot 2, /dev/ttyUSB1, flash: fail, write: timed out in 2.0s$" "$TMP/out" &&
    grep -q "^  0x10000 app failed sha256 $SHA_A md5 $MD5_A device: $MD5_X$" "$TMP/out" &&
    pass "--device: the attempt, its run, cause and checksums" || fail "--device text: $(cat "$TMP/out")"
expect_ok "--device json" "$ESPGANG" report --db "$DB" --device 240ac4000003 --format json
[ "$(jq -c '[.device.mac, .device.chip, (.attempts | length), .attempts[0].station, .attempts[0].lot, .attempts[0].result]' "$TMP/out")" = '["24:0a:c4:00:00:03","ESP32-S3",1,"st1","LOT-B","pass"]' ] &&
    pass "--device json" || fail "--device json: $(cat "$TMP/out")"
expect_ok "--device csv -o" "$ESPGANG" report --db "$DB" --device 24-0a-c4-00-00-01 --format csv \
    -o "$TMP/dev.csv"
head -1 "$TMP/dev.csv" | grep -q "^run,seq,station,lot,profile,slot," && [ "$(wc -l <"$TMP/dev.csv")" -eq 2 ] &&
    grep -q "Wrote the history of 24:0a:c4:00:00:01 (1 attempt) to '$TMP/dev.csv' as CSV" "$TMP/err" &&
    pass "--device csv to a file" || fail "--device csv: $(cat "$TMP/dev.csv" "$TMP/err")"
echo "kept" >"$TMP/none.txt"
expect_fail "--device never seen" "records store '$DB' has no attempts of device 02:00:00:00:00:09" 10 \
    "$ESPGANG" report --db "$DB" --device 02:00:00:00:00:09 -o "$TMP/none.txt"
[ "$(cat "$TMP/none.txt")" = kept ] && pass "a device without attempts leaves -o's file alone" ||
    fail "-o changed"
expect_fail "--device filtered away" "has no attempts of device 24:0a:c4:00:00:01 \\(filtered\\)" 10 \
    "$ESPGANG" report --db "$DB" --device 24:0a:c4:00:00:01 --lot LOT-B
expect_usage "--device not a MAC" "--device: 'xyz' is not a MAC address" \
    "$ESPGANG" report --db "$DB" --device xyz
expect_usage "--device with --summary" "--summary is for reports of attempts" \
    "$ESPGANG" report --db "$DB" --device 24:0a:c4:00:00:01 --summary "$TMP/s2.csv"
[ ! -e "$TMP/s2.csv" ] && pass "nothing written on a usage error" || fail "wrote $TMP/s2.csv"
finish
