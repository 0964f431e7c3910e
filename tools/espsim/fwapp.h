/* --app-elf FILE --app KIND: an application that prints what a real firmware built as
 * FILE would, with FILE's real addresses, so a monitor's decoding can be checked.
 *
 * After the second-stage bootloader hands over, ESP-IDF's start-up lines (cpu_start,
 * app_init with the app descriptor's project and version when FILE has one, the ELF's
 * SHA-256, heap_init, main_task), then by KIND:
 *  - hello: `Hello world!`, the chip, `app_main() is at 0x........` (app_main's address
 *    in FILE), then `Counter: N` every FW_COUNTER_MS, for ever;
 *  - panic: `Hello world!`, then ESP-IDF's panic report of a load fault in the chip's
 *    format (RISC-V: the `MEPC`/`RA` register dump and stack memory; Xtensa: `PC`, `A0`
 *    and a `Backtrace:` of PC:SP pairs), `ELF file SHA256:` with FILE's digest, and
 *    `Rebooting...`: the board restarts (a software CPU reset) and it all comes again.
 *
 * The panic's frames are real functions of FILE, innermost first: the function just
 * before app_main in its section (else the next function in the code after it), app_main
 * (`app_main`, `eg_app_main` or `main`; else FILE's largest function), and the function
 * at FILE's entry point. Each frame's address is its function's first byte.
 *
 * A board given an application and an erased flash (nothing at the bootloader offset)
 * starts as if FILE had been flashed: a small stand-in bootloader, a partition table
 * (nvs, phy_init, factory at 0x10000) and FILE as an app image (its allocated sections
 * as segments, in file order; not elf2image's exact layout), so it boots FILE. */
#ifndef ESPSIM_FWAPP_H
#define ESPSIM_FWAPP_H

#include "chip/chip.h"
#include "core/buf.h"
#include "defmt_out.h"

#include <stddef.h>
#include <stdint.h>

#define SIM_FW_FRAMES_MAX 3
#define SIM_FW_LINE_MS    100 /* between the application's first lines */
#define FW_COUNTER_MS     500 /* hello: between two counter lines */

typedef enum sim_fw_kind {
    SIM_FW_HELLO,
    SIM_FW_PANIC,
    SIM_FW_DEFMT, /* the defmt fixture's log calls (defmt_out.h), one every line time */
} sim_fw_kind;

typedef struct sim_fw_frame {
    uint32_t addr;
    char name[128];
} sim_fw_frame;

typedef struct sim_fw {
    sim_fw_kind kind;
    const char *path;
    uint16_t machine; /* e_machine */
    uint32_t entry;
    char project[33], version[33]; /* from the app descriptor; "" when none */
    char sha256[65];               /* of the whole file, hex */
    sim_fw_frame app_main;
    sim_fw_frame frames[SIM_FW_FRAMES_MAX]; /* the panic's, innermost first */
    size_t n_frames;
    struct sim_fw_seg {
        uint32_t addr;
        eg_buf data;
    } segs[16]; /* the app image's segments */
    size_t n_segs;
    sim_defmt_output defmt; /* SIM_FW_DEFMT: what the app sends */
} sim_fw;

/* Parses "hello", "panic" or "defmt" into *out. */
int sim_fw_kind_parse(sim_fw_kind *out, const char *text);

/* Reads FILE for chip: its symbols, entry, digest, app descriptor and sections. An error
 * names the file: not an ELF, another CPU than the chip's, no function symbols. */
int sim_fw_load(sim_fw *out, const char *path, sim_fw_kind kind, const eg_chip *chip);
void sim_fw_free(sim_fw *fw);

/* Puts the stand-in bootloader, the partition table and the app image into flash
 * (size bytes, erased). Fails when the app does not fit. */
int sim_fw_preflash(const sim_fw *fw, const eg_chip *chip, uint8_t *flash, uint32_t size);

/* ESP-IDF's start-up lines up to `main_task: Calling app_main()`, the uptime from ms. */
int sim_fw_start(const sim_fw *fw, eg_buf *out, const eg_chip *chip, unsigned ms);

/* The application's line number n (from 0), at uptime ms: appended to out, and the
 * milliseconds to the next one in *next_ms. Returns 1 when line n is the panic (the
 * caller prints it with sim_boot_panic() and restarts the chip), else 0. */
int sim_fw_line(const sim_fw *fw, eg_buf *out, const eg_chip *chip, unsigned n, unsigned ms,
                unsigned *next_ms);

#endif
