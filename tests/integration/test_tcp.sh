#!/bin/sh
# Board-level commands against espsim over TCP (socket://), every chip.
ESPGANG=$1 ESPSIM=$2 KIND=tcp
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/boards.sh"
finish
