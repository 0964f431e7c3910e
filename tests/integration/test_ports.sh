#!/bin/sh
# Ports are taken exclusively: a port another program holds is refused at once, naming
# it. read-flash never replaces what is not a regular file: a device node, a folder; it
# writes through a link to its target; a size of 0 is refused before connecting.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

start_sim busy --chip esp32c3 --pty "$TMP/tty" --pace --log "$TMP/busy.log"
# Another program holds the port (flock(1) takes the same lock espgang does).
flock "$TMP/tty" sleep 30 &
holder=$!
sleep 0.3
expect_fail "a port another program holds" "port '.*tty' is in use by (flock|sleep) \\(pid [0-9]+\\)" 3 \
    "$ESPGANG" board-info -p "$TMP/tty"
pkill -P $holder 2>/dev/null # the sleep holds the lock too
kill $holder 2>/dev/null
wait $holder 2>/dev/null
# Two espgangs on one port: the second is refused while the first works.
head -c 32768 /dev/urandom >"$TMP/data.bin" # 3 s at 115200 baud
"$ESPGANG" write-bin -p "$TMP/tty" -B 115200 --no-stub --after no-reset 0x10000 "$TMP/data.bin" \
    >"$TMP/first.out" 2>&1 &
first=$!
i=0
until grep -q "FLASH_DEFL_DATA" "$TMP/busy.log" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_fail "a second espgang on a busy port" "port '.*tty' is in use by espgang \\(pid $first\\)" 3 \
    "$ESPGANG" board-info -p "$TMP/tty"
wait $first && pass "the first espgang finished its write" || fail "the first espgang: $(cat "$TMP/first.out")"
expect_ok "the port is free again" "$ESPGANG" board-info -p "$TMP/tty" --after no-reset
# A run refuses one board under two names.
cat >"$TMP/p.yaml" <<EOP
version: 1
name: ports
chip: esp32c3
images:
  regions: [{offset: 0x10000, file: data.bin, sha256: $(sha256sum "$TMP/data.bin" | cut -d' ' -f1)}]
EOP
ln -s "$(readlink "$TMP/tty")" "$TMP/also-tty"
expect_fail "a run with one board under two names" "'.*/tty' and '.*/also-tty' are the same device" 5 \
    "$ESPGANG" run "$TMP/p.yaml" --ports "$TMP/tty,$TMP/also-tty" --db "$TMP/x.db"

# read-flash and where its bytes go.
start_sim rf --chip esp32c3 --tcp 0 --log "$TMP/rf.log"
P="-p $SIM_ADDR --after no-reset"
# shellcheck disable=SC2086
expect_usage "read-flash of 0 bytes" "SIZE is 0" "$ESPGANG" read-flash $P 0 0 "$TMP/zero.bin"
# shellcheck disable=SC2086
expect_fail "read-flash into a device node" "'/dev/full' is not a regular file" 5 \
    "$ESPGANG" read-flash $P 0 4096 /dev/full
[ -c /dev/full ] && pass "/dev/full is still a device" || fail "/dev/full was replaced"
mkdir "$TMP/dir"
# shellcheck disable=SC2086
expect_fail "read-flash into a folder" "'.*/dir' is a folder" 5 "$ESPGANG" read-flash $P 0 4096 "$TMP/dir"
ln -s /dev/null "$TMP/null-link"
# shellcheck disable=SC2086
expect_fail "read-flash through a link to a device" "null-link' is not a regular file" 5 \
    "$ESPGANG" read-flash $P 0 4096 "$TMP/null-link"
grep -q "connected" "$TMP/rf.log" && fail "refused reads touched the board" || pass "refused reads touched no board"
echo old >"$TMP/target.bin"
ln -s target.bin "$TMP/link.bin"
# shellcheck disable=SC2086
expect_ok "read-flash through a link" "$ESPGANG" read-flash $P 0 4096 "$TMP/link.bin"
[ -L "$TMP/link.bin" ] && pass "the link is still a link" || fail "the link was replaced"
[ "$(wc -c <"$TMP/target.bin")" = 4096 ] && pass "its target holds the 4096 bytes" || fail "target: $(wc -c <"$TMP/target.bin") bytes"
ln -s new.bin "$TMP/dangling.bin"
# shellcheck disable=SC2086
expect_ok "read-flash through a link to a file not there yet" "$ESPGANG" read-flash $P 0 4096 "$TMP/dangling.bin"
[ -L "$TMP/dangling.bin" ] && [ "$(wc -c <"$TMP/new.bin")" = 4096 ] && pass "the link's target was made" ||
    fail "dangling link"
finish
