#!/bin/sh
# run --watch against real libudev hotplug events: a umockdev test bed whose terminals
# relay to espsim's boards (tests/integration/watch_bed.py): boards plugged in and
# pulled out (mid-write too), a board that passed before, a USB-Serial-JTAG board that
# leaves the bus when reset and comes back under another name, and Ctrl-C.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
# umockdev preloads its library; a sanitizer build's runtime then is not the first one,
# which it accepts when told.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

umockdev-wrapper /usr/bin/python3 -u "$(dirname "$0")/watch_bed.py" "$ESPGANG" "$ESPSIM" "$TMP" >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
PASSES=$((PASSES + $(grep -c '^ok: ' "$TMP/out")))
FAILS=$((FAILS + $(grep -c '^FAIL: ' "$TMP/out")))
if [ $rc -ne 0 ] && ! grep -q '^FAIL: ' "$TMP/out"; then
    fail "watch_bed.py ended with $rc"
fi
finish
