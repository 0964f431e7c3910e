#!/bin/sh
# One espsim process serving several boards (for gang tests): consecutive addresses
# and MACs, each board with its own flash.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

head -c 65536 /dev/urandom >"$TMP/a.bin"
for kind in tcp pty; do
    if [ $kind = tcp ]; then
        start_sim multi$kind --chip esp32s3 --tcp 0 --boards 4 --mac 24:0a:c4:00:00:fe
    else
        start_sim multi$kind --chip esp32c3 --pty "$TMP/gang" --boards 4 --mac 24:0a:c4:00:00:fe
    fi
    n=$(echo $SIM_ADDRS | wc -w)
    [ "$n" -eq 4 ] && pass "$kind: 4 ready lines" || fail "$kind: $n ready lines"
    i=0
    for port in $SIM_ADDRS; do
        want=$(printf '24:0a:c4:00:01:%02x' $((i - 2)))
        [ $i -lt 2 ] && want=$(printf '24:0a:c4:00:00:%02x' $((0xfe + i)))
        if expect_ok "$kind board $i: board-info" "$ESPGANG" board-info --json -p "$port" --after no-reset; then
            got=$(jq -r .mac "$TMP/out")
            [ "$got" = "$want" ] && pass "$kind board $i: MAC $got" || fail "$kind board $i: MAC $got, want $want"
        fi
        i=$((i + 1))
    done
    first=${SIM_ADDRS%% *}
    second=$(echo $SIM_ADDRS | cut -d' ' -f2)
    expect_ok "$kind: write board 0" "$ESPGANG" write-bin -p "$first" --after no-reset 0x10000 "$TMP/a.bin"
    ff_file "$TMP/ff.bin" 65536
    expect_ok "$kind: read board 1" "$ESPGANG" read-flash -p "$second" --after no-reset 0x10000 64k "$TMP/b.bin" &&
        same_files "$kind: board 1's flash is its own" "$TMP/ff.bin" "$TMP/b.bin"
done

# Plain (uncompressed) writes, and the port and baud rate from the environment.
start_sim plain --chip esp32 --tcp 0 --log "$TMP/plain.log"
expect_ok "uncompressed write from ESPGANG_PORT at ESPGANG_BAUD" \
    env ESPGANG_PORT="$SIM_ADDR" ESPGANG_BAUD=460800 "$ESPGANG" write-bin --no-stub --no-compress --after no-reset 0x8000 "$TMP/a.bin"
[ "$(grep -c ' FLASH_DATA ' "$TMP/plain.log")" -eq 64 ] && ! grep -q FLASH_DEFL "$TMP/plain.log" &&
    pass "64 plain 1 KiB blocks, nothing compressed" || fail "unexpected write commands"
grep -q "CHANGE_BAUDRATE baud=460800" "$TMP/plain.log" && pass "ESPGANG_BAUD reached the board" ||
    fail "no CHANGE_BAUDRATE 460800"
expect_ok "read back" "$ESPGANG" read-flash -p "$SIM_ADDR" --after no-reset 0x8000 64k "$TMP/p.bin" &&
    same_files "uncompressed write reads back" "$TMP/a.bin" "$TMP/p.bin"
finish
