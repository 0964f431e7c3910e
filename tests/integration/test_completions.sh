#!/bin/sh
# The shell completions and the manual page, written from the command table: each
# script is read by its shell (bash, zsh, fish and elvish; PowerShell is not packaged
# by Debian), bash's and fish's really complete (a command, an option, a chip, a file,
# a folder, the USB bed's ports), every command and option of the table (walked
# through --help, which is made from it too) is in every output, the manual page
# renders without a warning (groff, mandoc), and cmake --install puts each file in
# place.
ESPGANG=$(readlink -f "$1") ESPSIM=$(readlink -f "$2")
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(dirname "$ESPGANG")
export PATH="$BUILD:$PATH"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
cd "$TMP" || exit 1

for sh in bash zsh fish elvish powershell; do
    "$ESPGANG" completions $sh >"$TMP/c.$sh" 2>"$TMP/err" && [ -s "$TMP/c.$sh" ] ||
        fail "completions $sh: $(cat "$TMP/err")"
done
"$ESPGANG" completions tcsh >/dev/null 2>"$TMP/err"
rc=$?
[ $rc = 2 ] && grep -q "completions: unknown shell 'tcsh' (bash, zsh, fish, elvish or powershell)" "$TMP/err" &&
    pass "an unknown shell is a usage error" || fail "tcsh: exit $rc: $(cat "$TMP/err")"
"$ESPGANG" completions bash -o "$TMP/c.out" && cmp -s "$TMP/c.out" "$TMP/c.bash" &&
    pass "completions -o FILE writes the same" || fail "completions -o"
"$ESPGANG" man >"$TMP/espgang.1" && "$ESPGANG" man -o "$TMP/m.out" && cmp -s "$TMP/m.out" "$TMP/espgang.1" &&
    pass "man and man -o FILE" || fail "man -o"
for f in espgang.1 completions/espgang.bash completions/_espgang completions/espgang.fish \
    completions/espgang.elv completions/espgang.ps1; do
    [ -s "$BUILD/$f" ] || fail "the build did not write $f"
done
cmp -s "$BUILD/completions/espgang.bash" "$TMP/c.bash" && cmp -s "$BUILD/espgang.1" "$TMP/espgang.1" &&
    pass "the build's copies are what espgang writes" || fail "build/completions differ from espgang's output"

# Each script is read by its shell.
bash -n "$TMP/c.bash" 2>"$TMP/err" && pass "bash -n" || fail "bash -n: $(cat "$TMP/err")"
zsh -n "$TMP/c.zsh" 2>"$TMP/err" && pass "zsh -n" || fail "zsh -n: $(cat "$TMP/err")"
fish -n "$TMP/c.fish" 2>"$TMP/err" && pass "fish -n" || fail "fish -n: $(cat "$TMP/err")"
# Elvish resolves edit: only in an interactive shell: the test runs the script with
# stand-ins for the three edit: names it uses, and asks it for candidates.
{
    echo "var completer = \$nil"
    echo "fn cand {|text &display=''| echo \$text }"
    echo "fn files {|word| echo FILES:\$word }"
    sed -e 's/^set edit:completion:arg-completer\[espgang\] =/set completer =/' \
        -e 's/edit:complex-candidate/cand/g' -e 's/edit:complete-filename/files/g' "$TMP/c.elvish"
    echo "echo '== commands'; \$completer espgang ''"
    echo "echo '== flash'; \$completer espgang flash ''"
    echo "echo '== nothing'; \$completer espgang app.elf ''"
} >"$TMP/elv.elv"
if elvish -norc "$TMP/elv.elv" >"$TMP/elv.out" 2>"$TMP/err"; then
    sed -n '/== commands/,/== flash/p' "$TMP/elv.out" | grep -qx flash &&
        sed -n '/== flash/,/== nothing/p' "$TMP/elv.out" | grep -qx -- --port &&
        sed -n '/== flash/,/== nothing/p' "$TMP/elv.out" | grep -qx "FILES:" &&
        [ "$(sed -n '/== nothing/,$p' "$TMP/elv.out" | wc -l)" = 1 ] &&
        pass "elvish runs it: commands, flash's options and files" || fail "elvish: $(cat "$TMP/elv.out")"
else
    fail "elvish: $(cat "$TMP/err")"
fi
# PowerShell: no shell here; its braces and parentheses at least pair up.
/usr/bin/python3 -c '
import sys
t = open(sys.argv[1]).read()
depth = {"{": 0, "(": 0}
for ch in t:
    if ch in "{(": depth[ch] += 1
    if ch == "}": depth["{"] -= 1
    if ch == ")": depth["("] -= 1
    if min(depth.values()) < 0: sys.exit("closes before it opens")
sys.exit(0 if depth == {"{": 0, "(": 0} else "unbalanced %r" % depth)
' "$TMP/c.powershell" && pass "powershell: braces and parentheses pair up" || fail "powershell script"

# bash completes, driven as readline would through COMP_WORDS.
mkdir -p "$TMP/w/sub.d"
: >"$TMP/w/app.elf"
: >"$TMP/w/boot.bin"
cat >"$TMP/drive.bash" <<'EOF'
source "$1"
t() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _espgang
    echo "${COMPREPLY[*]}"
}
cd "$2"
echo "fl:$(t espgang fl)"
echo "po:$(t espgang flash --po)"
echo "ch:$(t espgang board-info --chip esp32c)"
echo "mode:$(t espgang save-image -m d)"
echo "boot:$(t espgang flash --bootloader bo)"
echo "dir:$(t espgang flash --idf-build s)"
echo "elf:$(t espgang flash a)"
echo "shell:$(t espgang completions z)"
echo "help:$(t espgang help rep)"
echo "hidden:$(t espgang ma)"
echo "before:$(t espgang reset --before no-)"
echo "short:$(t espgang list-ports -)"
echo "port:$(t espgang board-info -p /dev/ttyU)"
EOF
bash "$TMP/drive.bash" "$TMP/c.bash" "$TMP/w" >"$TMP/bash.out" 2>&1
expect_line() { # DESCRIPTION FILE LINE
    grep -qxF -- "$3" "$2" && pass "$1" || { fail "$1: no line '$3' in:"; sed 's/^/    /' "$2"; }
}
expect_line "bash: espgang fl<TAB> → flash" "$TMP/bash.out" "fl:flash"
expect_line "bash: espgang flash --po<TAB> → --port" "$TMP/bash.out" "po:--port"
expect_line "bash: --chip esp32c<TAB> → the chip table's C chips" "$TMP/bash.out" \
    "ch:esp32c2 esp32c3 esp32c5 esp32c6"
expect_line "bash: -m d<TAB> → dio dout" "$TMP/bash.out" "mode:dio dout"
expect_line "bash: --bootloader bo<TAB> → the file" "$TMP/bash.out" "boot:boot.bin"
expect_line "bash: --idf-build s<TAB> → folders only" "$TMP/bash.out" "dir:sub.d"
expect_line "bash: flash a<TAB> → the ELF" "$TMP/bash.out" "elf:app.elf"
expect_line "bash: completions z<TAB> → zsh" "$TMP/bash.out" "shell:zsh"
expect_line "bash: help rep<TAB> → report" "$TMP/bash.out" "help:report"
expect_line "bash: the hidden man command is not offered" "$TMP/bash.out" "hidden:"
expect_line "bash: --before no-<TAB> → the modes" "$TMP/bash.out" "before:no-reset no-reset-no-sync"
grep -q "^short:.* -n\b" "$TMP/bash.out" && grep -q "^short:.*--name-only\b" "$TMP/bash.out" && pass "bash: list-ports -<TAB> offers -n and --name-only" ||
    fail "bash short options: $(grep short: "$TMP/bash.out")"
# The ports come from espgang list-ports -n: in the USB bed, its ports.
umockdev-wrapper /usr/bin/python3 "$HERE/usb_bed.py" -- bash "$TMP/drive.bash" "$TMP/c.bash" "$TMP/w" \
    >"$TMP/bed.out" 2>&1
expect_line "bash: -p /dev/ttyU<TAB> → the ports list-ports finds" "$TMP/bed.out" \
    "port:/dev/ttyUSB0 /dev/ttyUSB1 /dev/ttyUSB2"

# fish completes (complete -C asks it what it would offer).
fish -c "source $TMP/c.fish; complete -C 'espgang fl'" >"$TMP/fish.out" 2>&1
grep -q "^flash	" "$TMP/fish.out" && pass "fish: espgang fl → flash" || fail "fish fl: $(cat "$TMP/fish.out")"
fish -c "source $TMP/c.fish; complete -C 'espgang flash --po'" >"$TMP/fish.out" 2>&1
grep -q "^--port	" "$TMP/fish.out" && pass "fish: espgang flash --po → --port" || fail "fish --po: $(cat "$TMP/fish.out")"
fish -c "source $TMP/c.fish; complete -C 'espgang flash --chip esp32h'" >"$TMP/fish.out" 2>&1
grep -q "^esp32h2\b" "$TMP/fish.out" && pass "fish: --chip esp32h → esp32h2" || fail "fish chip: $(cat "$TMP/fish.out")"

# zsh: its dispatch, with zsh's completion functions replaced by ones that print what
# they are given (outside a completion widget zsh cannot run them).
cat >"$TMP/drive.zsh" <<'EOF'
compdef() { print "compdef $*" }
_describe() { print -l -- "describe $2" ${(P)${@[-1]}} }
_arguments() { print -l -- "$@" }
source "$1"
words=(espgang fl); CURRENT=2; _espgang
print "== flash"
words=(espgang flash --po); CURRENT=3; _espgang
print "== help"
words=(espgang help fl); CURRENT=3; _espgang
EOF
zsh -f "$TMP/drive.zsh" "$TMP/c.zsh" >"$TMP/zsh.out" 2>&1
grep -qx "compdef _espgang espgang" "$TMP/zsh.out" && pass "zsh: sourced, it registers itself" ||
    fail "zsh compdef: $(head -3 "$TMP/zsh.out")"
sed -n '1,/== flash/p' "$TMP/zsh.out" | grep -q "^flash:Write an app (ELF)" &&
    pass "zsh: the commands with their summaries" || fail "zsh commands: $(head -5 "$TMP/zsh.out")"
sed -n '/== flash/,/== help/p' "$TMP/zsh.out" | grep -q "^(-p --port)--port=\[serial port.*\]:PORT:_espgang_ports$" &&
    pass "zsh: flash's options, --port with its ports" || fail "zsh flash: $(sed -n '/== flash/,/== help/p' "$TMP/zsh.out" | head -5)"
sed -n '/== help/,$p' "$TMP/zsh.out" | grep -q "^flash:Write an app" &&
    pass "zsh: help offers the commands" || fail "zsh help: $(sed -n '/== help/,$p' "$TMP/zsh.out" | head -3)"

# ... and zsh itself completes with it, in an interactive zsh on a pseudo-terminal
# (zpty), compadd wrapped to write down what it is given.
zsh_complete() { # LINE: what zsh offers after LINE<TAB>, one a line, in $TMP/zc.out
    rm -f "$TMP/zc.out"
    mkdir -p "$TMP/zfun"
    cp "$TMP/c.zsh" "$TMP/zfun/_espgang"
    cat >"$TMP/zc.zsh" <<EOF
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($TMP/zfun \\\$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd () { builtin compadd -O __h \"\\\$@\"; builtin compadd \"\\\$@\"; print -l -- \\\$__h >>$TMP/zc.part; }"
zpty -w z "tab() { zle complete-word; print -l -- >>$TMP/zc.part; mv $TMP/zc.part $TMP/zc.out; }"
zpty -w z "zle -N tab; bindkey '^I' tab"
zpty -n -w z "$1"\$'\\t'
for i in {1..400}; do [[ -e $TMP/zc.out ]] && break; zpty -r -t z junk; sleep 0.05; done
zpty -d z
EOF
    timeout 40 zsh -f "$TMP/zc.zsh" >/dev/null 2>&1
}
zsh_complete "espgang fl"
grep -qx flash "$TMP/zc.out" 2>/dev/null && pass "zsh (zpty): espgang fl<TAB> → flash" ||
    fail "zsh fl: $(cat "$TMP/zc.out" 2>&1 | head -5)"
zsh_complete "espgang flash --po"
grep -qx -- --port "$TMP/zc.out" 2>/dev/null && pass "zsh (zpty): espgang flash --po<TAB> → --port" ||
    fail "zsh --po: $(cat "$TMP/zc.out" 2>&1 | head -5)"
zsh_complete "espgang board-info --chip esp32h"
grep -qx esp32h2 "$TMP/zc.out" 2>/dev/null && pass "zsh (zpty): --chip esp32h<TAB> → esp32h2" ||
    fail "zsh chip: $(cat "$TMP/zc.out" 2>&1 | head -5)"

# Every command and every option of the table, in every output.
"$ESPGANG" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z0-9-]*\) .*/\1/p' >"$TMP/commands"
[ "$(wc -l <"$TMP/commands")" -ge 19 ] && pass "the table has $(wc -l <"$TMP/commands") commands" ||
    fail "commands: $(cat "$TMP/commands")"
groff -man -Tascii -P-c -P-b -P-u -P-o "$TMP/espgang.1" 2>/dev/null >"$TMP/man.txt"
# arm SCRIPT START END: the lines of a script from the line START to the line END.
arm() { awk -v s="$2" -v e="$3" '$0 == s {on = 1} on {print} on && $0 == e {exit}' "$1"; }
missing=0 checked=0
while read -r cmd; do
    "$ESPGANG" "$cmd" --help | sed -n 's/^  \(-\(.\), \)\{0,1\}\(    \)\{0,1\}--\([a-z0-9-]*\).*/\2 \4/p' >"$TMP/opts"
    arm "$TMP/c.bash" "    $cmd)" "        ;;" >"$TMP/a.bash"
    arm "$TMP/c.zsh" "    $cmd)" "        ;;" >"$TMP/a.zsh"
    arm "$TMP/c.elvish" "            &$cmd= {" "            }" >"$TMP/a.elvish"
    arm "$TMP/c.powershell" "        'espgang;$cmd' {" "            break" >"$TMP/a.ps"
    grep "__fish_seen_subcommand_from $cmd'" "$TMP/c.fish" >"$TMP/a.fish"
    for f in a.bash a.zsh a.elvish a.ps a.fish; do
        [ -s "$TMP/$f" ] || { fail "$cmd: no part of its own in ${f#a.}"; missing=$((missing + 1)); }
    done
    grep -q "^   $cmd\b" "$TMP/man.txt" || { fail "$cmd: no section in the man page"; missing=$((missing + 1)); }
    grep -q "^ *'$cmd:" "$TMP/c.zsh" || { fail "$cmd: not among zsh's commands"; missing=$((missing + 1)); }
    grep -q "__fish_use_subcommand -a $cmd -d" "$TMP/c.fish" || { fail "$cmd: not among fish's commands"; missing=$((missing + 1)); }
    while read -r short long; do
        [ -n "$long" ] || { long=$short; short=""; }
        checked=$((checked + 1))
        grep -q -- "--$long " "$TMP/a.bash" || { fail "bash: $cmd --$long"; missing=$((missing + 1)); }
        grep -q -- "--$long[=\[]" "$TMP/a.zsh" || { fail "zsh: $cmd --$long"; missing=$((missing + 1)); }
        grep -q -- "-l $long " "$TMP/a.fish" || { fail "fish: $cmd --$long"; missing=$((missing + 1)); }
        grep -q -- "'--$long'" "$TMP/a.elvish" || { fail "elvish: $cmd --$long"; missing=$((missing + 1)); }
        grep -q -- "'--$long'" "$TMP/a.ps" || { fail "powershell: $cmd --$long"; missing=$((missing + 1)); }
        grep -q -- "--$long\b" "$TMP/man.txt" || { fail "man: --$long"; missing=$((missing + 1)); }
        if [ -n "$short" ]; then
            grep -q -- " -$short " "$TMP/a.bash" || { fail "bash: $cmd -$short"; missing=$((missing + 1)); }
            grep -q -- "-$short[+\[]" "$TMP/a.zsh" || { fail "zsh: $cmd -$short"; missing=$((missing + 1)); }
            grep -q -- "-s $short -l $long " "$TMP/a.fish" || { fail "fish: $cmd -$short"; missing=$((missing + 1)); }
            grep -q -- "'-$short'" "$TMP/a.elvish" || { fail "elvish: $cmd -$short"; missing=$((missing + 1)); }
            grep -q -- "'-$short'" "$TMP/a.ps" || { fail "powershell: $cmd -$short"; missing=$((missing + 1)); }
        fi
    done <"$TMP/opts"
done <"$TMP/commands"
[ $missing = 0 ] && [ $checked -gt 200 ] &&
    pass "every command and every option ($checked) in bash, zsh, fish, elvish, powershell and the man page" ||
    fail "$missing missing of $checked options"

# The manual page renders without a warning.
groff -ww -z -man "$TMP/espgang.1" >"$TMP/err" 2>&1 && [ ! -s "$TMP/err" ] &&
    pass "groff -ww: no warnings" || fail "groff: $(cat "$TMP/err")"
mandoc -T lint "$TMP/espgang.1" >"$TMP/err" 2>&1 && pass "mandoc -T lint: nothing to say" ||
    fail "mandoc: $(cat "$TMP/err")"
MANWIDTH=80 man -l "$TMP/espgang.1" >"$TMP/man.out" 2>"$TMP/err" && [ ! -s "$TMP/err" ] &&
    grep -q "CONNECTION OPTIONS" "$TMP/man.out" && pass "man -l renders it" || fail "man -l: $(cat "$TMP/err")"

# cmake --install puts each file in its place.
if cmake --install "$BUILD" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1; then
    for pair in "share/man/man1/espgang.1:espgang.1" \
        "share/bash-completion/completions/espgang:completions/espgang.bash" \
        "share/zsh/site-functions/_espgang:completions/_espgang" \
        "share/fish/vendor_completions.d/espgang.fish:completions/espgang.fish" \
        "share/elvish/lib/espgang.elv:completions/espgang.elv"; do
        same_files "installed: ${pair%%:*}" "$TMP/prefix/${pair%%:*}" "$BUILD/${pair#*:}"
    done
else
    fail "cmake --install: $(tail -5 "$TMP/install.log")"
fi
finish
