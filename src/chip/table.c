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
