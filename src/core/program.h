/* A program to load into a chip's RAM and run through the loader (MEM_BEGIN, MEM_DATA,
 * MEM_END): Espressif's flasher stub, or a RAM-only application (flash --ram). The
 * bytes belong to whoever built it (the plan); this only describes them. */
#ifndef EG_CORE_PROGRAM_H
#define EG_CORE_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct eg_ram_segment {
    uint32_t addr;
    const uint8_t *data;
    size_t len;
    const char *name; /* ".text", a section's name; for messages */
} eg_ram_segment;

typedef struct eg_ram_program {
    const char *name; /* "esp32c3" (a stub's), a file's path */
    uint32_t entry;
    const eg_ram_segment *segs;
    size_t n_segs;
} eg_ram_program;

#endif
