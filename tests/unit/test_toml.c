/* The TOML subset reader: what it reads (every kind of key, string, integer, table and
 * array it takes, with their places), and every fault, each with its exact message,
 * line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "config/toml.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static eg_toml *ok(const char *text)
{
    eg_toml *t = NULL;
    int rc = eg_toml_parse(&t, "t.toml", text, strlen(text));
    if (rc != 0)
        fail_msg("'%s' did not parse: %s", text, eg_error_msg());
    assert_non_null(t);
    return t;
}

/* text must fail with exactly want ("t.toml:" is put in front). */
static void bad_n(const char *text, size_t len, const char *want)
{
    eg_toml *t = (eg_toml *)1;
    char full[600];
    int rc = eg_toml_parse(&t, "t.toml", text, len);
    snprintf(full, sizeof(full), "t.toml:%s", want);
    if (rc != EG_EINVAL || strcmp(eg_error_msg(), full) != 0)
        fail_msg("'%s': rc %d, message\n  '%s'\nwanted\n  '%s'", text, rc, eg_error_msg(), full);
    assert_null(t);
}

static void bad(const char *text, const char *want)
{
    bad_n(text, strlen(text), want);
}

static const eg_toml *get(const eg_toml *t, const char *key, eg_toml_type type)
{
    const eg_toml *v = eg_toml_get(t, key);
    if (!v)
        fail_msg("no key '%s'", key);
    assert_int_equal(v->type, type);
    return v;
}

static void test_scalars(void **state)
{
    (void)state;
    eg_toml *t = ok("# a comment\n"
                    "name = \"esp\" # after\n"
                    "lit = 'C:\\path\\n'\n"
                    "esc = \"a\\tb\\n\\\"q\\\" \\\\ \\u00e9 \\U0001F600\"\n"
                    "dec = 1_000_000\n"
                    "neg = -42\n"
                    "pos = +7\n"
                    "zero = 0\n"
                    "hex = 0x1_0000\n"
                    "HEX = 0xDEADbeef\n"
                    "oct = 0o755\n"
                    "bin = 0b1010\n"
                    "max = 9223372036854775807\n"
                    "min = -9223372036854775808\n"
                    "yes = true\n"
                    "no = false\n"
                    "\"quoted key\" = 1\n"
                    "'lit key' = 2\n"
                    "\"\" = 3\n"
                    "bare-key_9 = 4\n"
                    "1234 = 5\n"
                    "empty = \"\"\n");
    assert_string_equal(get(t, "name", EG_TOML_STRING)->string, "esp");
    assert_string_equal(get(t, "lit", EG_TOML_STRING)->string, "C:\\path\\n");
    assert_string_equal(get(t, "esc", EG_TOML_STRING)->string,
                        "a\tb\n\"q\" \\ \xC3\xA9 \xF0\x9F\x98\x80");
    assert_int_equal(get(t, "dec", EG_TOML_INTEGER)->integer, 1000000);
    assert_int_equal(get(t, "neg", EG_TOML_INTEGER)->integer, -42);
    assert_int_equal(get(t, "pos", EG_TOML_INTEGER)->integer, 7);
    assert_int_equal(get(t, "zero", EG_TOML_INTEGER)->integer, 0);
    assert_int_equal(get(t, "hex", EG_TOML_INTEGER)->integer, 0x10000);
    assert_int_equal(get(t, "HEX", EG_TOML_INTEGER)->integer, 0xDEADBEEF);
    assert_int_equal(get(t, "oct", EG_TOML_INTEGER)->integer, 0755);
    assert_int_equal(get(t, "bin", EG_TOML_INTEGER)->integer, 10);
    assert_true(get(t, "max", EG_TOML_INTEGER)->integer == INT64_MAX);
    assert_true(get(t, "min", EG_TOML_INTEGER)->integer == INT64_MIN);
    assert_int_equal(get(t, "yes", EG_TOML_BOOLEAN)->boolean, 1);
    assert_int_equal(get(t, "no", EG_TOML_BOOLEAN)->boolean, 0);
    assert_int_equal(get(t, "quoted key", EG_TOML_INTEGER)->integer, 1);
    assert_int_equal(get(t, "lit key", EG_TOML_INTEGER)->integer, 2);
    assert_int_equal(get(t, "", EG_TOML_INTEGER)->integer, 3);
    assert_int_equal(get(t, "bare-key_9", EG_TOML_INTEGER)->integer, 4);
    assert_int_equal(get(t, "1234", EG_TOML_INTEGER)->integer, 5);
    assert_string_equal(get(t, "empty", EG_TOML_STRING)->string, "");
    assert_null(eg_toml_get(t, "missing"));
    assert_null(eg_toml_get(get(t, "name", EG_TOML_STRING), "x")); /* not a table */
    /* The order keys were written in, and their places. */
    assert_int_equal(t->count, 21);
    assert_string_equal(t->items[0]->key, "name");
    const eg_toml *v = get(t, "neg", EG_TOML_INTEGER);
    assert_int_equal(v->key_line, 6);
    assert_int_equal(v->key_column, 1);
    assert_int_equal(v->line, 6);
    assert_int_equal(v->column, 7);
    eg_toml_free(t);
}

static void test_tables(void **state)
{
    (void)state;
    eg_toml *t = ok("top = 1\n"
                    "[connection]\n"
                    "serial = \"/dev/ttyUSB0\"\n"
                    "\n"
                    "[[usb_device]]\n"
                    "vid = \"303a\"\n"
                    "pid = \"1001\"\n"
                    "  [[usb_device]]  # indented, with a comment\n"
                    "  vid = \"10c4\"\n"
                    "[ a . \"b c\" . d ]\n"
                    "x = 1\n"
                    "[a]\n" /* defines what [a."b c".d] only made on the way */
                    "y.z = 2\n"
                    "y.w = 3\n"
                    "[a.y.deep]\n" /* a sub-table of one made by dotted keys */
                    "q = true\n"
                    "[usb_device.extra]\n" /* into the last [[usb_device]] */
                    "e = 1\n");
    assert_int_equal(get(t, "top", EG_TOML_INTEGER)->integer, 1);
    const eg_toml *conn = get(t, "connection", EG_TOML_TABLE);
    assert_string_equal(get(conn, "serial", EG_TOML_STRING)->string, "/dev/ttyUSB0");
    assert_int_equal(conn->line, 2);
    const eg_toml *usb = get(t, "usb_device", EG_TOML_ARRAY);
    assert_int_equal(usb->count, 2);
    assert_int_equal(usb->items[0]->type, EG_TOML_TABLE);
    assert_string_equal(get(usb->items[0], "vid", EG_TOML_STRING)->string, "303a");
    assert_string_equal(get(usb->items[0], "pid", EG_TOML_STRING)->string, "1001");
    assert_string_equal(get(usb->items[1], "vid", EG_TOML_STRING)->string, "10c4");
    assert_int_equal(usb->items[1]->line, 8);
    assert_int_equal(usb->items[1]->column, 3);
    assert_null(eg_toml_get(usb->items[1], "pid"));
    const eg_toml *e = get(usb->items[1], "extra", EG_TOML_TABLE);
    assert_int_equal(get(e, "e", EG_TOML_INTEGER)->integer, 1);
    const eg_toml *a = get(t, "a", EG_TOML_TABLE);
    assert_int_equal(a->line, 12); /* where [a] defined it */
    const eg_toml *d = get(get(a, "b c", EG_TOML_TABLE), "d", EG_TOML_TABLE);
    assert_int_equal(get(d, "x", EG_TOML_INTEGER)->integer, 1);
    const eg_toml *y = get(a, "y", EG_TOML_TABLE);
    assert_int_equal(get(y, "z", EG_TOML_INTEGER)->integer, 2);
    assert_int_equal(get(y, "w", EG_TOML_INTEGER)->integer, 3);
    assert_int_equal(get(get(y, "deep", EG_TOML_TABLE), "q", EG_TOML_BOOLEAN)->boolean, 1);
    eg_toml_free(t);
}

static void test_arrays(void **state)
{
    (void)state;
    eg_toml *t = ok("a = [1, 2, 3]\n"
                    "b = [ \"x\", 'y', ]\n"
                    "c = []\n"
                    "d = [\n"
                    "  1, # one\n"
                    "  # a comment line\n"
                    "  true,\n"
                    "  \"mixed\"\n"
                    "]\n"
                    "after = 1\n");
    const eg_toml *a = get(t, "a", EG_TOML_ARRAY);
    assert_int_equal(a->count, 3);
    assert_int_equal(a->items[2]->integer, 3);
    assert_null(a->items[0]->key);
    const eg_toml *b = get(t, "b", EG_TOML_ARRAY);
    assert_int_equal(b->count, 2);
    assert_string_equal(b->items[1]->string, "y");
    assert_int_equal(get(t, "c", EG_TOML_ARRAY)->count, 0);
    const eg_toml *d = get(t, "d", EG_TOML_ARRAY);
    assert_int_equal(d->count, 3);
    assert_int_equal(d->items[1]->type, EG_TOML_BOOLEAN);
    assert_int_equal(d->items[2]->line, 8);
    assert_int_equal(get(t, "after", EG_TOML_INTEGER)->key_line, 10);
    eg_toml_free(t);
}

static void test_text_forms(void **state)
{
    (void)state;
    /* CRLF lines, a byte order mark, no newline at the end, an empty file, blanks. */
    eg_toml *t = ok("\xEF\xBB\xBF"
                    "a = 1\r\n[t]\r\nb = \"x\" # c\r\nc = 2");
    assert_int_equal(get(t, "a", EG_TOML_INTEGER)->integer, 1);
    const eg_toml *tt = get(t, "t", EG_TOML_TABLE);
    assert_string_equal(get(tt, "b", EG_TOML_STRING)->string, "x");
    assert_int_equal(get(tt, "c", EG_TOML_INTEGER)->key_line, 4);
    eg_toml_free(t);
    t = ok("");
    assert_int_equal(t->type, EG_TOML_TABLE);
    assert_int_equal(t->count, 0);
    eg_toml_free(t);
    t = ok("\n\n   \t\n# only comments\n");
    assert_int_equal(t->count, 0);
    eg_toml_free(t);
    /* Columns count characters, not bytes. */
    bad("k = \"\xC3\xBC\" x\n", "1:9: expected the end of the line, found 'x'");
}

static void test_key_errors(void **state)
{
    (void)state;
    bad("a = 1\na = 2\n", "2:1: duplicate key 'a' (first at line 1)");
    bad("a = 1\n\"a\" = 2\n", "2:1: duplicate key 'a' (first at line 1)");
    bad("[t]\nx.y = 1\nx.y = 2\n", "3:3: duplicate key 'x.y' (first at line 2)");
    bad("a = 1\na.b = 2\n",
        "2:1: 'a' is an integer already (line 1): dotted keys cannot add to it");
    bad("[a]\n[a]\n", "2:1: table [a] is defined twice (first at line 1)");
    bad("[a.b]\n[a]\n[a.b]\n", "3:1: table [a.b] is defined twice (first at line 1)");
    bad("a.b = 1\n[a]\n", "2:1: table [a] is defined already by dotted keys (line 1)");
    bad("[a]\nb.c = 1\n[a.b]\n", "3:1: table [a.b] is defined already by dotted keys (line 2)");
    bad("[a.b.c]\n[a]\nb.d = 1\n",
        "3:1: 'b' is a table already (line 1): dotted keys cannot add to it");
    bad("[t]\n[[t]]\n", "2:1: [[t]]: 't' is a table already (line 1)");
    bad("[[t]]\n[t]\n", "2:1: [t]: 't' is an array of tables already (line 1)");
    bad("a = [1]\n[[a]]\n", "2:1: [[a]]: 'a' is an array already (line 1)");
    bad("a = 1\n[a.b]\n", "2:1: 'a' is an integer (line 1), not a table");
    bad("a = 1\n[a]\n", "2:1: [a]: 'a' is an integer already (line 1)");
    bad("= 1\n", "1:1: expected a key, found '='");
    bad("\"a\"\n", "1:4: expected '=' after the key 'a', found the end of the line");
    bad("true\n", "1:5: expected '=' after the key 'true', found the end of the line");
    bad("a b = 1\n", "1:3: expected '=' after the key 'a', found 'b'");
    bad("a. = 1\n", "1:4: expected a key, found '='");
    bad("a = 1 b = 2\n", "1:7: expected the end of the line, found 'b'");
    bad("[a\nx = 1\n", "1:3: expected ']' to close the header, found the end of the line");
    bad("[[a]\n", "1:4: expected ']]' to close the header, found ']'");
    bad("[]\n", "1:2: expected a key, found ']'");
    bad("[a] x\n", "1:5: expected the end of the line, found 'x'");
    bad("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = 1\n", "1:33: a key of more than 16 parts");
    bad("{a = 1}\n", "1:1: expected a key, found '{'");
}

static void test_value_errors(void **state)
{
    (void)state;
    bad("a =\n", "1:4: expected a value, found the end of the line");
    bad("a = # c\n", "1:5: expected a value, found '#'");
    bad("a = ", "1:5: expected a value, found the end of the file");
    bad("serial = /dev/ttyUSB0\n",
        "1:10: expected a value (a string, an integer, true, false or an array), found '/': a "
        "string needs quotes");
    bad("a = yes\n", "1:5: expected a value (a string, an integer, true, false or an array), "
                     "found 'y': a string needs quotes");
    bad("a = True\n", "1:5: expected a value (a string, an integer, true, false or an array), "
                      "found 'T': a string needs quotes");
    bad("a = {x = 1}\n", "1:5: inline tables ({...}) are not supported: write a [table]");
    bad("a = [[1]]\n", "1:6: arrays inside arrays are not supported");
    bad("a = [1 2]\n", "1:8: expected ',' or ']' in the array, found '2'");
    bad("a = [1,\n2\n", "1:5: unterminated array: the file ends before its ']'");
    bad("a = [,]\n", "1:6: expected a value (a string, an integer, true, false or an array), "
                     "found ','");
}

static void test_string_errors(void **state)
{
    (void)state;
    bad("a = \"abc\nb = 1\n", "1:5: unterminated string: the line ends before its closing \"");
    bad("a = 'abc", "1:5: unterminated string: the file ends before its closing '");
    bad("a = \"ab\\", "1:5: unterminated string: the file ends before its closing \"");
    bad("a = \"a\\qb\"\n", "1:7: bad escape '\\q' in a string (known: \\b \\t \\n \\f \\r \\\" "
                           "\\\\ \\uXXXX \\UXXXXXXXX; a literal string '...' takes backslashes "
                           "as they are)");
    bad("a = \"C:\\dev\"\n", "1:8: bad escape '\\d' in a string (known: \\b \\t \\n \\f \\r "
                             "\\\" \\\\ \\uXXXX \\UXXXXXXXX; a literal string '...' takes "
                             "backslashes as they are)");
    bad("a = \"\\u12\"\n", "1:6: bad escape: \\u needs 4 hex digits");
    bad("a = \"\\U0001F60\"\n", "1:6: bad escape: \\U needs 8 hex digits");
    bad("a = \"\\uD800\"\n", "1:6: bad escape: \\uD800 is not a Unicode scalar value");
    bad("a = \"\\U00110000\"\n", "1:6: bad escape: \\U00110000 is not a Unicode scalar value");
    bad("a = \"\\u0000\"\n", "1:6: a NUL character (\\u0000) is not supported in strings");
    bad("a = \"x\x01y\"\n", "1:7: control character U+0001 in a string (write it as an escape)");
    bad("a = 'x\x7Fy'\n", "1:7: control character U+007F in a string (write it as an escape)");
    bad("a = \"\"\"multi\"\"\"\n", "1:5: multi-line strings (\"\"\") are not supported");
    bad("a = '''multi'''\n", "1:5: multi-line strings (''') are not supported");
    bad("\"k\x02\" = 1\n", "1:3: control character U+0002 in a string (write it as an escape)");
    bad("\"k = 1\n", "1:1: unterminated string: the line ends before its closing \"");
}

static void test_number_errors(void **state)
{
    (void)state;
    bad("a = 1.5\n", "1:5: floats are not supported");
    bad("a = 1e3\n", "1:5: floats are not supported");
    bad("a = -0.0\n", "1:5: floats are not supported");
    bad("a = inf\n", "1:5: floats (inf, nan) are not supported");
    bad("a = -nan\n", "1:5: floats (inf, nan) are not supported");
    bad("a = 1979-05-27\n", "1:5: dates and times are not supported");
    bad("a = 07:32:00\n", "1:5: dates and times are not supported");
    bad("a = 012\n", "1:5: leading zeros are not allowed in a decimal integer");
    bad("a = 0_1\n", "1:5: leading zeros are not allowed in a decimal integer");
    bad("a = 1__2\n", "1:6: an underscore in a number must sit between two digits");
    bad("a = 1_\n", "1:6: an underscore in a number must sit between two digits");
    bad("a = 0x_1\n", "1:7: an underscore in a number must sit between two digits");
    bad("a = -0x10\n", "1:5: a hex number takes no sign");
    bad("a = +0b1\n", "1:5: a binary number takes no sign");
    bad("a = 0x\n", "1:5: '0x' is not a number (nor a quoted string)");
    bad("a = 0xG\n", "1:5: '0xG' is not a number (nor a quoted string)");
    bad("a = 0o8\n", "1:5: '0o8' is not a number (nor a quoted string)");
    bad("a = +\n", "1:5: '+' is not a number (nor a quoted string)");
    bad("a = 12abc\n", "1:5: '12abc' is not a number (nor a quoted string)");
    bad("a = 9223372036854775808\n", "1:5: integer out of range (a signed 64-bit number)");
    bad("a = -9223372036854775809\n", "1:5: integer out of range (a signed 64-bit number)");
    bad("a = 0x10000000000000000\n", "1:5: integer out of range (a signed 64-bit number)");
}

static void test_text_errors(void **state)
{
    (void)state;
    bad("a = 1\rb = 2\n", "1:6: a carriage return (CR) must be followed by a line feed");
    bad("# x\x01y\n", "1:4: control character U+0001 in a comment");
    bad_n("a = 1\nb = \"\xFF\"\n", 12, "2:6: not UTF-8 text (byte 0xFF)");
    bad_n("a = \"\xC0\x80\"\n", 9, "1:6: not UTF-8 text (byte 0xC0)");      /* overlong */
    bad_n("a = \"\xED\xA0\x80\"\n", 10, "1:6: not UTF-8 text (byte 0xED)"); /* surrogate */
    bad_n("a = \"\xC3\"\n", 8, "1:6: not UTF-8 text (byte 0xC3)");          /* cut short */
    bad_n("a = 1\nb = \0\n", 11,
          "2:5: expected a value (a string, an integer, true, false or an array), found the "
          "control character U+0000");
}

static void test_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/eg-toml-XXXXXX", path[64];
    eg_toml *t = (eg_toml *)1;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/missing.toml", dir);
    assert_int_equal(eg_toml_load(&t, path), EG_ENOTFOUND);
    assert_null(t);
    assert_non_null(strstr(eg_error_msg(), path));
    snprintf(path, sizeof(path), "%s/c.toml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("[flash]\nmode = 'dio'\nmode = 'qio'\n", f);
    fclose(f);
    assert_int_equal(eg_toml_load(&t, path), EG_EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s:3:1: duplicate key 'mode' (first at line 2)", path);
    assert_string_equal(eg_error_msg(), want);
    unlink(path);
    rmdir(dir);
}

static void test_error_helper(void **state)
{
    (void)state;
    eg_toml *t = ok("[flash]\n  size = 5\n");
    const eg_toml *v = eg_toml_get(eg_toml_get(t, "flash"), "size");
    assert_int_equal(eg_toml_error("f.toml", v, 0, "flash.size must be %s", "a string"), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "f.toml:2:10: flash.size must be a string");
    eg_toml_error("f.toml", v, 1, "here");
    assert_string_equal(eg_error_msg(), "f.toml:2:3: here");
    assert_string_equal(eg_toml_type_name(EG_TOML_ARRAY), "an array");
    eg_toml_free(t);
    eg_toml_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),       cmocka_unit_test(test_tables),
        cmocka_unit_test(test_arrays),        cmocka_unit_test(test_text_forms),
        cmocka_unit_test(test_key_errors),    cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_string_errors), cmocka_unit_test(test_number_errors),
        cmocka_unit_test(test_text_errors),   cmocka_unit_test(test_load),
        cmocka_unit_test(test_error_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
