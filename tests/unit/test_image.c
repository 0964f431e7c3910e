/* App images: flash options as users type them, parsing an image and its bad forms,
 * rewriting the flash parameters of a bootloader, and ELF files that cannot be read.
 * (Whole images built from real ELFs are checked against Espressif's elf2image in
 * tests/integration/test_image.sh.) */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/error.h"
#include "core/hash.h"
#include "image/elf.h"
#include "image/image.h"

#include <stdlib.h>
#include <string.h>

static void expect_msg(const char *part)
{
    if (!strstr(eg_error_msg(), part))
        fail_msg("message '%s' lacks '%s'", eg_error_msg(), part);
}

static void test_flash_mode(void **state)
{
    uint8_t m = 9;
    (void)state;
    assert_int_equal(eg_flash_mode_parse(&m, "qio"), 0);
    assert_int_equal(m, EG_FLASH_QIO);
    assert_int_equal(eg_flash_mode_parse(&m, "QOUT"), 0);
    assert_int_equal(m, EG_FLASH_QOUT);
    assert_int_equal(eg_flash_mode_parse(&m, "dio"), 0);
    assert_int_equal(m, EG_FLASH_DIO);
    assert_int_equal(eg_flash_mode_parse(&m, "Dout"), 0);
    assert_int_equal(m, EG_FLASH_DOUT);
    m = 9;
    assert_int_equal(eg_flash_mode_parse(&m, "fastread"), EG_EINVAL);
    assert_int_equal(m, 9);
    expect_msg("unknown flash mode 'fastread'");
    assert_string_equal(eg_flash_mode_name(2), "dio");
    assert_string_equal(eg_flash_mode_name(7), "?");
}

static void test_flash_size(void **state)
{
    uint32_t size = 0;
    uint8_t code = 0xAA;
    (void)state;
    assert_int_equal(eg_flash_size_parse(&size, &code, "4MB"), 0);
    assert_int_equal(size, 4u << 20);
    assert_int_equal(code, 2);
    assert_int_equal(eg_flash_size_parse(&size, &code, "16mb"), 0);
    assert_int_equal(code, 4);
    assert_int_equal(eg_flash_size_parse(&size, &code, "1M"), 0);
    assert_int_equal(code, 0);
    assert_int_equal(eg_flash_size_parse(&size, &code, "128MB"), 0);
    assert_int_equal(code, 7);
    const char *bad[] = {"3MB", "256MB", "0MB", "4", "4KB", "", "MB", "-4MB", "4MBx"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size = 7;
        if (eg_flash_size_parse(&size, &code, bad[i]) != EG_EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(size, 7);
        expect_msg("unknown flash size");
    }
    assert_int_equal(eg_flash_size_code(&code, 32u << 20), 0);
    assert_int_equal(code, 5);
    assert_int_equal(eg_flash_size_code(&code, 512u << 10), EG_EINVAL);
    assert_int_equal(eg_flash_size_from_code(3), 8u << 20);
    assert_int_equal(eg_flash_size_from_code(9), 0);
}

static void test_flash_freq(void **state)
{
    const eg_chip *c3 = eg_chip_by_name("esp32c3"), *c2 = eg_chip_by_name("esp32c2");
    const eg_chip *h2 = eg_chip_by_name("esp32h2"), *c6 = eg_chip_by_name("esp32c6");
    uint8_t code = 0xAA;
    (void)state;
    assert_int_equal(eg_flash_freq_parse(&code, c3, "80m"), 0);
    assert_int_equal(code, 0xF);
    assert_int_equal(eg_flash_freq_parse(&code, c3, "40MHz"), 0);
    assert_int_equal(code, 0x0);
    assert_int_equal(eg_flash_freq_parse(&code, c3, "26m"), 0);
    assert_int_equal(code, 0x1);
    assert_int_equal(eg_flash_freq_parse(&code, c2, "60mhz"), 0);
    assert_int_equal(code, 0xF);
    assert_int_equal(eg_flash_freq_parse(&code, c2, "15m"), 0);
    assert_int_equal(code, 0x2);
    assert_int_equal(eg_flash_freq_parse(&code, h2, "48m"), 0);
    assert_int_equal(code, 0xF);
    /* ESP32-C6's ROM mis-divides at 80 MHz: its 80m is written as code 0. */
    assert_int_equal(eg_flash_freq_parse(&code, c6, "80m"), 0);
    assert_int_equal(code, 0x0);
    code = 0xAA;
    assert_int_equal(eg_flash_freq_parse(&code, h2, "80m"), EG_EINVAL);
    assert_int_equal(code, 0xAA);
    expect_msg("not one ESP32-H2 can use (48m, 24m, 16m, 12m)");
    assert_int_equal(eg_flash_freq_parse(&code, c3, "fast"), EG_EINVAL);
    assert_string_equal(eg_flash_freq_name(c2, 0x1), "20m");
}

/* A one-segment image: 8 bytes of data at 0x3FC88000, checksum, digest. */
static size_t make_image(uint8_t *img)
{
    static const uint8_t data[8] = {1, 2, 3, 4, 0x10, 0x20, 0x30, 0x40};
    size_t n = 0;
    memset(img, 0, 128);
    img[0] = EG_IMAGE_MAGIC;
    img[1] = 1;
    img[2] = EG_FLASH_DIO;
    img[3] = 0x2F;
    img[4] = 0x00, img[5] = 0x80, img[6] = 0xC8, img[7] = 0x3F;
    img[8] = 0xEE;
    img[12] = 5; /* ESP32-C3 */
    img[17] = 0xFF, img[18] = 0xFF;
    img[23] = 1;
    n = 24;
    eg_put_u32le(img + n, 0x3FC88000);
    eg_put_u32le(img + n + 4, sizeof(data));
    memcpy(img + n + 8, data, sizeof(data));
    n += 8 + sizeof(data);
    uint8_t sum = 0xEF;
    for (size_t i = 0; i < sizeof(data); i++)
        sum ^= data[i];
    n += 15 - n % 16;
    img[n++] = sum;
    eg_sha256(img + n, img, n);
    return n + 32;
}

static void test_parse(void **state)
{
    uint8_t img[128];
    size_t len = make_image(img);
    eg_image_info info;
    (void)state;

    assert_int_equal(len, 80);
    assert_int_equal(eg_image_parse(&info, img, len), 0);
    assert_int_equal(info.n_segments, 1);
    assert_int_equal(info.flash_mode, EG_FLASH_DIO);
    assert_int_equal(info.flash_size_code, 2);
    assert_int_equal(info.flash_freq_code, 0xF);
    assert_int_equal(info.entry, 0x3FC88000);
    assert_int_equal(info.chip_id, 5);
    assert_int_equal(info.max_rev_full, 0xFFFF);
    assert_int_equal(info.segments[0].addr, 0x3FC88000);
    assert_int_equal(info.segments[0].file_offset, 32);
    assert_int_equal(info.segments[0].len, 8);
    assert_int_equal(info.length, 48);
    assert_true(eg_image_valid(&info));
    assert_false(info.has_app_desc);

    img[36] ^= 1; /* a data bit: checksum and digest both go wrong */
    assert_int_equal(eg_image_parse(&info, img, len), 0);
    assert_false(eg_image_valid(&info));
    assert_int_not_equal(info.checksum, info.checksum_calc);
}

static void test_parse_bad(void **state)
{
    uint8_t img[128];
    size_t len = make_image(img);
    eg_image_info info;
    (void)state;

    assert_int_equal(eg_image_parse(&info, img, 10), EG_EINVAL);
    expect_msg("too short for an image header");
    img[0] = 0xE8;
    assert_int_equal(eg_image_parse(&info, img, len), EG_EINVAL);
    expect_msg("not an ESP image (first byte 0xe8");
    img[0] = EG_IMAGE_MAGIC;
    assert_int_equal(eg_image_parse(&info, img, 30), EG_EINVAL);
    expect_msg("ends inside the header of segment 0");
    assert_int_equal(eg_image_parse(&info, img, 36), EG_EINVAL);
    expect_msg("runs past the end of the image");
    assert_int_equal(eg_image_parse(&info, img, 47), EG_EINVAL);
    expect_msg("ends before its checksum");
    assert_int_equal(eg_image_parse(&info, img, 60), EG_EINVAL);
    expect_msg("ends before its SHA-256");
    img[1] = 0;
    assert_int_equal(eg_image_parse(&info, img, len), EG_EINVAL);
    expect_msg("counts no segments");
    img[1] = 1;
    img[23] = 7;
    assert_int_equal(eg_image_parse(&info, img, len), EG_EINVAL);
    expect_msg("hash_appended byte is 0x07");
}

static void test_patch(void **state)
{
    uint8_t img[128], orig[128];
    size_t len = make_image(img);
    eg_image_info info;
    (void)state;

    memcpy(orig, img, sizeof(img));
    assert_int_equal(eg_image_patch_flash_params(img, len, EG_FLASH_QIO, 4, 0x0), 0);
    assert_int_equal(img[2], EG_FLASH_QIO);
    assert_int_equal(img[3], 0x40);
    assert_memory_not_equal(img + 48, orig + 48, 32);
    assert_int_equal(eg_image_parse(&info, img, len), 0);
    assert_true(eg_image_valid(&info));
    /* -1 keeps a field */
    assert_int_equal(eg_image_patch_flash_params(img, len, -1, 2, -1), 0);
    assert_int_equal(img[2], EG_FLASH_QIO);
    assert_int_equal(img[3], 0x20);
    /* Not an image: nothing changes. */
    memcpy(img, orig, sizeof(img));
    img[0] = 0;
    memcpy(orig, img, sizeof(img));
    assert_int_equal(eg_image_patch_flash_params(img, len, EG_FLASH_QIO, 4, 0), EG_EINVAL);
    assert_memory_equal(img, orig, sizeof(img));
}

static void test_elf_bad(void **state)
{
    eg_elf *e = (eg_elf *)1;
    static const uint8_t text[] = "this is not an ELF file at all";
    uint8_t elf64[64] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
    uint8_t bigend[64] = {0x7F, 'E', 'L', 'F', 1, 2, 1};
    uint8_t trunc[52] = {0x7F, 'E', 'L', 'F', 1, 1, 1};
    (void)state;

    assert_int_equal(eg_elf_parse(&e, text, sizeof(text), "text.elf"), EG_EINVAL);
    assert_null(e);
    expect_msg("'text.elf': not an ELF file");
    assert_int_equal(eg_elf_parse(&e, elf64, sizeof(elf64), "x64.elf"), EG_EINVAL);
    expect_msg("not a 32-bit little-endian ELF");
    assert_int_equal(eg_elf_parse(&e, bigend, sizeof(bigend), "be.elf"), EG_EINVAL);
    expect_msg("not a 32-bit little-endian ELF");
    /* An ELF32 header for x86 with no sections. */
    trunc[16] = 2;  /* ET_EXEC */
    trunc[18] = 3;  /* EM_386 */
    trunc[20] = 1;  /* EV_CURRENT */
    trunc[40] = 52; /* e_ehsize */
    assert_int_equal(eg_elf_parse(&e, trunc, sizeof(trunc), "x86.elf"), EG_EINVAL);
    expect_msg("not an Xtensa or RISC-V ELF file (machine 3)");
    assert_null(e);
    trunc[18] = 243; /* RISC-V, but no section headers */
    assert_int_equal(eg_elf_parse(&e, trunc, sizeof(trunc), "nosec.elf"), EG_EINVAL);
    expect_msg("section headers are missing");
    assert_int_equal(eg_elf_load(&e, "/nonexistent/app.elf"), EG_ENOTFOUND);
    expect_msg("/nonexistent/app.elf");
    assert_null(e);
    eg_elf_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flash_mode), cmocka_unit_test(test_flash_size),
        cmocka_unit_test(test_flash_freq), cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_bad),  cmocka_unit_test(test_patch),
        cmocka_unit_test(test_elf_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
