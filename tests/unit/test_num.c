/* Number and size parsing as users type them, and its bad inputs. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/error.h"
#include "core/num.h"

#include <string.h>

static void ok(const char *s, uint64_t want)
{
    uint64_t v = 1;
    int rc = eg_num_parse(&v, s, UINT64_MAX);
    if (rc != 0)
        fail_msg("'%s' rejected: %s", s, eg_error_msg());
    assert_int_equal(v, want);
}

static void bad(const char *s, const char *msg_part)
{
    uint32_t v = 7;
    assert_int_equal(eg_num_parse_u32(&v, s), EG_EINVAL);
    assert_int_equal(v, 0);
    if (msg_part && !strstr(eg_error_msg(), msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", s, eg_error_msg(), msg_part);
}

static void test_good(void **state)
{
    (void)state;
    ok("0", 0);
    ok("123", 123);
    ok("0x10000", 0x10000);
    ok("0X1f000", 0x1F000);
    ok("0xFFFFFFFF", 0xFFFFFFFF);
    ok("64k", 65536);
    ok("64K", 65536);
    ok("64KB", 65536);
    ok("64KiB", 65536);
    ok("4M", 4u << 20);
    ok("4MB", 4u << 20);
    ok("4mb", 4u << 20);
    ok("16MiB", 16u << 20);
    ok("100b", 100);
    ok("0x1_0000", 0x10000);
    ok("1_000_000", 1000000);
    ok("0xdead_beef", 0xDEADBEEF);
    ok("64_0k", 640 * 1024);
}

static void test_bad(void **state)
{
    (void)state;
    bad("", "empty");
    bad("0x", "not a number");
    bad("-1", "not a number");
    bad("+1", "not a number");
    bad(" 1", "not a number");
    bad("1 ", "unknown suffix");
    bad("12q", "unknown suffix");
    bad("4GB", "unknown suffix");
    bad("0x1k", "not a number");
    bad("0x1g", "not a number");
    bad("0x100000000", "too large");
    bad("4096M", "too large");
    bad("99999999999999999999999", "too large");
    bad("_1", "not a number");
    bad("0x_10", "not a number");
    bad("1_", "unknown suffix");
    bad("1__0", "unknown suffix");
    bad("0x10_", "not a number");
}

static void test_format(void **state)
{
    (void)state;
    char s[32];
    eg_num_format_size(s, sizeof(s), 4u << 20);
    assert_string_equal(s, "4MB");
    eg_num_format_size(s, sizeof(s), 256 * 1024);
    assert_string_equal(s, "256KB");
    eg_num_format_size(s, sizeof(s), 1000);
    assert_string_equal(s, "1000B");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
