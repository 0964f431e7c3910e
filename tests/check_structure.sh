#!/bin/sh
# Structure checks:
#  - every header under src/ compiles on its own with -std=c11 -pedantic -Werror;
#  - a module never includes a higher layer (DESIGN.md's dependency rule);
#  - espsim never uses the client's command codec, session or transports.
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
        $(pkg-config --cflags libserialport jansson libelf 2>/dev/null) -c "$TMP/t.c" -o "$TMP/t.o" 2>"$TMP/err"; then
        passes=$((passes + 1))
    else
        echo "FAIL: header $h does not compile alone:"
        sed 's/^/    /' "$TMP/err"
        fails=$((fails + 1))
    fi
done

# Layers from lowest to highest; a module may include its own layer and lower ones.
order="core transport proto chip image partition profile store prod report monitor cli"
rank() {
    i=0
    for m in $order; do
        [ "$m" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo 99
}
for f in $(cd "$SRC" && find . -name '*.[ch]' | sed 's|^\./||'); do
    mod=${f%%/*}
    r=$(rank "$mod")
    for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*"/\1/p' "$SRC/$f" | sort -u); do
        ri=$(rank "$inc")
        # image and partition are siblings; report and monitor sit beside prod.
        if [ "$ri" -gt "$r" ] && ! { [ "$mod" = partition ] && [ "$inc" = image ]; }; then
            echo "FAIL: $f ($mod) includes $inc/, a higher layer"
            fails=$((fails + 1))
        else
            passes=$((passes + 1))
        fi
    done
done

bad=$(grep -n '#include "\(proto/codec\|proto/session\|transport/\|chip/ops\|chip/board\|cli/\)' \
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
