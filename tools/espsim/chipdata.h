/* What espsim needs to play a chip beyond the shared chip table: a realistic default
 * revision, the boot log an application boot prints, and a few more power-on register
 * values. Simulation data only; the client never needs it. */
#ifndef ESPSIM_CHIPDATA_H
#define ESPSIM_CHIPDATA_H

#include "chip/chip.h"
#include "regs.h"

#include <stddef.h>

typedef struct sim_chip_data {
    const char *id;           /* eg_chip.id; NULL in the fallback row */
    unsigned major, minor;    /* default revision */
    const char *app_boot_log; /* ROM output of a normal (SPI flash) boot */
    const sim_reg_init *regs; /* more power-on register words */
    size_t n_regs;
} sim_chip_data;

/* The row for chip; a generic row (v0.0, a generic boot log) when it has none. */
const sim_chip_data *sim_chip_data_for(const eg_chip *chip);

#endif
