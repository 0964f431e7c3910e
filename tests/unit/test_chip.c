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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
