/* The chip table: one row of data per supported chip. Code asks the table; it does
 * not switch on the chip. The table is immutable and shared by every thread, and by
 * espsim (which plays the chips from the same data). */
#ifndef EG_CHIP_CHIP_H
#define EG_CHIP_CHIP_H

#include <stddef.h>
#include <stdint.h>

/* width bits of the register word at addr, starting at bit shift; width 0 = absent. */
typedef struct eg_bitfield {
    uint32_t addr;
    uint8_t shift;
    uint8_t width;
} eg_bitfield;

/* A value assembled from up to three fields, the first one most significant. */
typedef struct eg_efuse_value {
    eg_bitfield part[3];
} eg_efuse_value;

typedef struct eg_addr_range {
    uint32_t start, end; /* end exclusive */
} eg_addr_range;

/* A named range of the address space, as the image writer sees it. */
typedef struct eg_mem_region {
    uint32_t start, end; /* end exclusive */
    const char *kind;    /* "DROM", "IRAM", "PADDING", ... */
} eg_mem_region;

/* A flash frequency and its code in the image header's low nibble of byte 3. */
typedef struct eg_flash_freq {
    const char *name; /* "80m"; NULL ends the list */
    uint8_t code;
} eg_flash_freq;

/* How a chip's ROM loader misjudges its clock when it sets a new baud rate. */
typedef enum eg_rom_baud_quirk {
    EG_ROM_BAUD_EXACT,         /* it sets the rate asked for */
    EG_ROM_BAUD_RTC_ESTIMATE,  /* it derives its clock from the RTC calibration (ESP32) */
    EG_ROM_BAUD_ASSUMES_40MHZ, /* it assumes a 40 MHz crystal, also on 26 MHz (ESP32-C2) */
} eg_rom_baud_quirk;

/* A package name, looked up by the chip's package version and, for the entries whose
 * sub_mask is not 0, by the value of its package_sub field under sub_mask (the first
 * entry that matches wins). ESP32 names its revision-3 silicon apart (name_rev3). */
typedef struct eg_chip_package {
    unsigned version;
    unsigned sub, sub_mask;
    const char *name;
    const char *name_rev3; /* NULL: name on every revision */
} eg_chip_package;

/* One entry of a chip's feature list, as esptool's get_chip_features() words it. The
 * value of field (0 when it has no width) picks names[value]; a value past the table
 * picks other; NULL names nothing. When vendor has a width, its value's name from
 * vendor_names follows in parentheses ("Embedded Flash 4MB (XMC)"). */
typedef struct eg_chip_feature {
    eg_efuse_value field;
    const char *const *names;
    unsigned n_names;
    const char *other;
    eg_efuse_value vendor;
    const char *const *vendor_names;
    unsigned n_vendor_names;
} eg_chip_feature;

/* Where a chip's crystal frequency comes from. */
typedef enum eg_crystal_rule {
    EG_CRYSTAL_FIXED,        /* always crystal_mhz */
    EG_CRYSTAL_UART_DIVIDER, /* the UART divider × the line's baud: 26 or 40 MHz */
    EG_CRYSTAL_REGISTER,     /* crystal_field holds the MHz (40 or 48); 0: as the divider */
} eg_crystal_rule;

typedef struct eg_chip {
    const char *name;               /* "ESP32-C3" */
    const char *id;                 /* "esp32c3", also the stub's and fixtures' name */
    uint16_t elf_machine;           /* e_machine of its firmware: EG_ELF_MACHINE_* */
    uint16_t image_chip_id;         /* also the chip id in GET_SECURITY_INFO */
    int uses_magic;                 /* detected by the magic register, not the chip id */
    uint32_t magic[4];              /* values of the register at EG_CHIP_MAGIC_REG; 0 ends */
    unsigned security_info_len;     /* 20, 12 (ESP32-S2) or 0 (ESP32 ROM lacks it) */
    unsigned rom_flash_begin_words; /* 4 on ESP32's ROM, 5 elsewhere */
    uint32_t bootloader_offset;
    /* MAC: 6 low bytes of big-endian (word at mac_reg + 4, word at mac_reg). */
    uint32_t mac_reg;
    /* Revision: major and minor values; major_map (when set) maps the raw major
     * through a table of major_map_len entries (ESP32). */
    eg_efuse_value major, minor;
    const uint8_t *major_map;
    unsigned major_map_len;
    /* ESP32-S3's first silicon: when both fields hold 1 and the minor's low three
     * bits are 0, the revision reads as v0.0. */
    eg_bitfield eco0_field[2];
    /* eFuse fields naming the pins of in-package flash (clk, q, d, hd, cs), which the
     * ROM does not attach by itself (ESP32); width 0 when the chip has none. */
    eg_bitfield spi_pads[5];
    /* SPI flash controller registers (for RDID and SFDP through the registers). */
    uint32_t spi_base;
    uint8_t spi_usr, spi_usr1, spi_usr2, spi_mosi_dlen, spi_miso_dlen, spi_w0;
    int spi_addr_msb;         /* the address register takes the address shifted to its top */
    uint32_t uart_clkdiv_reg; /* UART clock divider: crystal = baud * divider */
    eg_rom_baud_quirk rom_baud;
    /* ESP32: the ROM's clock estimate is cali * 15625 * ck8m / 40, with cali in bits
     * 7-31 of rtc_cali_reg and ck8m in bits 0-7 of ck8m_reg. */
    uint32_t rtc_cali_reg, ck8m_reg;
    /* RTC watchdog for --after watchdog-reset; 0 when the chip cannot use it. */
    uint32_t wdt_config0, wdt_config1, wdt_wprotect;
    /* ESP32-P4 below this major revision needs the "-rev1" flasher stub (0 = never). */
    unsigned stub_rev1_below_major;
    /* Flash-mapped address ranges for code and data. */
    eg_addr_range irom, drom;
    /* The memory map sections are classified by: two adjacent sections merge into one
     * image segment only when the same regions contain both start addresses. */
    const eg_mem_region *memory_map;
    unsigned memory_map_len;
    /* Flash frequencies the image header can name; the first is the fastest. Code 0
     * is the chip's default. */
    eg_flash_freq flash_freqs[5];
    /* MMU page sizes the app may choose (bit n: 2^n bytes); 0 when it is fixed at
     * 64 KiB. */
    uint32_t mmu_page_sizes;
    /* ESP32's second-stage bootloader leaves unmapped the last page of a flash segment
     * that passes a page boundary by fewer than this many bytes, so images pad such
     * segments up to it; 0 elsewhere. */
    uint32_t flash_segment_min_tail;
    /* Package: the package version's fields, a second key some names need (ESP32's
     * single-core bit, ESP32-C6's embedded flash), and the names. */
    eg_efuse_value package, package_sub;
    const eg_chip_package *packages;
    unsigned n_packages;
    /* Features, in the order they are listed. */
    const eg_chip_feature *features;
    unsigned n_features;
    /* Crystal: how it is found, its frequency when fixed, its register field. */
    eg_crystal_rule crystal;
    unsigned crystal_mhz;
    eg_bitfield crystal_field;
} eg_chip;

#define EG_MMU_PAGE_DEFAULT 0x10000u

/* ELF machine numbers (e_machine) of the two CPU families. */
#define EG_ELF_MACHINE_XTENSA 94
#define EG_ELF_MACHINE_RISCV  243

#define EG_CHIP_MAGIC_REG 0x40001000u
#define EG_WDT_KEY        0x50D83AA1u

/* Every chip, in table order; *count set to their number. */
const eg_chip *eg_chip_all(size_t *count);

/* Looks a chip up by what users type: "esp32c3", "ESP32-C3", "esp32-c3". */
const eg_chip *eg_chip_by_name(const char *name);
const eg_chip *eg_chip_by_image_id(unsigned id);
/* Only chips that are told apart by the magic register; NULL if none matches. */
const eg_chip *eg_chip_by_magic(uint32_t magic);

/* True when addr lies in a range the chip maps from flash (code or data). */
int eg_chip_addr_in_flash(const eg_chip *chip, uint32_t addr);

/* The names of all chips joined by ", " (for messages). */
const char *eg_chip_names(void);

/* Reads the register at addr into *out; ctx is the reader's (a session, say). */
typedef int (*eg_reg_reader)(uint32_t *out, void *ctx, uint32_t addr);

/* Decodes the revision from the registers read returns. */
int eg_chip_revision_decode(unsigned *major, unsigned *minor, const eg_chip *chip,
                            eg_reg_reader read, void *ctx);

/* The SPI_ATTACH argument for the ROM: the pins from the eFuse pad fields packed as
 * hd << 24 | cs << 18 | d << 12 | q << 6 | clk, or 0 (the default pins). */
int eg_chip_spi_attach_arg(uint32_t *out, const eg_chip *chip, eg_reg_reader read, void *ctx);

#define EG_CHIP_FEATURES_MAX 12
#define EG_CHIP_FEATURE_LEN  64
#define EG_CHIP_PACKAGE_LEN  48

/* What a board's eFuses say about its chip beyond the revision. */
typedef struct eg_chip_info {
    int package_known;                 /* 0: no name for the package version */
    unsigned package_version;          /* the package fields' value */
    char package[EG_CHIP_PACKAGE_LEN]; /* "ESP32-D0WD-V3", or "unknown (5)" */
    unsigned n_features;
    char features[EG_CHIP_FEATURES_MAX][EG_CHIP_FEATURE_LEN]; /* "Wi-Fi", "BT", ... */
    unsigned crystal_mhz;                                     /* 0 until read */
} eg_chip_info;

/* Decodes the package name and the features from the registers read returns, for a
 * chip of major revision rev_major. An unknown package version is named "unknown (N)";
 * crystal_mhz is left 0 (see eg_chip_crystal_decode). */
int eg_chip_info_decode(eg_chip_info *out, const eg_chip *chip, unsigned rev_major,
                        eg_reg_reader read, void *ctx);

/* The crystal in MHz that a UART divider shows at baud: baud × divider (its low 20
 * bits) rounded to 26, 40 or 48 MHz as esptool rounds it (above 45: 48, above 33: 40,
 * else 26). */
unsigned eg_chip_crystal_from_divider(uint32_t baud, uint32_t divider);

/* The chip's crystal in MHz as its rule says (chip->crystal), the line running at
 * baud; reads the divider or the crystal register through read. */
int eg_chip_crystal_decode(unsigned *mhz, const eg_chip *chip, uint32_t baud, eg_reg_reader read,
                           void *ctx);

/* The flash's manufacturer, by the JEDEC id's low byte ("GigaDevice"); NULL when the
 * table does not know it. */
const char *eg_flash_manufacturer(uint32_t jedec_id);

/* The flash's device id as esptool prints it: the memory type byte, then the
 * capacity byte (0x4016 for the JEDEC id 0x1640C8). */
unsigned eg_flash_device_id(uint32_t jedec_id);

/* Flash size in bytes for a JEDEC id (manufacturer in bits 0-7, capacity code in
 * bits 16-23); 0 when the code is not one flash chips use. */
uint32_t eg_flash_size_from_jedec(uint32_t id);

#endif
