#!/bin/sh
# Board-level commands against espsim over a pseudo-terminal, every chip, through the
# ROM loader (--no-stub): READ_FLASH_SLOW, hex MD5, erasing FLASH_BEGIN.
ESPGANG=$1 ESPSIM=$2 KIND=pty EXTRA=--no-stub
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boards.sh"
finish
