#!/bin/sh
# cargo espgang: a fake `cargo` on PATH prints the JSON messages real cargo prints
# (their shapes copied from cargo 1.95's --message-format=json-render-diagnostics) and
# records its arguments; cargo-espgang builds, finds the executable and flashes it onto
# espsim (the flash checked against save-image --merge), saves its image, takes the
# bootloader and partition table of esp-idf-sys's build, and refuses a failed build,
# no executable or several before anything reaches the board. Every other command is
# espgang's (board-info through it prints what espgang prints). A fake espgang shows
# what cargo-espgang hands on. espgang flash as a cargo runner. With a real cargo on
# PATH, a real package is built (its link step hands over a fixture ELF) and flashed.
ESPGANG=$1 ESPSIM=$2
. "$(dirname "$0")/lib.sh"

BIN=$(cd "$(dirname "$ESPGANG")" && pwd)
CE=$BIN/cargo-espgang
FIX=$BIN/fixtures
ELF=$FIX/esp32c3-appdesc.elf
if [ ! -x "$CE" ] || [ ! -f "$ELF" ]; then
    echo "no $CE or fixtures in $FIX: build everything first"
    exit 1
fi
REAL_PATH=$PATH
REAL_CARGO=$(command -v cargo || true)
unset CARGO CARGO_TARGET_DIR CARGO_BUILD_TARGET

# --- The fake cargo: records its arguments, prints $TMP/cargo.out (stdout) and
# $TMP/cargo.err (stderr), exits with $TMP/cargo.rc.
mkdir -p "$TMP/fake"
cat >"$TMP/fake/cargo" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$TMP/cargo.args"
pwd >"$TMP/cargo.cwd"
[ -f "$TMP/cargo.err" ] && cat "$TMP/cargo.err" >&2
cat "$TMP/cargo.out"
exit \$(cat "$TMP/cargo.rc" 2>/dev/null || echo 0)
EOF
chmod +x "$TMP/fake/cargo"
PATH=$TMP/fake:$REAL_PATH
export PATH

# A project as cargo leaves it: the executables under target/.
PROJ=$TMP/proj
T=$PROJ/target/riscv32imc-unknown-none-elf/release
mkdir -p "$T/examples" "$PROJ/target/release/build/esp-idf-hal-1/out" "$PROJ/src"
cp "$ELF" "$T/app"
cp "$ELF" "$T/examples/blinky"
cp "$FIX/esp32c6-appdesc.elf" "$T/other"

# Messages, shaped as cargo writes them.
artifact() { # KIND NAME EXECUTABLE|null [PACKAGE_ID]
    exe=null
    [ "$3" = null ] || exe="\"$3\""
    file=$3
    [ "$3" = null ] && file="$PROJ/target/release/build/$2-0/build-script-build"
    printf '{"reason":"compiler-artifact","package_id":"%s","manifest_path":"%s/Cargo.toml","target":{"kind":["%s"],"crate_types":["bin"],"name":"%s","src_path":"%s/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"s","debuginfo":2,"debug_assertions":false,"overflow_checks":false,"test":false},"features":["default"],"filenames":["%s"],"executable":%s,"fresh":false}\n' \
        "${4:-path+file://$PROJ#app@0.1.0}" "$PROJ" "$1" "$2" "$PROJ" "$file" "$exe"
}
lib_artifact() { # NAME PACKAGE_ID
    printf '{"reason":"compiler-artifact","package_id":"%s","manifest_path":"/r/%s/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"%s","src_path":"/r/%s/src/lib.rs","edition":"2021","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"s","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["%s/target/libx.rlib","%s/target/deps/libx.rmeta"],"executable":null,"fresh":true}\n' \
        "$2" "$1" "$1" "$1" "$PROJ" "$PROJ"
}
script_ran() { # PACKAGE_ID OUT_DIR
    printf '{"reason":"build-script-executed","package_id":"%s","linked_libs":[],"linked_paths":[],"cfgs":["esp_idf"],"env":[["ESP_IDF_VERSION","v5.3"]],"out_dir":"%s"}\n' "$1" "$2"
}
diagnostic() { # LEVEL RENDERED (with \n escapes)
    printf '{"reason":"compiler-message","package_id":"path+file://%s#app@0.1.0","manifest_path":"%s/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"app","src_path":"%s/src/main.rs","edition":"2021","doc":true,"doctest":false,"test":true},"message":{"rendered":"%s","$message_type":"diagnostic","children":[],"code":null,"level":"%s","message":"m","spans":[]}}\n' \
        "$PROJ" "$PROJ" "$PROJ" "$2" "$1"
}
finished() {
    printf '{"reason":"build-finished","success":%s}\n' "$1"
}
REG=registry+https://github.com/rust-lang/crates.io-index
# The usual build: dependencies, their build scripts, then the app.
normal_build() {
    artifact custom-build build-script-build null "$REG#esp-hal@1.0.0"
    script_ran "$REG#esp-hal@1.0.0" "$PROJ/target/release/build/esp-hal-2/out"
    lib_artifact esp_hal "$REG#esp-hal@1.0.0"
    artifact bin app "$T/app"
    finished true
}
cargo_says() { # RC: the fake's exit status; its output is what the commands before wrote
    echo "$1" >"$TMP/cargo.rc"
}
: >"$TMP/cargo.err"

# --- Help (the acceptance check runs the first).
expect_ok "cargo-espgang espgang --help" "$CE" espgang --help
for flag in '--release' '--example NAME' '--bin NAME' '--package NAME' '--features LIST' \
    '--no-default-features' '--target TRIPLE' '--target-dir DIR' '--frozen' '--locked' '-Z FLAG'; do
    grep -q -- " $flag " "$TMP/out" || fail "--help does not list $flag"
done
grep -q "Every other option is espgang's" "$TMP/out" && grep -q 'runner = "espgang flash --monitor"' "$TMP/out" &&
    pass "--help lists the build flags, says the rest are espgang's and shows the runner line" ||
    fail "--help: $(cat "$TMP/out")"
expect_ok "cargo espgang flash --help" "$CE" espgang flash --help
grep -q -- "--release" "$TMP/out" && grep -q "Usage: espgang flash" "$TMP/out" &&
    grep -q -- "--partition-table FILE" "$TMP/out" &&
    pass "flash --help: the build flags, then espgang flash's options" ||
    fail "flash --help: $(cat "$TMP/out")"
expect_ok "cargo-espgang -V" "$CE" -V
grep -qE '^cargo-espgang [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" && pass "version: $(cat "$TMP/out")" ||
    fail "version: $(cat "$TMP/out")"
expect_usage "no command" "Usage: cargo espgang COMMAND" "$CE" espgang

# --- A board, and the reference: what flash writes is what save-image --merge saves.
"$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor "$FIX/esp32c3-ram.elf" "$TMP/boot.bin" \
    >/dev/null || fail "test bootloader"
start_sim c3 --chip esp32c3 --tcp 0 --log "$TMP/c3.log" --flash-file "$TMP/c3.flash"
C3=$SIM_ADDR
"$ESPGANG" save-image -c esp32c3 --merge --skip-padding --bootloader "$TMP/boot.bin" "$ELF" \
    "$TMP/ref.bin" >/dev/null || fail "reference image"
# untouched DESCRIPTION LOG: the board whose espsim log is LOG (emptied before the
# command) heard nothing.
untouched() {
    [ ! -s "$2" ] && pass "$1: the board was never touched" ||
        fail "$1: the board heard $(head -3 "$2" | tr '\n' ' ')"
}
# flash_is DESCRIPTION FLASH REFERENCE: the flash starts with the reference's bytes.
flash_is() {
    part "$2" 0 "$(stat -c %s "$3")" >"$TMP/flash-head.bin"
    same_files "$1" "$TMP/flash-head.bin" "$3"
}

# --- flash with every build flag: cargo gets them all, espgang the rest.
normal_build >"$TMP/cargo.out"
cargo_says 0
cd "$PROJ" || exit 1
expect_ok "cargo espgang flash with every build flag" "$CE" espgang flash --release --bin app \
    --package app --features a,b --features c --no-default-features \
    --target riscv32imc-unknown-none-elf --target-dir "$PROJ/target" --frozen --locked \
    -Z build-std=core -Zbuild-std-features=panic_immediate_abort -S \
    -p "$C3" --after no-reset --bootloader "$TMP/boot.bin"
cd - >/dev/null || exit 1
cat >"$TMP/want.args" <<EOF
build
--message-format=json-render-diagnostics
--target
riscv32imc-unknown-none-elf
--target-dir
$PROJ/target
--release
--locked
--frozen
--bin
app
--package
app
--no-default-features
--features
a,b,c
-Z
build-std=core
-Z
build-std-features=panic_immediate_abort
EOF
same_files "cargo got 'build', the message format and every build flag" "$TMP/cargo.args" "$TMP/want.args"
[ "$(cat "$TMP/cargo.cwd")" = "$PROJ" ] && pass "cargo ran in the caller's folder" ||
    fail "cargo ran in $(cat "$TMP/cargo.cwd")"
grep -q "App: bin 'app' ($T/app)" "$TMP/err" && pass "the app cargo built is named" ||
    fail "no App line: $(cat "$TMP/err")"
flash_is "the flash holds the bootloader, the default table and the app cargo built" \
    "$TMP/c3.flash" "$TMP/ref.bin"

# CARGO (set by cargo for its subcommands) is the cargo that builds; the PATH's is not.
mkdir -p "$TMP/other-cargo"
sed "s|$TMP/cargo.args|$TMP/cargo2.args|" "$TMP/fake/cargo" >"$TMP/other-cargo/my-cargo"
chmod +x "$TMP/other-cargo/my-cargo"
rm -f "$TMP/cargo.args"
expect_ok "\$CARGO builds" env CARGO="$TMP/other-cargo/my-cargo" "$CE" espgang save-image \
    -c esp32c3 "$TMP/by-env.bin"
[ -f "$TMP/cargo2.args" ] && [ ! -f "$TMP/cargo.args" ] && pass "\$CARGO ran, not the cargo on PATH" ||
    fail "\$CARGO not used"
expect_fail "no cargo anywhere" "cannot run 'cargo': No such file or directory \\(is Rust's cargo installed" 5 \
    env -u CARGO PATH=/nonexistent "$CE" espgang save-image -c esp32c3 "$TMP/x.bin"

# --- save-image: the image of the executable cargo built; --example picks the example.
"$ESPGANG" save-image -c esp32c3 "$ELF" "$TMP/ref-app.bin" >/dev/null || fail "reference app image"
{
    normal_build
    artifact example blinky "$T/examples/blinky"
} >"$TMP/cargo.out"
expect_ok "cargo espgang save-image --example" "$CE" espgang save-image --example blinky \
    --chip esp32c3 "$TMP/app.bin"
same_files "save-image wrote the example's app image" "$TMP/app.bin" "$TMP/ref-app.bin"
grep -qx -- "--example" "$TMP/cargo.args" && grep -qx blinky "$TMP/cargo.args" &&
    pass "--example went to cargo" || fail "cargo args: $(cat "$TMP/cargo.args")"
grep -q "Saved ESP32-C3 image of '$T/examples/blinky'" "$TMP/out" &&
    pass "espgang saved the example ($T/examples/blinky)" || fail "save-image said: $(cat "$TMP/out")"

# --- Several executables: refused, naming them; --bin chooses.
{
    normal_build
    artifact bin other "$T/other"
} >"$TMP/cargo.out"
: >"$TMP/c3.log"
expect_fail "two executables" "cargo built 2 executables: bin 'app' \\($T/app\\), bin 'other' \\($T/other\\); say which one to flash with --bin NAME" 5 \
    "$CE" espgang flash -p "$C3" --after no-reset
untouched "two executables" "$TMP/c3.log"
"$ESPGANG" save-image -c esp32c6 "$T/other" "$TMP/ref-other.bin" >/dev/null || fail "reference other"
expect_ok "--bin chooses one of two" "$CE" espgang save-image --bin other -c esp32c6 "$TMP/other.bin"
same_files "--bin other: its image was saved" "$TMP/other.bin" "$TMP/ref-other.bin"
expect_fail "--bin that cargo did not build" "cargo built no bin 'nope' \\(it built bin 'app', bin 'other'\\)" 5 \
    "$CE" espgang save-image --bin nope -c esp32c3 "$TMP/nope.bin"
[ ! -e "$TMP/nope.bin" ] && pass "no image saved" || fail "an image was saved"

# --- No executable: refused.
{
    artifact custom-build build-script-build null "$REG#esp-hal@1.0.0"
    lib_artifact app "path+file://$PROJ#app@0.1.0"
    finished true
} >"$TMP/cargo.out"
: >"$TMP/c3.log"
expect_fail "no executable" "cargo built no executable: an example needs --example NAME, and in a workspace the package is chosen with --package NAME" 5 \
    "$CE" espgang flash -p "$C3" --after no-reset
untouched "no executable" "$TMP/c3.log"

# --- A failed build: cargo's diagnostics shown, its exit status, nothing flashed (even
# with an executable among the messages).
{
    artifact bin app "$T/app"
    diagnostic error 'error[E0308]: mismatched types\n --> src/bin/other.rs:1:26\n  |\n1 | fn main() { let y: u32 = \"s\"; }\n  |                          ^^^ expected `u32`, found `&str`\n\n'
    diagnostic failure-note 'For more information about this error, try `rustc --explain E0308`.\n'
    finished false
} >"$TMP/cargo.out"
printf '   Compiling app v0.1.0 (%s)\nerror: could not compile `app` (bin "other") due to 1 previous error\n' "$PROJ" >"$TMP/cargo.err"
cargo_says 101
: >"$TMP/c3.log"
cp "$TMP/c3.flash" "$TMP/c3-before.flash"
"$CE" espgang flash -p "$C3" --after no-reset >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 101 ] && pass "a failed build exits with cargo's status (101)" || fail "failed build: exit $rc"
grep -q 'error\[E0308\]: mismatched types' "$TMP/err" && grep -q 'expected `u32`, found `&str`' "$TMP/err" &&
    grep -q 'rustc --explain E0308' "$TMP/err" && pass "the compiler's rendered diagnostics are shown" ||
    fail "diagnostics: $(cat "$TMP/err")"
grep -q 'error: could not compile `app`' "$TMP/err" && pass "cargo's own error output is shown" ||
    fail "cargo's stderr: $(cat "$TMP/err")"
err_matches "a failed build says so" "cargo-espgang: error: 'cargo build' failed \\(exit status 101\\): nothing was flashed"
untouched "failed build" "$TMP/c3.log"
same_files "failed build: the flash is as it was" "$TMP/c3.flash" "$TMP/c3-before.flash"
grep -q "^App:" "$TMP/err" && fail "failed build: an app was named" || pass "failed build: no app chosen"
: >"$TMP/cargo.err"
cargo_says 0

# --- Lines that are not messages: text is shown as it is, JSON of other shapes skipped.
{
    echo 'warning: a cargo wrapper speaking on stdout'
    echo '{"reason":"compiler-artifact","package_id":"broken'
    echo '{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"x"},"executable":42}'
    echo '{"reason":"compiler-artifact","target":{"kind":"bin","name":"y"},"executable":"/y"}'
    echo '{"reason":"timings-info","package_id":"x","duration":0.25}'
    echo '["not","an","object"]'
    echo ''
    printf '\001\002 binary junk \377\n'
    normal_build
} >"$TMP/cargo.out"
expect_ok "garbage among the messages" "$CE" espgang save-image -c esp32c3 "$TMP/garbage.bin"
same_files "garbage: the app's image was saved" "$TMP/garbage.bin" "$TMP/ref-app.bin"
grep -q "warning: a cargo wrapper speaking on stdout" "$TMP/err" &&
    grep -q '"package_id":"broken' "$TMP/err" && pass "text lines are shown on stderr" ||
    fail "text lines: $(cat "$TMP/err")"
grep -q "timings-info\|executable\":42" "$TMP/err" && fail "messages of other shapes were printed" ||
    pass "messages of other shapes are skipped"

# --- esp-idf-sys: the bootloader and partition table its build made are flashed.
IDF_OUT=$PROJ/target/riscv32imc-esp-espidf/release/build/esp-idf-sys-5f0c/out
mkdir -p "$IDF_OUT/build/bootloader" "$IDF_OUT/build/partition_table"
"$ESPGANG" save-image -c esp32c3 --ignore-app-descriptor --min-chip-rev 0.3 "$FIX/esp32c3-ram.elf" \
    "$IDF_OUT/build/bootloader/bootloader.bin" >/dev/null || fail "esp-idf-sys bootloader"
cmp -s "$IDF_OUT/build/bootloader/bootloader.bin" "$TMP/boot.bin" &&
    fail "the esp-idf-sys bootloader should differ from the other one"
printf 'nvs,data,nvs,0x9000,0x6000,\nphy_init,data,phy,0xf000,0x1000,\nfactory,app,factory,0x20000,1M,\n' >"$TMP/idf.csv"
"$ESPGANG" partition-table --to-binary -o "$IDF_OUT/build/partition_table/partition-table.bin" \
    "$TMP/idf.csv" || fail "esp-idf-sys partition table"
# A decoy: another package's build script out dir with the same files.
DECOY=$PROJ/target/release/build/esp-idf-hal-1/out
mkdir -p "$DECOY/build/bootloader" "$DECOY/build/partition_table"
cp "$TMP/boot.bin" "$DECOY/build/bootloader/bootloader.bin"
printf 'factory,app,factory,0x10000,1M,\n' >"$TMP/decoy.csv"
"$ESPGANG" partition-table --to-binary -o "$DECOY/build/partition_table/partition-table.bin" \
    "$TMP/decoy.csv" || fail "decoy table"
idf_build() {
    artifact custom-build build-script-build null "$REG#esp-idf-sys@0.36.1"
    script_ran "$REG#esp-idf-sys@0.36.1" "$IDF_OUT"
    lib_artifact esp_idf_sys "$REG#esp-idf-sys@0.36.1"
    script_ran "$REG#esp-idf-hal@0.45.2" "$DECOY"
    artifact bin app "$T/app"
    finished true
}
idf_build >"$TMP/cargo.out"
start_sim idf --chip esp32c3 --tcp 0 --log "$TMP/idf.log" --flash-file "$TMP/idf.flash"
IDF=$SIM_ADDR
"$ESPGANG" save-image -c esp32c3 --merge --skip-padding \
    --bootloader "$IDF_OUT/build/bootloader/bootloader.bin" \
    --partition-table "$IDF_OUT/build/partition_table/partition-table.bin" "$ELF" "$TMP/ref-idf.bin" \
    >/dev/null || fail "esp-idf reference image"
expect_ok "flash an esp-idf-sys package" "$CE" espgang flash -p "$IDF" --after no-reset
grep -q "Bootloader: $IDF_OUT/build/bootloader/bootloader.bin (esp-idf-sys's build)" "$TMP/err" &&
    grep -q "Partition table: $IDF_OUT/build/partition_table/partition-table.bin (esp-idf-sys's build)" "$TMP/err" &&
    pass "esp-idf-sys's bootloader and table are named" || fail "esp-idf-sys lines: $(cat "$TMP/err")"
flash_is "esp-idf-sys: the flash holds its bootloader, its table and the app at 0x20000" \
    "$TMP/idf.flash" "$TMP/ref-idf.bin"
part "$TMP/idf.flash" $((0x8000)) $((0xC00)) >"$TMP/idf-table-back.bin"
same_files "esp-idf-sys: the table at 0x8000 is its partition-table.bin" "$TMP/idf-table-back.bin" \
    "$IDF_OUT/build/partition_table/partition-table.bin"
part "$TMP/idf.flash" $((0x20000)) "$(stat -c %s "$TMP/ref-app.bin")" >"$TMP/idf-app-back.bin"
same_files "esp-idf-sys: the app is at its table's factory partition (0x20000)" \
    "$TMP/idf-app-back.bin" "$TMP/ref-app.bin"
# save-image --merge takes them too.
expect_ok "save-image --merge of an esp-idf-sys package" "$CE" espgang save-image -c esp32c3 \
    --merge --skip-padding "$TMP/idf-merged.bin"
same_files "save-image --merge: esp-idf-sys's bootloader and table" "$TMP/idf-merged.bin" "$TMP/ref-idf.bin"

# espflash's order: espflash.toml's [idf] files come before esp-idf-sys's.
mkdir -p "$TMP/withcfg"
printf '[idf]\nbootloader = "%s"\n' "$TMP/boot.bin" >"$TMP/withcfg/espflash.toml"
start_sim idfcfg --chip esp32c3 --tcp 0 --flash-file "$TMP/idfcfg.flash"
cd "$TMP/withcfg" || exit 1
expect_ok "flash an esp-idf-sys package with espflash.toml naming a bootloader" \
    env HOME="$TMP/withcfg" XDG_CONFIG_HOME= "$CE" espgang flash -p "$SIM_ADDR" --after no-reset
cd - >/dev/null || exit 1
grep -q "Bootloader: .*(esp-idf-sys's build)" "$TMP/err" &&
    fail "  esp-idf-sys's bootloader was passed over espflash.toml's" ||
    pass "  esp-idf-sys's bootloader yields to espflash.toml's"
grep -q "Partition table: .*(esp-idf-sys's build)" "$TMP/err" &&
    pass "  its partition table, which the file does not name, is still taken" ||
    fail "  no esp-idf-sys table: $(cat "$TMP/err")"
part "$TMP/idfcfg.flash" 0 "$(stat -c %s "$TMP/boot.bin")" >"$TMP/idfcfg-boot.bin"
same_files "  the flash holds espflash.toml's bootloader" "$TMP/idfcfg-boot.bin" "$TMP/boot.bin"

# --- Every other command is espgang's: board-info through cargo espgang.
"$ESPGANG" board-info -p "$C3" >"$TMP/direct.out" 2>"$TMP/direct.err"
expect_ok "cargo espgang board-info" "$CE" espgang board-info -p "$C3"
same_files "board-info: the same output as espgang's" "$TMP/out" "$TMP/direct.out"
expect_ok "cargo-espgang board-info, run directly" "$CE" board-info -p "$C3" --json
grep -q '"mac": *"24:0a:c4:00:00:01"' "$TMP/out" && pass "board-info --json passed through" ||
    fail "board-info --json: $(cat "$TMP/out")"
expect_fail "board-info's failure is espgang's" "espgang: .*nosuchport" 10 \
    "$CE" espgang board-info -p /dev/nosuchport
expect_usage "espgang's usage errors too" "unknown option '--frob'" "$CE" espgang board-info --frob

# --- Usage errors in the build flags: exit 2, cargo never runs.
rm -f "$TMP/cargo.args"
expect_usage "--bin without a name" "flash: --bin needs a value \\(NAME\\)" "$CE" espgang flash --bin
expect_usage "--bin twice" "flash: --bin given twice \\('a' and 'b'\\)" "$CE" espgang flash --bin a --bin=b
expect_usage "--release=yes" "save-image: --release takes no value" "$CE" espgang save-image --release=yes
[ ! -e "$TMP/cargo.args" ] && pass "usage errors: cargo never ran" || fail "cargo ran on a usage error"

# --- What cargo-espgang hands on, seen by a fake espgang found on PATH (cargo-espgang
# alone in a folder).
mkdir -p "$TMP/alone" "$TMP/fake-eg"
cp "$CE" "$TMP/alone/cargo-espgang"
cat >"$TMP/fake-eg/espgang" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$TMP/eg.args"
EOF
chmod +x "$TMP/fake-eg/espgang"
# handed DESCRIPTION WANT ARGS...: espgang got WANT (one word per line; @ELF, @B and @P
# stand for the app, esp-idf-sys's bootloader and table).
handed() {
    desc=$1 want=$2
    shift 2
    rm -f "$TMP/eg.args"
    PATH="$TMP/fake-eg:$TMP/fake:$REAL_PATH" "$TMP/alone/cargo-espgang" espgang "$@" >"$TMP/out" 2>"$TMP/err"
    printf '%s\n' $want | sed -e "s|@ELF|$T/app|" -e "s|@B|$IDF_OUT/build/bootloader/bootloader.bin|" \
        -e "s|@P|$IDF_OUT/build/partition_table/partition-table.bin|" >"$TMP/eg.want"
    if [ -f "$TMP/eg.args" ] && cmp -s "$TMP/eg.args" "$TMP/eg.want"; then
        pass "$desc: espgang $(tr '\n' ' ' <"$TMP/eg.want")"
    else
        fail "$desc: espgang got $(tr '\n' ' ' <"$TMP/eg.args" 2>/dev/null), wanted $(tr '\n' ' ' <"$TMP/eg.want")"
        sed 's/^/    /' "$TMP/err"
    fi
}
idf_build >"$TMP/cargo.out"
handed "esp-idf-sys, flash" "flash @ELF --bootloader @B --partition-table @P -p X" flash -p X
handed "--bootloader given" "flash @ELF --partition-table @P --bootloader mine.bin" flash --bootloader mine.bin
handed "--partition-table= given" "flash @ELF --bootloader @B --partition-table=t.csv" flash --partition-table=t.csv
handed "flash --ram" "flash @ELF --ram" flash --ram
handed "save-image" "save-image @ELF --partition-table @P -c esp32c3 out.bin" save-image -c esp32c3 out.bin
handed "save-image --merge" "save-image @ELF --bootloader @B --partition-table @P --merge out.bin" save-image --merge out.bin
normal_build >"$TMP/cargo.out"
handed "without esp-idf-sys" "flash @ELF -M --release-notes" flash --release -M --release-notes
handed "after --" "flash @ELF -p X -- --bin y" flash -p X -- --bin y
handed "monitor as given" "monitor -p X --elf y.elf -- a" monitor -p X -S --elf y.elf -- a
handed "-S before the command" "board-info" -S board-info
handed "help board-info" "help board-info" help board-info
handed "flash --help" "flash --help" flash --release --help
grep -q -- "--target-dir DIR" "$TMP/out" && pass "flash --help lists the build flags first" ||
    fail "flash --help: $(cat "$TMP/out")"
expect_fail "no espgang anywhere" "cannot run 'espgang': No such file or directory \\(install espgang next to cargo-espgang or on PATH\\)" 5 \
    env PATH=/nonexistent "$TMP/alone/cargo-espgang" espgang board-info

# --- espgang flash as a cargo runner: `cargo run` runs RUNNER PATH [ARGS], PATH
# relative to the folder it runs in when it is under it.
start_sim run --chip esp32c3 --tcp 0 --log "$TMP/run.log" --flash-file "$TMP/run.flash"
mkdir -p "$PROJ/target/riscv32imc-unknown-none-elf/debug"
cp "$ELF" "$PROJ/target/riscv32imc-unknown-none-elf/debug/app"
cd "$PROJ" || exit 1
expect_ok "runner: espgang flash with cargo's relative path" "$ESPGANG" flash -p "$SIM_ADDR" \
    --after no-reset --bootloader "$TMP/boot.bin" target/riscv32imc-unknown-none-elf/debug/app
cd - >/dev/null || exit 1
flash_is "runner: the app cargo run built is on the board" "$TMP/run.flash" "$TMP/ref.bin"
expect_usage "runner: arguments after -- for the app are refused, as espflash refuses them" \
    "flash: too many arguments" "$ESPGANG" flash -p "$SIM_ADDR" "$PROJ/target/riscv32imc-unknown-none-elf/debug/app" arg1

# --- A real cargo, when there is one: a package that depends on a path crate named
# esp-idf-sys (its build script leaves a bootloader and a partition table in its
# OUT_DIR, as embuild does), whose app's link step hands over the fixture ELF.
if [ -n "$REAL_CARGO" ] && "$REAL_CARGO" --version >/dev/null 2>&1; then
    R=$TMP/real
    mkdir -p "$R/app/src" "$R/esp-idf-sys/src" "$R/app/.cargo"
    cat >"$R/app/Cargo.toml" <<EOF
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
esp-idf-sys = { path = "../esp-idf-sys" }

[workspace]
EOF
    echo 'fn main() { esp_idf_sys::link_me(); }' >"$R/app/src/main.rs"
    cat >"$R/esp-idf-sys/Cargo.toml" <<EOF
[package]
name = "esp-idf-sys"
version = "0.36.1"
edition = "2021"
EOF
    echo 'pub fn link_me() {}' >"$R/esp-idf-sys/src/lib.rs"
    cat >"$R/esp-idf-sys/build.rs" <<EOF
fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    for (dir, file, from) in [("bootloader", "bootloader.bin", "$IDF_OUT/build/bootloader/bootloader.bin"),
                              ("partition_table", "partition-table.bin", "$IDF_OUT/build/partition_table/partition-table.bin")] {
        std::fs::create_dir_all(format!("{out}/build/{dir}")).unwrap();
        std::fs::copy(from, format!("{out}/build/{dir}/{file}")).unwrap();
    }
}
EOF
    # The app's link step writes the fixture; everything else links as usual.
    cat >"$R/link-app" <<EOF
#!/bin/sh
out=
prev=
for a in "\$@"; do [ "\$prev" = -o ] && out=\$a; prev=\$a; done
case "\$(basename "\$out")" in
app-*) cp "$ELF" "\$out" ;;
*) exec cc "\$@" ;;
esac
EOF
    chmod +x "$R/link-app"
    start_sim real --chip esp32c3 --tcp 0 --log "$TMP/real.log" --flash-file "$TMP/real.flash"
    cd "$R/app" || exit 1
    start=$(date +%s)
    if PATH=$REAL_PATH CARGO_NET_OFFLINE=true RUSTFLAGS="-C linker=$R/link-app" \
        "$CE" espgang flash --release -p "$SIM_ADDR" --after no-reset >"$TMP/out" 2>"$TMP/err"; then
        pass "real cargo: cargo espgang flash built and flashed ($(($(date +%s) - start)) s)"
    else
        fail "real cargo: cargo espgang flash"
        sed 's/^/    /' "$TMP/err"
    fi
    cd - >/dev/null || exit 1
    grep -q "App: bin 'app' ($R/app/target/release/app)" "$TMP/err" &&
        grep -q "Bootloader: $R/app/target/release/build/esp-idf-sys-[0-9a-f]*/out/build/bootloader/bootloader.bin" "$TMP/err" &&
        pass "real cargo: the app and esp-idf-sys's out dir found in its messages" ||
        fail "real cargo: $(cat "$TMP/err")"
    flash_is "real cargo: the flash holds esp-idf-sys's bootloader and table and the app" \
        "$TMP/real.flash" "$TMP/ref-idf.bin"
else
    echo "skip: no cargo on PATH, the real cargo build is not tried"
fi

finish
