#!/bin/sh
# Regenerates golden.tsv: the SHA-256 of the partition image that ESP-IDF's
# nvs_partition_gen writes for each CSV here at the size listed below. Give it the tool's
# script from a checkout outside this repository (esp-idf-nvs-partition-gen):
#   sh tests/data/nvs/golden.sh PATH/esp_idf_nvs_partition_gen/nvs_partition_gen.py
# It runs in a scratch folder laid out as test_nvs lays its own (files/ copied, gen/ with
# the pattern files); nothing the tool writes is kept, only the digests.
set -eu
TOOL=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r "$HERE/files" "$WORK/files"
# gen/pattern-N.bin: N bytes, byte i = (i * 131 + 7) mod 251 (test_nvs makes the same).
python3 - "$WORK/gen" <<'PY'
import os, sys
os.makedirs(sys.argv[1])
for n in (100, 3968, 10000, 508000):
    with open(os.path.join(sys.argv[1], 'pattern-%d.bin' % n), 'wb') as f:
        f.write(bytes((i * 131 + 7) % 251 for i in range(n)))
PY
version=$(cd "$(dirname "$TOOL")/.." && git describe --always --tags 2>/dev/null || echo unknown)
{
    echo "# Reference NVS partition images made by ESP-IDF's nvs_partition_gen (format version 2):"
    echo "#   python3 nvs_partition_gen.py generate CSV out.bin SIZE   (checkout $version)"
    echo "# Regenerate with tests/data/nvs/golden.sh (never edit by hand). Tab-separated columns:"
    echo "#   csv      the CSV under tests/data/nvs, read from a folder holding files/ and gen/"
    echo "#   size     the partition size"
    echo "#   sha256   SHA-256 of the image the tool wrote"
    while read -r csv size; do
        rm -f "$WORK/out.bin"
        (cd "$WORK" && python3 "$TOOL" generate "$HERE/$csv" out.bin "$size" >/dev/null)
        printf '%s\t%s\t%s\n' "$csv" "$size" "$(sha256sum "$WORK/out.bin" | cut -d' ' -f1)"
    done <<'LIST'
types.csv 0x3000
types.csv 0x6000
strings.csv 0x6000
blobs.csv 0x6000
namespaces.csv 0x6000
files.csv 0x3000
quoting.csv 0x3000
full.csv 0x3000
maxblob.csv 0x81000
LIST
} >"$HERE/golden.tsv.tmp"
mv "$HERE/golden.tsv.tmp" "$HERE/golden.tsv"
