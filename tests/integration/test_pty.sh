#!/bin/sh
# Board-level commands against espsim over a pseudo-terminal, every chip.
ESPGANG=$1 ESPSIM=$2 KIND=pty
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boards.sh"
finish
