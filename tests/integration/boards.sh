# The board-level commands against one virtual board of every chip, over the
# transport given as $KIND (tcp or pty), with the options in $EXTRA (test_pty.sh
# stays with the ROM loader, test_tcp.sh runs the flasher stub). Sourced by both.
kind=$KIND

head -c 1048576 /dev/urandom >"$TMP/random.bin"
mac_n=1
for chip in esp32 esp32s2 esp32s3 esp32c2 esp32c3 esp32c5 esp32c6 esp32h2 esp32p4; do
    mac=$(printf '24:0a:c4:12:%02x:%02x' "$mac_n" $((mac_n * 7)))
    mac_n=$((mac_n + 1))
    case $chip in
    esp32 | esp32c2) size=2MB bytes=2097152 ;;
    esp32s3 | esp32p4) size=16MB bytes=16777216 ;;
    *) size=4MB bytes=4194304 ;;
    esac
    if [ "$kind" = tcp ]; then
        start_sim "$chip" --chip "$chip" --tcp 0 --mac "$mac" --flash-size "$size" --revision v1.2 \
            --log "$TMP/$chip.log"
    else
        start_sim "$chip" --chip "$chip" --pty "$TMP/$chip.tty" --mac "$mac" --flash-size "$size" \
            --revision v1.2 --log "$TMP/$chip.log"
    fi
    port=$SIM_ADDR
    # shellcheck disable=SC2086
    set -- -p "$port" --before no-reset --after no-reset $EXTRA

    if expect_ok "$kind $chip: board-info" "$ESPGANG" board-info "$@"; then
        out=$(cat "$TMP/out")
        echo "$out" | grep -q "^Chip type: *$(echo "$chip" | tr 'a-z' 'A-Z' | sed 's/ESP32\(..*\)/ESP32-\1/')" &&
            echo "$out" | grep -q "^MAC address: *$mac$" &&
            echo "$out" | grep -q "^Revision: *v1.2$" &&
            echo "$out" | grep -q "^Flash size: *$size$" &&
            echo "$out" | grep -q "^Flash id: *0x" &&
            echo "$out" | grep -q "^Security: " &&
            pass "$kind $chip: board-info shows chip, MAC $mac, v1.2, $size" ||
            { fail "$kind $chip: board-info lines"; echo "$out" | sed 's/^/    /'; }
    fi
    if expect_ok "$kind $chip: board-info --json" "$ESPGANG" board-info --json "$@"; then
        j="$TMP/out"
        if [ "$(jq -r .chip "$j")" = "$chip" ] && [ "$(jq -r .mac "$j")" = "$mac" ] &&
            [ "$(jq -r .flash_size "$j")" = "$bytes" ] && [ "$(jq -r .revision "$j")" = v1.2 ] &&
            jq -e 'has("flash_id") and has("security")' "$j" >/dev/null; then
            pass "$kind $chip: JSON keys and values"
        else
            fail "$kind $chip: JSON $(cat "$j")"
        fi
        if [ "$chip" = esp32 ]; then
            [ "$(jq -r .security "$j")" = null ] && pass "$kind esp32: no security info" ||
                fail "$kind esp32: security should be null"
        fi
    fi

    expect_ok "$kind $chip: board-info at 921600 baud" "$ESPGANG" board-info -B 921600 "$@" &&
        grep -q "CHANGE_BAUDRATE.*921600" "$TMP/$chip.log" &&
        pass "$kind $chip: the baud change reached the board" ||
        fail "$kind $chip: no CHANGE_BAUDRATE 921600 in the log"
    expect_ok "$kind $chip: write-bin 1 MiB" "$ESPGANG" write-bin 0x10000 "$TMP/random.bin" "$@"
    expect_ok "$kind $chip: read-flash 1 MiB" "$ESPGANG" read-flash 0x10000 1MB "$TMP/back.bin" "$@" &&
        same_files "$kind $chip: read back equals written" "$TMP/random.bin" "$TMP/back.bin"
    if expect_ok "$kind $chip: checksum-md5" "$ESPGANG" checksum-md5 0x10000 0x100000 "$@"; then
        want=$(md5sum "$TMP/random.bin" | cut -d' ' -f1)
        got=$(cat "$TMP/out")
        [ "$got" = "$want" ] && pass "$kind $chip: checksum-md5 equals md5sum" ||
            fail "$kind $chip: checksum-md5 $got, md5sum $want"
    fi
    expect_ok "$kind $chip: erase-region" "$ESPGANG" erase-region 0x20000 0x8000 "$@"
    ff_file "$TMP/ff.bin" 32768
    expect_ok "$kind $chip: read erased" "$ESPGANG" read-flash 0x20000 0x8000 "$TMP/erased.bin" "$@" &&
        same_files "$kind $chip: erased region reads 0xFF" "$TMP/ff.bin" "$TMP/erased.bin"
    # The bytes around the erased region are untouched.
    expect_ok "$kind $chip: read around erase" "$ESPGANG" read-flash 0x10000 0x10000 "$TMP/before.bin" "$@" &&
        head -c 65536 "$TMP/random.bin" | cmp -s - "$TMP/before.bin" &&
        pass "$kind $chip: erase left the preceding 64 KiB alone" ||
        fail "$kind $chip: erase damaged the preceding region"

    begins=$(grep -cE 'FLASH_(DEFL_)?BEGIN' "$TMP/$chip.log")
    other=esp32c3
    [ "$chip" = esp32c3 ] && other=esp32s3
    expect_fail "$kind $chip: --chip $other is refused" "not the ESP32-.* given with --chip" 10 \
        "$ESPGANG" write-bin --chip "$other" 0x10000 "$TMP/random.bin" "$@"
    if [ "$(grep -cE 'FLASH_(DEFL_)?BEGIN' "$TMP/$chip.log")" -eq "$begins" ]; then
        pass "$kind $chip: the refused write sent no flash command"
    else
        fail "$kind $chip: unexpected flash commands in the log"
        grep -E "FLASH_(DEFL_)?BEGIN" "$TMP/$chip.log" | sed 's/^/    /'
    fi
done
