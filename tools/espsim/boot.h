/* What a chip prints when it boots from its flash, read from the flash: the ROM's
 * reset banner, its check and load of the image at the bootloader offset, the
 * second-stage bootloader's log as it finds the application through the partition
 * table, and an application's panic. Only text and verdicts: the board (board.h) does
 * the timing. Lines end in CR LF, as the ROM and ESP-IDF's console print them. */
#ifndef ESPSIM_BOOT_H
#define ESPSIM_BOOT_H

#include "chip/chip.h"
#include "core/buf.h"

#include "chipdata.h"

#include <stdint.h>

/* The offset ESP-IDF's bootloader reads the partition table from (its default
 * CONFIG_PARTITION_TABLE_OFFSET). */
#define SIM_PARTITION_TABLE_OFFSET 0x8000u

/* How a flash boot ends. */
typedef enum sim_boot_end {
    SIM_BOOT_APP,     /* the application runs */
    SIM_BOOT_RETRY,   /* no image at the bootloader offset: the ROM reads it again and again */
    SIM_BOOT_STUCK,   /* the ROM stopped; a watchdog resets the chip (reset says which) */
    SIM_BOOT_RESTART, /* the bootloader gave up: it resets the chip by software */
} sim_boot_end;

typedef struct sim_boot {
    sim_boot_end end;
    sim_reset_reason reset; /* SIM_BOOT_STUCK: the watchdog that fires */
    uint32_t word;          /* SIM_BOOT_RETRY: the first word the ROM read */
    uint32_t app_offset;    /* SIM_BOOT_APP: the partition the app runs from */
    unsigned ms;            /* the uptime its last log line shows */
    char why[200];          /* one line for espsim's log */
} sim_boot;

/* The chip being booted. */
typedef struct sim_boot_chip {
    const eg_chip *chip;
    const sim_chip_data *cd;
    unsigned major, minor;
    const uint8_t *flash;
    uint32_t flash_size;
} sim_boot_chip;

/* Appends printf-style text (a line is cut at 511 bytes). */
int sim_put(eg_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the ROM's reset banner: its first lines, `rst:0x.. (NAME),boot:0x..
 * (SPI_FAST_FLASH_BOOT)` (or the download-mode line and `waiting for download` when
 * download is set) and, on the ESP-ROM chips after any reset but power-on,
 * `Saved PC:0x........` with saved_pc. */
int sim_boot_banner(eg_buf *out, const sim_boot_chip *c, sim_reset_reason r, int download,
                    uint32_t saved_pc);

/* Appends one `invalid header: 0x........` line (ESP32's first ROM prints its flash read
 * error instead). */
int sim_boot_invalid_header(eg_buf *out, const sim_boot_chip *c, uint32_t word);

/* How many invalid header lines the ROM prints in a cycle of its watchdog of cycle_ms:
 * eight on ESP32 v3 (as its boards show), one flash read error on older ESP32s, one
 * every retry_ms on the ESP-ROM chips. */
unsigned sim_boot_retry_lines(const sim_boot_chip *c, unsigned cycle_ms);

/* Boots from the flash: appends what the ROM and the second-stage bootloader print and
 * sets *out to how it ends. Fails only for lack of memory. */
int sim_boot_flash(sim_boot *out, eg_buf *text, const sim_boot_chip *c);

/* Where a panic happened: pc[0], then the return addresses of its callers (up to
 * three in all), and the application's ELF digest (hex, NULL: a made-up one). */
typedef struct sim_panic_frames {
    uint32_t pc[3];
    unsigned n;
    const char *sha256;
} sim_panic_frames;

/* Appends ESP-IDF's panic report of a null pointer read (RISC-V: "Load access fault",
 * Xtensa: "LoadProhibited") with its register dump, ending in `Rebooting...`. ms is the
 * uptime it happens at. f gives the code addresses (RISC-V: MEPC, RA and return
 * addresses in the stack memory; Xtensa: PC, A0 and the backtrace); NULL: made-up
 * addresses in the chip's flash and RAM. */
int sim_boot_panic(eg_buf *out, const sim_boot_chip *c, unsigned ms, const sim_panic_frames *f);

/* An address in the chip's ROM code and one in its internal RAM (for `Saved PC`). */
uint32_t sim_boot_rom_pc(const eg_chip *chip);
uint32_t sim_boot_ram_pc(const eg_chip *chip);

#endif
