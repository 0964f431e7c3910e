#!/bin/sh
# Board-level commands against espsim over TCP (socket://), every chip, through the
# flasher stub: windowed READ_FLASH, binary MD5, ERASE_REGION, 16 KiB blocks.
ESPGANG=$1 ESPSIM=$2 KIND=tcp EXTRA=
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boards.sh"
finish
