#!/bin/sh
# make demo: a production run on virtual boards. Starts 8 ESP32-C3 boards in one espsim
# (their line paced at the baud rate, their flash as slow as a real one; board 6 has a
# flash that fails at 0x20000), runs profiles/demo-esp32c3.yaml on all of them with
# the live table, then prints the summary and the CSV report of the run. Every record
# goes to a database in a temporary folder.
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ESPGANG=$BUILD/espgang
ESPSIM=$BUILD/espsim
WORK=$(mktemp -d "${TMPDIR:-/tmp}/espgang-demo.XXXXXX")
SIM=""

cleanup() {
    [ -n "$SIM" ] && kill "$SIM" 2>/dev/null && wait "$SIM" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

"$ESPSIM" --chip esp32c3 --boards 8 --tcp 0 --pace --flash-timing --flash-file "$WORK/flash" \
    --fault 5:flash-fail-at=0x20000 >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM=$!
i=0
until [ "$(grep -c ' ready on ' "$WORK/sim.out")" -ge 8 ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { cat "$WORK/sim.err"; exit 1; }
    sleep 0.05
done
ports=$(sed -n 's/.* ready on \([^ ]*\) .*/\1/p' "$WORK/sim.out" | tr '\n' ',' | sed 's/,$//')
echo "8 virtual ESP32-C3 boards (board 6's flash fails at 0x20000):"
sed 's/^espsim: /  /' "$WORK/sim.out"

step espgang profile check profiles/demo-esp32c3.yaml
"$ESPGANG" profile check "$ROOT/profiles/demo-esp32c3.yaml"

step espgang run profiles/demo-esp32c3.yaml --ports ... --station demo --lot DEMO-1
rc=0
"$ESPGANG" run "$ROOT/profiles/demo-esp32c3.yaml" --ports "$ports" --db "$WORK/demo.db" \
    --station demo --operator "${USER:-demo}" --lot DEMO-1 || rc=$?
[ $rc -eq 3 ] || { echo "demo: expected exit 3 (one board fails), got $rc" >&2; exit 1; }

step espgang report --db demo.db --format csv
"$ESPGANG" report --db "$WORK/demo.db" --format csv

step espgang verify profiles/demo-esp32c3.yaml --ports "<the 7 good boards>"
good=$(echo "$ports" | tr ',' '\n' | sed '6d' | tr '\n' ',' | sed 's/,$//')
"$ESPGANG" verify "$ROOT/profiles/demo-esp32c3.yaml" --ports "$good" --db "$WORK/demo.db" --lot DEMO-1
printf '\nDemo done: 8 boards flashed in one run (7 passed, 1 failed as its flash does), recorded, reported and verified.\n'
