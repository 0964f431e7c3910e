/* Values from Espressif's esptool (v5.3.1, its targets folder) and the chips'
 * technical reference manuals; see docs/chips.md for where each comes from. */
#include "chip/chip.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define F(a, s, w)                                                                                 \
    {                                                                                              \
        (a), (s), (w)                                                                              \
    }

/* ESP32's major revision comes from three bits (APB_CTL_DATE bit 31, eFuse word 5
 * bit 20, eFuse word 3 bit 15, in that order of weight); only 0, 1, 3 and 7 mean
 * something. */
static const uint8_t esp32_major_map[8] = {0, 1, 0, 2, 0, 0, 0, 3};

#define SPI_NEW_LAYOUT                                                                             \
    .spi_usr = 0x18, .spi_usr1 = 0x1C, .spi_usr2 = 0x20, .spi_mosi_dlen = 0x24,                    \
    .spi_miso_dlen = 0x28, .spi_w0 = 0x58

/* The memory maps of esptool v5.3.1's targets (MEMORY_MAP); ESP32-H2 shares ESP32-C6's. */
static const eg_mem_region esp32_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},
    {0x3F400000, 0x3F800000, "DROM"},
    {0x3F800000, 0x3FC00000, "EXTRAM_DATA"},
    {0x3FF80000, 0x3FF82000, "RTC_DRAM"},
    {0x3FF90000, 0x40000000, "BYTE_ACCESSIBLE"},
    {0x3FFAE000, 0x40000000, "DRAM"},
    {0x3FFE0000, 0x3FFFFFFC, "DIRAM_DRAM"},
    {0x40000000, 0x40070000, "IROM"},
    {0x40070000, 0x40078000, "CACHE_PRO"},
    {0x40078000, 0x40080000, "CACHE_APP"},
    {0x40080000, 0x400A0000, "IRAM"},
    {0x400A0000, 0x400BFFFC, "DIRAM_IRAM"},
    {0x400C0000, 0x400C2000, "RTC_IRAM"},
    {0x400D0000, 0x40400000, "IROM"},
    {0x50000000, 0x50002000, "RTC_DATA"},
};

static const eg_mem_region esp32s2_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},
    {0x3F000000, 0x3FF80000, "DROM"},
    {0x3F500000, 0x3FF80000, "EXTRAM_DATA"},
    {0x3FF9E000, 0x3FFA0000, "RTC_DRAM"},
    {0x3FF9E000, 0x40000000, "BYTE_ACCESSIBLE"},
    {0x3FF9E000, 0x40072000, "MEM_INTERNAL"},
    {0x3FFB0000, 0x40000000, "DRAM"},
    {0x40000000, 0x4001A100, "IROM_MASK"},
    {0x40020000, 0x40070000, "IRAM"},
    {0x40070000, 0x40072000, "RTC_IRAM"},
    {0x40080000, 0x40800000, "IROM"},
    {0x50000000, 0x50002000, "RTC_DATA"},
};

static const eg_mem_region esp32s3_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},
    {0x3C000000, 0x3D000000, "DROM"},
    {0x3D000000, 0x3E000000, "EXTRAM_DATA"},
    {0x600FE000, 0x60100000, "RTC_DRAM"},
    {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
    {0x3FC88000, 0x403E2000, "MEM_INTERNAL"},
    {0x3FC88000, 0x3FD00000, "DRAM"},
    {0x40000000, 0x4001A100, "IROM_MASK"},
    {0x40370000, 0x403E0000, "IRAM"},
    {0x600FE000, 0x60100000, "RTC_IRAM"},
    {0x42000000, 0x42800000, "IROM"},
    {0x50000000, 0x50002000, "RTC_DATA"},
};

static const eg_mem_region esp32c2_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},   {0x3C000000, 0x3C400000, "DROM"},
    {0x3FCA0000, 0x3FCE0000, "DRAM"},      {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
    {0x3FF00000, 0x3FF50000, "DROM_MASK"}, {0x40000000, 0x40090000, "IROM_MASK"},
    {0x42000000, 0x42400000, "IROM"},      {0x4037C000, 0x403C0000, "IRAM"},
};

static const eg_mem_region esp32c3_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x3C000000, 0x3C800000, "DROM"},
    {0x3FC80000, 0x3FCE0000, "DRAM"},          {0x3FC88000, 0x3FD00000, "BYTE_ACCESSIBLE"},
    {0x3FF00000, 0x3FF20000, "DROM_MASK"},     {0x40000000, 0x40060000, "IROM_MASK"},
    {0x42000000, 0x42800000, "IROM"},          {0x4037C000, 0x403E0000, "IRAM"},
    {0x50000000, 0x50002000, "RTC_IRAM"},      {0x50000000, 0x50002000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

static const eg_mem_region esp32c5_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x42000000, 0x44000000, "DROM"},
    {0x40800000, 0x40860000, "DRAM"},          {0x40800000, 0x40860000, "BYTE_ACCESSIBLE"},
    {0x4003A000, 0x40040000, "DROM_MASK"},     {0x40000000, 0x4003A000, "IROM_MASK"},
    {0x42000000, 0x44000000, "IROM"},          {0x40800000, 0x40860000, "IRAM"},
    {0x50000000, 0x50004000, "RTC_IRAM"},      {0x50000000, 0x50004000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

static const eg_mem_region esp32c6_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x42000000, 0x43000000, "DROM"},
    {0x40800000, 0x40880000, "DRAM"},          {0x40800000, 0x40880000, "BYTE_ACCESSIBLE"},
    {0x4004AC00, 0x40050000, "DROM_MASK"},     {0x40000000, 0x4004AC00, "IROM_MASK"},
    {0x42000000, 0x43000000, "IROM"},          {0x40800000, 0x40880000, "IRAM"},
    {0x50000000, 0x50004000, "RTC_IRAM"},      {0x50000000, 0x50004000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

static const eg_mem_region esp32p4_memory_map[] = {
    {0x00000000, 0x00010000, "PADDING"},       {0x40000000, 0x4C000000, "DROM"},
    {0x4FF00000, 0x4FFA0000, "DRAM"},          {0x4FF00000, 0x4FFA0000, "BYTE_ACCESSIBLE"},
    {0x4FC00000, 0x4FC20000, "DROM_MASK"},     {0x4FC00000, 0x4FC20000, "IROM_MASK"},
    {0x40000000, 0x4C000000, "IROM"},          {0x4FF00000, 0x4FFA0000, "IRAM"},
    {0x50108000, 0x50110000, "RTC_IRAM"},      {0x50108000, 0x50110000, "RTC_DRAM"},
    {0x600FE000, 0x60100000, "MEM_INTERNAL2"},
};

/* Package names and features: esptool v5.3.1's get_chip_description() and
 * get_chip_features() (esptool/targets/<chip>.py), as data. A feature whose field has
 * no width is a constant: names[0]. */
#define NAMES(...)                                                                                 \
    .names = (const char *const[]){__VA_ARGS__},                                                   \
    .n_names = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
#define ONE(s)                                                                                     \
    {                                                                                              \
        NAMES(s)                                                                                   \
    }
#define VENDORS(v) .vendor_names = v, .n_vendor_names = sizeof(v) / sizeof(v[0])
#define PACKAGES(c)                                                                                \
    .packages = c##_packages, .n_packages = sizeof(c##_packages) / sizeof(c##_packages[0]),        \
    .features = c##_features, .n_features = sizeof(c##_features) / sizeof(c##_features[0])

/* Embedded flash makers as the eFuses number them. */
static const char *const flash_vendors_s3[] = {NULL, "XMC", "GD", "FM", "TT", "BY"};
static const char *const flash_vendors_c3[] = {NULL, "XMC", "GD", "FM", "TT", "ZBIT"};
static const char *const psram_vendors_s3[] = {NULL, "AP_3v3", "AP_1v8"};

/* ESP32: eFuse block 0 words 3, 4 and 6 (0x3FF5A000 + 4n); the package version is
 * word 3 bit 2 above bits 9-11, word 3 bit 0 disables the second core. */
#define ESP32_W3 0x3FF5A00C
#define ESP32_W4 0x3FF5A010
#define ESP32_W6 0x3FF5A018
static const eg_chip_package esp32_packages[] = {
    {0, 1, 1, "ESP32-S0WDQ6", NULL},
    {0, 0, 0, "ESP32-D0WDQ6", "ESP32-D0WDQ6-V3"},
    {1, 1, 1, "ESP32-S0WD", NULL},
    {1, 0, 0, "ESP32-D0WD", "ESP32-D0WD-V3"},
    {2, 0, 0, "ESP32-D2WD", NULL},
    {4, 0, 0, "ESP32-U4WDH", NULL},
    {5, 0, 0, "ESP32-PICO-D4", "ESP32-PICO-V3"},
    {6, 0, 0, "ESP32-PICO-V3-02", NULL},
    {7, 0, 0, "ESP32-D0WDR2-V3", NULL},
};
static const eg_chip_feature esp32_features[] = {
    ONE("Wi-Fi"),
    {{{F(ESP32_W3, 1, 1)}}, NAMES("BT", NULL)},
    {{{F(ESP32_W3, 0, 1)}}, NAMES("Dual Core + LP Core", "Single Core + LP Core")},
    /* bit 13: the rated frequency is burnt; bit 12: it is the low one */
    {{{F(ESP32_W3, 12, 2)}}, NAMES(NULL, NULL, "240MHz", "160MHz")},
    {{{F(ESP32_W3, 2, 1), F(ESP32_W3, 9, 3)}},
     NAMES(NULL, NULL, "Embedded Flash", NULL, "Embedded Flash", "Embedded Flash",
           "Embedded Flash")},
    {{{F(ESP32_W3, 2, 1), F(ESP32_W3, 9, 3)}},
     NAMES(NULL, NULL, NULL, NULL, NULL, NULL, "Embedded PSRAM")},
    {{{F(ESP32_W4, 8, 5)}}, NAMES(NULL), .other = "Vref calibration in eFuse"},
    {{{F(ESP32_W3, 14, 1)}}, NAMES(NULL, "BLK3 partially reserved")},
    {{{F(ESP32_W6, 0, 2)}},
     NAMES("Coding Scheme None", "Coding Scheme 3/4", "Coding Scheme Repeat (UNSUPPORTED)",
           "Coding Scheme None (may contain encoding data)")},
};

/* ESP32-S2: eFuse block 1 word 3 (0x3F41A044 + 12) holds the embedded flash (bits
 * 21-24) and PSRAM (bits 28-31) that name the package; block 2 word 4 the calibration
 * version (bits 4-6). The package key is PSRAM << 4 | flash. */
#define S2_B1W3 0x3F41A050
#define S2_B2W4 0x3F41A06C
static const eg_chip_package esp32s2_packages[] = {
    {0x00, 0, 0, "ESP32-S2", NULL},    {0x01, 0, 0, "ESP32-S2FH2", NULL},
    {0x02, 0, 0, "ESP32-S2FH4", NULL}, {0x12, 0, 0, "ESP32-S2FNR2", NULL},
    {0x10, 0, 0, "ESP32-S2R2", NULL},
};
static const eg_chip_feature esp32s2_features[] = {
    ONE("Wi-Fi"),
    ONE("Single Core"),
    ONE("240MHz"),
    {{{F(S2_B1W3, 21, 4)}},
     NAMES("No Embedded Flash", "Embedded Flash 2MB", "Embedded Flash 4MB"),
     .other = "Unknown Embedded Flash"},
    {{{F(S2_B1W3, 28, 4)}},
     NAMES("No Embedded PSRAM", "Embedded PSRAM 2MB", "Embedded PSRAM 4MB"),
     .other = "Unknown Embedded PSRAM"},
    {{{F(S2_B2W4, 4, 3)}},
     NAMES("No calibration in BLK2 of efuse",
           "ADC and temperature sensor calibration in BLK2 of eFuse V1",
           "ADC and temperature sensor calibration in BLK2 of eFuse V2"),
     .other = "Unknown calibration in BLK2"},
};

/* ESP32-S3: eFuse block 1 (0x60007044) words 3-5. */
#define S3_B1W3 0x60007050
#define S3_B1W4 0x60007054
#define S3_B1W5 0x60007058
static const eg_chip_package esp32s3_packages[] = {
    {0, 0, 0, "ESP32-S3 (QFN56)", NULL},
    {1, 0, 0, "ESP32-S3-PICO-1 (LGA56)", NULL},
};
static const eg_chip_feature esp32s3_features[] = {
    ONE("Wi-Fi"),
    ONE("BT 5 (LE)"),
    ONE("Dual Core + LP Core"),
    ONE("240MHz"),
    {{{F(S3_B1W3, 27, 3)}},
     NAMES(NULL, "Embedded Flash 8MB", "Embedded Flash 4MB"),
     .other = "Unknown Embedded Flash",
     .vendor = {{F(S3_B1W4, 0, 3)}},
     VENDORS(flash_vendors_s3)},
    {{{F(S3_B1W5, 19, 1), F(S3_B1W4, 3, 2)}},
     NAMES(NULL, "Embedded PSRAM 8MB", "Embedded PSRAM 2MB", "Embedded PSRAM 16MB",
           "Embedded PSRAM 4MB"),
     .other = "Unknown Embedded PSRAM",
     .vendor = {{F(S3_B1W4, 7, 2)}},
     VENDORS(psram_vendors_s3)},
};

/* ESP32-C2: eFuse block 2 (0x60008840) words 1 and 7. */
#define C2_B2W1 0x60008844
#define C2_B2W7 0x6000885C
static const eg_chip_package esp32c2_packages[] = {
    {0, 0, 0, "ESP32-C2", NULL},
    {1, 0, 0, "ESP8684H", NULL},
};
static const eg_chip_feature esp32c2_features[] = {
    ONE("Wi-Fi"),
    ONE("BT 5 (LE)"),
    ONE("Single Core"),
    ONE("120MHz"),
    {{{F(C2_B2W7, 29, 3)}},
     NAMES(NULL, "Embedded Flash 4MB", "Embedded Flash 2MB", "Embedded Flash 1MB"),
     .other = "Unknown Embedded Flash",
     .vendor = {{F(C2_B2W7, 24, 3)}},
     VENDORS(flash_vendors_c3)},
};

/* ESP32-C3: eFuse block 1 (0x60008844) words 3 and 4. */
#define C3_B1W3 0x60008850
#define C3_B1W4 0x60008854
static const eg_chip_package esp32c3_packages[] = {
    {0, 0, 0, "ESP32-C3 (QFN32)", NULL},
    {1, 0, 0, "ESP8685 (QFN28)", NULL},
    {2, 0, 0, "ESP32-C3 AZ (QFN32)", NULL},
    {3, 0, 0, "ESP8686 (QFN24)", NULL},
};
static const eg_chip_feature esp32c3_features[] = {
    ONE("Wi-Fi"),
    ONE("BT 5 (LE)"),
    ONE("Single Core"),
    ONE("160MHz"),
    {{{F(C3_B1W3, 27, 3)}},
     NAMES(NULL, "Embedded Flash 4MB", "Embedded Flash 2MB", "Embedded Flash 1MB",
           "Embedded Flash 8MB"),
     .other = "Unknown Embedded Flash",
     .vendor = {{F(C3_B1W4, 0, 3)}},
     VENDORS(flash_vendors_c3)},
};

/* ESP32-C5: eFuse block 1 (0x600B4844) word 2. */
static const eg_chip_package esp32c5_packages[] = {
    {0, 0, 0, "ESP32-C5", NULL},
};
static const eg_chip_feature esp32c5_features[] = {
    ONE("Wi-Fi 6 (dual-band)"),   ONE("BT 5 (LE)"), ONE("IEEE802.15.4"),
    ONE("Single Core + LP Core"), ONE("240MHz"),
};

/* ESP32-C6: eFuse block 1 (0x600B0844) words 3 and 4; package 1 is named by its
 * embedded flash (word 4 bits 0-2). esptool lists "Unknown Embedded Flash" for a
 * package without one (flash field 0); this table lists nothing then. */
#define C6_B1W3 0x600B0850
#define C6_B1W4 0x600B0854
static const eg_chip_package esp32c6_packages[] = {
    {0, 0, 0, "ESP32-C6 (QFN40)", NULL},
    {1, 1, 7, "ESP32-C6FH4 (QFN32)", NULL},
    {1, 2, 7, "ESP32-C6FH8 (QFN32)", NULL},
};
static const eg_chip_feature esp32c6_features[] = {
    ONE("Wi-Fi 6"),
    ONE("BT 5 (LE)"),
    ONE("IEEE802.15.4"),
    ONE("Single Core + LP Core"),
    ONE("160MHz"),
    {{{F(C6_B1W4, 0, 3)}},
     NAMES(NULL, "Embedded Flash 4MB", "Embedded Flash 8MB"),
     .other = "Unknown Embedded Flash"},
};

/* ESP32-H2: eFuse block 1 (0x600B0844) word 4. */
static const eg_chip_package esp32h2_packages[] = {
    {0, 0, 0, "ESP32-H2", NULL},
};
static const eg_chip_feature esp32h2_features[] = {
    ONE("BT 5 (LE)"),
    ONE("IEEE802.15.4"),
    ONE("Single Core"),
    ONE("96MHz"),
};

/* ESP32-P4: eFuse block 1 (0x5012D044) word 2. */
static const eg_chip_package esp32p4_packages[] = {
    {0, 0, 0, "ESP32-P4", NULL},
};
static const eg_chip_feature esp32p4_features[] = {
    ONE("Dual Core + LP Core"),
    ONE("400MHz"),
};

#define MAP(c)                                                                                     \
    .memory_map = c##_memory_map,                                                                  \
    .memory_map_len = sizeof(c##_memory_map) / sizeof(c##_memory_map[0])
#define FREQS_CLASSIC .flash_freqs = {{"80m", 0xF}, {"40m", 0x0}, {"26m", 0x1}, {"20m", 0x2}}

static const eg_chip chips[] = {
    {
        .name = "ESP32",
        .elf_machine = EG_ELF_MACHINE_XTENSA,
        .id = "esp32",
        .image_chip_id = 0,
        .uses_magic = 1,
        .magic = {0x00F01D83},
        .security_info_len = 0,
        .rom_flash_begin_words = 4,
        .bootloader_offset = 0x1000,
        .mac_reg = 0x3FF5A004,
        .major = {{F(0x3FF6607C, 31, 1), F(0x3FF5A014, 20, 1), F(0x3FF5A00C, 15, 1)}},
        .minor = {{F(0x3FF5A014, 24, 2)}},
        .major_map = esp32_major_map,
        .major_map_len = 8,
        .spi_pads = {F(0x3FF5A014, 0, 5), F(0x3FF5A014, 5, 5), F(0x3FF5A014, 10, 5),
                     F(0x3FF5A00C, 4, 5), F(0x3FF5A014, 15, 5)},
        .spi_base = 0x3FF42000,
        .spi_usr = 0x1C,
        .spi_usr1 = 0x20,
        .spi_usr2 = 0x24,
        .spi_mosi_dlen = 0x28,
        .spi_miso_dlen = 0x2C,
        .spi_w0 = 0x80,
        .spi_addr_msb = 1,
        .uart_clkdiv_reg = 0x3FF40014,
        .rom_baud = EG_ROM_BAUD_RTC_ESTIMATE,
        .rtc_cali_reg = 0x3FF5F06C,
        .ck8m_reg = 0x3FF5A010,
        .irom = {0x400D0000, 0x40400000},
        .drom = {0x3F400000, 0x3F800000},
        MAP(esp32),
        FREQS_CLASSIC,
        .flash_segment_min_tail = 0x24,
        .package = {{F(ESP32_W3, 2, 1), F(ESP32_W3, 9, 3)}},
        .package_sub = {{F(ESP32_W3, 0, 1)}},
        PACKAGES(esp32),
        .crystal = EG_CRYSTAL_UART_DIVIDER,
    },
    {
        .name = "ESP32-S2",
        .elf_machine = EG_ELF_MACHINE_XTENSA,
        .id = "esp32s2",
        .image_chip_id = 2,
        .uses_magic = 1,
        .magic = {0x000007C6},
        .security_info_len = 12,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x1000,
        .mac_reg = 0x3F41A044,
        .major = {{F(0x3F41A050, 18, 2)}},
        .minor = {{F(0x3F41A050, 20, 1), F(0x3F41A054, 4, 3)}},
        .spi_base = 0x3F402000,
        SPI_NEW_LAYOUT,
        .uart_clkdiv_reg = 0x3F400014,
        .wdt_config0 = 0x3F408094,
        .wdt_config1 = 0x3F408098,
        .wdt_wprotect = 0x3F4080AC,
        .irom = {0x40080000, 0x40B80000},
        .drom = {0x3F000000, 0x3F3F0000},
        MAP(esp32s2),
        FREQS_CLASSIC,
        .package = {{F(S2_B1W3, 28, 4), F(S2_B1W3, 21, 4)}},
        PACKAGES(esp32s2),
        .crystal_mhz = 40,
    },
    {
        .name = "ESP32-S3",
        .elf_machine = EG_ELF_MACHINE_XTENSA,
        .id = "esp32s3",
        .image_chip_id = 9,
        .magic = {0x00000009},
        .security_info_len = 20,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x0,
        .mac_reg = 0x60007044,
        .major = {{F(0x60007058, 24, 2)}},
        .minor = {{F(0x60007058, 23, 1), F(0x60007050, 18, 3)}},
        .eco0_field = {F(0x6000706C, 0, 2), F(0x60007050, 24, 3)},
        .spi_base = 0x60002000,
        SPI_NEW_LAYOUT,
        .uart_clkdiv_reg = 0x60000014,
        .wdt_config0 = 0x60008098,
        .wdt_config1 = 0x6000809C,
        .wdt_wprotect = 0x600080B0,
        .irom = {0x42000000, 0x44000000},
        .drom = {0x3C000000, 0x3E000000},
        MAP(esp32s3),
        FREQS_CLASSIC,
        .package = {{F(S3_B1W3, 21, 3)}},
        PACKAGES(esp32s3),
        .crystal_mhz = 40,
    },
    {
        .name = "ESP32-C2",
        .elf_machine = EG_ELF_MACHINE_RISCV,
        .id = "esp32c2",
        .image_chip_id = 12,
        .magic = {0x6F51306F, 0x7C41A06F, 0x0C21E06F},
        .security_info_len = 20,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x0,
        .mac_reg = 0x60008840,
        .major = {{F(0x60008844, 20, 2)}},
        .minor = {{F(0x60008844, 16, 4)}},
        .spi_base = 0x60002000,
        SPI_NEW_LAYOUT,
        .uart_clkdiv_reg = 0x60000014,
        .rom_baud = EG_ROM_BAUD_ASSUMES_40MHZ,
        .wdt_config0 = 0x60008084,
        .wdt_config1 = 0x60008088,
        .wdt_wprotect = 0x6000809C,
        .irom = {0x42000000, 0x42400000},
        .drom = {0x3C000000, 0x3C400000},
        MAP(esp32c2),
        .flash_freqs = {{"60m", 0xF}, {"30m", 0x0}, {"20m", 0x1}, {"15m", 0x2}},
        .mmu_page_sizes = 0x4000 | 0x8000 | 0x10000,
        .package = {{F(C2_B2W1, 22, 3)}},
        PACKAGES(esp32c2),
        .crystal = EG_CRYSTAL_UART_DIVIDER,
    },
    {
        .name = "ESP32-C3",
        .elf_machine = EG_ELF_MACHINE_RISCV,
        .id = "esp32c3",
        .image_chip_id = 5,
        .magic = {0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F},
        .security_info_len = 20,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x0,
        .mac_reg = 0x60008844,
        .major = {{F(0x60008858, 24, 2)}},
        .minor = {{F(0x60008858, 23, 1), F(0x60008850, 18, 3)}},
        .spi_base = 0x60002000,
        SPI_NEW_LAYOUT,
        .uart_clkdiv_reg = 0x60000014,
        .wdt_config0 = 0x60008090,
        .wdt_config1 = 0x60008094,
        .wdt_wprotect = 0x600080A8,
        .irom = {0x42000000, 0x42800000},
        .drom = {0x3C000000, 0x3C800000},
        MAP(esp32c3),
        FREQS_CLASSIC,
        .package = {{F(C3_B1W3, 21, 3)}},
        PACKAGES(esp32c3),
        .crystal_mhz = 40,
    },
    {
        .name = "ESP32-C5",
        .elf_machine = EG_ELF_MACHINE_RISCV,
        .id = "esp32c5",
        .image_chip_id = 23,
        .magic = {0x1101406F},
        .security_info_len = 20,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x2000,
        .mac_reg = 0x600B4844,
        .major = {{F(0x600B484C, 4, 2)}},
        .minor = {{F(0x600B484C, 0, 4)}},
        .spi_base = 0x60003000,
        SPI_NEW_LAYOUT,
        .uart_clkdiv_reg = 0x60000014,
        .wdt_config0 = 0x600B1C00,
        .wdt_config1 = 0x600B1C04,
        .wdt_wprotect = 0x600B1C18,
        .irom = {0x42000000, 0x44000000},
        .drom = {0x42000000, 0x44000000},
        MAP(esp32c5),
        .flash_freqs = {{"80m", 0xF}, {"40m", 0x0}, {"20m", 0x2}},
        .package = {{F(0x600B484C, 26, 3)}},
        PACKAGES(esp32c5),
        /* PCR_SYSCLK_CONF: the crystal's MHz in bits 24-30 */
        .crystal = EG_CRYSTAL_REGISTER,
        .crystal_field = F(0x60096110, 24, 7),
    },
    {
        .name = "ESP32-C6",
        .elf_machine = EG_ELF_MACHINE_RISCV,
        .id = "esp32c6",
        .image_chip_id = 13,
        .magic = {0x2CE0806F},
        .security_info_len = 20,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x0,
        .mac_reg = 0x600B0844,
        .major = {{F(0x600B0850, 22, 2)}},
        .minor = {{F(0x600B0850, 18, 4)}},
        .spi_base = 0x60003000,
        SPI_NEW_LAYOUT,
        .uart_clkdiv_reg = 0x60000014,
        .irom = {0x42000000, 0x42800000},
        .drom = {0x42800000, 0x43000000},
        MAP(esp32c6),
        .flash_freqs = {{"80m", 0x0}, {"40m", 0x0}, {"20m", 0x2}},
        .mmu_page_sizes = 0x2000 | 0x4000 | 0x8000 | 0x10000,
        .package = {{F(C6_B1W3, 24, 3)}},
        .package_sub = {{F(C6_B1W4, 0, 3)}},
        PACKAGES(esp32c6),
        .crystal_mhz = 40,
    },
    {
        .name = "ESP32-H2",
        .elf_machine = EG_ELF_MACHINE_RISCV,
        .id = "esp32h2",
        .image_chip_id = 16,
        .magic = {0xD7B73E80},
        .security_info_len = 20,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x0,
        .mac_reg = 0x600B0844,
        .major = {{F(0x600B0850, 21, 2)}},
        .minor = {{F(0x600B0850, 18, 3)}},
        .spi_base = 0x60003000,
        SPI_NEW_LAYOUT,
        .uart_clkdiv_reg = 0x60000014,
        .irom = {0x42000000, 0x42800000},
        .drom = {0x42800000, 0x43000000},
        MAP(esp32c6),
        .flash_freqs = {{"48m", 0xF}, {"24m", 0x0}, {"16m", 0x1}, {"12m", 0x2}},
        .mmu_page_sizes = 0x2000 | 0x4000 | 0x8000 | 0x10000,
        .package = {{F(C6_B1W4, 0, 3)}},
        PACKAGES(esp32h2),
        .crystal_mhz = 32,
    },
    {
        .name = "ESP32-P4",
        .elf_machine = EG_ELF_MACHINE_RISCV,
        .id = "esp32p4",
        .image_chip_id = 18,
        .magic = {0x0ADDBAD0},
        .security_info_len = 20,
        .rom_flash_begin_words = 5,
        .bootloader_offset = 0x2000,
        .mac_reg = 0x5012D044,
        .major = {{F(0x5012D04C, 23, 1), F(0x5012D04C, 4, 2)}},
        .minor = {{F(0x5012D04C, 0, 4)}},
        .spi_base = 0x5008D000,
        SPI_NEW_LAYOUT,
        .stub_rev1_below_major = 3,
        .uart_clkdiv_reg = 0,
        .wdt_config0 = 0x50116000,
        .wdt_config1 = 0x50116004,
        .wdt_wprotect = 0x50116018,
        .irom = {0x40000000, 0x4C000000},
        .drom = {0x40000000, 0x4C000000},
        MAP(esp32p4),
        FREQS_CLASSIC,
        .package = {{F(0x5012D04C, 20, 3)}},
        PACKAGES(esp32p4),
        .crystal_mhz = 40,
    },
};

#define NCHIPS (sizeof(chips) / sizeof(chips[0]))

const eg_chip *eg_chip_all(size_t *count)
{
    *count = NCHIPS;
    return chips;
}

/* Compares ignoring case and '-'/'_' ("ESP32-C3" == "esp32c3"). */
static int same_name(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-' || *a == '_')
            a++;
        while (*b == '-' || *b == '_')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
}

const eg_chip *eg_chip_by_name(const char *name)
{
    for (size_t i = 0; i < NCHIPS; i++)
        if (same_name(name, chips[i].id))
            return &chips[i];
    return NULL;
}

const eg_chip *eg_chip_by_image_id(unsigned id)
{
    for (size_t i = 0; i < NCHIPS; i++)
        if (chips[i].image_chip_id == id)
            return &chips[i];
    return NULL;
}

const eg_chip *eg_chip_by_magic(uint32_t magic)
{
    if (magic == 0)
        return NULL;
    for (size_t i = 0; i < NCHIPS; i++)
        for (size_t j = 0; j < 4 && chips[i].magic[j]; j++)
            if (chips[i].magic[j] == magic)
                return &chips[i];
    return NULL;
}

const char *eg_chip_names(void)
{
    /* Written out so that no thread ever builds it (keep it in table order). */
    return "esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32h2, esp32p4";
}

static int read_value(unsigned *out, const eg_efuse_value *v, eg_reg_reader read, void *ctx)
{
    unsigned value = 0;
    for (int i = 0; i < 3 && v->part[i].width; i++) {
        uint32_t word;
        int rc = read(&word, ctx, v->part[i].addr);
        if (rc < 0)
            return rc;
        value = value << v->part[i].width |
                ((word >> v->part[i].shift) & ((1u << v->part[i].width) - 1));
    }
    *out = value;
    return 0;
}

int eg_chip_revision_decode(unsigned *major, unsigned *minor, const eg_chip *chip,
                            eg_reg_reader read, void *ctx)
{
    int rc;

    *major = *minor = 0;
    if ((rc = read_value(major, &chip->major, read, ctx)) < 0 ||
        (rc = read_value(minor, &chip->minor, read, ctx)) < 0)
        return rc;
    if (chip->major_map)
        *major = *major < chip->major_map_len ? chip->major_map[*major] : 0;
    if (chip->eco0_field[0].width && (*minor & 7) == 0) {
        unsigned a, b;
        eg_efuse_value va = {{chip->eco0_field[0]}}, vb = {{chip->eco0_field[1]}};
        if ((rc = read_value(&a, &va, read, ctx)) < 0 || (rc = read_value(&b, &vb, read, ctx)) < 0)
            return rc;
        if (a == 1 && b == 1)
            *major = *minor = 0;
    }
    return 0;
}

int eg_chip_spi_attach_arg(uint32_t *out, const eg_chip *chip, eg_reg_reader read, void *ctx)
{
    static const unsigned shift[5] = {0, 6, 12, 24, 18}; /* clk, q, d, hd, cs */
    uint32_t v = 0;

    *out = 0;
    for (int i = 0; i < 5 && chip->spi_pads[i].width; i++) {
        eg_efuse_value f = {{chip->spi_pads[i]}};
        unsigned pin;
        int rc = read_value(&pin, &f, read, ctx);
        if (rc < 0)
            return rc;
        v |= (uint32_t)pin << shift[i];
    }
    *out = v;
    return 0;
}

uint32_t eg_flash_size_from_jedec(uint32_t id)
{
    unsigned code = (id >> 16) & 0xFF;

    /* Adesto encodes the size in the device byte: 0x04 = 512 KB ... 0x09 = 16 MB. */
    if ((id & 0xFF) == 0x1F) {
        unsigned a = (id >> 8) & 0x1F;
        return a >= 0x04 && a <= 0x09 ? (uint32_t)(1ul << (a + 15)) : 0;
    }
    /* Capacity codes as flash makers use them: 2^code bytes for 0x12-0x1C, and two
     * other series (0x20-0x22 from 64 MB, 0x32-0x3A from 256 KB). */
    if (code >= 0x12 && code <= 0x1C)
        return (uint32_t)(1ul << code);
    if (code >= 0x20 && code <= 0x22)
        return (uint32_t)((64ul << 20) << (code - 0x20));
    if (code >= 0x32 && code <= 0x3A)
        return (uint32_t)((256ul << 10) << (code - 0x32));
    return 0;
}

int eg_chip_addr_in_flash(const eg_chip *chip, uint32_t addr)
{
    return (addr >= chip->irom.start && addr < chip->irom.end) ||
           (addr >= chip->drom.start && addr < chip->drom.end);
}

/* Reads one eFuse value and looks its name up; NULL when there is none. */
static int pick_name(const char **out, const eg_efuse_value *v, const char *const *names,
                     unsigned n, const char *other, eg_reg_reader read, void *ctx)
{
    unsigned value = 0;
    int rc;

    *out = NULL;
    if (v->part[0].width && (rc = read_value(&value, v, read, ctx)) < 0)
        return rc;
    *out = value < n ? names[value] : other;
    return 0;
}

int eg_chip_info_decode(eg_chip_info *out, const eg_chip *chip, unsigned rev_major,
                        eg_reg_reader read, void *ctx)
{
    unsigned version = 0, sub = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (chip->package.part[0].width && (rc = read_value(&version, &chip->package, read, ctx)) < 0)
        return rc;
    if (chip->package_sub.part[0].width &&
        (rc = read_value(&sub, &chip->package_sub, read, ctx)) < 0)
        return rc;
    out->package_version = version;
    snprintf(out->package, sizeof(out->package), "unknown (%u)", version);
    for (unsigned i = 0; i < chip->n_packages; i++) {
        const eg_chip_package *p = &chip->packages[i];
        if (p->version != version || (sub & p->sub_mask) != p->sub)
            continue;
        snprintf(out->package, sizeof(out->package), "%s",
                 p->name_rev3 && rev_major == 3 ? p->name_rev3 : p->name);
        out->package_known = 1;
        break;
    }
    for (unsigned i = 0; i < chip->n_features && out->n_features < EG_CHIP_FEATURES_MAX; i++) {
        const eg_chip_feature *f = &chip->features[i];
        const char *name, *vendor = NULL;
        if ((rc = pick_name(&name, &f->field, f->names, f->n_names, f->other, read, ctx)) < 0)
            return rc;
        if (!name)
            continue;
        if (f->vendor.part[0].width && (rc = pick_name(&vendor, &f->vendor, f->vendor_names,
                                                       f->n_vendor_names, NULL, read, ctx)) < 0)
            return rc;
        snprintf(out->features[out->n_features++], EG_CHIP_FEATURE_LEN, "%s%s%s%s", name,
                 vendor ? " (" : "", vendor ? vendor : "", vendor ? ")" : "");
    }
    return 0;
}

unsigned eg_chip_crystal_from_divider(uint32_t baud, uint32_t divider)
{
    uint64_t hz = (uint64_t)baud * (divider & 0xFFFFF);
    return hz > 45000000 ? 48 : hz > 33000000 ? 40 : 26;
}

int eg_chip_crystal_decode(unsigned *mhz, const eg_chip *chip, uint32_t baud, eg_reg_reader read,
                           void *ctx)
{
    uint32_t word;
    int rc;

    *mhz = 0;
    if (chip->crystal == EG_CRYSTAL_FIXED) {
        *mhz = chip->crystal_mhz;
        return 0;
    }
    if (chip->crystal == EG_CRYSTAL_REGISTER) {
        eg_efuse_value f = {{chip->crystal_field}};
        unsigned v;
        if ((rc = read_value(&v, &f, read, ctx)) < 0)
            return rc;
        if (v) {
            *mhz = v > 45 ? 48 : 40;
            return 0;
        }
    }
    if (!chip->uart_clkdiv_reg)
        return 0;
    if ((rc = read(&word, ctx, chip->uart_clkdiv_reg)) < 0)
        return rc;
    *mhz = eg_chip_crystal_from_divider(baud, word);
    return 0;
}

/* JEDEC manufacturer ids (JEP106, bank 1) of the flash chips found on Espressif
 * boards; ESP-IDF's spi_flash chip drivers probe the same ids. */
static const struct {
    uint8_t id;
    const char *name;
} flash_makers[] = {
    {0x01, "Spansion"},   {0x0B, "XTX"},   {0x1C, "EON"},     {0x1F, "Adesto"},
    {0x20, "XMC/Micron"}, {0x5E, "Zbit"},  {0x68, "Boya"},    {0x85, "Puya"},
    {0x9D, "ISSI"},       {0xA1, "Fudan"}, {0xBF, "SST"},     {0xC2, "Macronix"},
    {0xC8, "GigaDevice"}, {0xCD, "TH"},    {0xEF, "Winbond"},
};

const char *eg_flash_manufacturer(uint32_t jedec_id)
{
    for (size_t i = 0; i < sizeof(flash_makers) / sizeof(flash_makers[0]); i++)
        if (flash_makers[i].id == (jedec_id & 0xFF))
            return flash_makers[i].name;
    return NULL;
}

unsigned eg_flash_device_id(uint32_t jedec_id)
{
    return ((jedec_id >> 8) & 0xFF) << 8 | ((jedec_id >> 16) & 0xFF);
}
