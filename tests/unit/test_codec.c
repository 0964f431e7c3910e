/* Command encoding, response decoding, status bytes and error messages. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/error.h"
#include "proto/codec.h"

#include <string.h>

static void test_request_layout(void **state)
{
    (void)state;
    eg_buf b = EG_BUF_INIT;
    const uint8_t data[] = {1, 2, 3};
    assert_int_equal(eg_codec_request(&b, EG_OP_READ_REG, data, 3, 0x11223344), 0);
    const uint8_t want[] = {0x00, 0x0A, 3, 0, 0x44, 0x33, 0x22, 0x11, 1, 2, 3};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    eg_buf_release(&b);
}

static void test_request_too_long(void **state)
{
    (void)state;
    eg_buf b = EG_BUF_INIT;
    static uint8_t big[0x10000];
    assert_int_equal(eg_codec_request(&b, EG_OP_MEM_DATA, big, sizeof(big), 0), EG_EINVAL);
    assert_int_equal(b.len, 0);
    eg_buf_release(&b);
}

static void test_checksum(void **state)
{
    (void)state;
    const uint8_t d[] = {0xEF};
    assert_int_equal(eg_codec_checksum(NULL, 0), 0xEF);
    assert_int_equal(eg_codec_checksum(d, 1), 0);
    const uint8_t e[] = {0x01, 0x02, 0x04};
    assert_int_equal(eg_codec_checksum(e, 3), 0xEF ^ 7);
}

static void test_response_parse(void **state)
{
    (void)state;
    const uint8_t f[] = {0x01, 0x0A, 4, 0, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0};
    eg_response r;
    assert_int_equal(eg_codec_response(&r, f, sizeof(f)), 0);
    assert_int_equal(r.op, 0x0A);
    assert_int_equal(r.val, 0x12345678);
    assert_int_equal(r.len, 4);
    assert_int_equal(eg_codec_check_status(&r, 0, "READ_REG"), 0);
}

static void test_response_bad_frames(void **state)
{
    (void)state;
    const uint8_t shortf[] = {0x01, 0x0A, 0};
    const uint8_t request[] = {0x00, 0x0A, 0, 0, 0, 0, 0, 0};
    eg_response r;
    assert_int_equal(eg_codec_response(&r, shortf, sizeof(shortf)), EG_EPROTO);
    assert_int_equal(eg_codec_response(&r, request, sizeof(request)), EG_EPROTO);
    assert_non_null(strstr(eg_error_msg(), "direction"));
}

static void test_rom_failure_status(void **state)
{
    (void)state;
    const uint8_t f[] = {0x01, 0x03, 4, 0, 0, 0, 0, 0, 0x01, 0x07, 0, 0};
    eg_response r;
    eg_codec_response(&r, f, sizeof(f));
    assert_int_equal(eg_codec_check_status(&r, 0, "FLASH_DATA"), EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "FLASH_DATA"));
    assert_non_null(strstr(eg_error_msg(), "checksum"));
    assert_non_null(strstr(eg_error_msg(), "error 0x07"));
}

static void test_stub_failure_status_new_and_old(void **state)
{
    (void)state;
    const uint8_t newer[] = {0x01, 0xD1, 2, 0, 0, 0, 0, 0, 0xC3, 0x00};
    const uint8_t older[] = {0x01, 0xD1, 2, 0, 0, 0, 0, 0, 0x01, 0xC6};
    eg_response r;
    eg_codec_response(&r, newer, sizeof(newer));
    assert_int_equal(eg_codec_check_status(&r, 0, "ERASE_REGION"), EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "invalid command"));
    eg_codec_response(&r, older, sizeof(older));
    assert_int_equal(eg_codec_check_status(&r, 0, "ERASE_REGION"), EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "not in flash mode"));
}

static void test_status_after_payload(void **state)
{
    (void)state;
    uint8_t f[8 + 32 + 4] = {0x01, 0x13, 36, 0};
    eg_response r;
    memset(f + 8, 'a', 32);
    eg_codec_response(&r, f, sizeof(f));
    assert_int_equal(eg_codec_check_status(&r, 32, "SPI_FLASH_MD5"), 0);
    /* Shorter than promised, and the first byte does not read as a failure. */
    f[8] = 0;
    eg_codec_response(&r, f, sizeof(f));
    assert_int_equal(eg_codec_check_status(&r, 64, "READ_FLASH_SLOW"), EG_EPROTO);
    assert_non_null(strstr(eg_error_msg(), "expected 66"));
}

static void test_short_response_with_failure(void **state)
{
    (void)state;
    const uint8_t f[] = {0x01, 0x14, 4, 0, 0, 0, 0, 0, 0x01, 0x05, 0, 0};
    eg_response r;
    eg_codec_response(&r, f, sizeof(f));
    assert_int_equal(eg_codec_check_status(&r, 20, "GET_SECURITY_INFO"), EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "invalid"));
}

static void test_bare_stub_status_and_malformed(void **state)
{
    (void)state;
    const uint8_t bare[] = {0x01, 0x13, 2, 0, 0, 0, 0, 0, 0xC4, 0x00};
    const uint8_t odd[] = {0x01, 0x13, 7, 0, 0, 0, 0, 0, 0xC4, 0, 0, 0, 0, 0, 0};
    eg_response r;
    uint8_t err;
    eg_codec_response(&r, bare, sizeof(bare));
    assert_int_equal(eg_codec_status(&r, 16, &err), EG_EDEVICE);
    assert_int_equal(err, 0xC4);
    assert_int_equal(eg_codec_check_status(&r, 16, "SPI_FLASH_MD5"), EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "SPI operation failed"));
    /* Neither a bare status nor long enough: the device broke the protocol. */
    eg_codec_response(&r, odd, sizeof(odd));
    assert_int_equal(eg_codec_status(&r, 16, &err), EG_EPROTO);
}

static void test_unsupported(void **state)
{
    (void)state;
    const uint8_t yes[] = {0x01, 0x00, 4, 0, 0, 0, 0, 0, 0x01, 0x05, 0, 0};
    const uint8_t no[] = {0x01, 0x00, 4, 0, 0, 0, 0, 0, 0x00, 0x05, 0, 0};
    eg_response r;
    eg_codec_response(&r, yes, sizeof(yes));
    assert_true(eg_codec_is_unsupported(&r));
    eg_codec_response(&r, no, sizeof(no));
    assert_false(eg_codec_is_unsupported(&r));
}

static void test_every_code_has_a_message(void **state)
{
    (void)state;
    const uint8_t codes[] = {0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0xC0, 0xC1,
                             0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xFF};
    for (size_t i = 0; i < sizeof(codes); i++)
        assert_string_not_equal(eg_codec_error_text(codes[i]), "unknown error code");
    assert_string_equal(eg_codec_error_text(0x77), "unknown error code");
    assert_string_equal(eg_codec_op_name(EG_OP_FLASH_DEFL_DATA), "FLASH_DEFL_DATA");
    assert_string_equal(eg_codec_op_name(0x77), "0x77");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_layout),
        cmocka_unit_test(test_request_too_long),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_response_parse),
        cmocka_unit_test(test_response_bad_frames),
        cmocka_unit_test(test_rom_failure_status),
        cmocka_unit_test(test_stub_failure_status_new_and_old),
        cmocka_unit_test(test_status_after_payload),
        cmocka_unit_test(test_short_response_with_failure),
        cmocka_unit_test(test_bare_stub_status_and_malformed),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_every_code_has_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
