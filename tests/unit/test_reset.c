/* Reset sequences: the exact DTR/RTS changes and pauses of each, and which one
 * connect() chooses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/error.h"
#include "fake_transport.h"
#include "proto/session.h"
#include "transport/reset.h"

#include <stdio.h>
#include <string.h>

static eg_transport *lines_transport(void)
{
    eg_transport *t = fake_transport_new();
    fake_enable_lines(t);
    return t;
}

static void test_classic(void **state)
{
    (void)state;
    eg_transport *t = lines_transport();
    assert_int_equal(eg_reset_classic(t, 50), 0);
    /* IO0 high, EN low; 100 ms; IO0 low, EN high; 50 ms; IO0 high. */
    assert_string_equal(fake_lines(t), "D0R1|100|D1R0|50|D0");
    eg_transport_free(t);
}

static void test_tight(void **state)
{
    (void)state;
    eg_transport *t = lines_transport();
    assert_int_equal(eg_reset_tight(t, 50), 0);
    assert_string_equal(fake_lines(t), "D0R0D1R1D0R1|100|D1R0|50|D0R0D0");
    eg_transport_free(t);
    /* The long release: the same lines, 550 ms in reset-release. */
    t = lines_transport();
    assert_int_equal(eg_reset_tight(t, 550), 0);
    assert_string_equal(fake_lines(t), "D0R0D1R1D0R1|100|D1R0|550|D0R0D0");
    eg_transport_free(t);
}

static void test_usb_jtag(void **state)
{
    (void)state;
    eg_transport *t = lines_transport();
    assert_int_equal(eg_reset_usb_jtag(t), 0);
    assert_string_equal(fake_lines(t), "R0D0|100|D1R0|100|R1D0R1|100|D0R0");
    eg_transport_free(t);
}

static void test_hard_and_hold(void **state)
{
    (void)state;
    eg_transport *t = lines_transport();
    assert_int_equal(eg_reset_hard(t), 0);
    assert_string_equal(fake_lines(t), "R1|100|R0");
    eg_transport_free(t);
    t = lines_transport();
    assert_int_equal(eg_reset_hold(t), 0);
    assert_string_equal(fake_lines(t), "D0R1");
    eg_transport_free(t);
}

/* A stop asked from another thread ends a reset's pause at once. */
static void test_reset_canceled(void **state)
{
    (void)state;
    eg_transport *t = lines_transport();
    eg_cancel_request(fake_cancel(t), EG_CANCEL_NOW);
    assert_int_equal(eg_reset_classic(t, 550), EG_ECANCELED);
    assert_string_equal(fake_lines(t), "D0R1");
    assert_int_equal(fake_now(t), 0);
    eg_transport_free(t);
}

/* The step's deadline cuts a pause short, and says which step. */
static void test_reset_deadline(void **state)
{
    (void)state;
    eg_transport *t = lines_transport();
    eg_cancel_set_deadline(fake_cancel(t), "connect", 120);
    assert_int_equal(eg_reset_classic(t, 550), EG_ETIMEDOUT);
    assert_string_equal(fake_lines(t), "D0R1|100|D1R0");
    assert_int_equal(fake_now(t), 120);
    assert_non_null(strstr(eg_error_msg(), "the connect step ran past its deadline of 120 ms"));
    eg_transport_free(t);
}

static void test_no_lines_no_changes(void **state)
{
    (void)state;
    eg_transport *t = fake_transport_new();
    assert_int_equal(eg_reset_classic(t, 50), 0);
    assert_string_equal(fake_lines(t), "");
    eg_transport_free(t);
}

/* connect() against a silent board: which sequences it tries, in order. */
static const char *connect_sequence(uint16_t vid, uint16_t pid, eg_before before, unsigned attempts,
                                    char *copy, size_t len)
{
    eg_transport *t = lines_transport();
    eg_session *s;
    t->usb_vid = vid;
    t->usb_pid = pid;
    assert_int_equal(eg_session_new(&s, t), 0);
    s->connect_attempts = attempts;
    assert_int_equal(eg_session_connect(s, before), EG_ETIMEDOUT);
    snprintf(copy, len, "%s", fake_lines(t));
    eg_session_free(s);
    return copy;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_connect_tries_tight_then_classic(void **state)
{
    (void)state;
    char seq[1024];
    connect_sequence(0x10C4, 0xEA60, EG_BEFORE_DEFAULT_RESET, 3, seq, sizeof(seq));
    /* Two tight resets (start with both lines low then high), then a classic one. */
    assert_int_equal(count(seq, "D0R0D1R1D0R1"), 2);
    /* Between them, five SYNCs of 100 ms with 50 ms pauses. */
    assert_string_equal(seq, "D0R0D1R1D0R1|100|D1R0|50|D0R0D0|750|"
                             "D0R0D1R1D0R1|100|D1R0|550|D0R0D0|750|"
                             "D0R1|100|D1R0|50|D0");
}

static void test_connect_usb_jtag_by_vid_pid(void **state)
{
    (void)state;
    char seq[1024];
    connect_sequence(0x303A, 0x1001, EG_BEFORE_DEFAULT_RESET, 2, seq, sizeof(seq));
    assert_int_equal(count(seq, "R1D0R1"), 2);
    assert_int_equal(count(seq, "D1R1"), 0);
    connect_sequence(0x10C4, 0xEA60, EG_BEFORE_USB_RESET, 1, seq, sizeof(seq));
    assert_int_equal(count(seq, "R1D0R1"), 1);
}

static void test_connect_no_reset_leaves_lines(void **state)
{
    (void)state;
    char seq[1024];
    connect_sequence(0, 0, EG_BEFORE_NO_RESET, 2, seq, sizeof(seq));
    assert_string_equal(seq, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classic),
        cmocka_unit_test(test_tight),
        cmocka_unit_test(test_usb_jtag),
        cmocka_unit_test(test_hard_and_hold),
        cmocka_unit_test(test_no_lines_no_changes),
        cmocka_unit_test(test_reset_canceled),
        cmocka_unit_test(test_reset_deadline),
        cmocka_unit_test(test_connect_tries_tight_then_classic),
        cmocka_unit_test(test_connect_usb_jtag_by_vid_pid),
        cmocka_unit_test(test_connect_no_reset_leaves_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
