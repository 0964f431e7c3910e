/* espsim's register file: the few registers a flasher reads or writes through
 * READ_REG / WRITE_REG, built from the chip table (magic value, eFuse MAC and revision,
 * UART divider), the package variant's eFuse bits and the crystal and a model of the SPI flash
 * controller's user commands (RDID, SFDP, read status). Unknown registers read 0 and keep what is
 * written to them. */
#ifndef ESPSIM_REGS_H
#define ESPSIM_REGS_H

#include "chip/chip.h"

#include <stddef.h>
#include <stdint.h>

#define SIM_ROM_BAUD 115200u
#define SIM_SFDP_LEN 256u

/* One register word a chip holds at power-on besides what the chip table describes. */
typedef struct sim_reg_init {
    uint32_t addr, value;
} sim_reg_init;

typedef struct sim_reg {
    uint32_t addr, value;
} sim_reg;

typedef struct sim_regs {
    const eg_chip *chip;
    sim_reg *r;
    size_t n, cap;
    uint32_t jedec_id; /* what RDID reports: manufacturer in bits 0-7 */
    uint32_t flash_size;
    uint8_t sfdp[SIM_SFDP_LEN];
    int flash_attached; /* 0: the flash's data line floats high, every read gives 0xFF */
} sim_regs;

/* The power-on values: what sim_regs_power_on() writes. */
typedef struct sim_regs_config {
    const eg_chip *chip;
    uint8_t mac[6];
    unsigned major, minor; /* chip revision vMAJOR.MINOR */
    uint32_t jedec_id;
    uint32_t flash_size;
    uint32_t crystal_hz;
    int ck8m_drift_pct;        /* ESP32: the RTC calibration makes the ROM's clock estimate off */
    int spi_pads_set;          /* the eFuses name the flash's pads (chips with such fields) */
    unsigned spi_pads[5];      /* clk, q, d, hd, cs */
    const sim_reg_init *extra; /* more power-on words, n_extra of them */
    size_t n_extra;
    const sim_reg_init *efuse; /* eFuse bits of the package variant (addr 0: none) */
    size_t n_efuse;
    const sim_reg_init *efuse_more; /* eFuse bits given by hand */
    size_t n_efuse_more;
    uint32_t xtal_reg; /* a register holding the crystal's MHz at xtal_shift (0: none) */
    unsigned xtal_shift;
} sim_regs_config;

/* Prepares r and sets the power-on values. EG_EINVAL with a message when the revision
 * cannot be encoded in the chip's eFuse fields. */
int sim_regs_init(sim_regs *r, const sim_regs_config *cfg);

/* Back to the power-on values (a chip reset); the eFuses are rebuilt the same. */
int sim_regs_power_on(sim_regs *r, const sim_regs_config *cfg);

void sim_regs_release(sim_regs *r);

uint32_t sim_regs_read(const sim_regs *r, uint32_t addr);

/* reg = (reg & ~mask) | (value & mask). When the write starts an SPI user command,
 * the command runs at once; *spi_cmd is set to its command byte, else to -1. */
int sim_regs_write(sim_regs *r, uint32_t addr, uint32_t value, uint32_t mask, int *spi_cmd);

/* Sets a register outright (no SPI side effects). */
int sim_regs_set(sim_regs *r, uint32_t addr, uint32_t value);

/* Checks that vMAJOR.MINOR can be written into chip's revision fields. */
int sim_regs_check_revision(const eg_chip *chip, unsigned major, unsigned minor);

#endif
