#!/bin/sh
# A production run interrupted: killed with SIGKILL at a random moment (several
# seeds), and stopped with SIGINT once (running boards finish their region) and twice
# (stop now). The records must stay whole: integrity_check ok, every board that was
# touched has its attempt, nothing left 'running' (a killed run's attempts become
# 'interrupted' on the next open), and the boards can be flashed again.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

# At 115200 baud a board takes a few seconds: time for signals to land mid-run.
gang_profile "$TMP/p.yaml" 115200

# The slots (1-based) whose board received flash data, from espsim's log.
written_slots() {
    sed -n 's/^board \([0-9]*\): FLASH_DEFL_DATA.*/\1/p' "$1" | sort -un | awk '{print $1 + 1}'
}

for seed in 1 2 3 4; do
    # A moment from the seed, within the run (which takes about 3.5 s).
    delay=$(awk -v s=$seed 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 3 }')
    start_sim kill$seed --chip esp32c3 --tcp 0 --boards 16 --pace --flash-timing --log "$TMP/kill$seed.log"
    ports=$(echo $SIM_ADDRS | tr ' ' ',')
    db="$TMP/kill$seed.db"
    "$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$db" >"$TMP/kill$seed.out" 2>&1 &
    pid=$!
    sleep $delay
    kill -9 $pid
    wait $pid 2>/dev/null
    sleep 0.2
    written_slots "$TMP/kill$seed.log" >"$TMP/written"
    running=$(sqlite3 "$db" "select count(*) from attempts where result='running'" 2>&1)
    # The next open marks what the dead process left running.
    expect_ok "kill -9 after ${delay}s: the store opens" "$ESPGANG" report --db "$db" --format csv -o "$TMP/k.csv"
    [ "$(sqlite3 "$db" 'pragma integrity_check')" = ok ] && pass "kill -9 after ${delay}s: integrity_check ok" ||
        fail "kill -9 after ${delay}s: integrity_check"
    [ "$(sqlite3 "$db" "select count(*) from attempts where result='running'")" = 0 ] &&
        pass "kill -9 after ${delay}s: none left running ($running were, now interrupted)" ||
        fail "kill -9 after ${delay}s: attempts still running"
    [ "$(sqlite3 "$db" "select count(*) from attempts where result='interrupted'")" = "$running" ] &&
        pass "kill -9 after ${delay}s: every unfinished attempt is 'interrupted'" ||
        fail "kill -9 after ${delay}s: interrupted $(sqlite3 "$db" "select count(*) from attempts where result='interrupted'"), were running $running"
    missing=""
    for slot in $(cat "$TMP/written"); do
        [ "$(sqlite3 "$db" "select count(*) from attempts where slot=$slot")" = 1 ] || missing="$missing $slot"
    done
    [ -z "$missing" ] && pass "kill -9 after ${delay}s: all $(wc -l <"$TMP/written") boards written to have their attempt" ||
        fail "kill -9 after ${delay}s: no attempt for written slots$missing"
    [ "$(sqlite3 "$db" "select count(*) from runs where ended_ms is null")" = 0 ] &&
        pass "kill -9 after ${delay}s: the run is closed" || fail "kill -9 after ${delay}s: run left open"
    seed=$((seed + 1))
done

# SIGINT once: nothing new starts, what runs finishes its region; exit 3, every attempt
# pass or canceled, and the boards can be flashed again.
# wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s at most).
wait_for() {
    i=0
    until grep -q "$2" "$1" 2>/dev/null || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
start_sim int --chip esp32c3 --tcp 0 --boards 16 --pace --flash-timing --flash-file "$TMP/int" \
    --log "$TMP/int.log"
ports=$(echo $SIM_ADDRS | tr ' ' ',')
"$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$TMP/int.db" >"$TMP/int.out" 2>&1 &
pid=$!
wait_for "$TMP/int.log" FLASH_DEFL_DATA # mid-run: writing
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 3 ] && pass "SIGINT once: exit 3" || fail "SIGINT once: exit $rc: $(tail -3 "$TMP/int.out")"
grep -q "stopping: running boards finish their current region" "$TMP/int.out" &&
    pass "SIGINT once: says what happens" || fail "SIGINT once: $(cat "$TMP/int.out")"
[ "$(sqlite3 "$TMP/int.db" "select count(*) from attempts where result not in ('pass','canceled')")" = 0 ] &&
    pass "SIGINT once: every attempt pass or canceled" ||
    fail "SIGINT once: $(sqlite3 "$TMP/int.db" 'select slot, result from attempts')"
[ "$(sqlite3 "$TMP/int.db" 'pragma integrity_check')" = ok ] && pass "SIGINT once: integrity_check ok" ||
    fail "SIGINT once: integrity_check"
[ "$(sqlite3 "$TMP/int.db" "select count(*) from attempts")" = 16 ] && pass "SIGINT once: 16 attempts recorded" ||
    fail "SIGINT once: $(sqlite3 "$TMP/int.db" "select count(*) from attempts") attempts"
expect_ok "SIGINT once: the boards flash again" timeout 120 "$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$TMP/int.db"

# SIGINT twice: stop now; the canceled boards end within moments.
start_sim int2 --chip esp32c3 --tcp 0 --boards 16 --pace --flash-timing --log "$TMP/int2.log"
ports=$(echo $SIM_ADDRS | tr ' ' ',')
"$ESPGANG" run "$TMP/p.yaml" --ports "$ports" --db "$TMP/int2.db" >"$TMP/int2.out" 2>&1 &
pid=$!
wait_for "$TMP/int2.log" FLASH_DEFL_DATA
kill -INT $pid
wait_for "$TMP/int2.out" "^stopping:" # the first was taken; a second is not merged into it
t0=$(date +%s%N)
kill -INT $pid
wait $pid
rc=$?
took=$((($(date +%s%N) - t0) / 1000000))
[ $rc -eq 3 ] && pass "SIGINT twice: exit 3" || fail "SIGINT twice: exit $rc"
[ $took -lt 1000 ] && pass "SIGINT twice: ended ${took} ms after the second" || fail "SIGINT twice: took $took ms"
[ "$(sqlite3 "$TMP/int2.db" "select count(*) from attempts where result='canceled'")" -gt 0 ] &&
    pass "SIGINT twice: running boards recorded as canceled" || fail "SIGINT twice: none canceled"
[ "$(sqlite3 "$TMP/int2.db" "select count(*) from attempts where result not in ('pass','canceled')")" = 0 ] &&
    pass "SIGINT twice: nothing else" || fail "SIGINT twice: $(sqlite3 "$TMP/int2.db" 'select slot, result from attempts')"
finish
