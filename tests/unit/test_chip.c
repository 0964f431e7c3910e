/* The chip table: look-ups, detection values, revision decoding from eFuse words,
 * flash sizes from JEDEC ids. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "chip/chip.h"
#include "core/error.h"
#include "device/device.h"

#include <string.h>

typedef struct regmap {
    uint32_t addr[16], val[16];
    int n;
    int fail_at; /* address whose read fails, 0 for none */
} regmap;

static void reg_set(regmap *m, uint32_t addr, uint32_t val)
{
    for (int i = 0; i < m->n; i++)
        if (m->addr[i] == addr) {
            m->val[i] = val;
            return;
        }
    m->addr[m->n] = addr;
    m->val[m->n++] = val;
}

static int reg_read(uint32_t *out, void *ctx, uint32_t addr)
{
    regmap *m = ctx;
    if (m->fail_at && (uint32_t)m->fail_at == addr)
        return eg_error_set(EG_ETIMEDOUT, "no answer");
    *out = 0;
    for (int i = 0; i < m->n; i++)
        if (m->addr[i] == addr)
            *out = m->val[i];
    return 0;
}

static void test_lookup_by_name(void **state)
{
    (void)state;
    assert_string_equal(eg_chip_by_name("esp32c3")->name, "ESP32-C3");
    assert_string_equal(eg_chip_by_name("ESP32-C3")->id, "esp32c3");
    assert_string_equal(eg_chip_by_name("esp32_s3")->id, "esp32s3");
    assert_string_equal(eg_chip_by_name("ESP32")->id, "esp32");
    assert_null(eg_chip_by_name("esp8266"));
    assert_null(eg_chip_by_name("esp32c"));
    assert_null(eg_chip_by_name(""));
    assert_non_null(strstr(eg_chip_names(), "esp32p4"));
}

static void test_table_is_consistent(void **state)
{
    (void)state;
    size_t n;
    const eg_chip *all = eg_chip_all(&n);
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++) {
        const eg_chip *c = &all[i];
        assert_ptr_equal(eg_chip_by_image_id(c->image_chip_id), c);
        assert_ptr_equal(eg_chip_by_name(c->id), c);
        if (c->uses_magic)
            assert_ptr_equal(eg_chip_by_magic(c->magic[0]), c);
        for (size_t j = 0; j < 4 && c->magic[j]; j++)
            assert_ptr_equal(eg_chip_by_magic(c->magic[j]), c);
        assert_true(c->rom_flash_begin_words == 4 || c->rom_flash_begin_words == 5);
        assert_true(c->major.part[0].width > 0 && c->minor.part[0].width > 0);
        assert_true(c->irom.start < c->irom.end && c->drom.start < c->drom.end);
        /* Every chip names its packages and features and knows its crystal. */
        assert_true(c->package.part[0].width > 0 && c->n_packages > 0 && c->n_features > 0);
        assert_true(c->n_features <= EG_CHIP_FEATURES_MAX);
        for (unsigned k = 0; k < c->n_packages; k++)
            assert_true(c->packages[k].name && strlen(c->packages[k].name) < EG_CHIP_PACKAGE_LEN);
        if (c->crystal == EG_CRYSTAL_FIXED)
            assert_true(c->crystal_mhz == 32 || c->crystal_mhz == 40);
        else
            assert_true(c->uart_clkdiv_reg != 0);
    }
    char names[256] = "";
    for (size_t i = 0; i < n; i++) {
        strcat(names, i ? ", " : "");
        strcat(names, all[i].id);
    }
    assert_string_equal(eg_chip_names(), names);
    assert_null(eg_chip_by_magic(0));
    assert_null(eg_chip_by_magic(0xDEADBEEF));
    assert_null(eg_chip_by_image_id(99));
    /* Only ESP32 takes the short FLASH_BEGIN and lacks GET_SECURITY_INFO. */
    assert_int_equal(eg_chip_by_name("esp32")->rom_flash_begin_words, 4);
    assert_int_equal(eg_chip_by_name("esp32")->security_info_len, 0);
    assert_int_equal(eg_chip_by_name("esp32s2")->security_info_len, 12);
}

static void test_revision_c3(void **state)
{
    (void)state;
    regmap m = {0};
    unsigned maj, min;
    /* v0.4: minor hi bit 0 (0x60008858 bit 23), lo 4 (0x60008850 bits 18-20). */
    reg_set(&m, 0x60008850, 4u << 18);
    assert_int_equal(eg_chip_revision_decode(&maj, &min, eg_chip_by_name("esp32c3"), reg_read, &m),
                     0);
    assert_int_equal(maj, 0);
    assert_int_equal(min, 4);
    /* v1.11: major 1 (bits 24-25), minor hi 1 and lo 3. */
    reg_set(&m, 0x60008858, 1u << 24 | 1u << 23);
    reg_set(&m, 0x60008850, 3u << 18 | 0xFF000000u);
    assert_int_equal(eg_chip_revision_decode(&maj, &min, eg_chip_by_name("esp32c3"), reg_read, &m),
                     0);
    assert_int_equal(maj, 1);
    assert_int_equal(min, 11);
}

static void test_revision_esp32_major_map(void **state)
{
    (void)state;
    const eg_chip *c = eg_chip_by_name("esp32");
    regmap m = {0};
    unsigned maj, min;
    /* v3.1: all three bits set, minor 1 in word 5 bits 24-25. */
    reg_set(&m, 0x3FF5A00C, 1u << 15);
    reg_set(&m, 0x3FF5A014, 1u << 20 | 1u << 24);
    reg_set(&m, 0x3FF6607C, 1u << 31);
    assert_int_equal(eg_chip_revision_decode(&maj, &min, c, reg_read, &m), 0);
    assert_int_equal(maj, 3);
    assert_int_equal(min, 1);
    /* bits 0 and 1 only: v2 */
    reg_set(&m, 0x3FF6607C, 0);
    assert_int_equal(eg_chip_revision_decode(&maj, &min, c, reg_read, &m), 0);
    assert_int_equal(maj, 2);
    /* bit 1 alone means nothing: reads as 0 */
    reg_set(&m, 0x3FF5A00C, 0);
    assert_int_equal(eg_chip_revision_decode(&maj, &min, c, reg_read, &m), 0);
    assert_int_equal(maj, 0);
}

static void test_revision_p4_third_major_bit(void **state)
{
    (void)state;
    regmap m = {0};
    unsigned maj, min;
    reg_set(&m, 0x5012D04C, 1u << 23 | 3u << 4 | 1);
    assert_int_equal(eg_chip_revision_decode(&maj, &min, eg_chip_by_name("esp32p4"), reg_read, &m),
                     0);
    assert_int_equal(maj, 7);
    assert_int_equal(min, 1);
}

static void test_revision_s3_eco0(void **state)
{
    (void)state;
    const eg_chip *c = eg_chip_by_name("esp32s3");
    regmap m = {0};
    unsigned maj, min;
    reg_set(&m, 0x60007058, 2u << 24); /* raw major 2, minor hi 0 */
    reg_set(&m, 0x60007050, 1u << 24); /* block version minor 1, minor lo 0 */
    reg_set(&m, 0x6000706C, 1);        /* block version major 1 */
    assert_int_equal(eg_chip_revision_decode(&maj, &min, c, reg_read, &m), 0);
    assert_int_equal(maj, 0);
    assert_int_equal(min, 0);
    reg_set(&m, 0x6000706C, 0); /* not ECO0: raw values stand */
    assert_int_equal(eg_chip_revision_decode(&maj, &min, c, reg_read, &m), 0);
    assert_int_equal(maj, 2);
}

static void test_revision_read_failure(void **state)
{
    (void)state;
    regmap m = {0};
    unsigned maj = 9, min = 9;
    m.fail_at = 0x600B0850;
    assert_int_equal(eg_chip_revision_decode(&maj, &min, eg_chip_by_name("esp32c6"), reg_read, &m),
                     EG_ETIMEDOUT);
}

static void test_spi_pads(void **state)
{
    (void)state;
    regmap m = {0};
    uint32_t v = 99;
    /* Pads unset: the ROM's default pins. */
    assert_int_equal(eg_chip_spi_attach_arg(&v, eg_chip_by_name("esp32"), reg_read, &m), 0);
    assert_int_equal(v, 0);
    /* clk 6, q 17, d 8, cs 16 in word 5; hd 11 in word 3 bits 4-8. */
    reg_set(&m, 0x3FF5A014, 6 | 17u << 5 | 8u << 10 | 16u << 15 | 3u << 24);
    reg_set(&m, 0x3FF5A00C, 11u << 4 | 1u << 15);
    assert_int_equal(eg_chip_spi_attach_arg(&v, eg_chip_by_name("esp32"), reg_read, &m), 0);
    assert_int_equal(v, 11u << 24 | 16u << 18 | 8u << 12 | 17u << 6 | 6);
    /* Other chips always attach with 0, whatever their registers hold. */
    assert_int_equal(eg_chip_spi_attach_arg(&v, eg_chip_by_name("esp32c3"), reg_read, &m), 0);
    assert_int_equal(v, 0);
    m.fail_at = 0x3FF5A014;
    assert_int_equal(eg_chip_spi_attach_arg(&v, eg_chip_by_name("esp32"), reg_read, &m),
                     EG_ETIMEDOUT);
}

static void test_flash_sizes(void **state)
{
    (void)state;
    assert_int_equal(eg_flash_size_from_jedec(0x1640C8), 4u << 20);
    assert_int_equal(eg_flash_size_from_jedec(0x1840EF), 16u << 20);
    assert_int_equal(eg_flash_size_from_jedec(0x124020), 256u << 10);
    assert_int_equal(eg_flash_size_from_jedec(0x20BA20), 64u << 20);
    assert_int_equal(eg_flash_size_from_jedec(0x39609D), 32u << 20);
    assert_int_equal(eg_flash_size_from_jedec(0x00071F), 4u << 20); /* Adesto */
    assert_int_equal(eg_flash_size_from_jedec(0xFFFFFF), 0);
    assert_int_equal(eg_flash_size_from_jedec(0x000000), 0);
    assert_int_equal(eg_flash_size_from_jedec(0x1D40C8), 0);
}

static void test_mac_text(void **state)
{
    (void)state;
    uint8_t mac[6];
    char s[18];
    assert_int_equal(eg_mac_parse(mac, "24:0a:C4:00:00:ff"), 0);
    eg_mac_format(s, mac);
    assert_string_equal(s, "24:0a:c4:00:00:ff");
    assert_int_equal(eg_mac_parse(mac, "24:0a:c4:00:00"), EG_EINVAL);
    assert_int_equal(eg_mac_parse(mac, "24:0a:c4:00:00:ff:00"), EG_EINVAL);
    assert_int_equal(eg_mac_parse(mac, "24-0a-c4-00-00-ff"), EG_EINVAL);
    assert_int_equal(eg_mac_parse(mac, "zz:0a:c4:00:00:ff"), EG_EINVAL);
}

/* ---- package names, features and crystals (esptool v5.3.1, targets/<chip>.py) ---- */

/* Decodes chip's package and features from m; the features joined by ", " into list. */
static void decode(eg_chip_info *info, char list[512], const char *chip, unsigned major, regmap *m)
{
    assert_int_equal(eg_chip_info_decode(info, eg_chip_by_name(chip), major, reg_read, m), 0);
    list[0] = '\0';
    for (unsigned i = 0; i < info->n_features; i++) {
        strcat(list, i ? ", " : "");
        strcat(list, info->features[i]);
    }
}

static void test_package_esp32(void **state)
{
    (void)state;
    regmap m = {0};
    eg_chip_info info;
    char list[512];
    /* Word 3 (0x3FF5A00C): package bits 9-11 with bit 2 above them, bit 0 single core,
     * bit 1 no BT, bits 12-13 the rated frequency, bit 14 BLK3 reserved; word 4 bits
     * 8-12 the ADC reference; word 6 bits 0-1 the coding scheme. The revision bit 15
     * and the flash pad bits 4-8 share word 3. */
    reg_set(&m, 0x3FF5A00C, 1u << 9 | 1u << 13 | 1u << 15 | 17u << 4);
    reg_set(&m, 0x3FF5A010, 0x0Au << 8 | 128); /* vref and ck8m */
    decode(&info, list, "esp32", 3, &m);
    assert_true(info.package_known);
    assert_int_equal(info.package_version, 1);
    assert_string_equal(info.package, "ESP32-D0WD-V3");
    assert_string_equal(list,
                        "Wi-Fi, BT, Dual Core + LP Core, 240MHz, Vref calibration in eFuse, Coding "
                        "Scheme None");
    decode(&info, list, "esp32", 1, &m);
    assert_string_equal(info.package, "ESP32-D0WD");
    decode(&info, list, "esp32", 2, &m);
    assert_string_equal(info.package, "ESP32-D0WD");

    /* Single core (bit 0) wins over the revision, at 160 MHz (bits 12 and 13). */
    reg_set(&m, 0x3FF5A00C, 1u << 9 | 3u << 12 | 1u);
    decode(&info, list, "esp32", 3, &m);
    assert_string_equal(info.package, "ESP32-S0WD");
    assert_string_equal(list, "Wi-Fi, BT, Single Core + LP Core, 160MHz, Vref calibration in "
                              "eFuse, Coding Scheme None");
    reg_set(&m, 0x3FF5A00C, 1u);
    decode(&info, list, "esp32", 1, &m);
    assert_string_equal(info.package, "ESP32-S0WDQ6");
    reg_set(&m, 0x3FF5A00C, 0);
    decode(&info, list, "esp32", 1, &m);
    assert_string_equal(info.package, "ESP32-D0WDQ6");
    decode(&info, list, "esp32", 3, &m);
    assert_string_equal(info.package, "ESP32-D0WDQ6-V3");

    static const struct {
        unsigned pkg, major;
        const char *name, *features;
    } cases[] = {
        {2, 1, "ESP32-D2WD", "Wi-Fi, BT, Dual Core + LP Core, Embedded Flash, Coding Scheme None"},
        {4, 1, "ESP32-U4WDH", "Wi-Fi, BT, Dual Core + LP Core, Embedded Flash, Coding Scheme None"},
        {5, 1, "ESP32-PICO-D4",
         "Wi-Fi, BT, Dual Core + LP Core, Embedded Flash, Coding Scheme None"},
        {5, 3, "ESP32-PICO-V3",
         "Wi-Fi, BT, Dual Core + LP Core, Embedded Flash, Coding Scheme None"},
        {6, 3, "ESP32-PICO-V3-02",
         "Wi-Fi, BT, Dual Core + LP Core, Embedded Flash, Embedded PSRAM, Coding Scheme None"},
        {7, 3, "ESP32-D0WDR2-V3", "Wi-Fi, BT, Dual Core + LP Core, Coding Scheme None"},
        {3, 1, "unknown (3)", "Wi-Fi, BT, Dual Core + LP Core, Coding Scheme None"},
    };
    reg_set(&m, 0x3FF5A010, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reg_set(&m, 0x3FF5A00C, cases[i].pkg << 9);
        decode(&info, list, "esp32", cases[i].major, &m);
        assert_string_equal(info.package, cases[i].name);
        assert_string_equal(list, cases[i].features);
    }
    /* Bit 2 is the package version's fourth bit: 8 + 1 names nothing. */
    reg_set(&m, 0x3FF5A00C, 1u << 2 | 1u << 9);
    decode(&info, list, "esp32", 3, &m);
    assert_false(info.package_known);
    assert_int_equal(info.package_version, 9);
    assert_string_equal(info.package, "unknown (9)");
    /* No BT, BLK3 partially reserved, 3/4 coding, a rated frequency not burnt. */
    reg_set(&m, 0x3FF5A00C, 1u << 1 | 1u << 12 | 1u << 14 | 1u << 9);
    reg_set(&m, 0x3FF5A018, 1);
    decode(&info, list, "esp32", 1, &m);
    assert_string_equal(list, "Wi-Fi, Dual Core + LP Core, BLK3 partially reserved, Coding Scheme "
                              "3/4");
    reg_set(&m, 0x3FF5A018, 3);
    decode(&info, list, "esp32", 1, &m);
    assert_string_equal(info.features[info.n_features - 1],
                        "Coding Scheme None (may contain encoding data)");
}

static void test_package_s2_and_s3(void **state)
{
    (void)state;
    regmap m = {0};
    eg_chip_info info;
    char list[512];
    /* S2: block 1 word 3 (0x3F41A050) flash bits 21-24, PSRAM bits 28-31; the major
     * revision (bits 18-19) shares the word; block 2 word 4 (0x3F41A06C) bits 4-6 the
     * calibration version. */
    reg_set(&m, 0x3F41A050, 2u << 21 | 1u << 28 | 1u << 18);
    reg_set(&m, 0x3F41A06C, 2u << 4);
    decode(&info, list, "esp32s2", 1, &m);
    assert_string_equal(info.package, "ESP32-S2FNR2");
    assert_string_equal(list, "Wi-Fi, Single Core, 240MHz, Embedded Flash 4MB, Embedded PSRAM 2MB, "
                              "ADC and temperature sensor calibration in BLK2 of eFuse V2");
    reg_set(&m, 0x3F41A050, 0);
    reg_set(&m, 0x3F41A06C, 5u << 4);
    decode(&info, list, "esp32s2", 0, &m);
    assert_string_equal(info.package, "ESP32-S2");
    assert_string_equal(list, "Wi-Fi, Single Core, 240MHz, No Embedded Flash, No Embedded PSRAM, "
                              "Unknown calibration in BLK2");
    reg_set(&m, 0x3F41A050, 1u << 28);
    decode(&info, list, "esp32s2", 0, &m);
    assert_string_equal(info.package, "ESP32-S2R2");
    reg_set(&m, 0x3F41A050, 1u << 21);
    decode(&info, list, "esp32s2", 0, &m);
    assert_string_equal(info.package, "ESP32-S2FH2");
    /* PSRAM 2, flash 3: no such part; the key is PSRAM << 4 | flash. */
    reg_set(&m, 0x3F41A050, 3u << 21 | 2u << 28);
    decode(&info, list, "esp32s2", 0, &m);
    assert_string_equal(info.package, "unknown (35)");
    assert_non_null(strstr(list, "Unknown Embedded Flash, Embedded PSRAM 4MB"));

    /* S3: block 1 word 3 (0x60007050) package bits 21-23, flash bits 27-29; word 4
     * (0x60007054) flash maker bits 0-2, PSRAM bits 3-4 and maker bits 7-8; word 5
     * (0x60007058) bit 19 the PSRAM field's third bit. */
    regmap s3 = {0};
    reg_set(&s3, 0x60007050, 1u << 21 | 1u << 27 | 2u << 18);
    reg_set(&s3, 0x60007054, 1u | 2u << 3 | 1u << 7);
    decode(&info, list, "esp32s3", 0, &s3);
    assert_string_equal(info.package, "ESP32-S3-PICO-1 (LGA56)");
    assert_string_equal(list, "Wi-Fi, BT 5 (LE), Dual Core + LP Core, 240MHz, Embedded Flash 8MB "
                              "(XMC), Embedded PSRAM 2MB (AP_3v3)");
    /* PSRAM 4 MB needs the high bit in word 5; a maker the table lacks adds nothing; a
     * flash value past the table is unknown. */
    reg_set(&s3, 0x60007050, 5u << 27);
    reg_set(&s3, 0x60007054, 7u | 2u << 7);
    reg_set(&s3, 0x60007058, 1u << 19 | 1u << 24);
    decode(&info, list, "esp32s3", 1, &s3);
    assert_string_equal(info.package, "ESP32-S3 (QFN56)");
    assert_string_equal(list, "Wi-Fi, BT 5 (LE), Dual Core + LP Core, 240MHz, Unknown Embedded "
                              "Flash, Embedded PSRAM 4MB (AP_1v8)");
    reg_set(&s3, 0x60007050, 7u << 21);
    reg_set(&s3, 0x60007054, 0);
    reg_set(&s3, 0x60007058, 0);
    decode(&info, list, "esp32s3", 0, &s3);
    assert_string_equal(info.package, "unknown (7)");
    assert_string_equal(list, "Wi-Fi, BT 5 (LE), Dual Core + LP Core, 240MHz");
}

static void test_package_riscv_chips(void **state)
{
    (void)state;
    eg_chip_info info;
    char list[512];
    {
        /* C2: block 2 word 1 (0x60008844) package bits 22-24 beside the MAC's first
         * bytes and the revision; word 7 (0x6000885C) flash bits 29-31, maker 24-26. */
        regmap m = {0};
        reg_set(&m, 0x60008844, 1u << 22 | 1u << 20 | 0xFFFF);
        reg_set(&m, 0x6000885C, 2u << 29 | 5u << 24);
        decode(&info, list, "esp32c2", 1, &m);
        assert_string_equal(info.package, "ESP8684H");
        assert_string_equal(list,
                            "Wi-Fi, BT 5 (LE), Single Core, 120MHz, Embedded Flash 2MB (ZBIT)");
        reg_set(&m, 0x60008844, 0xFFFF | 0x3Fu << 16);
        reg_set(&m, 0x6000885C, 0);
        decode(&info, list, "esp32c2", 1, &m);
        assert_string_equal(info.package, "ESP32-C2");
        assert_string_equal(list, "Wi-Fi, BT 5 (LE), Single Core, 120MHz");
    }
    {
        /* C3: block 1 word 3 (0x60008850) package bits 21-23, flash bits 27-29; word 4
         * (0x60008854) the flash maker. */
        regmap m = {0};
        static const char *const names[] = {"ESP32-C3 (QFN32)", "ESP8685 (QFN28)",
                                            "ESP32-C3 AZ (QFN32)", "ESP8686 (QFN24)",
                                            "unknown (4)"};
        for (unsigned pkg = 0; pkg < 5; pkg++) {
            reg_set(&m, 0x60008850, pkg << 21 | 4u << 18);
            decode(&info, list, "esp32c3", 0, &m);
            assert_string_equal(info.package, names[pkg]);
        }
        reg_set(&m, 0x60008850, 4u << 27);
        reg_set(&m, 0x60008854, 2u);
        decode(&info, list, "esp32c3", 0, &m);
        assert_string_equal(list, "Wi-Fi, BT 5 (LE), Single Core, 160MHz, Embedded Flash 8MB (GD)");
    }
    {
        /* C5: block 1 word 2 (0x600B484C) package bits 26-28 beside the revision. */
        regmap m = {0};
        reg_set(&m, 0x600B484C, 1u << 4 | 0xFu);
        decode(&info, list, "esp32c5", 1, &m);
        assert_string_equal(info.package, "ESP32-C5");
        assert_string_equal(list, "Wi-Fi 6 (dual-band), BT 5 (LE), IEEE802.15.4, Single Core + LP "
                                  "Core, 240MHz");
        reg_set(&m, 0x600B484C, 1u << 26);
        decode(&info, list, "esp32c5", 1, &m);
        assert_string_equal(info.package, "unknown (1)");
    }
    {
        /* C6: block 1 word 3 (0x600B0850) package bits 24-26 above the revision (bits
         * 18-23); word 4 (0x600B0854) the embedded flash, which names package 1. */
        regmap m = {0};
        reg_set(&m, 0x600B0850, 1u << 24 | 3u << 22 | 0xFu << 18);
        reg_set(&m, 0x600B0854, 1u);
        decode(&info, list, "esp32c6", 3, &m);
        assert_string_equal(info.package, "ESP32-C6FH4 (QFN32)");
        assert_string_equal(list, "Wi-Fi 6, BT 5 (LE), IEEE802.15.4, Single Core + LP Core, "
                                  "160MHz, Embedded Flash 4MB");
        reg_set(&m, 0x600B0854, 2u);
        decode(&info, list, "esp32c6", 0, &m);
        assert_string_equal(info.package, "ESP32-C6FH8 (QFN32)");
        reg_set(&m, 0x600B0854, 3u);
        decode(&info, list, "esp32c6", 0, &m);
        assert_string_equal(info.package, "unknown (1)");
        assert_string_equal(info.features[info.n_features - 1], "Unknown Embedded Flash");
        reg_set(&m, 0x600B0850, 0);
        reg_set(&m, 0x600B0854, 0);
        decode(&info, list, "esp32c6", 0, &m);
        assert_string_equal(info.package, "ESP32-C6 (QFN40)");
        assert_string_equal(list,
                            "Wi-Fi 6, BT 5 (LE), IEEE802.15.4, Single Core + LP Core, 160MHz");
    }
    {
        /* H2: block 1 word 4 (0x600B0854) bits 0-2. P4: block 1 word 2 (0x5012D04C)
         * bits 20-22 beside the major revision's third bit (23). */
        regmap m = {0};
        decode(&info, list, "esp32h2", 0, &m);
        assert_string_equal(info.package, "ESP32-H2");
        assert_string_equal(list, "BT 5 (LE), IEEE802.15.4, Single Core, 96MHz");
        reg_set(&m, 0x600B0854, 2u);
        decode(&info, list, "esp32h2", 0, &m);
        assert_string_equal(info.package, "unknown (2)");
        reg_set(&m, 0x5012D04C, 1u << 23 | 0xFFu);
        decode(&info, list, "esp32p4", 7, &m);
        assert_string_equal(info.package, "ESP32-P4");
        assert_string_equal(list, "Dual Core + LP Core, 400MHz");
        reg_set(&m, 0x5012D04C, 7u << 20);
        decode(&info, list, "esp32p4", 0, &m);
        assert_string_equal(info.package, "unknown (7)");
    }
}

static void test_package_read_failure(void **state)
{
    (void)state;
    regmap m = {0};
    eg_chip_info info;
    m.fail_at = 0x3FF5A018; /* ESP32 word 6: the last feature */
    assert_int_equal(eg_chip_info_decode(&info, eg_chip_by_name("esp32"), 3, reg_read, &m),
                     EG_ETIMEDOUT);
    m.fail_at = 0x60007054; /* ESP32-S3's flash maker */
    reg_set(&m, 0x60007050, 1u << 27);
    assert_int_equal(eg_chip_info_decode(&info, eg_chip_by_name("esp32s3"), 0, reg_read, &m),
                     EG_ETIMEDOUT);
}

static void test_crystal(void **state)
{
    (void)state;
    regmap m = {0};
    unsigned mhz;
    /* baud × divider, rounded as esptool rounds: above 45 MHz 48, above 33 MHz 40. */
    assert_int_equal(eg_chip_crystal_from_divider(115200, 347), 40);
    assert_int_equal(eg_chip_crystal_from_divider(115200, 226), 26);
    assert_int_equal(eg_chip_crystal_from_divider(115200, 416), 48);
    assert_int_equal(eg_chip_crystal_from_divider(921600, 43), 40);
    assert_int_equal(eg_chip_crystal_from_divider(1000000, 33), 26);
    assert_int_equal(eg_chip_crystal_from_divider(1000000, 34), 40);
    assert_int_equal(eg_chip_crystal_from_divider(1000000, 45), 40);
    assert_int_equal(eg_chip_crystal_from_divider(1000001, 45), 48);
    assert_int_equal(eg_chip_crystal_from_divider(115200, 0), 26);
    /* Only the low 20 bits are the divider (the fraction sits above them). */
    assert_int_equal(eg_chip_crystal_from_divider(115200, 0xF00000 | 347), 40);

    /* ESP32 and C2 measure it at the line's rate; their dividers are 0x3FF40014 and
     * 0x60000014. */
    reg_set(&m, 0x3FF40014, 226);
    reg_set(&m, 0x60000014, 347);
    assert_int_equal(eg_chip_crystal_decode(&mhz, eg_chip_by_name("esp32"), 115200, reg_read, &m),
                     0);
    assert_int_equal(mhz, 26);
    assert_int_equal(eg_chip_crystal_decode(&mhz, eg_chip_by_name("esp32c2"), 115200, reg_read, &m),
                     0);
    assert_int_equal(mhz, 40);
    /* C5: PCR_SYSCLK_CONF (0x60096110) bits 24-30 hold the MHz; 0 falls back to the
     * divider. */
    reg_set(&m, 0x60096110, 48u << 24 | 0xFFFF);
    assert_int_equal(eg_chip_crystal_decode(&mhz, eg_chip_by_name("esp32c5"), 115200, reg_read, &m),
                     0);
    assert_int_equal(mhz, 48);
    reg_set(&m, 0x60096110, 40u << 24 | 1u << 31);
    assert_int_equal(eg_chip_crystal_decode(&mhz, eg_chip_by_name("esp32c5"), 115200, reg_read, &m),
                     0);
    assert_int_equal(mhz, 40);
    reg_set(&m, 0x60096110, 0);
    reg_set(&m, 0x60000014, 416);
    assert_int_equal(eg_chip_crystal_decode(&mhz, eg_chip_by_name("esp32c5"), 115200, reg_read, &m),
                     0);
    assert_int_equal(mhz, 48);
    /* Fixed crystals read nothing: H2 32 MHz, the others 40. */
    regmap none = {0};
    static const struct {
        const char *chip;
        unsigned mhz;
    } fixed[] = {{"esp32s2", 40}, {"esp32s3", 40}, {"esp32c3", 40},
                 {"esp32c6", 40}, {"esp32h2", 32}, {"esp32p4", 40}};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        none.fail_at = (int)eg_chip_by_name(fixed[i].chip)->uart_clkdiv_reg;
        assert_int_equal(
            eg_chip_crystal_decode(&mhz, eg_chip_by_name(fixed[i].chip), 115200, reg_read, &none),
            0);
        assert_int_equal(mhz, fixed[i].mhz);
    }
    m.fail_at = 0x3FF40014;
    assert_int_equal(eg_chip_crystal_decode(&mhz, eg_chip_by_name("esp32"), 115200, reg_read, &m),
                     EG_ETIMEDOUT);
    assert_int_equal(mhz, 0);
}

static void test_flash_maker(void **state)
{
    (void)state;
    assert_string_equal(eg_flash_manufacturer(0x1640C8), "GigaDevice");
    assert_string_equal(eg_flash_manufacturer(0x1840EF), "Winbond");
    assert_string_equal(eg_flash_manufacturer(0x164020), "XMC/Micron");
    assert_string_equal(eg_flash_manufacturer(0x1620C2), "Macronix");
    assert_null(eg_flash_manufacturer(0x164042));
    assert_null(eg_flash_manufacturer(0xFFFFFF));
    /* esptool's "Device": memory type, then capacity. */
    assert_int_equal(eg_flash_device_id(0x1640C8), 0x4016);
    assert_int_equal(eg_flash_device_id(0x1870EF), 0x7018);
    assert_int_equal(eg_flash_device_id(0x0000C8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_by_name),
        cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_revision_c3),
        cmocka_unit_test(test_revision_esp32_major_map),
        cmocka_unit_test(test_revision_p4_third_major_bit),
        cmocka_unit_test(test_revision_s3_eco0),
        cmocka_unit_test(test_revision_read_failure),
        cmocka_unit_test(test_spi_pads),
        cmocka_unit_test(test_flash_sizes),
        cmocka_unit_test(test_mac_text),
        cmocka_unit_test(test_package_esp32),
        cmocka_unit_test(test_package_s2_and_s3),
        cmocka_unit_test(test_package_riscv_chips),
        cmocka_unit_test(test_package_read_failure),
        cmocka_unit_test(test_crystal),
        cmocka_unit_test(test_flash_maker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
