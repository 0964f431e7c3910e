#!/bin/sh
# espgang monitor and flash / write-bin -M against espsim boards running an application
# built from a fixture ELF (--app-elf, --app hello|panic): the panic's addresses decoded
# to function and file:line, checked against the ELF's symbol table (nm) and the marker
# comments in tools/fixtures/firmware.c, never against another decoder; an ELF without
# DWARF (the synthetic Xtensa one); --no-addresses and no ELF; the monitor on a real
# terminal (monitor_pty.py: raw mode, keys to the board, Ctrl-R, Ctrl-C, SIGTERM, the
# board unplugged, --non-interactive; the terminal restored each time); defmt frames
# from the defmt fixture (--app defmt); flash -M and
# write-bin -M; and the bad inputs, each refused before the port is opened.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"
FIX=$(dirname "$ESPGANG")/fixtures
SRC=$(cd "$(dirname "$0")/../.." && pwd)/tools/fixtures/firmware.c
C3=$FIX/esp32c3.elf
C3D=$FIX/esp32c3-appdesc.elf
S3=$FIX/esp32s3.elf
FILE=tools/fixtures/firmware.c

# addr ELF SYMBOL: the symbol's address, 8 hex digits, from the symbol table.
addr() {
    nm "$1" | awk -v s="$2" '$3 == s { print $1 }'
}
# line_of NAME: the line firmware.c marks as NAME's first line.
line_of() {
    grep -n "entry line of $1 (monitor tests)" "$SRC" | cut -d: -f1
}

# run_until DESCRIPTION PATTERN SECONDS OUT CMD...: runs CMD (standard input /dev/null)
# until its output matches PATTERN (grep -E), at most SECONDS, then SIGTERM; RUN_RC is
# its exit status, 0 when it stopped as asked.
run_until() {
    ru_desc=$1 ru_pat=$2 ru_max=$3 ru_out=$4
    shift 4
    "$@" </dev/null >"$ru_out" 2>&1 &
    ru_pid=$!
    ru_i=0
    until grep -qE -- "$ru_pat" "$ru_out" || [ $ru_i -ge $((ru_max * 20)) ]; do
        if ! kill -0 $ru_pid 2>/dev/null; then
            break
        fi
        sleep 0.05
        ru_i=$((ru_i + 1))
    done
    kill -TERM $ru_pid 2>/dev/null
    wait $ru_pid
    RUN_RC=$?
    if grep -qE -- "$ru_pat" "$ru_out"; then
        pass "$ru_desc: /$ru_pat/ shown"
    else
        fail "$ru_desc: no /$ru_pat/ within $ru_max s (exit $RUN_RC):"
        tail -15 "$ru_out" | sed 's/^/    /'
    fi
}

# after_line DESCRIPTION OUT PATTERN EXPECTED: the lines under the first line of OUT that
# matches PATTERN are exactly EXPECTED (as many lines as it has).
after_line() {
    n=$(printf '%s\n' "$4" | wc -l)
    got=$(grep -m1 -A"$n" -E -- "$3" "$2" | tail -n +2)
    if [ "$got" = "$4" ]; then
        pass "$1"
    else
        fail "$1: under /$3/ came:"
        printf '%s\n' "$got" | sed 's/^/    /'
        echo "  expected:"
        printf '%s\n' "$4" | sed 's/^/    /'
    fi
}

stopped_ok() {
    [ "$RUN_RC" -eq 0 ] && pass "$1: SIGTERM ends it with exit 0" || fail "$1: exit $RUN_RC after SIGTERM"
}

shuffle=$(addr "$C3" eg_shuffle.constprop.0)
app_main=$(addr "$C3" eg_app_main)
entry=$(addr "$C3" call_start_cpu0)
[ -n "$shuffle" ] && [ -n "$app_main" ] && [ -n "$entry" ] || {
    fail "the fixture's symbols (nm $C3)"
    finish
    exit 1
}

# ---- A RISC-V panic over TCP, as the acceptance check runs it ---------------------------
start_sim c3panic --chip esp32c3 --tcp 0 --app-elf "$C3" --app panic --log "$TMP/c3panic.log"
run_until "ESP32-C3 panic" '^MHARTID' 20 "$TMP/c3.out" \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$C3" --non-interactive
stopped_ok "ESP32-C3 panic"
log_has "espsim panics in real functions of the ELF" "$TMP/c3panic.log" \
    "app: panic at 0x$shuffle \\(eg_shuffle.constprop.0\\), called from eg_app_main, called from call_start_cpu0"
after_line "MEPC and RA decoded to function and file:line" "$TMP/c3.out" "^MEPC    : 0x$shuffle  RA      : 0x$app_main " \
    "0x$shuffle - eg_shuffle
    at $FILE:$(line_of eg_shuffle)
0x$app_main - eg_app_main
    at $FILE:$(line_of eg_app_main)"
after_line "a return address in the stack memory decoded" "$TMP/c3.out" "^[0-9a-f]{8}: .*0x$entry" \
    "0x$entry - call_start_cpu0
    at $FILE:$(line_of call_start_cpu0)"
after_line "a code address in an app's line decoded" "$TMP/c3.out" "^app_main\\(\\) is at 0x$app_main\$" \
    "0x$app_main - eg_app_main
    at $FILE:$(line_of eg_app_main)"
grep -m1 -A1 '^TP      : ' "$TMP/c3.out" | tail -1 | grep -q '^S0/FP   : ' &&
    pass "RAM words (SP, GP) stay undecoded" || fail "something decoded under a line of RAM words"
grep -qE '\.(c|rs):[0-9]+' "$TMP/c3.out" && pass "the acceptance pattern \\.(c|rs):[0-9]+ matches" ||
    fail "no file:line in the output"
grep -q "Saved PC:0x" "$TMP/c3.out" && ! grep -A1 "^Saved PC:" "$TMP/c3.out" | grep -q "    at " &&
    pass "the panic's reboot is shown (Saved PC, not decoded)" || fail "the reboot after the panic"
grep -q "has no DTR/RTS lines" "$TMP/c3.out" && pass "socket://: says it cannot reset the board" ||
    fail "socket://: no word about the missing reset lines"

run_until "--no-addresses" '^MHARTID' 20 "$TMP/noaddr.out" \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$C3" --no-addresses
grep -q "^MEPC    : 0x$shuffle" "$TMP/noaddr.out" && ! grep -qE '^    at |^0x[0-9a-f]{8} - ' "$TMP/noaddr.out" &&
    pass "--no-addresses: the panic as the board printed it, nothing decoded" || fail "--no-addresses decoded something"
run_until "no ELF" '^MHARTID' 20 "$TMP/noelf.out" "$ESPGANG" monitor --port "$SIM_ADDR"
grep -q "^MEPC    : 0x$shuffle" "$TMP/noelf.out" && ! grep -qE '^    at ' "$TMP/noelf.out" &&
    pass "without --elf: nothing decoded" || fail "without --elf something was decoded"

# The board goes away under a non-interactive monitor.
"$ESPGANG" monitor --port "$SIM_ADDR" --elf "$C3" </dev/null >"$TMP/gone.out" 2>"$TMP/gone.err" &
mon=$!
i=0
until grep -q "Hello world" "$TMP/gone.out" || [ $i -gt 200 ]; do sleep 0.05; i=$((i + 1)); done
for p in $SIM_PIDS; do kill -9 "$p" 2>/dev/null; done
i=0
while kill -0 $mon 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 $mon 2>/dev/null; then
    kill $mon
    fail "the board killed: the monitor went on"
else
    wait $mon
    rc=$?
    [ $rc -eq 1 ] && grep -q "espgang: error: port '$SIM_ADDR': the device closed the connection: the monitor ends" "$TMP/gone.err" &&
        pass "the board killed: exit 1, $(cat "$TMP/gone.err")" || {
        fail "the board killed: exit $rc"
        cat "$TMP/gone.err"
    }
fi
SIM_PIDS=""

# ---- Xtensa: a panic with a backtrace, an ELF with symbols and no DWARF -----------------
xs_inner=$(addr "$S3" mid_page_crc)
xs_main=$(addr "$S3" app_main)
xs_entry=$(addr "$S3" call_start_cpu0)
start_sim s3panic --chip esp32s3 --tcp 0 --app-elf "$S3" --app panic --log "$TMP/s3panic.log"
run_until "ESP32-S3 panic" '^Backtrace:' 20 "$TMP/s3.out" \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$S3" --non-interactive
log_has "espsim's Xtensa panic frames" "$TMP/s3panic.log" \
    "app: panic at 0x$xs_inner \\(mid_page_crc\\), called from app_main, called from call_start_cpu0"
grep -q "^Guru Meditation Error: Core  0 panic'ed (LoadProhibited)" "$TMP/s3.out" &&
    pass "the Xtensa panic's first line" || fail "no LoadProhibited panic"
after_line "PC decoded from the symbol table (no DWARF: ??:??); A0's window bits keep it out" \
    "$TMP/s3.out" "^PC      : 0x$xs_inner  PS      : 0x00060830  A0      : 0x8" \
    "0x$xs_inner - mid_page_crc
    at ??:??"
after_line "the backtrace's PCs decoded, its SPs not" "$TMP/s3.out" \
    "^Backtrace: 0x$xs_inner:0x[0-9a-f]{8} 0x$xs_main:0x[0-9a-f]{8} 0x$xs_entry:0x[0-9a-f]{8}\$" \
    "0x$xs_inner - mid_page_crc
    at ??:??
0x$xs_main - app_main
    at ??:??
0x$xs_entry - call_start_cpu0
    at ??:??"
for p in $SIM_PIDS; do kill "$p" 2>/dev/null; done
SIM_PIDS=""

# ---- On a terminal: an RFC 2217 board, whose DTR/RTS reach it ----------------------------
for scenario in keys sigterm unplug cooked; do
    start_sim "pty$scenario" --chip esp32c3 --rfc2217 0 --app-elf "$C3" --app hello --log "$TMP/pty$scenario.log"
    simpid=${SIM_PIDS##* }
    if "$PY" "$(dirname "$0")/monitor_pty.py" $scenario "$ESPGANG" "$SIM_ADDR" "$C3" \
        "$TMP/pty$scenario.log" "$simpid" >"$TMP/pty.out" 2>&1; then
        pass "terminal, $scenario: $(tr '\n' ';' <"$TMP/pty.out")"
    else
        fail "terminal, $scenario:"
        sed 's/^/    /' "$TMP/pty.out"
    fi
    for p in $SIM_PIDS; do kill "$p" 2>/dev/null; done
    SIM_PIDS=""
done

# ---- flash -M: written, reset into the app, monitored with the ELF just flashed -----------
start_sim flashm --chip esp32c3 --rfc2217 0 --app-elf "$C3D" --app hello --log "$TMP/flashm.log"
d_main=$(addr "$C3D" eg_app_main)
run_until "flash -M" '^Counter: 1$' 60 "$TMP/flashm.out" \
    "$ESPGANG" flash --port "$SIM_ADDR" -M --no-skip "$C3D"
stopped_ok "flash -M"
order=$(grep -nE "^Wrote and verified '.*esp32c3-appdesc.elf'|^Monitoring '$SIM_ADDR' at 115200 baud, decoding addresses with '.*esp32c3-appdesc.elf'|^rst:0x1 \\(POWERON\\)|Project name: +espgang-fixture-esp32c3|^0x$d_main - eg_app_main" \
    "$TMP/flashm.out" | cut -d: -f1 | tr '\n' ' ')
[ "$(echo $order | wc -w)" -eq 5 ] && [ "$(echo $order | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "$order" ] &&
    pass "flash -M: written, then monitored at 115200 with the flashed ELF, the boot from its start, decoded (lines $order)" || {
    fail "flash -M: the order of what it printed (lines $order)"
    head -30 "$TMP/flashm.out" | sed 's/^/    /'
}
log_has "flash -M: the monitor's reset through EN, after the write" "$TMP/flashm.log" "EN low: held in reset"
sed -n '/SPI_FLASH_MD5 addr=0x10000/,$p' "$TMP/flashm.log" | grep -q "boot: running the application (app at 0x10000)" &&
    pass "flash -M: the board booted the app after the write" || fail "flash -M: no boot after the write"

# flash -M with the port from espflash_ports.toml: chosen once, for both.
mkdir -p "$TMP/portcfg"
printf '[connection]\nserial = "%s"\n' "$SIM_ADDR" >"$TMP/portcfg/espflash_ports.toml"
(cd "$TMP/portcfg" && HOME=$TMP/portcfg XDG_CONFIG_HOME= ESPGANG_PORT= ESPFLASH_PORT= \
    run_until "flash -M, the port from espflash_ports.toml" '^Counter: 1$' 60 "$TMP/flashcfg.out" \
    "$ESPGANG" flash -M "$C3D")
[ "$(grep -c "^Using serial port '$SIM_ADDR' (from" "$TMP/flashcfg.out")" -eq 1 ] &&
    pass "  the port is chosen once, for the flash and the monitor" ||
    fail "  port choices: $(grep -c "^Using serial port" "$TMP/flashcfg.out")"

# write-bin -M, the ELF given with --elf.
ff_file "$TMP/blob.bin" 4096
run_until "write-bin -M" "^0x$d_main - eg_app_main\$" 60 "$TMP/wbm.out" \
    "$ESPGANG" write-bin --port "$SIM_ADDR" -M --elf "$C3D" 0x300000 "$TMP/blob.bin"
stopped_ok "write-bin -M"
for p in $SIM_PIDS; do kill "$p" 2>/dev/null; done
SIM_PIDS=""

# ---- Bad inputs: refused before the port is opened ------------------------------------
start_sim idle --chip esp32c3 --tcp 0 --app-elf "$C3" --log "$TMP/idle.log"
expect_usage "--monitor-baud abc" "monitor: --monitor-baud 'abc' is not a baud rate \\(300 to 12000000\\)" \
    "$ESPGANG" monitor --port "$SIM_ADDR" -r abc
expect_usage "-r 0" "monitor: --monitor-baud '0' is not a baud rate" "$ESPGANG" monitor --port "$SIM_ADDR" -r 0
for opt in "--before no-reset" "--after no-reset" "--no-stub" "--connect-attempts 2"; do
    # shellcheck disable=SC2086
    expect_usage "monitor $opt: refused, not ignored" "monitor: ${opt%% *} does not apply to the monitor" \
        "$ESPGANG" monitor --port "$SIM_ADDR" $opt
done
expect_usage "MONITOR_BAUD=12" "monitor: MONITOR_BAUD '12' is not a baud rate" \
    env MONITOR_BAUD=12 "$ESPGANG" monitor --port "$SIM_ADDR"
expect_usage "flash -M -r 99999999999" "flash: --monitor-baud '99999999999' is not a baud rate" \
    "$ESPGANG" flash --port "$SIM_ADDR" -M -r 99999999999 "$C3D"
expect_fail "--elf of a missing file" "espgang: error: monitor: '$TMP/missing.elf': cannot open: No such file or directory" 5 \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$TMP/missing.elf"
expect_fail "--elf of a cut ELF" "monitor: '$FIX/bad/truncated.elf' is cut short" 5 \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$FIX/bad/truncated.elf"
expect_fail "--elf of something else" "monitor: '$FIX/bad/not-an-elf.bin' is not an ELF file" 5 \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$FIX/bad/not-an-elf.bin"
expect_fail "flash -M --elf of a missing file" "flash: '$TMP/missing.elf': cannot open" 5 \
    "$ESPGANG" flash --port "$SIM_ADDR" -M --elf "$TMP/missing.elf" "$C3D"
expect_fail "-L defmt, and an ELF without defmt" "monitor: no defmt data in '$C3'" 5 \
    "$ESPGANG" monitor --port "$SIM_ADDR" -L defmt --elf "$C3"
expect_fail "--chip and an ELF for another chip" "monitor: '$S3' is for another CPU than ESP32-C3's" 5 \
    "$ESPGANG" monitor --port "$SIM_ADDR" --chip esp32c3 --elf "$S3"
expect_fail "--chip and an ELF whose metadata names another chip" "monitor: '$FIX/esp32c3-meta-c6.elf' was built for ESP32-C6, not ESP32-C3" 5 \
    "$ESPGANG" monitor --port "$SIM_ADDR" --chip esp32c3 --elf "$FIX/esp32c3-meta-c6.elf"
expect_usage "-L json" "monitor: --log-format 'json' is not a log format \\(known: serial, defmt\\)" \
    "$ESPGANG" monitor --port "$SIM_ADDR" -L json
expect_usage "monitor -B" "monitor: --baud is the rate for flashing; the board's output comes at -r/--monitor-baud" \
    "$ESPGANG" monitor --port "$SIM_ADDR" -B 460800
grep -q "connected" "$TMP/idle.log" && fail "a refused monitor opened the port" ||
    pass "nothing refused opened the port (espsim saw no connection)"
for p in $SIM_PIDS; do kill "$p" 2>/dev/null; done
SIM_PIDS=""
expect_fail "a port nobody listens on" "espgang: error: port 'socket://127.0.0.1:1': " 5 \
    "$ESPGANG" monitor --port socket://127.0.0.1:1
"$ESPGANG" flash --port socket://127.0.0.1:1 --no-reset "$C3D" </dev/null >"$TMP/out" 2>"$TMP/err"
grep -q "warning: flash: --no-reset is a monitor option: it applies only with -M/--monitor" "$TMP/err" &&
    pass "monitor options without -M: a warning" || fail "monitor options without -M: no warning"

# --- defmt: the fixture app's frames (espsim --app defmt, its own encoder) decoded with
# the ELF's table; the format is taken from the ELF's metadata (espflash.LOG_FORMAT).
DF=$FIX/esp32c3-meta-defmt.elf
start_sim defmt --chip esp32c3 --tcp 0 --app-elf "$DF" --app defmt
run_until "defmt from the ELF's metadata" '0x42001b2e' 20 "$TMP/defmt.out" \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$DF" --non-interactive
grep -q "^I ([0-9]*) main_task: Calling app_main()$" "$TMP/defmt.out" &&
    pass "  the start-up text before the frames is shown as text" || fail "  no start-up text"
for want in "^defmt fixture for esp32c3, wire format 4$" \
    "^1\.500000 \[DEBUG\] u8=200 u16=65535 u32=4000000000 u64=18446744073709551615 " \
    "^1\.750000 \[INFO \] i8=-128 i16=-32768 i32=-2147483648 i64=-9223372036854775808 " \
    "^2\.750000 \[INFO \] reading Reading \{ celsius: 21\.5, ok: true \} " \
    "^esp_println::println! between frames$" \
    "^5\.000000 \[ERROR\] panicked at src/main\.rs:42:5 "; do
    grep -qE "$want" "$TMP/defmt.out" && pass "  /$want/" || fail "  no /$want/"
done
[ "$(grep -c "defmt_app.cc:[0-9]*)$" "$TMP/defmt.out")" -eq 19 ] &&
    pass "  each of the 19 log frames with its file:line" ||
    fail "  frames with a location: $(grep -c "defmt_app.cc:" "$TMP/defmt.out")"
run_until "-F '{L} {s}'" '0x42001b2e' 20 "$TMP/defmt-f.out" \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$DF" -L defmt -F '{L} {s}' --non-interactive
grep -qE "^WARN +flags true false, ratio 0.5, precise 3.141592653589793$" "$TMP/defmt-f.out" &&
    pass "  -F: the level and the message only" || fail "  -F: $(grep flags "$TMP/defmt-f.out")"
run_until "-L serial on a defmt board: raw bytes, no decoding" 'between frames' 20 "$TMP/defmt-raw.out" \
    "$ESPGANG" monitor --port "$SIM_ADDR" --elf "$DF" -L serial --non-interactive
grep -q "u8=200" "$TMP/defmt-raw.out" && fail "  decoded anyway" || pass "  nothing decoded"

# --- C++ (and Rust) functions by their full names, demangled, with DWARF and without.
DF=$FIX/esp32c3-meta-defmt.elf
riscv64-unknown-elf-objcopy --strip-debug "$DF" "$TMP/cxx-nodebug.elf"
run_addr=$(nm "$DF" | awk '$3 == "_ZN13defmt_fixture3app3runEv" { print $1 }')
for elf in "$DF" "$TMP/cxx-nodebug.elf"; do
    rm -f "$TMP/srv.port"
    /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); c.sendall(("MEPC    : 0x%s\r\n" % sys.argv[2]).encode()); time.sleep(0.5); c.close()
' "$TMP/srv.port" "$run_addr" &
    srv=$!
    i=0
    while [ ! -s "$TMP/srv.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    timeout 10 "$ESPGANG" monitor --port "socket://127.0.0.1:$(cat "$TMP/srv.port")" --elf "$elf" \
        -L serial --non-interactive </dev/null >"$TMP/cxx.out" 2>&1
    wait $srv
    grep -q "^0x$run_addr - defmt_fixture::app::run$" "$TMP/cxx.out" &&
        pass "C++ function demangled ($(basename "$elf"))" || fail "C++ name: $(cat "$TMP/cxx.out")"
done

finish
