/* What espsim needs to play a chip beyond the shared chip table: a realistic default
 * revision, what its ROM prints when it boots, the clocks of its watchdogs, and a few
 * more power-on register values. Simulation data only; the client never needs it. */
#ifndef ESPSIM_CHIPDATA_H
#define ESPSIM_CHIPDATA_H

#include "chip/chip.h"
#include "regs.h"

#include <stddef.h>

/* How the ROM words its boot messages: ESP32's "ets" ROM, the ESP-ROM of ESP32-S2, S3,
 * C2 and C3, and the ESP-ROM of the chips with an LP core domain (C5, C6, H2, P4),
 * which name the reset reasons differently. */
typedef enum sim_rom_style {
    SIM_ROM_ETS,
    SIM_ROM_ESP,
    SIM_ROM_ESP_LP,
} sim_rom_style;

/* Why the chip (re)started, as the ROM's `rst:` line says. */
typedef enum sim_reset_reason {
    SIM_RST_POWERON, /* power-on, the EN pin, a chip reset */
    SIM_RST_SW_SYS,  /* software system reset (the bootloader giving up) */
    SIM_RST_SW_CPU,  /* software CPU reset (esp_restart after a panic) */
    SIM_RST_TG0WDT,  /* the main system watchdog of timer group 0 */
    SIM_RST_RTCWDT,  /* the RTC (LP) watchdog */
    SIM_RST_KINDS
} sim_reset_reason;

/* A package variant a board can be (`--package NAME`): the part number, and the eFuse
 * bits that say so (package version, single core, embedded flash and PSRAM and their
 * makers, rated frequency, calibration). On ESP32 some names hold only on revision-3
 * silicon and others only below it. */
#define SIM_PACKAGE_WORDS 3
typedef struct sim_package {
    const char *name;
    int rev3; /* 1: only on major revision 3; -1: only below it; 0: either */
    sim_reg_init efuse[SIM_PACKAGE_WORDS];
} sim_package;

typedef struct sim_chip_data {
    const char *id;        /* eg_chip.id; NULL in the fallback row */
    unsigned major, minor; /* default revision */
    sim_rom_style style;
    /* The ROM's first lines ("ESP-ROM:...\r\nBuild:...\r\n"); ESP32 takes the one of its
     * revision (rom_banner below v3, rom_banner_v3 from v3). */
    const char *rom_banner, *rom_banner_v3;
    unsigned flash_boot;      /* the boot: strap value of an SPI flash boot */
    const char *download;     /* what follows "rst:0x1 (POWERON)," in download mode */
    unsigned rc_slow_hz;      /* RTC slow clock (internal RC) that times the RTC watchdog */
    unsigned wdt_hold0;       /* RTC watchdog stage 0 timeout at reset, in slow clock ticks */
    unsigned retry_ms;        /* an invalid header: how often the ROM reads it again */
    const sim_reg_init *regs; /* more power-on register words */
    size_t n_regs;
    const sim_package *packages; /* the first is the default */
    size_t n_packages;
    unsigned crystal_mhz;     /* its usual crystal in MHz */
    unsigned crystal_alt_mhz; /* the other crystal it may have (0: none) */
    uint32_t xtal_reg;        /* a register that holds the crystal's MHz (0: none) */
    unsigned xtal_shift;      /* ... at this bit */
} sim_chip_data;

/* The row for chip; a generic row (v0.0, a generic ROM) when it has none. */
const sim_chip_data *sim_chip_data_for(const eg_chip *chip);

/* The package variant called name (case does not matter) of the chip; NULL with a
 * message listing the chip's variants when it has none of that name, or when the
 * variant does not exist at major revision major. */
const sim_package *sim_chip_package(const sim_chip_data *cd, const eg_chip *chip, const char *name,
                                    unsigned major);

/* The chip's usual package at major revision major: the first variant made at it. */
const sim_package *sim_chip_default_package(const sim_chip_data *cd, unsigned major);

/* Checks that the chip comes with a crystal of mhz MHz. */
int sim_chip_check_crystal(const sim_chip_data *cd, const eg_chip *chip, unsigned mhz);

/* The ROM's banner for a chip of major revision major. */
const char *sim_chip_rom_banner(const sim_chip_data *cd, unsigned major);

/* The reason's code and the name this ROM prints for it (`rst:0x10 (RTCWDT_RTC_RST)`). */
unsigned sim_reset_code(sim_reset_reason r);
const char *sim_reset_name(const sim_chip_data *cd, sim_reset_reason r);

/* Milliseconds the RTC watchdog's stage 0 takes for hold ticks of its slow clock: the
 * hardware counts stage 0 twice over (ESP-IDF's rwdt_ll_config_stage() writes half
 * the ticks it wants, the WDT_DELAY_SEL eFuse being 0). */
unsigned sim_chip_wdt_ms(const sim_chip_data *cd, uint64_t hold);

#endif
