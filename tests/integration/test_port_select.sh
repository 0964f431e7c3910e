#!/bin/sh
# Choosing the port when none is given, among the USB serial ports of a umockdev test
# bed (usb_bed.py: an Espressif USB JTAG/serial unit, a CP2102, a CH340, an FT232R and a
# modem of no known kind): the only port of a known kind is taken; several make a
# numbered menu on a terminal (answered through a pseudo-terminal, pty_answer.py) whose
# choice can be remembered in espflash_ports.toml, and fail with the list without one
# or with --non-interactive; --confirm-port, --list-all-ports, a [[usb_device]] that
# picks its port, and list-ports -n. Nothing answers behind the bed's ports: each
# attempt ends in a quick connection failure that names the port it was made on.
ESPGANG=$(readlink -f "$1") ESPSIM=$(readlink -f "$2")
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
# No configuration of the machine's user, and none in the folders above.
export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config"
unset ESPGANG_PORT ESPFLASH_PORT ESPGANG_BAUD ESPFLASH_BAUD
mkdir -p "$TMP/home" "$TMP/work/here"
cd "$TMP/work/here" || exit 1
PORTS="$XDG_CONFIG_HOME/espflash/espflash_ports.toml"
QUICK="--connect-attempts 1 --before no-reset"

# bed [--only LOCS] -- ARGS...: espgang ARGS in the bed, standard input not a terminal.
bed() {
    umockdev-wrapper /usr/bin/python3 "$HERE/usb_bed.py" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
}
# on_tty ANSWERS... -- BED ARGS: the same on a pseudo-terminal, answering questions;
# the transcript (both streams) in $TMP/out.
on_tty() {
    timeout 60 /usr/bin/python3 "$HERE/pty_answer.py" "$@" >"$TMP/out" 2>&1
}
BEDCMD="umockdev-wrapper /usr/bin/python3 $HERE/usb_bed.py"

# shellcheck disable=SC2086
check() { # DESCRIPTION WANT_RC PATTERN FILE
    if [ "$rc" = "$2" ] && grep -qE -- "$3" "$4"; then
        pass "$1"
    else
        fail "$1: exit $rc (wanted $2), no /$3/ in:"
        sed 's/^/    /' "$4"
    fi
}

# shellcheck disable=SC2086
bed -- "$ESPGANG" board-info $QUICK
rc=$?
check "several known ports, no terminal: fail with the list" 2 \
    "board-info: no port given, and 4 serial ports could be the board: /dev/ttyACM0 \(303a:1001 USB JTAG/serial debug unit\), /dev/ttyUSB0 \(10c4:ea60 CP2102 USB to UART Bridge Controller\), /dev/ttyUSB1 \(1a86:7523 USB Serial\), /dev/ttyUSB2 \(0403:6001 FT232R USB UART\); choose one with --port PORT \(standard input is not a terminal, so espgang cannot ask\)" "$TMP/err"

# shellcheck disable=SC2086
on_tty -- $BEDCMD -- "$ESPGANG" board-info $QUICK --non-interactive
rc=$?
check "--non-interactive on a terminal: fail with the list, ask nothing" 2 \
    "4 serial ports could be the board: .*\(--non-interactive, so espgang cannot ask\)" "$TMP/out"
grep -q "Which one" "$TMP/out" && fail "--non-interactive asked" || pass "--non-interactive asked nothing"

# shellcheck disable=SC2086
bed --only 1-2.3 -- "$ESPGANG" board-info $QUICK
rc=$?
check "the only known port is used, and said so" 1 \
    "^Using serial port '/dev/ttyACM0' \(303a:1001 USB JTAG/serial debug unit, the only serial port of an Espressif chip or a known USB-UART bridge\)" "$TMP/err"
check "... and connected to" 1 "port '/dev/ttyACM0': failed to connect" "$TMP/err"

# shellcheck disable=SC2086
bed --only 1-2.2,1-3 -- "$ESPGANG" checksum-md5 $QUICK 0 4096
rc=$?
check "a port of no known kind is no candidate" 1 "Using serial port '/dev/ttyUSB1' \(1a86:7523 USB Serial, the only" "$TMP/err"

bed --only 1-2.4 -- "$ESPGANG" hold-in-reset
rc=$?
check "reset and hold-in-reset choose their port the same way" 1 \
    "^Using serial port '/dev/ttyUSB2' \(0403:6001 FT232R USB UART, the only" "$TMP/err"

# shellcheck disable=SC2086
bed --only 1-3 -- "$ESPGANG" board-info $QUICK
rc=$?
check "no port of a known kind: say so and point at list-ports --all" 1 \
    "espgang: error: no port given, and no serial port of an Espressif chip or a known USB-UART bridge is plugged in: give one with --port PORT \('espgang list-ports --all' lists every serial port; --list-all-ports offers them all\)" "$TMP/err"

# shellcheck disable=SC2086
bed --only 1-3 -- "$ESPGANG" board-info $QUICK --list-all-ports
rc=$?
check "--list-all-ports: the only port, of no known kind, is not taken without asking" 2 \
    "no port given, and the only serial port, /dev/ttyUSB3 \(12d1:1001 Mobile Broadband Modem\), is of no known kind: give it with --port PORT" "$TMP/err"

# shellcheck disable=SC2086
on_tty --answer "Use serial port '/dev/ttyUSB3' \(12d1:1001 Mobile Broadband Modem\)\? \[Y/n\]" y \
    -- $BEDCMD --only 1-3 -- "$ESPGANG" board-info $QUICK --list-all-ports
rc=$?
check "--list-all-ports on a terminal: the port of no known kind once confirmed" 1 \
    "port '/dev/ttyUSB3': failed to connect" "$TMP/out"

# The menu: a wrong answer is asked again; the choice is remembered when wanted.
# shellcheck disable=SC2086
on_tty --answer "Which one\? \[1-4, Enter: 1, q: quit\]" 9 \
    --answer "Please answer with a number from 1 to 4" 3 \
    --answer "Remember 1a86:7523 in $PORTS, so that it is taken without asking\? \[y/N\]" y \
    -- $BEDCMD -- "$ESPGANG" board-info $QUICK
rc=$?
check "the menu lists every candidate, numbered" 1 \
    "^ +3\) /dev/ttyUSB1 +1a86:7523 USB Serial" "$TMP/out"
check "the port chosen is used" 1 "Using serial port '/dev/ttyUSB1' \(chosen\)" "$TMP/out"
check "... and connected to" 1 "port '/dev/ttyUSB1': failed to connect" "$TMP/out"
if [ "$(cat "$PORTS" 2>/dev/null)" = "$(printf '[[usb_device]]\nvid = "1a86"\npid = "7523"')" ]; then
    pass "remembered in the global espflash_ports.toml, as espflash writes it"
else
    fail "remembered: $(cat "$PORTS" 2>&1)"
fi
# shellcheck disable=SC2086
bed -- "$ESPGANG" board-info $QUICK
rc=$?
check "a remembered [[usb_device]] picks its port without asking" 1 \
    "^Using serial port '/dev/ttyUSB1' \(its USB device 1a86:7523 is in $PORTS:1\)" "$TMP/err"
# ... unless --confirm-port.
# shellcheck disable=SC2086
bed -- "$ESPGANG" board-info $QUICK --confirm-port
rc=$?
check "--confirm-port without a terminal: fail" 2 \
    "board-info: --confirm-port: cannot ask whether to use /dev/ttyUSB1 \(1a86:7523 USB Serial\): standard input is not a terminal$" "$TMP/err"
# shellcheck disable=SC2086
on_tty --answer "Use serial port '/dev/ttyUSB1' \(1a86:7523 USB Serial\)\? \[Y/n\]" n \
    -- $BEDCMD -- "$ESPGANG" board-info $QUICK --confirm-port
rc=$?
check "--confirm-port asks even for a configured port; no: nothing is used" 1 \
    "espgang: error: no port chosen" "$TMP/out"
grep -q "failed to connect" "$TMP/out" && fail "--confirm-port n: a port was opened" ||
    pass "--confirm-port n: no port was opened"
# shellcheck disable=SC2086
on_tty --answer "Use serial port '/dev/ttyACM0' .*\[Y/n\]" "" \
    -- $BEDCMD --only 1-2.3 -- "$ESPGANG" board-info $QUICK --confirm-port
rc=$?
check "--confirm-port asks for the only port too; Enter: yes" 1 \
    "port '/dev/ttyACM0': failed to connect" "$TMP/out"

# Two [[usb_device]] entries that match: asked, the configured ones first.
printf '\n[[usb_device]]\nvid = "0403"\npid = "6001"\n' >>"$PORTS"
# shellcheck disable=SC2086
on_tty --answer "Which one\?" 2 -- $BEDCMD -- "$ESPGANG" board-info $QUICK
rc=$?
check "two configured ports: the menu, the configured ones first" 1 \
    " 1\) /dev/ttyUSB1 .*\[\[usb_device\]\]" "$TMP/out"
check "... chosen: no offer to remember what is remembered" 1 \
    "Using serial port '/dev/ttyUSB2' \(chosen\)" "$TMP/out"
grep -q "Remember" "$TMP/out" && fail "offered to remember a configured device" ||
    pass "no offer to remember a configured device"
rm -f "$PORTS"

# Quitting the menu, or declining to remember.
# shellcheck disable=SC2086
on_tty --answer "Which one\?" q -- $BEDCMD -- "$ESPGANG" erase-region $QUICK 0 4096
rc=$?
check "q quits the menu: nothing is used" 1 "espgang: error: no port chosen" "$TMP/out"
# shellcheck disable=SC2086
on_tty --answer "Which one\?" "" --answer "Remember 303a:1001" n \
    -- $BEDCMD -- "$ESPGANG" board-info $QUICK --list-all-ports
rc=$?
check "--list-all-ports: the menu has the modem too, last" 1 " 5\) /dev/ttyUSB3 +12d1:1001" "$TMP/out"
check "Enter takes the first" 1 "Using serial port '/dev/ttyACM0' \(chosen\)" "$TMP/out"
[ ! -e "$PORTS" ] && pass "not remembered when declined" || fail "remembered: $(cat "$PORTS")"

# A port given by the environment or the ports file: no choosing.
# shellcheck disable=SC2086
ESPFLASH_PORT=/dev/ttyUSB2 on_tty -- $BEDCMD -- "$ESPGANG" board-info $QUICK
rc=$?
check "ESPFLASH_PORT: no menu" 1 "^espgang: error: port '/dev/ttyUSB2': failed to connect" "$TMP/out"
printf '[connection]\nserial = "/dev/ttyUSB0"\n' >"$TMP/work/espflash_ports.toml"
# shellcheck disable=SC2086
on_tty -- $BEDCMD -- "$ESPGANG" board-info $QUICK
rc=$?
check "[connection] serial in the parent folder: no menu" 1 \
    "Using serial port '/dev/ttyUSB0' \(from $TMP/work/espflash_ports.toml:2\)" "$TMP/out"
rm "$TMP/work/espflash_ports.toml"

# list-ports -n: names only, for scripts.
bed -- "$ESPGANG" list-ports -n
[ "$(tr '\n' ' ' <"$TMP/out")" = "/dev/ttyACM0 /dev/ttyUSB0 /dev/ttyUSB1 /dev/ttyUSB2 " ] &&
    pass "list-ports -n: the known ports' names" || fail "list-ports -n: $(cat "$TMP/out" "$TMP/err")"
bed -- "$ESPGANG" list-ports --list-all-ports --name-only
[ "$(tr '\n' ' ' <"$TMP/out")" = "/dev/ttyACM0 /dev/ttyUSB0 /dev/ttyUSB1 /dev/ttyUSB2 /dev/ttyUSB3 " ] &&
    pass "list-ports --list-all-ports --name-only: every port" || fail "list-ports -a -n: $(cat "$TMP/out")"
expect_usage "list-ports -n --json" "list-ports: --name-only and --json exclude each other" \
    "$ESPGANG" list-ports -n --json
finish
