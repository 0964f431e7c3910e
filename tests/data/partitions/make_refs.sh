#!/bin/sh
# Regenerates the reference outputs of the good CSVs with ESP-IDF's own tool:
#   good/NAME.bin      gen_esp32part.py's binary for good/NAME.csv
#   good/NAME.bin.txt  gen_esp32part.py's CSV for that binary
# A "# gen: ..." comment line in a CSV gives the tool's options (--offset,
# --primary-bootloader-offset, --recovery-bootloader-offset, --flash-size); the unit test
# reads the same line. Usage: make_refs.sh /path/to/gen_esp32part.py
# (ESP-IDF v5.5's components/partition_table/gen_esp32part.py; it is not kept here.)
set -e
gen=$1
[ -f "$gen" ] || { echo "usage: $0 /path/to/gen_esp32part.py" >&2; exit 2; }
cd "$(dirname "$0")/good"
for csv in *.csv; do
    name=${csv%.csv}
    args=$(sed -n 's/^# gen: //p' "$csv")
    # shellcheck disable=SC2086
    python3 "$gen" -q $args "$csv" "$name.bin"
    # shellcheck disable=SC2086
    python3 "$gen" -q $args "$name.bin" "$name.bin.txt"
done
