#!/bin/sh
# espgang run / verify: many boards from one profile, every attempt in SQLite.
#  - 32 boards, 3 faulty (silent, flash-fail-at, unplug-after): 29 PASS with MACs and
#    MD5s recorded, 3 FAIL with step and cause; every PASS board's flash equals the
#    plan byte for byte.
#  - verify-only after the run passes and sends no erase or write; a flipped byte
#    fails its board, naming the region.
#  - everything that must stop a run before any board is touched: a wrong pin, bad
#    profiles, a read-only or full database, the same device twice, usage errors.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
FIX=$(dirname "$ESPGANG")/fixtures
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# A profile for ESP32-C3 boards, with every input pinned.
pin() { sha256sum "$1" | cut -d' ' -f1; }
profile() { # FILE [extra lines]
    f=$1
    shift
    gang_profile "$f" 921600 "retries: {write: 1}" "timeouts: {connect: 20s, write: 60s}" "$@"
}
profile "$TMP/p.yaml"
q() { sqlite3 "$TMP/r.db" "$1"; }

# The flash every good board must hold: the same layout, merged.
expect_ok "profile check" "$ESPGANG" profile check "$TMP/p.yaml" &&
    grep -q "every pinned file matches" "$TMP/out" && pass "profile check prints the plan" ||
    fail "profile check: $(cat "$TMP/out")"
expect_ok "expected flash image" "$ESPGANG" save-image -c esp32c3 --merge -m dio -s 4MB -f 80m \
    --bootloader "$TMP/boot.bin" --partition-table "$TMP/parts.csv" "$TMP/app.elf" "$TMP/want.bin"

start_sim gang --chip esp32c3 --tcp 0 --boards 32 --flash-file "$TMP/flash" --log "$TMP/gang.log" \
    --fault 7:silent --fault 13:flash-fail-at=0x20000 --fault 21:unplug-after=15000
ports=$(echo $SIM_ADDRS | tr ' ' ',')
timeout 300 "$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$TMP/r.db" --station st1 \
    --operator tester --lot L42 >"$TMP/run.out" 2>"$TMP/run.err"
rc=$?
[ $rc -eq 3 ] && pass "32 boards with 3 faulty: exit 3" || { fail "exit $rc"; cat "$TMP/run.err"; tail -20 "$TMP/run.out"; }
[ "$(q "select count(*) from attempts where result='pass'")" = 29 ] && pass "29 PASS recorded" ||
    fail "PASS recorded: $(q "select count(*) from attempts where result='pass'")"
[ "$(q "select count(distinct mac) from attempts where result='pass'")" = 29 ] &&
    pass "29 distinct MACs" || fail "distinct MACs: $(q "select count(distinct mac) from attempts where result='pass'")"
q "select slot, failed_step, error_code, error_message from attempts where result='fail' order by slot" >"$TMP/fails"
[ "$(wc -l <"$TMP/fails")" = 3 ] && pass "3 FAIL recorded" || fail "FAIL rows: $(cat "$TMP/fails")"
grep -q "^8|connect|" "$TMP/fails" && pass "silent board: failed at connect" || fail "silent: $(cat "$TMP/fails")"
grep -q "^14|write|.*flash write error\|^14|write|.*SPI" "$TMP/fails" &&
    pass "flash-fail-at board: failed at write, the device said so" || fail "flash-fail-at: $(grep '^14' "$TMP/fails")"
grep -q "^22|write|" "$TMP/fails" && pass "unplugged board: failed at write" ||
    fail "unplug-after: $(grep '^22' "$TMP/fails")"
[ "$(q "select count(*) from region_details r join attempts a on a.id = r.attempt_id where a.result='pass' and r.md5_device = r.md5_expected and r.outcome in ('verified','skipped')")" = 87 ] &&
    pass "every PASS board's 3 regions: device MD5 recorded, equal to the plan's" ||
    fail "regions of PASS boards"
good=0 bad=0
for i in $(seq 0 31); do
    case $i in 7 | 13 | 21) continue ;; esac
    if cmp -s "$TMP/flash.$i" "$TMP/want.bin"; then good=$((good + 1)); else bad=$((bad + 1)); fi
done
[ $good = 29 ] && pass "every PASS board's flash equals the plan byte for byte" || fail "$bad boards differ"
[ "$(q "select count(*) from attempts where result='running'")" = 0 ] && pass "nothing left running" ||
    fail "running attempts left"
[ "$(q "select station||','||operator_name||','||lot||','||kind from runs")" = "st1,tester,L42,flash" ] &&
    pass "the run records station, operator, lot" || fail "run row: $(q 'select * from runs')"

# QA: verify-only passes on the good boards and sends nothing that erases or writes.
good_ports=$(echo $SIM_ADDRS | tr ' ' '\n' | sed -n '1,7p;9,13p;15,21p;23,32p' | tr '\n' ',' | sed 's/,$//')
: >"$TMP/gang.log"
expect_ok "verify the 29 good boards" timeout 300 "$ESPGANG" verify "$TMP/p.yaml" --ports "$good_ports" --db "$TMP/r.db"
if grep -qE 'FLASH_(DEFL_)?(BEGIN|DATA)|ERASE_(FLASH|REGION)' "$TMP/gang.log"; then
    fail "verify sent erase or write commands"
else
    pass "verify sent no erase or write command"
fi
[ "$(q "select count(*) from attempts where kind='verify' and result='pass'")" = 29 ] &&
    pass "29 verify records" || fail "verify records: $(q "select count(*) from attempts where kind='verify'")"
# --readback reads every region back; --json gives one JSON object per event.
three=$(echo $SIM_ADDRS | tr ' ' ',' | cut -d, -f1-3)
: >"$TMP/gang.log"
timeout 60 "$ESPGANG" verify "$TMP/p.yaml" --ports "$three" --db "$TMP/r.db" --readback --json \
    >"$TMP/v.json" 2>"$TMP/err"
rc=$?
[ $rc -eq 0 ] && [ "$(grep -c ' READ_FLASH ' "$TMP/gang.log")" -ge 9 ] &&
    pass "verify --readback reads every region of 3 boards back" || fail "--readback: exit $rc: $(cat "$TMP/err")"
if jq -e . "$TMP/v.json" >/dev/null 2>&1 &&
    [ "$(jq -s '[.[] | select(.event == "done" and .result == "PASS")] | length' "$TMP/v.json")" = 3 ] &&
    [ "$(jq -s '.[-1].event + ":" + (.[-1].passed | tostring)' "$TMP/v.json")" = '"summary:3"' ]; then
    pass "--json: every line an object, 3 done events, the summary last"
else
    fail "--json: $(tail -3 "$TMP/v.json")"
fi
# One byte flipped in board 3's app: that board fails, naming the region.
printf '\001' | dd of="$TMP/flash.3" bs=1 seek=$((0x10000 + 5000)) conv=notrunc 2>/dev/null
port3=$(echo $SIM_ADDRS | cut -d' ' -f4)
: >"$TMP/gang.log"
timeout 60 "$ESPGANG" verify "$TMP/p.yaml" --ports "$port3" --db "$TMP/r.db" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 3 ] && grep -q "app.elf' at 0x00010000: verify failed" "$TMP/out" &&
    pass "a flipped byte fails verify, naming the region" || fail "flipped byte: exit $rc: $(cat "$TMP/out" "$TMP/err")"
grep -qE 'FLASH_(DEFL_)?(BEGIN|DATA)|ERASE_(FLASH|REGION)' "$TMP/gang.log" &&
    fail "verify wrote to the board" || pass "...and wrote nothing"

# The shipped profiles: their pins hold for the files the build makes, and the ESP-IDF
# build profile (erase: regions, read-back) flashes ESP32-S3 boards.
# (They name ../build/fixtures: checked when this build is that one.)
if [ "$(cd "$FIX/.." && pwd)" = "$ROOT/build" ]; then
    for prof in demo-esp32c3 esp32s3-idf; do
        expect_ok "profiles/$prof.yaml checks" "$ESPGANG" profile check "$ROOT/profiles/$prof.yaml"
    done
else
    echo "note: the shipped profiles name build/fixtures, not $FIX: checked by the main build's run"
fi
sed "s|\.\./build/fixtures|$FIX|" "$ROOT/profiles/esp32s3-idf.yaml" >"$TMP/s3.yaml"
start_sim s3 --chip esp32s3 --tcp 0 --boards 2 --flash-size 8MB --log "$TMP/s3.log"
expect_ok "profiles/esp32s3-idf.yaml on 2 ESP32-S3 boards" timeout 60 "$ESPGANG" run \
    "$TMP/s3.yaml" --ports "$(echo $SIM_ADDRS | tr ' ' ',')" --db "$TMP/s3.db"
[ "$(grep -c 'ERASE_REGION' "$TMP/s3.log")" = 6 ] && pass "erase: regions erased 3 regions on each board" ||
    fail "erase regions: $(grep -c ERASE_REGION "$TMP/s3.log") ERASE_REGIONs"
grep -q "ERASE_REGION.*size=0x100000" "$TMP/s3.log" && pass "... the app's whole partition (1 MB)" ||
    fail "no whole-partition erase: $(grep ERASE_REGION "$TMP/s3.log" | head -3)"
[ "$(grep -c ' READ_FLASH ' "$TMP/s3.log")" -ge 6 ] && pass "read-back read every region" ||
    fail "read-back: $(grep -c ' READ_FLASH ' "$TMP/s3.log") READ_FLASHes"

# Security: boards with secure boot, flash encryption or secure download mode are
# refused unless the profile allows them, before anything is written.
for sec in "1 secure boot" "0:1 flash encryption" "4 secure download"; do
    set -- $sec
    flags=$1
    shift
    start_sim "sec$flags" --chip esp32c3 --tcp 0 --security "$flags" --log "$TMP/sec.log"
    : >"$TMP/sec.log"
    timeout 30 "$ESPGANG" run "$TMP/p.yaml" --ports "$SIM_ADDR" --db "$TMP/sec.db" >"$TMP/out" 2>&1
    rc=$?
    [ $rc -eq 3 ] && grep -q "has $*\|is in $*" "$TMP/out" && pass "a board with $* is refused" ||
        fail "$*: exit $rc: $(cat "$TMP/out")"
    grep -qE 'FLASH_(DEFL_)?(BEGIN|DATA)|ERASE_(FLASH|REGION)' "$TMP/sec.log" &&
        fail "$*: the board was written" || pass "$*: nothing written"
done
profile "$TMP/allow.yaml" "security: {allow_secure_boot: true}"
start_sim secallow --chip esp32c3 --tcp 0 --security 1
expect_ok "secure boot allowed by the profile" timeout 30 "$ESPGANG" run "$TMP/allow.yaml" --ports "$SIM_ADDR" \
    --db "$TMP/sec.db"

# Refused before any board is touched: nothing reaches espsim.
start_sim untouched --chip esp32c3 --tcp 0 --log "$TMP/untouched.log"
one=$SIM_ADDR
untouched() {
    if grep -q "connected" "$TMP/untouched.log"; then fail "$1: a board was touched"; else pass "$1: no board touched"; fi
}
profile "$TMP/pin.yaml"
sed -i "s/sha256: $(pin "$TMP/app.elf")/sha256: $(pin "$TMP/boot.bin")/" "$TMP/pin.yaml"
expect_fail "a wrong pin" "app.elf.*$(pin "$TMP/boot.bin")" 10 "$ESPGANG" run "$TMP/pin.yaml" --ports "$one" --db "$TMP/x.db"
[ "$rc" != 0 ] && untouched "wrong pin"
printf 'version: 1\nname: x\nchip: esp32c3\nimages: [\n' >"$TMP/syntax.yaml"
expect_fail "YAML syntax error" "syntax.yaml:[0-9]+:[0-9]+:" 5 "$ESPGANG" run "$TMP/syntax.yaml" --ports "$one"
profile "$TMP/unknown.yaml" "colour: blue"
expect_fail "unknown key" "unknown.yaml:[0-9]+:1: .*colour" 5 "$ESPGANG" run "$TMP/unknown.yaml" --ports "$one"
profile "$TMP/type.yaml" "erase: [none]"
expect_fail "wrong type" "type.yaml:[0-9]+:[0-9]+: erase" 5 "$ESPGANG" run "$TMP/type.yaml" --ports "$one"
profile "$TMP/missing.yaml"
sed -i 's/file: app.elf/file: nope.elf/' "$TMP/missing.yaml"
expect_fail "missing file" "missing.yaml:[0-9]+:[0-9]+: .*nope.elf" 5 "$ESPGANG" run "$TMP/missing.yaml" --ports "$one"
profile "$TMP/size.yaml"
sed -i 's/size: 4MB/size: 5MB/' "$TMP/size.yaml"
expect_fail "bad flash size" "size.yaml:[0-9]+:[0-9]+: flash.size" 5 "$ESPGANG" run "$TMP/size.yaml" --ports "$one"
# A read-only database (an existing store, mode 444): as root, run as nobody, whom
# the mode binds.
cp "$TMP/r.db" "$TMP/ro.db" && chmod 444 "$TMP/ro.db" && chmod 755 "$TMP"
as_user=""
if [ "$(id -u)" = 0 ]; then
    as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
    $as_user "$ESPGANG" --version >/dev/null 2>&1 || as_user="SKIP"
fi
if [ "$as_user" = SKIP ]; then
    echo "note: read-only database not tested: nobody cannot run $ESPGANG here"
else
    expect_fail "read-only database" "ro.db' is read-only" 10 $as_user "$ESPGANG" run "$TMP/p.yaml" \
        --ports "$one" --db "$TMP/ro.db"
fi
: >"$TMP/notadir"
expect_fail "a database in a folder that is not one" "notadir/r.db" 10 "$ESPGANG" run "$TMP/p.yaml" \
    --ports "$one" --db "$TMP/notadir/r.db"
# A full disk: the file may not grow (RLIMIT_FSIZE; the signal it raises ignored).
# (Its messages go through a pipe, which the limit does not cover.)
expect_fail "a full database" "full.db" 10 bash -c 'set -o pipefail; trap "" XFSZ
    { ulimit -f 0; exec "$0" "$@"; } 2>&1 | cat >&2' "$ESPGANG" run "$TMP/p.yaml" --ports "$one" --db "$TMP/full.db"
expect_fail "the same device twice" "are the same device" 5 "$ESPGANG" run "$TMP/p.yaml" --ports "$one,$one" --db "$TMP/x.db"
untouched "refused runs"
# A single-board flash with --db is recorded the same way, passed or failed.
start_sim single --chip esp32c3 --tcp 0 --fault flash-fail-at=0x200000
expect_ok "flash --db" "$ESPGANG" flash -p "$SIM_ADDR" --bootloader "$TMP/boot.bin" --db "$TMP/one.db" \
    --partition-table "$TMP/parts.csv" "$TMP/app.elf"
expect_fail "flash --db of a board that fails" "flash write error|SPI operation failed" 30 \
    "$ESPGANG" write-bin -p "$SIM_ADDR" --db "$TMP/one.db" 0x200000 "$TMP/app.elf"
[ "$(sqlite3 "$TMP/one.db" "select result||','||coalesce(failed_step,'')||','||kind from attempts order by id" | tr '\n' ' ')" = "pass,,flash fail,write,flash " ] &&
    pass "--db: both attempts recorded, with the failed step" ||
    fail "--db: $(sqlite3 "$TMP/one.db" 'select * from attempts')"
[ "$(sqlite3 "$TMP/one.db" "select count(*) from region_details where outcome='verified' and md5_device=md5_expected")" = 3 ] &&
    pass "--db: the flash's 3 regions verified" || fail "--db regions"

expect_usage "no ports" "--ports P1,P2,..., --all or --watch" "$ESPGANG" run "$TMP/p.yaml"
expect_usage "ports and --all" "--ports P1,P2,..., --all or --watch" "$ESPGANG" run "$TMP/p.yaml" --all --ports "$one"
finish
