# Shared helpers for the integration tests: start espsim boards, run espgang, check.
# Sourced by test_*.sh with ESPGANG and ESPSIM set to the binaries.
set -u

TMP=$(mktemp -d "${TMPDIR:-/tmp}/espgang-it.XXXXXX")
SIM_PIDS=""
FAILS=0
PASSES=0

cleanup() {
    for p in $SIM_PIDS; do
        kill "$p" 2>/dev/null
    done
    for p in $SIM_PIDS; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

pass() {
    PASSES=$((PASSES + 1))
    echo "ok: $*"
}

fail() {
    FAILS=$((FAILS + 1))
    echo "FAIL: $*"
}

# start_sim NAME ARGS...: starts espsim, waits for its ready lines and sets
# SIM_ADDR (first board's address) and SIM_ADDRS (all, space separated).
start_sim() {
    name=$1
    shift
    : >"$TMP/$name.out" # there before the background shell opens it
    "$ESPSIM" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    SIM_PIDS="$SIM_PIDS $!"
    want=1
    prev=""
    for a in "$@"; do
        if [ "$prev" = "--boards" ]; then
            want=$a
        fi
        prev=$a
    done
    i=0
    # Count whole ready lines only: a line still being written does not parse yet.
    while [ "$(sed -n 's/^espsim: board [0-9]* [a-z0-9]* ready on \([^ ]*\) mac [0-9a-f:]*$/\1/p' "$TMP/$name.out" | wc -l)" -lt "$want" ]; do
        i=$((i + 1))
        if [ $i -gt 400 ]; then
            echo "espsim $name did not get ready:"
            cat "$TMP/$name.err"
            exit 1
        fi
        sleep 0.05
    done
    SIM_ADDRS=$(sed -n 's/^espsim: board [0-9]* [a-z0-9]* ready on \([^ ]*\) mac [0-9a-f:]*$/\1/p' "$TMP/$name.out" | tr '\n' ' ')
    SIM_ADDR=${SIM_ADDRS%% *}
}

# expect_ok DESCRIPTION CMD...: the command must exit 0.
expect_ok() {
    desc=$1
    shift
    if "$@" >"$TMP/out" 2>"$TMP/err"; then
        pass "$desc"
        return 0
    fi
    fail "$desc (exit $?)"
    sed 's/^/    /' "$TMP/err"
    return 1
}

# err_matches DESCRIPTION PATTERN: the last command's standard error matches PATTERN.
err_matches() {
    if grep -qE -- "$2" "$TMP/err"; then
        pass "$1 ($(head -c 160 "$TMP/err" | tr '\n' ' '))"
        return 0
    fi
    fail "$1: error does not match /$2/:"
    sed 's/^/    /' "$TMP/err"
    return 1
}

# expect_fail DESCRIPTION PATTERN MAX_SECONDS CMD...: the command must exit
# non-zero within MAX_SECONDS, and its standard error must match PATTERN.
expect_fail() {
    desc=$1
    pattern=$2
    max=$3
    shift 3
    start=$(date +%s)
    timeout $((max + 5)) "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    took=$(($(date +%s) - start))
    if [ $rc -eq 0 ]; then
        fail "$desc: succeeded, expected a failure"
    elif [ $rc -eq 124 ]; then
        fail "$desc: hung (killed after $((max + 5)) s)"
    elif [ $rc -ge 128 ]; then
        fail "$desc: crashed (exit $rc)"
        sed 's/^/    /' "$TMP/err"
    elif [ $took -gt "$max" ]; then
        fail "$desc: took $took s, limit $max s"
    else
        err_matches "$desc" "$pattern"
        return
    fi
    return 1
}

# expect_usage DESCRIPTION PATTERN CMD...: a usage error: exit 2 at once, and standard
# error matches PATTERN.
expect_usage() {
    desc=$1
    pattern=$2
    shift 2
    timeout 10 "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ $rc -ne 2 ]; then
        fail "$desc: exit $rc, expected 2 (usage error)"
        sed 's/^/    /' "$TMP/err"
        return 1
    fi
    err_matches "$desc" "$pattern"
}

# same_files DESCRIPTION A B
same_files() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1: $2 and $3 differ"
    fi
}

# ff_file PATH SIZE: a file of SIZE bytes of 0xFF.
ff_file() {
    head -c "$2" /dev/zero | tr '\0' '\377' >"$1"
}

finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}

# Debian's Python, which has pyserial (python3-serial): tests that speak the protocol
# themselves run their checks through it, with simclient.py on its path.
PY=${ESPGANG_TEST_PYTHON:-/usr/bin/python3}
export PYTHONPATH="$(cd "$(dirname "$0")" && pwd)${PYTHONPATH:+:$PYTHONPATH}"

# py DESCRIPTION SCRIPT ARGS...: runs a Python check (SCRIPT is its text); it passes
# when it exits 0, and what it prints is shown when it fails.
py() {
    desc=$1
    script=$2
    shift 2
    if "$PY" -c "$script" "$@" >"$TMP/out" 2>"$TMP/err"; then
        pass "$desc$( [ -s "$TMP/out" ] && printf ' (%s)' "$(head -c 200 "$TMP/out" | tr '\n' ' ')")"
        return 0
    fi
    fail "$desc"
    sed 's/^/    /' "$TMP/out" "$TMP/err"
    return 1
}

# part FILE OFFSET LENGTH: LENGTH bytes of FILE from OFFSET (both decimal or $((...))).
part() {
    tail -c +$(($2 + 1)) "$1" | head -c "$3"
}

# log_has DESCRIPTION FILE PATTERN: FILE (an espsim log) has a line matching PATTERN.
log_has() {
    if grep -qE -- "$3" "$2"; then
        pass "$1"
        return 0
    fi
    fail "$1: no line matches /$3/ in $2:"
    tail -5 "$2" | sed 's/^/    /'
    return 1
}

# gang_profile FILE [BAUD] [LINE...]: a production profile for ESP32-C3 boards in FILE,
# next to copies of the test firmware (app.elf), the stand-in bootloader (boot.bin)
# and the demo partition table (parts.csv), every input pinned; more LINEs appended.
gang_profile() {
    gp_file=$1 gp_baud=${2:-921600}
    shift 2 2>/dev/null || shift $#
    gp_dir=$(dirname "$gp_file")
    gp_fix=$(dirname "$ESPGANG")/fixtures
    gp_root=$(cd "$(dirname "$0")/../.." && pwd)
    cp "$gp_fix/esp32c3-appdesc.elf" "$gp_dir/app.elf"
    cp "$gp_fix/esp32c3-bootloader.bin" "$gp_dir/boot.bin"
    cp "$gp_root/profiles/demo/partitions.csv" "$gp_dir/parts.csv"
    cat >"$gp_file" <<EOP
version: 1
name: gang test
chip: esp32c3
flash: {mode: dio, size: 4MB, freq: 80m}
connection: {baud: $gp_baud, connect_attempts: 2}
images:
  bootloader: {file: boot.bin, sha256: $(sha256sum "$gp_dir/boot.bin" | cut -d' ' -f1)}
  partition_table: {file: parts.csv, sha256: $(sha256sum "$gp_dir/parts.csv" | cut -d' ' -f1)}
  app: {file: app.elf, sha256: $(sha256sum "$gp_dir/app.elf" | cut -d' ' -f1)}
EOP
    for gp_line in "$@"; do echo "$gp_line" >>"$gp_file"; done
}
