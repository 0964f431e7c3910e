#!/bin/sh
# Each board's own data and the boot check, on espsim boards that boot from their flash:
# serial numbers from the records (kept by a board flashed again), an NVS partition per
# board with every key type (read back by the tests' own NVS reader, as the app would,
# against the CSV the profile describes), per-device files by MAC, the boot check's
# pass, fail and timeout in the records, and the bad inputs that stop a run before any
# board (or a board before anything is written).
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
FIX=$(dirname "$ESPGANG")/fixtures
NVS_CHECK=$(dirname "$ESPGANG")/tests/nvs_check
sha() { sha256sum "$1" | cut -d' ' -f1; }
# run_fails DESC PATTERN ARGS...: a run whose boards fail (exit 3), saying PATTERN.
run_fails() {
    desc=$1 pattern=$2
    shift 2
    timeout 120 "$ESPGANG" run "$@" >"$TMP/out" 2>&1
    rc=$?
    [ $rc -eq 3 ] && grep -q "$pattern" "$TMP/out" && pass "$desc" || fail "$desc: exit $rc: $(cat "$TMP/out")"
}

cp "$(dirname "$0")/../../profiles/demo/partitions.csv" "$TMP/parts.csv"
grep -v '^nvs' "$TMP/parts.csv" >"$TMP/parts-no-nvs.csv"
head -c 3000 /dev/urandom >"$TMP/cal.bin"
mkdir -p "$TMP/certs"
for m in 01 02 03 11 12 21 31; do
    printf -- '-----BEGIN CERTIFICATE-----\nboard 24:0a:c4:00:00:%s\n-----END CERTIFICATE-----\n' $m \
        >"$TMP/certs/240ac40000$m.pem"
done
printf 'Hello from {mac}\n' >"$TMP/app.txt"

# profile NAME TABLE [BOOT_EXPECT [TIMEOUT]]
profile() {
    cat >"$TMP/$1.yaml" <<EOF
version: 1
name: factory data
chip: esp32c3
flash: {mode: dio, size: 4MB, freq: 80m}
images:
  bootloader: {file: $FIX/esp32c3-bootloader.bin, sha256: $(sha "$FIX/esp32c3-bootloader.bin")}
  partition_table: {file: $2, sha256: $(sha "$TMP/$2")}
  app: {file: $FIX/esp32c3-appdesc.elf, sha256: $(sha "$FIX/esp32c3-appdesc.elf")}
after: watchdog-reset
serial: {format: "WX-{lot}-{seq:04}", start: 1}
boot_check: {expect: "${3:-Hello from}", fail: "Guru Meditation|invalid header", timeout: ${4:-5s}}
nvs:
  namespaces:
    factory:
      sn: {type: string, value: "{serial}"}
      mac: {type: string, value: "{mac}"}
      made: {type: string, value: "lot {lot} on {date}"}
      u8: {type: u8, value: 255}
      i8: {type: i8, value: -128}
      u16: {type: u16, value: 65535}
      i16: {type: i16, value: -32768}
      u32: {type: u32, value: 4294967295}
      i32: {type: i32, value: -2147483648}
      u64: {type: u64, value: 18446744073709551615}
      i64: {type: i64, value: -9223372036854775808}
      cal: {type: blob, file: cal.bin, sha256: $(sha "$TMP/cal.bin")}
      cert: {type: blob, per_device: "certs/{mac_hex}.pem"}
      note: {type: blob, value: "serial {serial}"}
    wifi:
      ssid: {type: string, value: "factory-net"}
EOF
}
profile p parts.csv

# expected_csv MAC SERIAL: the NVS keys the profile describes for that board.
expected_csv() {
    hex=$(echo "$1" | tr -d ':')
    printf 'serial %s' "$2" >"$TMP/note.$hex"
    cat <<EOF
key,type,encoding,value
factory,namespace,,
sn,data,string,$2
mac,data,string,$1
made,data,string,lot L7 on $(date +%Y-%m-%d)
u8,data,u8,255
i8,data,i8,-128
u16,data,u16,65535
i16,data,i16,-32768
u32,data,u32,4294967295
i32,data,i32,-2147483648
u64,data,u64,18446744073709551615
i64,data,i64,-9223372036854775808
cal,file,binary,$TMP/cal.bin
cert,file,binary,$TMP/certs/$hex.pem
note,file,binary,$TMP/note.$hex
wifi,namespace,,
ssid,data,string,factory-net
EOF
}

start_sim f --chip esp32c3 --tcp 0 --boards 3 --flash-file "$TMP/f" --app-output "$TMP/app.txt" \
    --log "$TMP/f.log"
ports=$(echo $SIM_ADDRS | tr ' ' ',')
db="$TMP/r.db"

# Bad inputs first: each stops the run before any board is touched.
profile nonvs parts-no-nvs.csv
expect_fail "a partition table without an nvs partition" \
    "nvs: the partition table has no nvs partition" 10 \
    "$ESPGANG" run "$TMP/nonvs.yaml" --ports "$ports" --db "$TMP/x.db" --lot L7
expect_fail "a serial format naming {lot}, no --lot" "names \{lot\}: give the lot with --lot" 10 \
    "$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$TMP/x.db"
[ ! -e "$TMP/x.db" ] && [ ! -s "$TMP/f.log" ] && pass "  no records made, no board touched" ||
    fail "  something was touched: $(ls "$TMP"; cat "$TMP/f.log" | head -3)"

# A run: every board its serial number, its NVS partition, its boot checked.
expect_ok "run with serial numbers, NVS data and the boot check" \
    "$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$db" --lot L7 --json
cp "$TMP/out" "$TMP/run1.json"
serials=$(sqlite3 "$db" "select mac || '=' || serial_number from attempts order by mac" | tr '\n' ' ')
[ "$(sqlite3 "$db" "select count(distinct serial_number) from attempts where serial_number glob 'WX-L7-000[123]'")" = 3 ] &&
    pass "three boards, three serial numbers ($serials)" || fail "serials: $serials"
[ "$(jq -r 'select(.event == "done") | "\(.mac)=\(.serial)"' "$TMP/run1.json" | sort | tr '\n' ' ')" = "$serials" ] &&
    pass "  the run's events name them too" || fail "  events: $(grep done "$TMP/run1.json")"
i=0
for mac in 24:0a:c4:00:00:01 24:0a:c4:00:00:02 24:0a:c4:00:00:03; do
    serial=$(sqlite3 "$db" "select serial_number from attempts where mac = '$mac'")
    expected_csv $mac "$serial" >"$TMP/want.$i.csv"
    if "$NVS_CHECK" "$TMP/f.$i" 0x9000 0x6000 "$TMP/want.$i.csv" >"$TMP/nvs.$i.out"; then
        pass "board $mac: its NVS partition reads back as the profile describes ($(cat "$TMP/nvs.$i.out"))"
    else
        fail "board $mac: NVS: $(cat "$TMP/nvs.$i.out")"
    fi
    flash_sha=$(dd if="$TMP/f.$i" bs=4096 skip=9 count=6 2>/dev/null | sha256sum | cut -d' ' -f1)
    [ "$(sqlite3 "$db" "select sha256 from region_details d join attempts a on a.id = d.attempt_id where a.mac = '$mac' and d.label = 'nvs partition ''nvs'''")" = "$flash_sha" ] &&
        pass "  its NVS region's SHA-256 is recorded" || fail "  NVS region not recorded as written ($flash_sha)"
    i=$((i + 1))
done
[ "$(sqlite3 "$db" "select group_concat(b, '|') from (select boot_result || ':' || boot_line as b from attempts where boot_line = 'Hello from ' || mac order by mac)")" = \
    "pass:Hello from 24:0a:c4:00:00:01|pass:Hello from 24:0a:c4:00:00:02|pass:Hello from 24:0a:c4:00:00:03" ] &&
    pass "boot check passed on each, the app's line recorded" ||
    fail "boot: $(sqlite3 "$db" 'select boot_result, boot_line from attempts')"
sqlite3 "$db" "select boot_tail from attempts limit 1" | grep -q "rst:0x1 (POWERON)" &&
    pass "  with the console's tail (the ROM's banner)" || fail "  tail: $(sqlite3 "$db" 'select boot_tail from attempts limit 1')"

# Again with --reflash: the same numbers. Without: every board passed before.
expect_ok "run again with --reflash" "$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$db" --lot L7 --reflash
[ "$(sqlite3 "$db" "select mac || '=' || serial_number from attempts where run_id = 2 order by mac" | tr '\n' ' ')" = "$serials" ] &&
    pass "  every board keeps its serial number" ||
    fail "  serials changed: $(sqlite3 "$db" "select mac, serial_number from attempts where run_id = 2")"
[ "$(sqlite3 "$db" 'select count(*) from serial_numbers')" = 3 ] && pass "  no number given twice" ||
    fail "  serial_numbers: $(sqlite3 "$db" 'select * from serial_numbers')"
expect_ok "run again without --reflash" "$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$db" --lot L7
[ "$(sqlite3 "$db" "select group_concat(result || '/' || failed_step || '/' || error_code) from attempts where run_id = 3 group by run_id")" = \
    "canceled/identify/-13,canceled/identify/-13,canceled/identify/-13" ] && grep -q "passed this profile before" "$TMP/out" &&
    pass "  each board passed before: left as it is" || fail "  run 3: $(sqlite3 "$db" 'select result, error_message from attempts where run_id = 3')"

# A board without its per-device file fails once identified, before anything is written.
start_sim g --chip esp32c3 --tcp 0 --boards 3 --mac 24:0a:c4:00:00:11 --flash-file "$TMP/g" \
    --app-output "$TMP/app.txt"
gports=$(echo $SIM_ADDRS | tr ' ' ',')
rm "$TMP/certs/240ac4000013.pem" 2>/dev/null
run_fails "a board whose per-device file is missing: FAIL, saying which file" \
    "slot 3 .*FAIL 24:0a:c4:00:00:13 (identify: not found): .*nvs factory.cert: this board's file" \
    "$TMP/p.yaml" --ports "$gports" --db "$db" --lot L7
[ "$(sqlite3 "$db" "select result || '/' || failed_step from attempts where mac = '24:0a:c4:00:00:13'")" = fail/identify ] &&
    grep -q "certs/240ac4000013.pem" "$TMP/out" && pass "  recorded FAIL at identify, naming the file" ||
    fail "  $(sqlite3 "$db" "select result, failed_step, error_message from attempts where mac = '24:0a:c4:00:00:13'")"
[ "$(tr -d '\377' <"$TMP/g.2" | head -c 1 | wc -c)" = 0 ] && pass "  nothing written to that board" ||
    fail "  its flash was written"
[ "$(sqlite3 "$db" "select count(*) from attempts where run_id = 4 and result = 'pass'")" = 2 ] &&
    pass "  the other two boards passed" || fail "  run 4: $(sqlite3 "$db" 'select mac, result from attempts where run_id = 4')"

# The boot check failing: a panic loop, and silence where the line was expected.
start_sim panic --chip esp32c3 --tcp 0 --fault boot-panic --mac 24:0a:c4:00:00:21 --app-output "$TMP/app.txt"
run_fails "an app that panics: FAIL at boot" "(boot: mismatch): .*boot check: the console printed '.*Guru Meditation Error" \
    "$TMP/p.yaml" --ports "$SIM_ADDR" --db "$db" --lot L7
[ "$(sqlite3 "$db" "select result || '/' || failed_step || '/' || boot_result from attempts where mac = '24:0a:c4:00:00:21'")" = fail/boot/fail ] &&
    sqlite3 "$db" "select boot_line from attempts where mac = '24:0a:c4:00:00:21'" | grep -q "Guru Meditation" &&
    pass "  recorded FAIL at boot, with the panic's line" ||
    fail "  $(sqlite3 "$db" "select result, failed_step, boot_result, boot_line from attempts where mac = '24:0a:c4:00:00:21'")"
profile late parts.csv "Ready to serve" 2s
start_sim quiet --chip esp32c3 --tcp 0 --mac 24:0a:c4:00:00:31 --app-output "$TMP/app.txt"
run_fails "an app that never prints the expected line: FAIL at boot, timed out" \
    "(boot: timed out): .*boot check: no line matching 'Ready to serve' within 2000 ms at 115200 baud (the last line: 'Hello from 24:0a:c4:00:00:31')" \
    "$TMP/late.yaml" --ports "$SIM_ADDR" --db "$db" --lot L7
[ "$(sqlite3 "$db" "select result || '/' || boot_result || '/' || (ms_boot >= 2000) from attempts where mac = '24:0a:c4:00:00:31'")" = fail/timeout/1 ] &&
    pass "  recorded FAIL, boot timeout after 2 s" ||
    fail "  $(sqlite3 "$db" "select result, boot_result, ms_boot from attempts where mac = '24:0a:c4:00:00:31'")"
# Each attempt's log file, named in its record, under logs/RUN/ beside the records.
log=$(sqlite3 "$db" "select log_path from attempts where run_id = 1 and mac = '24:0a:c4:00:00:01'")
case $log in "$TMP/logs/1/"*) in_logs=1 ;; *) in_logs=0 ;; esac
[ $in_logs = 1 ] && [ -f "$log" ] && grep -q "^ *[0-9.]*  write done in [0-9]* ms" "$log" &&
    grep -q "boot check: pass: Hello from 24:0a:c4:00:00:01" "$log" && grep -q "serial number WX-L7-" "$log" &&
    tail -n 20 "$log" | grep -q "Hello from" && pass "a passing attempt's log: every step with its time, the boot check" ||
    fail "log '$log': $(cat "$log" 2>&1 | head -20)"
log=$(sqlite3 "$db" "select log_path from attempts where mac = '24:0a:c4:00:00:21'")
grep -q "FAIL at boot (mismatch)" "$log" && grep -q "Guru Meditation Error" "$log" &&
    pass "a failing attempt's log: the failure and the console" || fail "log '$log': $(cat "$log" 2>&1 | tail -20)"
[ "$(sqlite3 "$db" "select count(*) from attempts where log_path is null")" = 0 ] &&
    [ "$(ls "$TMP"/logs/*/*.log | wc -l)" = "$(sqlite3 "$db" 'select count(*) from attempts')" ] &&
    pass "every attempt has its log file" || fail "logs: $(ls -R "$TMP/logs")"
finish
