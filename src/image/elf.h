/* Reading firmware ELF files (32-bit little-endian, Xtensa or RISC-V) with libelf: the
 * sections an image is made of, the entry point, the file's SHA-256 and the metadata
 * Rust's esp-hal leaves in `.espressif.metadata`. */
#ifndef EG_IMAGE_ELF_H
#define EG_IMAGE_ELF_H

#include "chip/chip.h"

#include <stddef.h>
#include <stdint.h>

/* A section with bytes to load: PROGBITS or an init/fini array, with a non-zero
 * address and size. */
typedef struct eg_elf_section {
    char *name;
    uint32_t addr;
    uint32_t size;
    uint32_t align;
    const uint8_t *data; /* size bytes, inside the eg_elf's copy of the file */
} eg_elf_section;

typedef struct eg_elf {
    uint8_t *file; /* the whole file */
    size_t file_len;
    uint16_t machine;
    uint32_t entry;
    uint8_t sha256[32]; /* of the whole file */
    /* Loadable sections in section-header order. */
    eg_elf_section *sections;
    size_t n_sections;
    /* From `.espressif.metadata` (NULL / -1 when absent). */
    char *chip_name;       /* build_info.CHIP_NAME, "esp32c3" */
    char *log_format;      /* espflash.LOG_FORMAT */
    int min_chip_revision; /* build_info.MIN_CHIP_REVISION, major * 100 + minor */
} eg_elf;

/* Parses len bytes (copied); name is used in messages (a path, say). */
int eg_elf_parse(eg_elf **out, const uint8_t *data, size_t len, const char *name);

/* Reads and parses the file at path. */
int eg_elf_load(eg_elf **out, const char *path);

void eg_elf_free(eg_elf *e);

/* The first loadable section whose name contains needle, or NULL. */
const eg_elf_section *eg_elf_find_section(const eg_elf *e, const char *needle);

#endif
