#!/bin/sh
# Every command in the table answers --help, and the top level behaves.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

cmds=$("$ESPGANG" --help | sed -n 's/^  \([a-z][a-z0-9-]*\)  .*/\1/p')
[ -n "$cmds" ] && pass "top-level help lists commands" || fail "no commands in --help"
for c in $cmds; do
    if "$ESPGANG" "$c" --help >"$TMP/out" 2>&1 && grep -q "^Usage: espgang $c" "$TMP/out"; then
        pass "$c --help"
    else
        fail "$c --help"
    fi
    "$ESPGANG" help "$c" | grep -q "^Usage: espgang $c" && pass "help $c" || fail "help $c"
done
"$ESPGANG" --version | grep -qE '^espgang [0-9]+\.[0-9]+' && pass "--version" || fail "--version"
"$ESPGANG" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && pass "unknown command exits 2" || fail "unknown command exit code"
"$ESPGANG" >/dev/null 2>&1
[ $? -eq 2 ] && pass "no command exits 2" || fail "no command exit code"
"$ESPSIM" --help >"$TMP/out" 2>&1 && grep -q -- "--chip" "$TMP/out" && pass "espsim --help" ||
    fail "espsim --help"
"$ESPSIM" --chip esp8266 --tcp 0 >/dev/null 2>"$TMP/err"
[ $? -ne 0 ] && pass "espsim refuses an unknown chip" || fail "espsim accepted esp8266"
finish
