#!/bin/sh
# Structure checks (DESIGN.md):
#  - every header under src/ compiles on its own with -std=c11 -pedantic -Werror;
#  - a folder includes only the folders its allowed edges reach (the dependency rule,
#    as a table of edges; what an edge reaches, its target may include in turn);
#  - nothing below src/cli prints to the terminal or keeps mutable static state;
#  - espsim never uses the client's command codec, session, device code or transports.
CC=$1
SRC=$2
ROOT=$(dirname "$SRC")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
passes=0

for h in $(cd "$SRC" && find . -name '*.h' | sed 's|^\./||' | sort); do
    printf '#include "%s"\n#include "%s"\nint main(void) { return 0; }\n' "$h" "$h" >"$TMP/t.c"
    if "$CC" -std=c11 -pedantic -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -I"$SRC" \
        $(pkg-config --cflags libserialport jansson libelf yaml-0.1 sqlite3 2>/dev/null) -c "$TMP/t.c" -o "$TMP/t.o" 2>"$TMP/err"; then
        passes=$((passes + 1))
    else
        echo "FAIL: header $h does not compile alone:"
        sed 's/^/    /' "$TMP/err"
        fails=$((fails + 1))
    fi
done

# The allowed edges: FOLDER: the folders it may include directly.
cat >"$TMP/edges" <<'EDGES'
core:
chip: core
transport: core
proto: transport core
device: proto chip
image: chip
partition: chip
plan: image partition chip
job: device plan
profile: plan
store: core
report: store
prod: job profile store
monitor: transport image
cargo: core
config: core
cli: *
EDGES

direct() { sed -n "s/^$1: *//p" "$TMP/edges"; }
# Everything FOLDER may include: itself and the closure of its edges.
reach() {
    seen=" $1 "
    todo=$(direct "$1")
    while [ -n "$todo" ]; do
        next=""
        for m in $todo; do
            case "$seen" in *" $m "*) continue ;; esac
            seen="$seen$m "
            next="$next $(direct "$m")"
        done
        todo=$next
    done
    echo "$seen"
}

for dir in $(cd "$SRC" && ls -d */ | tr -d /); do
    if ! grep -q "^$dir:" "$TMP/edges"; then
        echo "FAIL: src/$dir/ has no row in the table of allowed edges"
        fails=$((fails + 1))
        continue
    fi
    [ "$(direct "$dir")" = "*" ] && continue
    allowed=$(reach "$dir")
    for f in $(cd "$SRC" && find "$dir" -name '*.[ch]'); do
        for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*"/\1/p' "$SRC/$f" | sort -u); do
            case "$allowed" in
            *" $inc "*) passes=$((passes + 1)) ;;
            *)
                echo "FAIL: $f includes $inc/, which $dir/ may not reach (allowed: $allowed)"
                fails=$((fails + 1))
                ;;
            esac
        done
    done
done

# Below the front end nothing prints: it reports through codes, messages and callbacks.
prints=$(cd "$SRC" && grep -nE '\b(printf|fprintf|puts|fputs|putchar|perror|vprintf|vfprintf)\s*\(|\b(stdout|stderr)\b' \
    $(find . -name '*.c' -not -path './cli/*') 2>/dev/null | grep -v '^\s*/\?\*')
if [ -n "$prints" ]; then
    echo "FAIL: code below src/cli prints to the terminal:"
    echo "$prints" | sed 's/^/    /'
    fails=$((fails + 1))
else
    passes=$((passes + 1))
fi

# ... and keeps no mutable state in statics: a static variable outside functions must
# be const (tables), and one inside a function must be const or _Thread_local.
statics=$(cd "$SRC" && grep -nE '^\s*static\s' $(find . -name '*.c' -not -path './cli/*') |
    grep -vE 'static\s+(inline\s+)?[a-zA-Z_][a-zA-Z0-9_ \*]*\(' |
    grep -vE 'static\s+(const\b|_Thread_local\b|[a-zA-Z_][a-zA-Z0-9_]*\s+const\b|[a-zA-Z_][a-zA-Z0-9_ ]*\*\s*const\b)' |
    grep -vE 'static\s+[a-zA-Z_][a-zA-Z0-9_ \*]*\s+[a-zA-Z_][a-zA-Z0-9_]*\s*\([^)]*\)\s*;?\s*$')
if [ -n "$statics" ]; then
    echo "FAIL: mutable static state below src/cli:"
    echo "$statics" | sed 's/^/    /'
    fails=$((fails + 1))
else
    passes=$((passes + 1))
fi

bad=$(grep -n '#include "\(proto/codec\|proto/session\|transport/\|device/\|chip/ops\|chip/board\|job/\|cli/\)' \
    "$ROOT"/tools/espsim/*.[ch] 2>/dev/null)
if [ -n "$bad" ]; then
    echo "FAIL: espsim uses the client's protocol code:"
    echo "$bad" | sed 's/^/    /'
    fails=$((fails + 1))
else
    passes=$((passes + 1))
fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
