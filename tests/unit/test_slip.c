/* SLIP framing: every escape, frames split across reads, garbage, bad escapes and
 * oversized frames. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/error.h"
#include "proto/slip.h"

#include <stdlib.h>
#include <string.h>

static void test_encode_escapes(void **state)
{
    (void)state;
    eg_buf out = EG_BUF_INIT;
    const uint8_t in[] = {0x01, 0xC0, 0x02, 0xDB, 0xDC, 0xDD};
    const uint8_t want[] = {0xC0, 0x01, 0xDB, 0xDC, 0x02, 0xDB, 0xDD, 0xDC, 0xDD, 0xC0};
    assert_int_equal(eg_slip_encode(&out, in, sizeof(in)), 0);
    assert_int_equal(out.len, sizeof(want));
    assert_memory_equal(out.data, want, sizeof(want));
    eg_buf_release(&out);
}

static void test_encode_empty(void **state)
{
    (void)state;
    eg_buf out = EG_BUF_INIT;
    assert_int_equal(eg_slip_encode(&out, NULL, 0), 0);
    assert_int_equal(out.len, 2);
    assert_int_equal(out.data[0], 0xC0);
    assert_int_equal(out.data[1], 0xC0);
    eg_buf_release(&out);
}

/* Feeds everything; returns the number of frames, checks the first one. */
static int decode_all(eg_slip_decoder *d, const uint8_t *data, size_t len, eg_buf *first,
                      int *errors)
{
    int frames = 0;
    while (len > 0) {
        size_t used = 0;
        int r = eg_slip_decode(d, data, len, &used);
        assert_true(used <= len);
        data += used;
        len -= used;
        if (r == EG_SLIP_FRAME) {
            size_t flen;
            const uint8_t *f = eg_slip_frame(d, &flen);
            if (frames == 0 && first)
                eg_buf_append(first, f, flen);
            frames++;
        } else if (r < 0) {
            (*errors)++;
        }
    }
    return frames;
}

static void test_roundtrip_every_byte_split_anywhere(void **state)
{
    (void)state;
    uint8_t payload[512];
    eg_buf enc = EG_BUF_INIT;
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + (i >> 8));
    assert_int_equal(eg_slip_encode(&enc, payload, sizeof(payload)), 0);
    /* Every split point: the frame arrives in two reads. */
    for (size_t cut = 0; cut <= enc.len; cut += 3) {
        eg_slip_decoder d;
        eg_buf got = EG_BUF_INIT;
        int errors = 0, frames;
        assert_int_equal(eg_slip_decoder_init(&d, 1024), 0);
        frames = decode_all(&d, enc.data, cut, &got, &errors);
        frames += decode_all(&d, enc.data + cut, enc.len - cut, frames ? NULL : &got, &errors);
        assert_int_equal(frames, 1);
        assert_int_equal(errors, 0);
        assert_int_equal(got.len, sizeof(payload));
        assert_memory_equal(got.data, payload, sizeof(payload));
        eg_buf_release(&got);
        eg_slip_decoder_release(&d);
    }
    eg_buf_release(&enc);
}

static void test_byte_at_a_time_and_back_to_back(void **state)
{
    (void)state;
    const uint8_t stream[] = {0xC0, 'a', 0xDB, 0xDC, 0xC0, 0xC0, 'b', 0xDB, 0xDD, 0xC0};
    eg_slip_decoder d;
    int frames = 0;
    assert_int_equal(eg_slip_decoder_init(&d, 64), 0);
    for (size_t i = 0; i < sizeof(stream); i++) {
        size_t used;
        int r = eg_slip_decode(&d, stream + i, 1, &used);
        assert_int_equal(used, 1);
        if (r == EG_SLIP_FRAME) {
            size_t len;
            const uint8_t *f = eg_slip_frame(&d, &len);
            assert_int_equal(len, 2);
            if (frames == 0) {
                assert_int_equal(f[0], 'a');
                assert_int_equal(f[1], 0xC0);
            } else {
                assert_int_equal(f[0], 'b');
                assert_int_equal(f[1], 0xDB);
            }
            frames++;
        }
    }
    assert_int_equal(frames, 2);
    eg_slip_decoder_release(&d);
}

static void test_used_stops_after_frame(void **state)
{
    (void)state;
    const uint8_t stream[] = {0xC0, 1, 2, 0xC0, 0xC0, 3, 0xC0};
    eg_slip_decoder d;
    size_t used;
    assert_int_equal(eg_slip_decoder_init(&d, 64), 0);
    assert_int_equal(eg_slip_decode(&d, stream, sizeof(stream), &used), EG_SLIP_FRAME);
    assert_int_equal(used, 4);
    eg_slip_decoder_release(&d);
}

static void test_garbage_is_noise_and_quoted(void **state)
{
    (void)state;
    const char *log = "rst:0x1 (POWERON),boot:0xc\r\n\x01";
    eg_slip_decoder d;
    char text[512];
    size_t used;
    assert_int_equal(eg_slip_decoder_init(&d, 64), 0);
    assert_int_equal(eg_slip_decode(&d, (const uint8_t *)log, strlen(log), &used), EG_SLIP_MORE);
    assert_int_equal(d.noise_total, strlen(log));
    eg_slip_noise_text(&d, text, sizeof(text));
    assert_non_null(strstr(text, "boot:0xc"));
    assert_non_null(strstr(text, "\\x01"));
    eg_slip_decoder_release(&d);
}

static void test_noise_window_keeps_newest(void **state)
{
    (void)state;
    uint8_t junk[1000];
    eg_slip_decoder d;
    size_t used;
    memset(junk, 'x', sizeof(junk));
    memcpy(junk + sizeof(junk) - 4, "END!", 4);
    assert_int_equal(eg_slip_decoder_init(&d, 64), 0);
    eg_slip_decode(&d, junk, sizeof(junk), &used);
    assert_int_equal(d.noise_len, EG_SLIP_NOISE_MAX);
    assert_memory_equal(d.noise + EG_SLIP_NOISE_MAX - 4, "END!", 4);
    eg_slip_decoder_release(&d);
}

static void test_invalid_escape_drops_frame_then_recovers(void **state)
{
    (void)state;
    const uint8_t stream[] = {0xC0, 1, 0xDB, 0x42, 2, 0xC0, 0xC0, 9, 0xC0};
    eg_slip_decoder d;
    eg_buf first = EG_BUF_INIT;
    int errors = 0;
    assert_int_equal(eg_slip_decoder_init(&d, 64), 0);
    assert_int_equal(decode_all(&d, stream, sizeof(stream), &first, &errors), 1);
    assert_int_equal(errors, 1);
    assert_int_equal(first.len, 1);
    assert_int_equal(first.data[0], 9);
    assert_int_equal(d.bad_frames, 1);
    eg_buf_release(&first);
    eg_slip_decoder_release(&d);
}

static void test_escape_then_end_is_invalid(void **state)
{
    (void)state;
    const uint8_t stream[] = {0xC0, 1, 0xDB, 0xC0, 0xC0, 7, 0xC0};
    eg_slip_decoder d;
    eg_buf first = EG_BUF_INIT;
    int errors = 0;
    assert_int_equal(eg_slip_decoder_init(&d, 64), 0);
    assert_int_equal(decode_all(&d, stream, sizeof(stream), &first, &errors), 1);
    assert_int_equal(errors, 1);
    assert_int_equal(first.data[0], 7);
    eg_buf_release(&first);
    eg_slip_decoder_release(&d);
}

static void test_oversized_frame_dropped(void **state)
{
    (void)state;
    uint8_t stream[64];
    eg_slip_decoder d;
    eg_buf first = EG_BUF_INIT;
    int errors = 0;
    memset(stream, 0x11, sizeof(stream));
    stream[0] = 0xC0;
    stream[40] = 0xC0; /* a 39-byte frame, over the limit of 16 */
    stream[41] = 0xC0;
    stream[42] = 0x22;
    stream[43] = 0xC0;
    assert_int_equal(eg_slip_decoder_init(&d, 16), 0);
    assert_int_equal(decode_all(&d, stream, 44, &first, &errors), 1);
    assert_int_equal(errors, 1);
    assert_non_null(strstr(eg_error_msg(), "oversized"));
    assert_int_equal(first.len, 1);
    assert_int_equal(first.data[0], 0x22);
    eg_buf_release(&first);
    eg_slip_decoder_release(&d);
}

static void test_exact_max_is_accepted(void **state)
{
    (void)state;
    uint8_t payload[16];
    eg_buf enc = EG_BUF_INIT, first = EG_BUF_INIT;
    eg_slip_decoder d;
    int errors = 0;
    memset(payload, 0xC0, sizeof(payload)); /* every byte escaped */
    eg_slip_encode(&enc, payload, sizeof(payload));
    assert_int_equal(eg_slip_decoder_init(&d, 16), 0);
    assert_int_equal(decode_all(&d, enc.data, enc.len, &first, &errors), 1);
    assert_int_equal(errors, 0);
    assert_memory_equal(first.data, payload, 16);
    eg_buf_release(&enc);
    eg_buf_release(&first);
    eg_slip_decoder_release(&d);
}

static void test_random_garbage_never_crashes(void **state)
{
    (void)state;
    uint8_t junk[8192];
    eg_slip_decoder d;
    unsigned seed = 12345;
    int errors = 0;
    for (size_t i = 0; i < sizeof(junk); i++) {
        seed = seed * 1103515245 + 12345;
        junk[i] = (uint8_t)(seed >> 16);
    }
    assert_int_equal(eg_slip_decoder_init(&d, 32), 0);
    decode_all(&d, junk, sizeof(junk), NULL, &errors);
    assert_true(d.len <= d.max);
    eg_slip_decoder_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_escapes),
        cmocka_unit_test(test_encode_empty),
        cmocka_unit_test(test_roundtrip_every_byte_split_anywhere),
        cmocka_unit_test(test_byte_at_a_time_and_back_to_back),
        cmocka_unit_test(test_used_stops_after_frame),
        cmocka_unit_test(test_garbage_is_noise_and_quoted),
        cmocka_unit_test(test_noise_window_keeps_newest),
        cmocka_unit_test(test_invalid_escape_drops_frame_then_recovers),
        cmocka_unit_test(test_escape_then_end_is_invalid),
        cmocka_unit_test(test_oversized_frame_dropped),
        cmocka_unit_test(test_exact_max_is_accepted),
        cmocka_unit_test(test_random_garbage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
