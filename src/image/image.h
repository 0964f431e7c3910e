/* ESP app images: built from an ELF the way Espressif's elf2image builds them (esptool
 * v5.3.1, byte for byte), parsed and checked, and the flash settings in their header.
 *
 * Layout: an 8-byte header (0xE9, segment count, flash mode, flash size << 4 | flash
 * frequency, entry), a 16-byte extended header (wp pin, drive strengths, chip id,
 * minimum and maximum revision, hash_appended), the segments (u32 address, u32 length,
 * data), zero padding to 16 bytes minus one, the XOR checksum of all segment data
 * (seed 0xEF), and the SHA-256 of everything before it. Flash-mapped segments sit so
 * that their file offset equals their address modulo the MMU page. */
#ifndef EG_IMAGE_IMAGE_H
#define EG_IMAGE_IMAGE_H

#include "chip/chip.h"
#include "core/buf.h"
#include "image/elf.h"

#include <stddef.h>
#include <stdint.h>

#define EG_IMAGE_MAGIC        0xE9
#define EG_IMAGE_HEADER_LEN   24 /* header and extended header */
#define EG_IMAGE_MAX_SEGMENTS 16
#define EG_APP_DESC_MAGIC     0xABCD5432u
#define EG_APP_DESC_LEN       256

/* Flash modes as the header encodes them. */
enum { EG_FLASH_QIO = 0, EG_FLASH_QOUT = 1, EG_FLASH_DIO = 2, EG_FLASH_DOUT = 3 };

/* Parses "qio", "qout", "dio", "dout" (any case). */
int eg_flash_mode_parse(uint8_t *out, const char *s);
const char *eg_flash_mode_name(uint8_t mode);

/* Parses a flash size the header can hold, 1MB to 128MB ("4MB", "4mb", "4M"), into
 * bytes; *code gets its header code (log2(size / 1 MB)) when code is not NULL. */
int eg_flash_size_parse(uint32_t *out, uint8_t *code, const char *s);
/* The header code for size bytes; EG_EINVAL unless a power of two from 1 MB to 128 MB. */
int eg_flash_size_code(uint8_t *out, uint32_t size);
uint32_t eg_flash_size_from_code(uint8_t code);

/* Parses a flash frequency this chip's header can name ("40m", "40M", "40mhz",
 * "40MHz") into its code. */
int eg_flash_freq_parse(uint8_t *out, const eg_chip *chip, const char *s);
/* The first frequency name with this code, or "?". */
const char *eg_flash_freq_name(const eg_chip *chip, uint8_t code);

typedef struct eg_image_opts {
    uint8_t flash_mode;      /* EG_FLASH_* */
    uint8_t flash_size_code; /* eg_flash_size_code() */
    uint8_t flash_freq_code; /* eg_flash_freq_parse(); 0 is the chip's default */
    uint32_t mmu_page_size;  /* 0: from the app descriptor, else the chip's default */
    uint8_t min_rev;         /* legacy minimum revision byte */
    uint16_t min_rev_full;   /* major * 100 + minor */
    uint16_t max_rev_full;   /* 0xFFFF: any */
    int require_app_desc;    /* refuse an ELF without .flash.appdesc */
} eg_image_opts;

/* The options elf2image uses when given none: dio here (elf2image says qio), 4MB,
 * the chip's default frequency, revisions 0 to any, app descriptor required. */
void eg_image_opts_default(eg_image_opts *out);

/* The app descriptor's section: .flash.appdesc (ESP-IDF 5, esp-hal), or, as ESP-IDF 4.x
 * and earlier place it, the first section mapped from flash for data when it begins
 * with EG_APP_DESC_MAGIC. chip NULL (not known yet): any section beginning so. NULL
 * when there is none. */
const eg_elf_section *eg_image_app_desc(const eg_elf *elf, const eg_chip *chip);

/* 0 when elf has an app descriptor (eg_image_app_desc); else EG_EINVAL saying so, or,
 * when chip is given and the ELF maps nothing from its flash, that it looks like a
 * bootloader. */
int eg_image_check_app_desc(const eg_elf *elf, const eg_chip *chip);

/* True when some section of elf is mapped from the chip's flash (an app's code or
 * data); a bootloader, which runs from RAM, maps none. */
int eg_image_maps_flash(const eg_elf *elf, const eg_chip *chip);

/* Builds the app image for chip from elf into out (which must be empty). */
int eg_image_from_elf(eg_buf *out, const eg_elf *elf, const eg_chip *chip,
                      const eg_image_opts *opts);

typedef struct eg_image_segment {
    uint32_t addr;
    uint32_t len;
    uint32_t file_offset; /* of the data, after the 8-byte segment header */
} eg_image_segment;

/* What a parsed image says and whether it holds together. */
typedef struct eg_image_info {
    uint8_t n_segments; /* as the header says */
    uint8_t flash_mode, flash_size_code, flash_freq_code;
    uint32_t entry;
    uint8_t wp_pin, drive[3];
    uint16_t chip_id;
    uint8_t min_rev;
    uint16_t min_rev_full, max_rev_full;
    uint8_t hash_appended;
    eg_image_segment segments[255];
    uint8_t checksum, checksum_calc;
    size_t length; /* through the checksum byte, without the digest */
    uint8_t digest[32], digest_calc[32];
    int has_app_desc; /* the first segment starts with the app descriptor */
    uint32_t app_desc_offset;
    uint8_t mmu_page_log2; /* from the app descriptor; 0 when absent */
} eg_image_info;

/* Parses an image; EG_EINVAL with a message when it is not one or is cut short.
 * A wrong checksum or digest is not an error here: compare the _calc fields. */
int eg_image_parse(eg_image_info *out, const uint8_t *data, size_t len);

/* True when the parsed image's checksum and (if appended) digest are right. */
int eg_image_valid(const eg_image_info *info);

/* Rewrites the flash mode, size and frequency in an image's header (bytes 2-3), as a
 * flasher does for a bootloader, and recomputes the appended SHA-256. Each of mode,
 * size_code, freq_code is applied unless negative. EG_EINVAL if data is not a valid
 * image, EG_EUNSUPPORTED if anything but 0xFF follows the image (a secure boot
 * signature, which a change would break); nothing is changed then. */
int eg_image_patch_flash_params(uint8_t *data, size_t len, int mode, int size_code, int freq_code);

#endif
