#!/bin/sh
# Runs each libFuzzer target of tests/fuzz for SECONDS (make fuzz): it starts from the
# committed corpus and its seeds, writes new inputs to BUILD/corpus/NAME and any crash
# to BUILD/crash-NAME-*, and says which target found one.
BUILD=$1 SECONDS_EACH=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/tests/data
found=0
for name in toml slip partition elf monitor defmt; do
    exe=$BUILD/tests/fuzz/fuzz_$name
    [ -x "$exe" ] || { echo "fuzz: no $exe (build with -DEG_FUZZ=ON)"; exit 1; }
    mkdir -p "$BUILD/corpus/$name"
    seeds="$ROOT/tests/fuzz/corpus/$name"
    case $name in
    partition) seeds="$seeds $DATA/partitions/good $DATA/partitions/bad" ;;
    elf) seeds="$seeds $BUILD/fixtures" ;;
    esac
    echo "fuzz: $name for $SECONDS_EACH s"
    # shellcheck disable=SC2086
    if ! "$exe" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$BUILD/crash-$name-" "$BUILD/corpus/$name" $seeds \
        >"$BUILD/fuzz-$name.log" 2>&1; then
        echo "fuzz: $name FOUND A PROBLEM: see $BUILD/fuzz-$name.log and $BUILD/crash-$name-*"
        found=1
    fi
    grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$BUILD/fuzz-$name.log" |
        sed "s/^/    /"
done
exit $found
