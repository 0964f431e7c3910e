#!/bin/sh
# USB serial ports through real libudev and libserialport, in a umockdev test bed of
# devices with real VID:PIDs, serial numbers and sysfs paths (tests/integration/
# usb_bed.py): list-ports and --all, the slots file (its mapping and its faults), and
# a run on --all with slots.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
BED="umockdev-wrapper /usr/bin/python3 $(dirname "$0")/usb_bed.py"
# umockdev preloads its library; a sanitizer build's runtime then is not the first one,
# which it accepts when told.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

# shellcheck disable=SC2086
bed() { $BED "$@" >"$TMP/out" 2>"$TMP/err"; }

bed -- "$ESPGANG" list-ports --json
if jq -e 'length == 4' "$TMP/out" >/dev/null &&
    [ "$(jq -r '[.[] | .location] | join(",")' "$TMP/out")" = "1-2.3,1-2.1,1-2.2,1-2.4" ] &&
    [ "$(jq -r '.[] | select(.location == "1-2.1") | .vid_pid + " " + .manufacturer + " " + .serial' "$TMP/out")" = "10c4:ea60 Silicon Labs 0001" ] &&
    [ "$(jq -r '.[] | select(.location == "1-2.3") | .name + " " + .vid_pid + " " + .product' "$TMP/out")" = "/dev/ttyACM0 303a:1001 USB JTAG/serial debug unit" ]; then
    pass "list-ports: the 4 ports of known VID:PIDs, with their USB strings and locations"
else
    fail "list-ports: $(cat "$TMP/out" "$TMP/err")"
fi
bed -- "$ESPGANG" list-ports --all --json
jq -e 'length == 5 and ([.[] | select(.vid_pid == "12d1:1001")] | length == 1)' "$TMP/out" >/dev/null &&
    pass "list-ports --all: the modem too" || fail "list-ports --all: $(cat "$TMP/out" "$TMP/err")"
bed -- "$ESPGANG" list-ports
grep -q "^/dev/ttyUSB2 .*0403:6001 .*FTDI .*FT232R USB UART .*A50285BI .*1-2.4" "$TMP/out" &&
    pass "list-ports: a table a person reads" || fail "list-ports table: $(cat "$TMP/out")"

cat >"$TMP/slots.yaml" <<'EOS'
version: 1
slots:
  1-2.1: {slot: 1, label: "A1"}
  1-2.2: {slot: 2, label: "A2"}
  1-2.3: {slot: 3}
  1-2.4: {slot: 7, label: "B3"}
EOS
bed -- "$ESPGANG" list-ports --slots "$TMP/slots.yaml" --json
[ "$(jq -r '[.[] | "\(.location)=\(.slot)/\(.slot_label)"] | join(" ")' "$TMP/out")" = "1-2.3=3/null 1-2.1=1/A1 1-2.2=2/A2 1-2.4=7/B3" ] &&
    pass "list-ports --slots: each port's slot and label" || fail "slots: $(cat "$TMP/out" "$TMP/err")"

# Bad slots files, each a clear error with its place, before any board is touched.
bad_slots() { # NAME PATTERN CONTENT
    printf '%s\n' "$3" >"$TMP/$1.yaml"
    expect_fail "slots file: $1" "$1.yaml:$2" 5 "$ESPGANG" list-ports --slots "$TMP/$1.yaml"
}
bad_slots twice-location '4:3: slots.1-2.1: this location is given a second time' \
    "$(printf 'version: 1\nslots:\n  1-2.1: {slot: 1}\n  1-2.1: {slot: 2}')"
bad_slots twice-slot '4:10: slots.1-2.2: slot 1 is given a second time \(for 1-2.1 too\)' \
    "$(printf 'version: 1\nslots:\n  1-2.1: {slot: 1}\n  1-2.2: {slot: 1}')"
bad_slots not-location '3:3: slots.usb1: not a USB location' \
    "$(printf 'version: 1\nslots:\n  usb1: {slot: 1}')"
bad_slots unknown-key '3:20: slots.1-2.1.colour: unknown key' \
    "$(printf 'version: 1\nslots:\n  1-2.1: {slot: 1, colour: red}')"
bad_slots zero '3:17: slots.1-2.1.slot: 0 is out of range' \
    "$(printf 'version: 1\nslots:\n  1-2.1: {slot: 0}')"
bad_slots no-number '3:10: slots.1-2.1: has no slot number' \
    "$(printf 'version: 1\nslots:\n  1-2.1: {label: x}')"
bad_slots version '1:10: version: this espgang reads slots files of version 1' "version: 2"

# A run on --all with the slots file: the 4 known ports, numbered and labelled as the
# file says (nothing answers behind the bed's ports: each fails to connect, quickly).
head -c 4096 /dev/urandom >"$TMP/data.bin"
cat >"$TMP/p.yaml" <<EOP
version: 1
name: usb bed
chip: esp32c3
connection: {connect_attempts: 1, before: no-reset}
images:
  regions: [{offset: 0x10000, file: data.bin, sha256: $(sha256sum "$TMP/data.bin" | cut -d' ' -f1)}]
EOP
bed -- "$ESPGANG" run "$TMP/p.yaml" --all --slots "$TMP/slots.yaml" --db "$TMP/r.db" --json
[ "$(jq -r 'select(.event == "done") | "\(.slot)\(.slot_label // "")=\(.port)"' "$TMP/out" | sort | tr '\n' ' ')" = "1A1=/dev/ttyUSB0 2A2=/dev/ttyUSB1 3=/dev/ttyACM0 7B3=/dev/ttyUSB2 " ] &&
    pass "run --all --slots: the known ports, in the file's slots" || fail "run --all: $(cat "$TMP/out" "$TMP/err")"
[ "$(sqlite3 "$TMP/r.db" "select group_concat(slot || '@' || usb_location, ' ') from (select * from attempts order by slot)")" = "1@1-2.1 2@1-2.2 3@1-2.3 7@1-2.4" ] &&
    pass "run --all --slots: records name the slot and the USB location" ||
    fail "records: $(sqlite3 "$TMP/r.db" 'select slot, usb_location from attempts')"
# The same run with every system call slowed down (strace): the worker threads open
# their ports at once, and no lookup of a port may stat a device node without following
# it, which umockdev 0.17 answers by reading a path another thread is rewriting (abort).
aborted=0
for i in 1 2 3 4 5; do
    # (LeakSanitizer cannot work under ptrace: the sanitizer build leaves leaks to the
    # other runs.)
    ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" bed -- strace -f -qq -o /dev/null -e trace=lstat,newfstatat,readlink "$ESPGANG" run "$TMP/p.yaml" \
        --all --slots "$TMP/slots.yaml" --db "$TMP/slow$i.db" --json
    rc=$?
    [ $rc -eq 3 ] && [ "$(jq -r 'select(.event == "done") | .result' "$TMP/out" | sort | uniq -c | tr -s ' ')" = " 4 FAIL" ] ||
        { aborted=$((aborted + 1)); echo "  slowed run $i: exit $rc: $(tail -2 "$TMP/err")"; }
done
[ $aborted -eq 0 ] && pass "run --all, slowed down 5 times: every port opened and recorded" ||
    fail "slowed runs: $aborted of 5 did not end as 4 FAIL"
# A slots file that does not name a port's location stops the run before any board.
printf 'version: 1\nslots:\n  1-2.1: {slot: 1}\n' >"$TMP/short.yaml"
bed -- "$ESPGANG" run "$TMP/p.yaml" --all --slots "$TMP/short.yaml" --db "$TMP/r2.db"
rc=$?
[ $rc -eq 1 ] && grep -q "port '/dev/ttyACM0' (USB location 1-2.3) has no slot in" "$TMP/err" &&
    [ ! -e "$TMP/r2.db" ] && pass "a port without a slot stops the run before any board" ||
    fail "short slots: exit $rc: $(cat "$TMP/err")"
finish
