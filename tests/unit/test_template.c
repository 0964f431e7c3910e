/* Templates with named fields: parsing (known fields, widths, literal braces, every
 * fault with its column) and rendering (padding, a field left as written, no room). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/error.h"
#include "core/template.h"

#include <string.h>

static const char *const names[] = {"lot", "seq", "date"};

static const char *values(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "lot") == 0)
        return "L42";
    if (strcmp(name, "seq") == 0)
        return "7";
    return NULL; /* date: left as written */
}

static void render_ok(const char *text, const char *want)
{
    eg_template *t = NULL;
    char out[64];
    assert_int_equal(eg_template_parse(&t, text, names, 3, NULL), 0);
    assert_int_equal(eg_template_render(out, sizeof(out), t, values, NULL), 0);
    assert_string_equal(out, want);
    eg_template_free(t);
}

static void test_render(void **state)
{
    (void)state;
    render_ok("WX-{lot}-{seq:06}", "WX-L42-000007");
    render_ok("{seq}", "7");
    render_ok("{seq:01}", "7");
    render_ok("plain", "plain");
    render_ok("", "");
    render_ok("{{lot}} {lot}}}", "{lot} L42}");
    render_ok("{date}/{seq:03}", "{date}/007"); /* a field without a value stays */
    render_ok("{lot:02}", "L42");               /* longer than the width: as it is */
}

static void test_uses(void **state)
{
    eg_template *t = NULL;
    (void)state;
    assert_int_equal(eg_template_parse(&t, "A{lot}{{seq}}", names, 3, NULL), 0);
    assert_true(eg_template_uses(t, "lot"));
    assert_false(eg_template_uses(t, "seq"));
    assert_false(eg_template_uses(NULL, "lot"));
    eg_template_free(t);
}

static void bad(const char *text, unsigned column, const char *msg)
{
    eg_template *t = (eg_template *)1;
    unsigned col = 99;
    assert_int_equal(eg_template_parse(&t, text, names, 3, &col), EG_EINVAL);
    assert_null(t);
    assert_int_equal(col, column);
    assert_string_equal(eg_error_msg(), msg);
}

static void test_faults(void **state)
{
    (void)state;
    bad("WX-{lto}", 4, "unknown field '{lto}' (known: {lot}, {seq}, {date})");
    bad("{}", 1, "unknown field '{}' (known: {lot}, {seq}, {date})");
    bad("a{seq", 2, "'{' without its '}' (a literal brace is '{{')");
    bad("a}b", 2, "'}' without its '{' (a literal brace is '}}')");
    bad("{seq:6}", 1, "'{seq:6}': a field's width is written '0N' (1 to 32), as in {seq:06}");
    bad("{seq:00}", 1, "'{seq:00}': a field's width is written '0N' (1 to 32), as in {seq:06}");
    bad("{seq:033}", 1, "'{seq:033}': a field's width is written '0N' (1 to 32), as in {seq:06}");
    bad("{seq:}", 1, "'{seq:}': a field's width is written '0N' (1 to 32), as in {seq:06}");
    bad("{seq:0x}", 1, "'{seq:0x}': a field's width is written '0N' (1 to 32), as in {seq:06}");
}

static void test_no_room(void **state)
{
    eg_template *t = NULL;
    char out[8];
    (void)state;
    assert_int_equal(eg_template_parse(&t, "WX-{lot}-{seq:06}", names, 3, NULL), 0);
    assert_int_equal(eg_template_render(out, sizeof(out), t, values, NULL), EG_EINVAL);
    assert_string_equal(eg_error_msg(),
                        "'WX-{lot}-{seq:06}' is longer than 7 characters once filled in");
    eg_template_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_uses),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
