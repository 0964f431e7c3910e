#!/bin/sh
# espflash's configuration files against espsim: espflash_ports.toml's port and
# espflash.toml's baud rate from the parent folder (the developer-loop acceptance
# check), the precedence of flags, ESPGANG_* and ESPFLASH_* variables, local and global
# files, espflash 3's espflash.toml, faults with their FILE:LINE:COLUMN before any board
# is touched, and flash / save-image taking espflash.toml's layout and flash settings.
ESPGANG=$(readlink -f "$1") ESPSIM=$(readlink -f "$2")
. "$(dirname "$0")/lib.sh"
FIX=$(dirname "$ESPGANG")/fixtures
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export HOME="$TMP/home" XDG_CONFIG_HOME="$TMP/home/.config"
unset ESPGANG_PORT ESPFLASH_PORT ESPGANG_BAUD ESPFLASH_BAUD
GLOBAL=$XDG_CONFIG_HOME/espflash
mkdir -p "$TMP/proj/sub" "$GLOBAL"
P=$TMP/proj S=$TMP/proj/sub
NOBODY=socket://127.0.0.1:1 # nothing listens there: refused at once

start_sim a --chip esp32c3 --tcp 0 --log "$TMP/a.log"
GOOD=$SIM_ADDR

# run_in DIR CMD...: runs CMD in DIR (output in $TMP/out, $TMP/err), sets rc.
run_in() {
    dir=$1
    shift
    (cd "$dir" && timeout 60 "$@") >"$TMP/out" 2>"$TMP/err"
    rc=$?
}
ok() { # DESCRIPTION: the last command succeeded
    [ "$rc" = 0 ] && pass "$1" || { fail "$1: exit $rc"; sed 's/^/    /' "$TMP/err"; }
}
err_is() { # DESCRIPTION RC PATTERN
    if [ "$rc" = "$2" ] && grep -qE -- "$3" "$TMP/err"; then
        pass "$1"
    else
        fail "$1: exit $rc (wanted $2), no /$3/ in:"
        sed 's/^/    /' "$TMP/err"
    fi
}
# The baud rate the last connection asked the board for.
last_baud() { sed -n 's/.*CHANGE_BAUDRATE baud=\([0-9]*\).*/\1/p' "$TMP/a.log" | tail -n 1; }
touched() { [ -s "$TMP/a.log" ]; }

# The acceptance check: in proj/sub, the parent's files give the port and the baud.
printf '[connection]\nserial = "%s"\n' "$GOOD" >"$P/espflash_ports.toml"
printf 'baudrate = 460800\n' >"$P/espflash.toml"
: >"$TMP/a.log"
run_in "$S" "$ESPGANG" board-info --json </dev/null
ok "board-info in proj/sub: the port from ../espflash_ports.toml"
jq -e '.chip == "esp32c3"' "$TMP/out" >/dev/null && pass "... and the board answered" ||
    fail "board-info: $(cat "$TMP/out")"
[ "$(last_baud)" = 460800 ] && pass "... at ../espflash.toml's baudrate" || fail "baud $(last_baud)"
grep -q "^Using serial port '$GOOD' (from $P/espflash_ports.toml:2)$" "$TMP/err" &&
    pass "... and says where the port came from" || fail "no origin: $(cat "$TMP/err")"

# Baud: -B > ESPGANG_BAUD > ESPFLASH_BAUD > espflash.toml.
: >"$TMP/a.log"
run_in "$S" env ESPFLASH_BAUD=230400 "$ESPGANG" board-info
[ "$rc" = 0 ] && [ "$(last_baud)" = 230400 ] && pass "ESPFLASH_BAUD beats espflash.toml" ||
    fail "ESPFLASH_BAUD: exit $rc, baud $(last_baud)"
: >"$TMP/a.log"
run_in "$S" env ESPFLASH_BAUD=230400 ESPGANG_BAUD=921600 "$ESPGANG" board-info
[ "$rc" = 0 ] && [ "$(last_baud)" = 921600 ] && pass "ESPGANG_BAUD beats ESPFLASH_BAUD" ||
    fail "ESPGANG_BAUD: exit $rc, baud $(last_baud)"
: >"$TMP/a.log"
run_in "$S" env ESPGANG_BAUD=921600 "$ESPGANG" board-info -B 1500000
[ "$rc" = 0 ] && [ "$(last_baud)" = 1500000 ] && pass "-B beats ESPGANG_BAUD" ||
    fail "-B: exit $rc, baud $(last_baud)"
run_in "$S" env ESPFLASH_BAUD=fast "$ESPGANG" board-info
err_is "a bad ESPFLASH_BAUD is a usage error" 2 "board-info: baud rate 'fast' is not valid"

# Port: --port > ESPGANG_PORT > ESPFLASH_PORT > espflash_ports.toml.
printf '[connection]\nserial = "%s"\n' "$NOBODY" >"$P/espflash_ports.toml"
run_in "$S" "$ESPGANG" board-info
err_is "the ports file's port is used (nobody there)" 1 "^espgang: error: port '$NOBODY'"
run_in "$S" "$ESPGANG" reset
err_is "reset takes the ports file's port too" 1 "^espgang: error: port '$NOBODY'"
run_in "$S" env ESPFLASH_PORT="$GOOD" "$ESPGANG" board-info
ok "ESPFLASH_PORT beats espflash_ports.toml"
run_in "$S" env ESPFLASH_PORT="$NOBODY" ESPGANG_PORT="$GOOD" "$ESPGANG" board-info
ok "ESPGANG_PORT beats ESPFLASH_PORT"
run_in "$S" env ESPGANG_PORT="$NOBODY" "$ESPGANG" board-info --port "$GOOD"
ok "--port beats ESPGANG_PORT"

# Local beats global, file by file; the global folder is XDG_CONFIG_HOME's, else ~/.config.
rm "$P/espflash_ports.toml" "$P/espflash.toml"
printf '[connection]\nserial = "%s"\n' "$NOBODY" >"$GLOBAL/espflash_ports.toml"
printf 'baudrate = 230400\n' >"$GLOBAL/espflash.toml"
printf '[connection]\nserial = "%s"\n' "$GOOD" >"$S/espflash_ports.toml"
: >"$TMP/a.log"
run_in "$S" "$ESPGANG" board-info
[ "$rc" = 0 ] && [ "$(last_baud)" = 230400 ] &&
    pass "the local ports file beats the global one; the global espflash.toml still counts" ||
    fail "local/global: exit $rc, baud $(last_baud): $(cat "$TMP/err")"
rm "$S/espflash_ports.toml"
run_in "$S" "$ESPGANG" board-info
err_is "the global ports file, in XDG_CONFIG_HOME" 1 \
    "Using serial port '$NOBODY' \(from $GLOBAL/espflash_ports.toml:2\)"
run_in "$S" env -u XDG_CONFIG_HOME "$ESPGANG" board-info
err_is "without XDG_CONFIG_HOME: ~/.config/espflash" 1 "from $HOME/.config/espflash/espflash_ports.toml:2"
mkdir -p "$TMP/xdg/espflash"
printf '[connection]\nserial = "%s"\n' "$GOOD" >"$TMP/xdg/espflash/espflash_ports.toml"
run_in "$S" env XDG_CONFIG_HOME="$TMP/xdg" "$ESPGANG" board-info
ok "another XDG_CONFIG_HOME, another global folder"
rm "$GLOBAL/espflash_ports.toml" "$GLOBAL/espflash.toml"

# espflash 3 kept the port in espflash.toml: read from there without a ports file.
printf 'baudrate = 460800\n[connection]\nserial = "%s"\n' "$GOOD" >"$S/espflash.toml"
run_in "$S" "$ESPGANG" board-info
ok "espflash 3's espflash.toml: its [connection] is read"

# Faults: FILE:LINE:COLUMN, and the board is not touched.
bad_file() { # DESCRIPTION FILE CONTENT PATTERN
    printf '%s\n' "$3" >"$S/$2"
    : >"$TMP/a.log"
    run_in "$S" "$ESPGANG" board-info --port "$GOOD"
    err_is "$1" 1 "^espgang: error: $S/$2:$4"
    touched && fail "$1: the board was touched" || pass "$1: the board was not touched"
    rm "$S/$2"
}
bad_file "a baud rate in quotes" espflash.toml 'baudrate = "460800"' \
    "1:12: baudrate must be an integer, not a string$"
bad_file "espflash's misplaced key" espflash.toml 'bootloader = "b.bin"' \
    "1:1: 'bootloader' belongs under \[idf_format_args\] \(or \[idf\]\)$"
bad_file "a flash size espflash does not know" espflash.toml "$(printf '[flash]\nsize = "3MB"')" \
    "2:8: flash.size: '3MB' is not one of 256KB, 512KB, 1MB"
bad_file "a port without quotes" espflash_ports.toml "$(printf '[connection]\nserial = /dev/ttyUSB0')" \
    "2:10: expected a value \(a string, an integer, true, false or an array\), found '/': a string needs quotes$"
bad_file "a VID that is not hex" espflash_ports.toml "$(printf '[[usb_device]]\nvid = "30zz"\npid = "1001"')" \
    "2:7: usb_device.vid: '30zz' is not a hex number$"
bad_file "an unterminated string" espflash.toml "$(printf '[idf]\nbootloader = "b.bin')" \
    "2:14: unterminated string: the line ends before its closing \"$"
printf 'baudrate = 460800\ncolour = "red"\n' >"$S/espflash.toml"
run_in "$S" "$ESPGANG" board-info --port "$GOOD"
[ "$rc" = 0 ] && grep -q "^warning: $S/espflash.toml:2:1: unknown key 'colour', ignored (espflash ignores it too)$" "$TMP/err" &&
    pass "an unknown key: a warning with its place, and the work goes on" ||
    fail "unknown key: exit $rc: $(cat "$TMP/err")"
printf 'baudrate = "x"\n' >"$S/espflash.toml"
cp "$ROOT/profiles/demo/partitions.csv" "$S/parts.csv"
run_in "$S" "$ESPGANG" partition-table parts.csv
ok "commands that use no board and no layout do not read the files"
rm "$S/espflash.toml"

# flash and save-image take espflash.toml's layout and flash settings.
cp "$FIX/esp32c3-appdesc.elf" "$S/app.elf"
cp "$FIX/esp32c3-bootloader.bin" "$S/boot.bin"
cat >"$S/parts.csv" <<'EOF'
nvs,      data, nvs,   0xa000,   0x6000,
otadata,  data, ota,   0x10000,  0x2000,
ota_0,    app,  ota_0, 0x20000,  1M,
ota_1,    app,  ota_1, 0x120000, 1M,
EOF
cp "$S/app.elf" "$S/boot.bin" "$S/parts.csv" "$TMP/"
FLAGS="--bootloader boot.bin --partition-table parts.csv --partition-table-offset 0x9000 --target-app-partition ota_1 -s 4MB -f 40m"
# shellcheck disable=SC2086
run_in "$TMP" "$ESPGANG" save-image -c esp32c3 --merge $FLAGS -m dout app.elf want.bin
ok "save-image --merge with every setting as a flag"
# shellcheck disable=SC2086
run_in "$TMP" "$ESPGANG" save-image -c esp32c3 --merge $FLAGS -m qio app.elf want-qio.bin
cat >"$S/espflash.toml" <<'EOF'
baudrate = 921600
[idf]
bootloader = "boot.bin"
partition_table = "parts.csv"
partition_table_offset = 0x9000
target_app_partition = "ota_1"
[flash]
mode = "dout"
size = "4MB"
frequency = "40MHz"
EOF
run_in "$S" "$ESPGANG" save-image -c esp32c3 --merge app.elf got.bin
ok "save-image --merge with the settings in espflash.toml"
same_files "... the same image as with the flags" "$TMP/want.bin" "$S/got.bin"
run_in "$S" "$ESPGANG" save-image -c esp32c3 --merge -m qio app.elf got-qio.bin
same_files "a flag beats espflash.toml" "$TMP/want-qio.bin" "$S/got-qio.bin"
cmp -s "$S/got.bin" "$S/got-qio.bin" && fail "-m qio changed nothing" || pass "-m qio changed the image"
run_in "$S" "$ESPGANG" save-image -c esp32c3 app.elf app-only.bin
ok "save-image without --merge: espflash.toml's bootloader is not refused"
run_in "$S" "$ESPGANG" save-image -c esp32c3 --merge -v app.elf got2.bin
grep -q "^$S/espflash.toml: --partition-table-offset 0x9000$" "$TMP/err" &&
    pass "-v says which settings came from espflash.toml" || fail "-v: $(cat "$TMP/err")"

: >"$TMP/a.log"
run_in "$S" "$ESPGANG" flash -p "$GOOD" app.elf
ok "flash with espflash.toml's layout and flash settings"
[ "$(last_baud)" = 921600 ] && pass "... at its baud rate" || fail "baud $(last_baud)"
run_in "$S" "$ESPGANG" read-flash -p "$GOOD" 0 4MB back.bin
same_files "... the flash holds what save-image --merge made with the flags" "$TMP/want.bin" "$S/back.bin"
run_in "$S" "$ESPGANG" flash -p "$GOOD" --ram "$FIX/esp32c3-ram.elf"
ok "flash --ram leaves espflash.toml's layout alone (it writes no flash)"

# Paths are taken from the current folder, as espflash takes them.
mkdir -p "$S/deeper"
run_in "$S/deeper" "$ESPGANG" save-image -c esp32c3 --merge ../app.elf x.bin
err_is "espflash.toml's paths are relative to the current folder, and it says so" 1 \
    "^espgang: error: $S/espflash.toml: bootloader 'boot.bin': No such file or directory \(its paths are taken from the current folder, $S/deeper\)$"
finish
