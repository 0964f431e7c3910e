#!/bin/sh
# Formats the C sources with .clang-format (clang-format 14), or with --check only
# reports files that differ.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src tools tests -name '*.[ch]')
[ -n "$files" ] || exit 0
if [ "${1:-}" = "--check" ]; then
    # shellcheck disable=SC2086
    clang-format --dry-run --Werror $files
    echo "format: $(echo "$files" | wc -l) files follow .clang-format"
else
    # shellcheck disable=SC2086
    clang-format -i $files
fi
