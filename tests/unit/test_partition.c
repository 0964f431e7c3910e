/* Partition tables: type and subtype names, CSV rows and their faults (each with its
 * code, its message and its line, and no table produced), binary tables and theirs,
 * CSV and human output, the default table, lookups, and the corpus under
 * tests/data/partitions (good tables round-trip and match gen_esp32part.py's outputs
 * byte for byte; every bad table fails with the message its first line expects). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "partition/partition.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EG_PARTITION_CORPUS
#error "EG_PARTITION_CORPUS must name tests/data/partitions"
#endif

/* A non-NULL value that a failing parser must replace with NULL. */
static int not_a_table;
#define SENTINEL ((eg_partition_table *)&not_a_table)

static void expect_msg(const char *part)
{
    if (!strstr(eg_error_msg(), part))
        fail_msg("message '%s' lacks '%s'", eg_error_msg(), part);
}

static eg_partition_table *csv_ok_opts(const char *text, const eg_partition_opts *o)
{
    eg_partition_table *t = SENTINEL;
    int rc = eg_partition_parse_csv(&t, text, strlen(text), "t.csv", o);
    if (rc != 0)
        fail_msg("rejected (%d): %s", rc, eg_error_msg());
    assert_non_null(t);
    return t;
}

static eg_partition_table *csv_ok(const char *text)
{
    return csv_ok_opts(text, NULL);
}

/* The CSV fails with code and exactly msg, and yields no table. */
static void csv_bad_opts(const char *text, const eg_partition_opts *o, int code, const char *msg)
{
    eg_partition_table *t = SENTINEL;
    int rc = eg_partition_parse_csv(&t, text, strlen(text), "t.csv", o);
    if (rc != code)
        fail_msg("'%s': code %d, wanted %d (%s)", text, rc, code, eg_error_msg());
    assert_null(t);
    if (strcmp(eg_error_msg(), msg) != 0)
        fail_msg("message\n  '%s'\nwanted\n  '%s'", eg_error_msg(), msg);
}

static void csv_bad(const char *text, const char *msg)
{
    csv_bad_opts(text, NULL, EG_EINVAL, msg);
}

static const eg_partition *entry(const eg_partition_table *t, size_t i)
{
    size_t n;
    const eg_partition *e = eg_partition_entries(t, &n);
    assert_true(i < n);
    return &e[i];
}

static size_t count(const eg_partition_table *t)
{
    size_t n;
    eg_partition_entries(t, &n);
    return n;
}

static void check_entry(const eg_partition *p, const char *name, uint8_t type, uint8_t subtype,
                        uint32_t offset, uint32_t size, uint32_t flags)
{
    assert_string_equal(p->name, name);
    assert_int_equal(p->type, type);
    assert_int_equal(p->subtype, subtype);
    assert_int_equal(p->offset, offset);
    assert_int_equal(p->size, size);
    assert_int_equal(p->flags, flags);
}

static const char SINGLEAPP[] = "# Name,   Type, SubType, Offset,  Size, Flags\n"
                                "nvs,      data, nvs,     ,        0x6000,\n"
                                "phy_init, data, phy,     ,        0x1000,\n"
                                "factory,  app,  factory, ,        1M,\n";

/* ---- names ---------------------------------------------------------------------- */

static void test_opts_default(void **state)
{
    eg_partition_opts o;
    (void)state;
    memset(&o, 0x5A, sizeof(o));
    eg_partition_opts_default(&o);
    assert_int_equal(o.table_offset, 0x8000);
    assert_int_equal(o.flash_size, 0);
    assert_int_equal(o.bootloader_offset, EG_PARTITION_OFFSET_UNKNOWN);
    assert_int_equal(o.recovery_offset, EG_PARTITION_OFFSET_UNKNOWN);
}

static void type_ok(const char *s, uint8_t want)
{
    uint8_t v = 0x77;
    if (eg_partition_type_parse(&v, s) != 0)
        fail_msg("type '%s' rejected: %s", s, eg_error_msg());
    assert_int_equal(v, want);
}

static void type_bad(const char *s, const char *msg)
{
    uint8_t v = 0x77;
    assert_int_equal(eg_partition_type_parse(&v, s), EG_EINVAL);
    assert_int_equal(v, 0);
    assert_string_equal(eg_error_msg(), msg);
}

static void test_type_parse(void **state)
{
    (void)state;
    type_ok("app", 0);
    type_ok("APP", 0);
    type_ok("data", 1);
    type_ok("Data", 1);
    type_ok("bootloader", 2);
    type_ok("partition_table", 3);
    type_ok("0", 0);
    type_ok("1", 1);
    type_ok("0x40", 0x40);
    type_ok("0XFE", 0xFE);
    type_ok("254", 0xFE);
    type_bad("", "the type is empty");
    type_bad("dta", "unknown type 'dta' (known: app, data, bootloader, partition_table, or a "
                    "number 0x40-0xfe)");
    type_bad("0x04", "type 0x04 is reserved (custom types are 0x40-0xfe)");
    type_bad("0x3f", "type 0x3f is reserved (custom types are 0x40-0xfe)");
    type_bad("0xff", "type 0xff is reserved (custom types are 0x40-0xfe)");
    type_bad("0x100", "type '0x100' is larger than 0xff");
    type_bad("1k", "unknown type '1k' (known: app, data, bootloader, partition_table, or a "
                   "number 0x40-0xfe)");
}

static void sub_ok(uint8_t type, const char *s, uint8_t want)
{
    uint8_t v = 0x77;
    if (eg_partition_subtype_parse(&v, type, s) != 0)
        fail_msg("subtype '%s' rejected: %s", s, eg_error_msg());
    assert_int_equal(v, want);
}

static void sub_bad(uint8_t type, const char *s, const char *msg)
{
    uint8_t v = 0x77;
    assert_int_equal(eg_partition_subtype_parse(&v, type, s), EG_EINVAL);
    assert_int_equal(v, 0);
    assert_string_equal(eg_error_msg(), msg);
}

static void test_subtype_parse(void **state)
{
    static const struct {
        const char *name;
        uint8_t value;
    } data[] = {{"ota", 0x00},      {"phy", 0x01},    {"nvs", 0x02},       {"coredump", 0x03},
                {"nvs_keys", 0x04}, {"efuse", 0x05},  {"undefined", 0x06}, {"esphttpd", 0x80},
                {"fat", 0x81},      {"spiffs", 0x82}, {"littlefs", 0x83},  {"tee_ota", 0x90}};
    char name[16];
    (void)state;

    sub_ok(0, "factory", 0x00);
    sub_ok(0, "FACTORY", 0x00);
    sub_ok(0, "test", 0x20);
    sub_ok(0, "tee_0", 0x30);
    sub_ok(0, "tee_1", 0x31);
    for (unsigned i = 0; i < 16; i++) {
        snprintf(name, sizeof(name), "ota_%u", i);
        sub_ok(0, name, (uint8_t)(0x10 + i));
        assert_string_equal(eg_partition_subtype_name(0, (uint8_t)(0x10 + i)), name);
    }
    for (size_t i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
        sub_ok(1, data[i].name, data[i].value);
        assert_string_equal(eg_partition_subtype_name(1, data[i].value), data[i].name);
    }
    sub_ok(1, "", 0x06);
    sub_ok(1, "0x15", 0x15);
    sub_ok(1, "SPIFFS", 0x82);
    sub_ok(2, "primary", 0);
    sub_ok(2, "ota", 1);
    sub_ok(2, "recovery", 2);
    sub_ok(2, "2", 2);
    sub_ok(3, "primary", 0);
    sub_ok(3, "ota", 1);
    sub_ok(0x40, "0x17", 0x17);
    sub_ok(0x40, "", 0x06); /* gen_esp32part: an empty subtype is undefined for any non-app */
    sub_ok(0, "0x05", 0x05);

    sub_bad(0, "", "an app partition needs a subtype (factory, ota_0..ota_15, test, tee_0, tee_1)");
    sub_bad(2, "", "a bootloader partition needs a subtype (primary, ota, recovery)");
    sub_bad(3, "", "a partition_table partition needs a subtype (primary, ota)");
    sub_bad(0, "ota_16",
            "unknown app subtype 'ota_16' (known: factory, ota_0..ota_15, test, tee_0, tee_1, or "
            "a number)");
    sub_bad(1, "fatfs",
            "unknown data subtype 'fatfs' (known: ota, phy, nvs, coredump, nvs_keys, efuse, "
            "undefined, esphttpd, fat, spiffs, littlefs, tee_ota, or a number)");
    sub_bad(2, "3", "unknown bootloader subtype 0x03 (known: primary, ota, recovery)");
    sub_bad(3, "recovery",
            "unknown partition_table subtype 'recovery' (known: primary, ota, or a number)");
    sub_bad(3, "2", "unknown partition_table subtype 0x02 (known: primary, ota)");
    sub_bad(0x40, "nvs", "subtype 'nvs' is not a number, and type 0x40 has no named subtypes");
    sub_bad(1, "0xff", "subtype 0xff is reserved (ESP-IDF reads it as any subtype)");
    sub_bad(1, "256", "subtype '256' is larger than 0xff");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(eg_partition_type_name(0), "app");
    assert_string_equal(eg_partition_type_name(1), "data");
    assert_string_equal(eg_partition_type_name(2), "bootloader");
    assert_string_equal(eg_partition_type_name(3), "partition_table");
    assert_null(eg_partition_type_name(4));
    assert_null(eg_partition_type_name(0x40));
    assert_string_equal(eg_partition_subtype_name(0, 0), "factory");
    assert_string_equal(eg_partition_subtype_name(0, 0x20), "test");
    assert_string_equal(eg_partition_subtype_name(0, 0x31), "tee_1");
    assert_null(eg_partition_subtype_name(0, 0x21));
    assert_string_equal(eg_partition_subtype_name(1, 0), "ota");
    assert_null(eg_partition_subtype_name(1, 0x07));
    assert_string_equal(eg_partition_subtype_name(2, 2), "recovery");
    assert_string_equal(eg_partition_subtype_name(3, 1), "ota");
    assert_null(eg_partition_subtype_name(3, 2));
    assert_null(eg_partition_subtype_name(0x40, 0));
}

/* ---- CSV ------------------------------------------------------------------------ */

static void test_csv_singleapp(void **state)
{
    eg_partition_table *t;
    (void)state;
    t = csv_ok(SINGLEAPP);
    assert_int_equal(count(t), 3);
    check_entry(entry(t, 0), "nvs", 1, 2, 0x9000, 0x6000, 0);
    check_entry(entry(t, 1), "phy_init", 1, 1, 0xF000, 0x1000, 0);
    check_entry(entry(t, 2), "factory", 0, 0, 0x10000, 0x100000, 0);
    assert_int_equal(entry(t, 0)->line, 2);
    assert_int_equal(entry(t, 2)->line, 4);
    eg_partition_table_free(t);
    eg_partition_table_free(NULL);
}

static void test_csv_numbers(void **state)
{
    eg_partition_table *t;
    (void)state;
    t = csv_ok("a, data, 0x40, 0x9000, 4k\n"
               "b, data, 0x40, 40960, 4K, \n"
               "c, data, 0x40, 0XB000, 0x1000\n"
               "d, data, 0x40, 0x30k, 0x2K\n"
               "e, app, factory, 1m, 1M\n"
               "f, 0x40, 1, 0x200000, 1024,,\n"
               "  g  ,  data  ,  nvs  ,  ,  12K  ,  encrypted:readonly  \n");
    assert_int_equal(count(t), 7);
    check_entry(entry(t, 0), "a", 1, 0x40, 0x9000, 0x1000, 0);
    check_entry(entry(t, 1), "b", 1, 0x40, 0xA000, 0x1000, 0);
    check_entry(entry(t, 2), "c", 1, 0x40, 0xB000, 0x1000, 0);
    check_entry(entry(t, 3), "d", 1, 0x40, 0xC000, 0x800, 0);
    check_entry(entry(t, 4), "e", 0, 0, 0x100000, 0x100000, 0);
    check_entry(entry(t, 5), "f", 0x40, 1, 0x200000, 0x400, 0);
    check_entry(entry(t, 6), "g", 1, 2, 0x201000, 0x3000, 3);
    eg_partition_table_free(t);
}

static void test_csv_auto_offsets(void **state)
{
    eg_partition_opts o;
    eg_partition_table *t;
    (void)state;
    eg_partition_opts_default(&o);
    o.table_offset = 0xA000;
    t = csv_ok_opts(SINGLEAPP, &o);
    check_entry(entry(t, 0), "nvs", 1, 2, 0xB000, 0x6000, 0);
    check_entry(entry(t, 1), "phy_init", 1, 1, 0x11000, 0x1000, 0);
    check_entry(entry(t, 2), "factory", 0, 0, 0x20000, 0x100000, 0);
    eg_partition_table_free(t);

    /* Data after an odd end lands on the next 4 KiB, an app on the next 64 KiB. */
    t = csv_ok("a, data, 0x40, , 0x1800\n"
               "b, data, 0x40, , 0x1000\n"
               "c, app, ota_0, , 0x1000\n"
               "d, data, 0x40, , 0x1000\n");
    assert_int_equal(entry(t, 0)->offset, 0x9000);
    assert_int_equal(entry(t, 1)->offset, 0xB000);
    assert_int_equal(entry(t, 2)->offset, 0x10000);
    assert_int_equal(entry(t, 3)->offset, 0x11000);
    eg_partition_table_free(t);
}

static void test_csv_bootloader_rows(void **state)
{
    eg_partition_opts o;
    eg_partition_table *t;
    const char *csv = "bootloader,       bootloader,       primary, N/A, N/A\n"
                      "partition_table,  partition_table,  primary, N/A, N/A\n"
                      "FactoryApp,       app,              factory, ,    1M\n"
                      "OtaBTLDR,         bootloader,       ota,     ,    N/A\n"
                      "OtaPrtTable,      partition_table,  ota,     ,    n/a\n"
                      "RecoveryBTLDR,    bootloader,       recovery, N/A, N/A\n";
    (void)state;
    eg_partition_opts_default(&o);
    o.table_offset = 0x9000;
    o.bootloader_offset = 0x1000;
    o.recovery_offset = 0x200000;
    t = csv_ok_opts(csv, &o);
    check_entry(entry(t, 0), "bootloader", 2, 0, 0x1000, 0x8000, 0);
    check_entry(entry(t, 1), "partition_table", 3, 0, 0x9000, 0x1000, 0);
    check_entry(entry(t, 2), "FactoryApp", 0, 0, 0x10000, 0x100000, 0);
    check_entry(entry(t, 3), "OtaBTLDR", 2, 1, 0x110000, 0x8000, 0);
    check_entry(entry(t, 4), "OtaPrtTable", 3, 1, 0x118000, 0x1000, 0);
    check_entry(entry(t, 5), "RecoveryBTLDR", 2, 2, 0x200000, 0x8000, 0);
    eg_partition_table_free(t);

    /* The fixed values may be written out. */
    t = csv_ok_opts("bootloader, bootloader, primary, 0x1000, 32K\n"
                    "pt, partition_table, primary, 0x9000, 0x1000,\n",
                    &o);
    assert_int_equal(count(t), 2);
    eg_partition_table_free(t);

    csv_bad_opts("pt, partition_table, primary, 0x8000, N/A\n", &o, EG_EINVAL,
                 "t.csv:1: partition 'pt': the offset of this row is the partition table offset, "
                 "0x9000; write it blank or N/A");
    csv_bad_opts("bl, bootloader, ota, , 0x7000\n", &o, EG_EINVAL,
                 "t.csv:1: partition 'bl': the size of this row is the space below the partition "
                 "table, 0x8000; write it blank or N/A");
    csv_bad_opts("bl, bootloader, ota, N/A, N/A\n", &o, EG_EINVAL,
                 "t.csv:1: partition 'bl': offset 'N/A' is not a number (write 0x hex or "
                 "decimal, with an optional K or M suffix)");
    csv_bad_opts("r, bootloader, recovery, 0x300000, N/A\n", &o, EG_EINVAL,
                 "t.csv:1: partition 'r': the offset of this row is the recovery bootloader "
                 "offset, 0x200000; write it blank or N/A");
    csv_bad("bl, bootloader, ota, , N/A\n",
            "t.csv:1: partition 'bl': a bootloader row's size is the space below the partition "
            "table, which needs the chip's bootloader offset, not known here");
}

static void test_csv_bad_rows(void **state)
{
    static const struct {
        const char *csv, *msg;
    } cases[] = {
        {"nvs, data, nvs, 0x9000, 0x6000\nphy, data, phy, 0xf000\n",
         "t.csv:2: expected 5 or 6 columns (Name, Type, SubType, Offset, Size, Flags), found 4"},
        {"nvs\n", "t.csv:1: expected 5 or 6 columns (Name, Type, SubType, Offset, Size, Flags), "
                  "found 1"},
        {"nvs, data, nvs, , 0x6000, , , x\n",
         "t.csv:1: expected 5 or 6 columns (Name, Type, SubType, Offset, Size, Flags), found 8"},
        {", data, nvs, , 0x6000\n", "t.csv:1: a partition needs a name"},
        {"abcdefghijklmnopq, data, nvs, , 0x6000\n",
         "t.csv:1: name 'abcdefghijklmnopq' is 17 bytes long; at most 16 fit"},
        {"\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84x, data, nvs, , 0x6000\n",
         "t.csv:1: name '\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84\xd1\x84x' is 17 "
         "bytes long; at most 16 fit"},
        {"n\xff, data, nvs, , 0x6000\n", "t.csv:1: the name is not valid UTF-8"},
        {"n\xc3, data, nvs, , 0x6000\n", "t.csv:1: the name is not valid UTF-8"},
        {"n\xed\xa0\x80, data, nvs, , 0x6000\n", "t.csv:1: the name is not valid UTF-8"},
        {"a\tb, data, nvs, , 0x6000\n", "t.csv:1: the name holds a control character (0x09)"},
        {"nvs, data, nvs, , 0x6000\x01\n", "t.csv:1: control character 0x01 in the row"},
        {"nvs, data, nvs, , ${SIZE}\n",
         "t.csv:1: '${SIZE}': environment variables are not expanded here; write the value"},
        {"n$x, data, nvs, , 0x6000\n",
         "t.csv:1: '$x': environment variables are not expanded here; write the value"},
        {"n$1, data, nvs, , 0x6000\n",
         "t.csv:1: name 'n$1' holds '$', which gen_esp32part expands as an environment variable"},
        {"nvs, , nvs, , 0x6000\n", "t.csv:1: partition 'nvs': the type is empty"},
        {"nvs, dta, nvs, , 0x6000\n",
         "t.csv:1: partition 'nvs': unknown type 'dta' (known: app, data, bootloader, "
         "partition_table, or a number 0x40-0xfe)"},
        {"x, 0x10, 0, , 0x6000\n",
         "t.csv:1: partition 'x': type 0x10 is reserved (custom types are 0x40-0xfe)"},
        {"nvs, data, nvs, 0x9g00, 0x6000\n",
         "t.csv:1: partition 'nvs': offset '0x9g00' is not a number (write 0x hex or decimal, "
         "with an optional K or M suffix)"},
        {"nvs, data, nvs, , 24KB\n", "t.csv:1: partition 'nvs': size '24KB' is not a number "
                                     "(write 0x hex or decimal, with an optional K or M suffix)"},
        {"nvs, data, nvs, , k\n", "t.csv:1: partition 'nvs': size 'k' is not a number (write "
                                  "0x hex or decimal, with an optional K or M suffix)"},
        {"nvs, data, nvs, , 0x\n", "t.csv:1: partition 'nvs': size '0x' is not a number (write "
                                   "0x hex or decimal, with an optional K or M suffix)"},
        {"nvs, data, nvs, , 0o17\n", "t.csv:1: partition 'nvs': size '0o17' is not a number "
                                     "(write 0x hex or decimal, with an optional K or M suffix)"},
        {"nvs, data, nvs, , 1_000\n", "t.csv:1: partition 'nvs': size '1_000' is not a number "
                                      "(write 0x hex or decimal, with an optional K or M suffix)"},
        {"nvs, data, nvs, , +4K\n", "t.csv:1: partition 'nvs': size '+4K' is not a number "
                                    "(write 0x hex or decimal, with an optional K or M suffix)"},
        {"nvs, data, nvs, , 0x100000000\n",
         "t.csv:1: partition 'nvs': size '0x100000000' is too large (more than 32 bits)"},
        {"nvs, data, nvs, , 4194304K\n",
         "t.csv:1: partition 'nvs': size '4194304K' is too large (more than 32 bits)"},
        {"nvs, data, nvs, 99999999999, 4K\n",
         "t.csv:1: partition 'nvs': offset '99999999999' is too large (more than 32 bits)"},
        {"nvs, data, nvs, , \n", "t.csv:1: partition 'nvs': the size is empty"},
        {"nvs, data, nvs, , 0\n", "t.csv:1: partition 'nvs' at 0x9000: the size is zero"},
        {"nvs, data, nvs, , 24K, encrypt\n",
         "t.csv:1: partition 'nvs': unknown flag 'encrypt' (known: encrypted, readonly)"},
        {"nvs, data, nvs, , 24K, Encrypted\n",
         "t.csv:1: partition 'nvs': unknown flag 'Encrypted' (known: encrypted, readonly)"},
        {"nvs, data, nvs, , 24K, encrypted:encrypted\n",
         "t.csv:1: partition 'nvs': flag 'encrypted' is given twice"},
        {"factory, app, , , 1M\n",
         "t.csv:1: partition 'factory': an app partition needs a subtype (factory, "
         "ota_0..ota_15, test, tee_0, tee_1)"},
        {"nvs, data, nvs, 0x9800, 24K\n",
         "t.csv:1: partition 'nvs' at 0x9800: the offset must be aligned to 0x1000"},
        {"factory, app, factory, 0x18000, 1M\n",
         "t.csv:1: partition 'factory' at 0x18000: an app partition's offset must be aligned to "
         "0x10000"},
        {"factory, app, factory, , 0x100100\n",
         "t.csv:1: partition 'factory' at 0x10000: an app partition's size must be a multiple "
         "of 0x1000 (0x100100 is not)"},
        {"nvs, data, nvs, 0x4000, 24K\n",
         "t.csv:1: partition 'nvs' at 0x4000: it starts below 0x9000, the end of the partition "
         "table at 0x8000"},
        {"nvs, data, nvs, 0x8000, 24K\n",
         "t.csv:1: partition 'nvs' at 0x8000: it starts below 0x9000, the end of the partition "
         "table at 0x8000"},
        {"a, data, 0x40, , 8K\nb, data, 0x40, 0xa000, 8K\n",
         "t.csv:2: partition 'b' at 0xa000: overlaps partition 'a' (line 1, 0x9000-0xafff)"},
        {"a, data, 0x40, 0x20000, 8K\nb, data, 0x40, 0x10000, 8K\n",
         "t.csv:2: partition 'b' at 0x10000: it starts below the end (0x22000) of the row before "
         "it, 'a' (line 1): rows must come in increasing offset order"},
        {"a, data, 0x40, , 8K\na, data, 0x41, , 8K\n",
         "t.csv:2: partition 'a' at 0xb000: the name is already used (line 1)"},
        {"nvs, data, nvs, , 0x2000\n",
         "t.csv:1: partition 'nvs' at 0x9000: an nvs partition smaller than 0x3000 must be "
         "flagged readonly (0x2000 bytes given)"},
        {"o, data, ota, , 0x2000, readonly\n",
         "t.csv:1: partition 'o' at 0x9000: a data partition of subtype ota is always read-write "
         "and cannot be readonly"},
        {"o, data, tee_ota, , 0x2000, readonly\n",
         "t.csv:1: partition 'o' at 0x9000: a data partition of subtype tee_ota is always "
         "read-write and cannot be readonly"},
        {"c, data, coredump, , 64K, readonly\n",
         "t.csv:1: partition 'c' at 0x9000: a data partition of subtype coredump is always "
         "read-write and cannot be readonly"},
        {"c, 0x40, 0, , 64K, readonly\n",
         "t.csv:1: partition 'c' at 0x9000: only data partitions may be readonly"},
        {"o, data, ota, , 0x3000\n",
         "t.csv:1: partition 'o' at 0x9000: a data partition of subtype ota must be 0x2000 "
         "bytes, not 0x3000"},
        {"o, data, tee_ota, , 0x1000\n",
         "t.csv:1: partition 'o' at 0x9000: a data partition of subtype tee_ota must be 0x2000 "
         "bytes, not 0x1000"},
        {"o, data, ota, , 8K\np, data, ota, , 8K\n",
         "t.csv:2: partition 'p' at 0xb000: a second data partition of subtype ota ('o', line 1, "
         "is one already); only one is allowed"},
        {"x, data, 0x40, 0xfffff000, 8K\n",
         "t.csv:1: partition 'x' at 0xfffff000: size 0x2000 takes it beyond 4 GiB"},
        {"x, data, 0x40, 0xfffff000, 4K\ny, data, 0x40, , 4K\n",
         "t.csv:2: partition 'y': no room: the next free offset 0x100000000 is beyond 4 GiB"},
        {"bl, bootloader, primary, , \n",
         "t.csv:1: partition 'bl': a primary bootloader row needs the chip's bootloader offset, "
         "which is not known here"},
        {"bl, bootloader, recovery, , \n",
         "t.csv:1: partition 'bl': a recovery bootloader row needs the recovery bootloader "
         "offset, which is not known here"},
        {"# only a comment\n\n   \n\t# another\n", "t.csv: no partitions, only comments and "
                                                   "blank lines"},
        {"", "t.csv: no partitions, only comments and blank lines"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        csv_bad(cases[i].csv, cases[i].msg);
}

static void test_csv_flash_size(void **state)
{
    eg_partition_opts o;
    eg_partition_table *t;
    (void)state;
    eg_partition_opts_default(&o);
    o.flash_size = 0x110000;
    t = csv_ok_opts(SINGLEAPP, &o);
    eg_partition_table_free(t);
    o.flash_size = 0x10F000;
    csv_bad_opts(SINGLEAPP, &o, EG_EINVAL,
                 "t.csv:4: partition 'factory' at 0x10000: it ends at 0x110000, beyond the end of "
                 "the 0x10f000-byte flash");
}

static void test_csv_bad_opts(void **state)
{
    eg_partition_opts o;
    (void)state;
    eg_partition_opts_default(&o);
    o.table_offset = 0x8800;
    csv_bad_opts(SINGLEAPP, &o, EG_EINVAL,
                 "partition table offset 0x8800 is not aligned to 0x1000");
    o.table_offset = 0xFFFFF000;
    csv_bad_opts(SINGLEAPP, &o, EG_EINVAL, "partition table offset 0xfffff000 is beyond 4 GiB");
    eg_partition_opts_default(&o);
    o.bootloader_offset = 0x8000;
    csv_bad_opts(SINGLEAPP, &o, EG_EINVAL,
                 "bootloader offset 0x8000 is not below the partition table offset 0x8000");
    eg_partition_opts_default(&o);
    o.flash_size = 0x8800;
    csv_bad_opts(SINGLEAPP, &o, EG_EINVAL,
                 "partition table offset 0x8000 does not fit a flash of 0x8800 bytes");
}

static void test_csv_text_forms(void **state)
{
    static const char bom_crlf[] = "\xEF\xBB\xBFnvs,data,nvs,,0x6000\r\n"
                                   "phy_init,data,phy,,0x1000\r\nfactory,app,factory,,1M\r\n";
    static const char cr[] = "nvs,data,nvs,,0x6000\rphy_init,data,phy,,0x1000\r"
                             "factory,app,factory,,1M";
    static const char lf[] = "nvs,data,nvs,,0x6000\nphy_init,data,phy,,0x1000\n"
                             "factory,app,factory,,1M";
    const char *forms[] = {bom_crlf, cr, lf};
    eg_partition_table *t;
    char longline[1100];
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        t = csv_ok(forms[i]);
        assert_int_equal(count(t), 3);
        check_entry(entry(t, 2), "factory", 0, 0, 0x10000, 0x100000, 0);
        assert_int_equal(entry(t, 2)->line, 3);
        eg_partition_table_free(t);
    }
    /* Line numbers count CRLF, CR and LF alike. */
    csv_bad("# c\r\n\r\n# c\rnvs, data, nvs, , 0x2000\n",
            "t.csv:4: partition 'nvs' at 0x9000: an nvs partition smaller than 0x3000 must be "
            "flagged readonly (0x2000 bytes given)");

    memset(longline, ' ', sizeof(longline));
    memcpy(longline, "nvs,data,nvs,,0x6000", 20);
    longline[sizeof(longline) - 1] = '\0';
    csv_bad(longline, "t.csv:1: the line is longer than 1024 bytes");
    {
        static const char nul[] = "nvs,data,nvs,,0x6000\n\0,data\n";
        eg_partition_table *u = SENTINEL;
        assert_int_equal(eg_partition_parse_csv(&u, nul, sizeof(nul) - 1, "t.csv", NULL),
                         EG_EINVAL);
        assert_null(u);
        assert_string_equal(eg_error_msg(), "t.csv:2: NUL byte in the line");
    }
    /* No source name: messages start with the line. */
    {
        eg_partition_table *u = SENTINEL;
        const char *csv = "nvs, data, nvs, , 0x2000\n";
        assert_int_equal(eg_partition_parse_csv(&u, csv, strlen(csv), NULL, NULL), EG_EINVAL);
        assert_null(u);
        expect_msg("line 1: partition 'nvs' at 0x9000: an nvs partition");
        csv = "# nothing\n";
        assert_int_equal(eg_partition_parse_csv(&u, csv, strlen(csv), NULL, NULL), EG_EINVAL);
        assert_string_equal(eg_error_msg(), "no partitions, only comments and blank lines");
        csv = "nvs, data\n";
        assert_int_equal(eg_partition_parse_csv(&u, csv, strlen(csv), NULL, NULL), EG_EINVAL);
        assert_string_equal(eg_error_msg(), "line 1: expected 5 or 6 columns (Name, Type, "
                                            "SubType, Offset, Size, Flags), found 2");
        csv = "a, data, 0x40, , 8K\nb, data, 0x40, , 8K\nb, data, 0x40, , 8K\n";
        assert_int_equal(eg_partition_parse_csv(&u, csv, strlen(csv), NULL, NULL), EG_EINVAL);
        assert_string_equal(eg_error_msg(),
                            "line 3: partition 'b' at 0xd000: the name is already used (line 2)");
    }
}

static void test_csv_max_entries(void **state)
{
    eg_buf csv = EG_BUF_INIT, bin = EG_BUF_INIT;
    eg_partition_table *t;
    char row[64];
    (void)state;
    for (int i = 0; i < EG_PARTITION_MAX; i++) {
        int n = snprintf(row, sizeof(row), "p%02d, data, 0x40, , 4K\n", i);
        assert_int_equal(eg_buf_append(&csv, row, (size_t)n), 0);
    }
    assert_int_equal(eg_buf_push(&csv, 0), 0);
    t = csv_ok((const char *)csv.data);
    assert_int_equal(count(t), EG_PARTITION_MAX);
    assert_int_equal(eg_partition_to_bin(&bin, t), 0);
    assert_int_equal(bin.len, EG_PARTITION_BIN_LEN);
    /* The MD5 row, then one end marker, fill the sector. */
    assert_int_equal(bin.data[EG_PARTITION_MAX * 32], 0xEB);
    assert_int_equal(bin.data[(EG_PARTITION_MAX + 1) * 32], 0xFF);
    eg_partition_table_free(t);
    csv.len--;
    assert_int_equal(eg_buf_append(&csv, "last, data, 0x40, , 4K\n", 23), 0);
    assert_int_equal(eg_buf_push(&csv, 0), 0);
    csv_bad((const char *)csv.data, "t.csv:95: too many partitions (at most 94 fit in the table)");
    eg_buf_release(&csv);
    eg_buf_release(&bin);
}

/* ---- binary --------------------------------------------------------------------- */

static void put_entry(uint8_t *bin, size_t i, uint8_t type, uint8_t sub, uint32_t off,
                      uint32_t size, const char *name, uint32_t flags)
{
    uint8_t *r = bin + i * 32;
    r[0] = 0xAA;
    r[1] = 0x50;
    r[2] = type;
    r[3] = sub;
    eg_put_u32le(r + 4, off);
    eg_put_u32le(r + 8, size);
    memset(r + 12, 0, 16);
    memcpy(r + 12, name, strnlen(name, 16));
    eg_put_u32le(r + 28, flags);
}

static void put_md5(uint8_t *bin, size_t i)
{
    uint8_t *r = bin + i * 32;
    r[0] = 0xEB;
    r[1] = 0xEB;
    memset(r + 2, 0xFF, 14);
    assert_int_equal(eg_md5(r + 16, bin, i * 32), 0);
}

/* A sector of 0xff with the single-app table's entries; md5 adds the MD5 row. */
static void singleapp_bin(uint8_t bin[0x1000], int md5)
{
    memset(bin, 0xFF, 0x1000);
    put_entry(bin, 0, 1, 2, 0x9000, 0x6000, "nvs", 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "phy_init", 0);
    put_entry(bin, 2, 0, 0, 0x10000, 0x100000, "factory", 0);
    if (md5)
        put_md5(bin, 3);
}

static void bin_bad(const uint8_t *data, size_t len, int code, const char *msg)
{
    eg_partition_table *t = SENTINEL;
    int rc = eg_partition_parse_bin(&t, data, len, "t.bin", NULL);
    if (rc != code)
        fail_msg("code %d, wanted %d (%s)", rc, code, eg_error_msg());
    assert_null(t);
    if (strcmp(eg_error_msg(), msg) != 0)
        fail_msg("message\n  '%s'\nwanted\n  '%s'", eg_error_msg(), msg);
}

static eg_partition_table *bin_ok(const uint8_t *data, size_t len)
{
    eg_partition_table *t = SENTINEL;
    int rc = eg_partition_parse_bin(&t, data, len, "t.bin", NULL);
    if (rc != 0)
        fail_msg("binary rejected (%d): %s", rc, eg_error_msg());
    return t;
}

static void test_bin_write(void **state)
{
    eg_partition_table *t;
    eg_buf out = EG_BUF_INIT;
    uint8_t want[0x1000];
    (void)state;
    t = csv_ok(SINGLEAPP);
    assert_int_equal(eg_buf_append(&out, "xy", 2), 0); /* appends after what is there */
    assert_int_equal(eg_partition_to_bin(&out, t), 0);
    assert_int_equal(out.len, 2 + 0xC00);
    singleapp_bin(want, 1);
    assert_memory_equal(out.data + 2, want, 0xC00);
    /* The first row as gen_esp32part.py writes it (checked against its output). */
    {
        static const uint8_t nvs[32] = {0xAA, 0x50, 0x01, 0x02, 0x00, 0x90, 0x00, 0x00,
                                        0x00, 0x60, 0x00, 0x00, 'n',  'v',  's'};
        static const uint8_t md5_tail[16] = {0xf4, 0xad, 0x4f, 0x45, 0x38, 0x56, 0x4b, 0x5d,
                                             0x74, 0x35, 0xb6, 0x2c, 0x75, 0xb6, 0x95, 0x24};
        assert_memory_equal(out.data + 2, nvs, 32);
        assert_memory_equal(out.data + 2 + 3 * 32 + 16, md5_tail, 16);
    }
    eg_partition_table_free(t);
    eg_buf_release(&out);
}

static void test_bin_read(void **state)
{
    uint8_t bin[0x1000];
    eg_partition_table *t;
    (void)state;

    /* A whole sector read back from flash. */
    singleapp_bin(bin, 1);
    t = bin_ok(bin, sizeof(bin));
    assert_int_equal(count(t), 3);
    check_entry(entry(t, 0), "nvs", 1, 2, 0x9000, 0x6000, 0);
    check_entry(entry(t, 2), "factory", 0, 0, 0x10000, 0x100000, 0);
    assert_int_equal(entry(t, 0)->line, 0);
    eg_partition_table_free(t);

    /* Just the entries and the end marker, without the MD5 row. */
    singleapp_bin(bin, 0);
    t = bin_ok(bin, 4 * 32);
    assert_int_equal(count(t), 3);
    eg_partition_table_free(t);

    /* Anything after the end marker is not read. */
    singleapp_bin(bin, 1);
    memset(bin + 5 * 32, 0x00, 64);
    t = bin_ok(bin, sizeof(bin));
    eg_partition_table_free(t);

    /* A 16-byte name has no NUL; bytes after a NUL are not part of the name. */
    memset(bin, 0xFF, sizeof(bin));
    put_entry(bin, 0, 0, 0, 0x10000, 0x100000, "a_sixteen_chars_", 1);
    put_entry(bin, 1, 1, 0x40, 0x9000, 0x1000, "ab", 0);
    bin[32 + 12 + 3] = 'z';
    put_md5(bin, 2);
    t = bin_ok(bin, 0xC00);
    check_entry(entry(t, 0), "a_sixteen_chars_", 0, 0, 0x10000, 0x100000, 1);
    check_entry(entry(t, 1), "ab", 1, 0x40, 0x9000, 0x1000, 0);
    eg_partition_table_free(t);

    /* 95 entries without the MD5 row still hold an end marker in 0xc00 bytes; they do
     * not fit a binary this module writes. */
    memset(bin, 0xFF, sizeof(bin));
    for (size_t i = 0; i < 95; i++) {
        char name[8];
        snprintf(name, sizeof(name), "p%zu", i);
        put_entry(bin, i, 1, 0x40, (uint32_t)(0x9000 + i * 0x1000), 0x1000, name, 0);
    }
    t = bin_ok(bin, 0xC00);
    assert_int_equal(count(t), 95);
    {
        eg_buf out = EG_BUF_INIT;
        assert_int_equal(eg_buf_append(&out, "k", 1), 0);
        assert_int_equal(eg_partition_to_bin(&out, t), EG_EINVAL);
        assert_string_equal(eg_error_msg(), "too many partitions for a binary table: 95 (at most "
                                            "94 fit with the MD5 row)");
        assert_int_equal(out.len, 1);
        eg_buf_release(&out);
    }
    eg_partition_table_free(t);
}

static void test_bin_bad_all(void **state)
{
    uint8_t bin[0x1000];
    (void)state;

    /* A wrong digest. */
    singleapp_bin(bin, 1);
    bin[3 * 32 + 16] ^= 0xFF;
    {
        eg_partition_table *t = SENTINEL;
        assert_int_equal(eg_partition_parse_bin(&t, bin, sizeof(bin), "t.bin", NULL), EG_EMISMATCH);
        assert_null(t);
        assert_string_equal(eg_error_msg(), "t.bin: MD5 mismatch: the table says "
                                            "0bad4f4538564b5d7435b62c75b69524, its entries hash "
                                            "to f4ad4f4538564b5d7435b62c75b69524");
    }
    /* An entry changed under the digest. */
    singleapp_bin(bin, 1);
    bin[2 * 32 + 8] = 0x20;
    {
        eg_partition_table *t = SENTINEL;
        assert_int_equal(eg_partition_parse_bin(&t, bin, sizeof(bin), "t.bin", NULL), EG_EMISMATCH);
        assert_null(t);
        expect_msg("t.bin: MD5 mismatch: the table says f4ad4f4538564b5d7435b62c75b69524, its "
                   "entries hash to ");
    }
    /* An MD5 row whose filler is not 0xff. */
    singleapp_bin(bin, 1);
    bin[3 * 32 + 5] = 0;
    bin_bad(bin, sizeof(bin), EG_EINVAL, "t.bin: entry 4: bad MD5 row (bytes 2-15 are not 0xff)");
    /* Garbage magic. */
    singleapp_bin(bin, 1);
    bin[32] = 0x12;
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: bad magic 12 50 (not an entry, the MD5 row or the end-of-table "
            "marker)");
    /* A row of 0xff that is not all 0xff. */
    singleapp_bin(bin, 0);
    bin[3 * 32 + 31] = 0;
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 4: bad magic ff ff (not an entry, the MD5 row or the end-of-table "
            "marker)");
    /* Cut inside a row, and at a row boundary before the end marker. */
    singleapp_bin(bin, 1);
    bin_bad(bin, 2 * 32 + 10, EG_EINVAL, "t.bin: truncated: entry 3 has 10 of 32 bytes");
    bin_bad(bin, 4 * 32, EG_EINVAL,
            "t.bin: truncated: the data ends after 4 rows without the end-of-table marker");
    bin_bad(bin, 0, EG_EINVAL,
            "t.bin: truncated: the data ends after 0 rows without the end-of-table marker");
    /* Erased flash, or nothing but the MD5 row. */
    memset(bin, 0xFF, sizeof(bin));
    bin_bad(bin, sizeof(bin), EG_EINVAL, "t.bin: empty partition table (erased flash?)");
    put_md5(bin, 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL, "t.bin: empty partition table (only the MD5 row)");
    /* An entry, or a second MD5 row, after the MD5 row. */
    singleapp_bin(bin, 1);
    put_entry(bin, 4, 1, 0x40, 0x200000, 0x1000, "late", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 5 follows the MD5 row, where only the end-of-table marker may");
    singleapp_bin(bin, 1);
    memcpy(bin + 4 * 32, bin + 3 * 32, 32);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 5 follows the MD5 row, where only the end-of-table marker may");
    /* No end marker in 0xc00 bytes. */
    memset(bin, 0xFF, sizeof(bin));
    for (size_t i = 0; i < 96; i++) {
        char name[8];
        snprintf(name, sizeof(name), "p%zu", i);
        put_entry(bin, i, 1, 0x40, (uint32_t)(0x9000 + i * 0x1000), 0x1000, name, 0);
    }
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: no end-of-table marker (a row of 32 0xff bytes) in the first 0xc00 bytes");

    /* Entries that break the rules name their entry. */
    singleapp_bin(bin, 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "nvs", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: partition 'nvs' at 0xf000: the name is already used (entry 1)");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 0, 0, 0xE000, 0x100000, "factory", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'factory' at 0xe000: an app partition's offset must be "
            "aligned to 0x10000");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 1, 0x40, 0xE000, 0x2000, "blob", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'blob' at 0xe000: overlaps partition 'nvs' (entry 1, "
            "0x9000-0xefff)");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 0, 0, 0x10000, 0x100000, "factory", 4);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'factory' at 0x10000: unknown flag bits 0x4 (known: "
            "encrypted 0x1, readonly 0x2)");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 0x3F, 0, 0x10000, 0x100000, "factory", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'factory' at 0x10000: type 0x3f is reserved (custom types "
            "are 0x40-0xfe)");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 0xFF, 0, 0x10000, 0x100000, "factory", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'factory' at 0x10000: type 0xff is reserved (custom types "
            "are 0x40-0xfe)");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 1, 0xFF, 0x10000, 0x100000, "x", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'x' at 0x10000: subtype 0xff is reserved (ESP-IDF reads "
            "it as any subtype)");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 2, 7, 0x10000, 0x8000, "bl", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'bl' at 0x10000: unknown bootloader subtype 0x07");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 1, 0x40, 0xFFFF0000, 0x20000, "x", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'x' at 0xffff0000: size 0x20000 takes it beyond 4 GiB");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 1, 0x40, 0x1000, 0x1000, "low", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'low' at 0x1000: it starts below 0x9000, the end of the "
            "partition table at 0x8000");
    singleapp_bin(bin, 0);
    put_entry(bin, 2, 3, 0, 0x7000, 0x1000, "pt", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 3: partition 'pt' at 0x7000: the primary partition table is at 0x8000, "
            "not here");
    /* Names: empty, control characters, bad UTF-8, a comma. */
    singleapp_bin(bin, 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: partition at 0xf000: a partition needs "
            "a name");
    singleapp_bin(bin, 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "ph\ny", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: partition at 0xf000: the name holds a control character (0x0a)");
    singleapp_bin(bin, 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "ph\xe9", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: partition at 0xf000: the name is not valid UTF-8");
    singleapp_bin(bin, 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "a,b", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: partition at 0xf000: name 'a,b' holds ',', which separates CSV "
            "columns");
    singleapp_bin(bin, 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "#phy", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: partition at 0xf000: name '#phy' starts with '#', which makes a CSV "
            "row a comment");
    singleapp_bin(bin, 0);
    put_entry(bin, 1, 1, 1, 0xF000, 0x1000, "phy ", 0);
    bin_bad(bin, sizeof(bin), EG_EINVAL,
            "t.bin: entry 2: partition at 0xf000: name 'phy ' starts or ends with a space, which "
            "a CSV row loses");

    /* Without a source name. */
    {
        eg_partition_table *t = SENTINEL;
        singleapp_bin(bin, 0);
        put_entry(bin, 1, 1, 1, 0xF000, 0x800, "phy_init", 0);
        put_entry(bin, 2, 1, 0x40, 0xF000, 0x1000, "x", 0);
        assert_int_equal(eg_partition_parse_bin(&t, bin, sizeof(bin), NULL, NULL), EG_EINVAL);
        assert_null(t);
        assert_string_equal(eg_error_msg(), "entry 3: partition 'x' at 0xf000: overlaps "
                                            "partition 'phy_init' (entry 2, 0xf000-0xf7ff)");
        memset(bin, 0xFF, 32);
        assert_int_equal(eg_partition_parse_bin(&t, bin, sizeof(bin), NULL, NULL), EG_EINVAL);
        assert_string_equal(eg_error_msg(), "empty partition table (erased flash?)");
    }
}

static void test_bin_bootloader_entries(void **state)
{
    uint8_t bin[0x1000];
    eg_partition_opts o;
    eg_partition_table *t = SENTINEL;
    (void)state;
    memset(bin, 0xFF, sizeof(bin));
    put_entry(bin, 0, 2, 0, 0x1000, 0x7000, "bootloader", 0);
    put_entry(bin, 1, 3, 0, 0x8000, 0x1000, "partition_table", 0);
    put_entry(bin, 2, 0, 0, 0x10000, 0x100000, "factory", 0);
    put_md5(bin, 3);
    t = bin_ok(bin, sizeof(bin)); /* bootloader offset unknown: not checked */
    assert_int_equal(count(t), 3);
    eg_partition_table_free(t);
    eg_partition_opts_default(&o);
    o.bootloader_offset = 0x1000;
    assert_int_equal(eg_partition_parse_bin(&t, bin, sizeof(bin), "t.bin", &o), 0);
    eg_partition_table_free(t);
    o.bootloader_offset = 0x0;
    t = SENTINEL;
    assert_int_equal(eg_partition_parse_bin(&t, bin, sizeof(bin), "t.bin", &o), EG_EINVAL);
    assert_null(t);
    assert_string_equal(eg_error_msg(), "t.bin: entry 1: partition 'bootloader' at 0x1000: the "
                                        "bootloader is at 0x0, not here");
    o.table_offset = 0x8800;
    assert_int_equal(eg_partition_parse_bin(&t, bin, sizeof(bin), "t.bin", &o), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "partition table offset 0x8800 is not aligned to 0x1000");
}

/* ---- output --------------------------------------------------------------------- */

static void test_to_csv(void **state)
{
    eg_partition_table *t;
    eg_buf out = EG_BUF_INIT;
    const char *want = "# ESP-IDF Partition Table\n"
                       "# Name, Type, SubType, Offset, Size, Flags\n"
                       "nvs,data,nvs,0x9000,24K,\n"
                       "keys,data,nvs_keys,0xf000,4K,encrypted\n"
                       "ro,data,nvs,0x10000,8K,readonly\n"
                       "factory,app,factory,0x20000,1M,encrypted\n"
                       "odd,data,21,0x120000,0x1100,encrypted:readonly\n"
                       "blob,64,3,0x122000,1536K,\n"
                       "ota_3,app,ota_3,0x2b0000,1M,\n";
    (void)state;
    t = csv_ok("nvs, data, nvs, , 0x6000\n"
               "keys, data, nvs_keys, , 4K, encrypted\n"
               "ro, data, nvs, , 0x2000, readonly\n"
               "factory, app, factory, , 1M, encrypted\n"
               "odd, data, 0x15, , 0x1100, readonly:encrypted\n"
               "blob, 0x40, 3, , 1536K\n"
               "ota_3, app, ota_3, , 1024K\n");
    assert_int_equal(eg_partition_to_csv(&out, t), 0);
    assert_string_equal((const char *)out.data, want);
    assert_int_equal(out.len, strlen(want));
    /* Appends. */
    assert_int_equal(eg_partition_to_csv(&out, t), 0);
    assert_int_equal(out.len, 2 * strlen(want));
    eg_partition_table_free(t);
    eg_buf_release(&out);
}

static void test_render(void **state)
{
    eg_partition_table *t;
    eg_buf out = EG_BUF_INIT;
    const char *want = "Name              Type             SubType      Offset    Size  Flags\n"
                       "nvs               data             nvs          0x9000    24KB\n"
                       "a_sixteen_chars_  app              factory     0x10000     1MB  encrypted\n"
                       "\xd0\xb8\xd0\xbc\xd1\x8f               data             0x07       "
                       "0x110000   5000B  encrypted, readonly\n"
                       "rec               data             undefined  0x112000  1500KB  readonly\n"
                       "pt                partition_table  ota        0x289000     4KB\n";
    (void)state;
    t = csv_ok("nvs, data, nvs, , 0x6000\n"
               "a_sixteen_chars_, app, factory, , 1M, encrypted\n"
               "\xd0\xb8\xd0\xbc\xd1\x8f, data, 7, , 5000, encrypted:readonly\n"
               "rec, data, , , 1500K, readonly\n"
               "pt, partition_table, ota, , N/A\n");
    assert_int_equal(eg_partition_render(&out, t), 0);
    if (strcmp((const char *)out.data, want) != 0)
        fail_msg("rendered\n%s\nwanted\n%s", (const char *)out.data, want);
    assert_int_equal(out.len, strlen(want));
    eg_partition_table_free(t);
    eg_buf_release(&out);
}

/* ---- default table -------------------------------------------------------------- */

static void test_default(void **state)
{
    eg_partition_opts o;
    eg_partition_table *t = SENTINEL;
    eg_buf bin = EG_BUF_INIT, ref = EG_BUF_INIT;
    eg_partition_table *r;
    (void)state;
    eg_partition_opts_default(&o);
    o.flash_size = 4u << 20;
    assert_int_equal(eg_partition_default(&t, &o), 0);
    assert_int_equal(count(t), 3);
    check_entry(entry(t, 0), "nvs", 1, 2, 0x9000, 0x6000, 0);
    check_entry(entry(t, 1), "phy_init", 1, 1, 0xF000, 0x1000, 0);
    check_entry(entry(t, 2), "factory", 0, 0, 0x10000, 0x3F0000, 0);
    /* The same binary as the equivalent CSV. */
    assert_int_equal(eg_partition_to_bin(&bin, t), 0);
    r = csv_ok("nvs,data,nvs,,0x6000\nphy_init,data,phy,,0x1000\nfactory,app,factory,,0x3F0000\n");
    assert_int_equal(eg_partition_to_bin(&ref, r), 0);
    assert_memory_equal(bin.data, ref.data, bin.len);
    eg_partition_table_free(r);
    eg_partition_table_free(t);

    o.flash_size = 1u << 20;
    assert_int_equal(eg_partition_default(&t, &o), 0);
    assert_int_equal(entry(t, 2)->size, 0xF0000);
    eg_partition_table_free(t);

    o.flash_size = 32u << 20; /* capped as espflash caps it */
    assert_int_equal(eg_partition_default(&t, &o), 0);
    assert_int_equal(entry(t, 2)->size, EG_PARTITION_DEFAULT_APP_MAX);
    assert_int_equal(entry(t, 2)->size, 0xFA0000);
    eg_partition_table_free(t);

    o.flash_size = 0x200800; /* an odd size: the app ends on a sector */
    assert_int_equal(eg_partition_default(&t, &o), 0);
    assert_int_equal(entry(t, 2)->size, 0x1F0000);
    eg_partition_table_free(t);

    o.flash_size = 2u << 20;
    o.table_offset = 0xA000; /* placed after the table, as partitions_singleapp.csv is */
    assert_int_equal(eg_partition_default(&t, &o), 0);
    check_entry(entry(t, 0), "nvs", 1, 2, 0xB000, 0x6000, 0);
    check_entry(entry(t, 1), "phy_init", 1, 1, 0x11000, 0x1000, 0);
    check_entry(entry(t, 2), "factory", 0, 0, 0x20000, 0x1E0000, 0);
    eg_partition_table_free(t);

    t = SENTINEL;
    assert_int_equal(eg_partition_default(&t, NULL), EG_EINVAL);
    assert_null(t);
    assert_string_equal(eg_error_msg(), "the default partition table needs the flash size");
    t = SENTINEL;
    eg_partition_opts_default(&o);
    o.flash_size = 0x1F000;
    assert_int_equal(eg_partition_default(&t, &o), EG_EINVAL);
    assert_null(t);
    assert_string_equal(eg_error_msg(), "a 124KB flash is too small for the default partition "
                                        "table (its factory app starts at 0x10000)");
    t = SENTINEL;
    o.table_offset = 0x8100;
    assert_int_equal(eg_partition_default(&t, &o), EG_EINVAL);
    assert_null(t);
    assert_string_equal(eg_error_msg(), "partition table offset 0x8100 is not aligned to 0x1000");
    eg_buf_release(&bin);
    eg_buf_release(&ref);
}

/* ---- lookups -------------------------------------------------------------------- */

static const char OTA_TABLE[] = "nvs,      data, nvs,     ,        0x4000,\n"
                                "otadata,  data, ota,     ,        0x2000,\n"
                                "phy_init, data, phy,     ,        0x1000,\n"
                                "tee_0,    app,  tee_0,   ,        192K,\n"
                                "factory,  app,  factory, ,        1M,\n"
                                "ota_0,    app,  ota_0,   ,        1M,\n"
                                "ota_1,    app,  ota_1,   ,        1M,\n"
                                "fs_a,     data, fat,     ,        64K,\n"
                                "spiffs,   data, spiffs,  ,        64K,\n"
                                "fs_b,     data, fat,     ,        64K,\n";

static void test_find(void **state)
{
    eg_partition_table *t;
    (void)state;
    t = csv_ok(OTA_TABLE);
    assert_ptr_equal(eg_partition_find_name(t, "ota_1"), entry(t, 6));
    assert_null(eg_partition_find_name(t, "OTA_1"));
    assert_null(eg_partition_find_name(t, "missing"));
    assert_ptr_equal(eg_partition_find_type(t, 1, 0x81), entry(t, 7));
    assert_ptr_equal(eg_partition_find_type(t, 0, 0x11), entry(t, 6));
    assert_ptr_equal(eg_partition_find_type(t, 0, EG_PARTITION_SUBTYPE_ANY), entry(t, 3));
    assert_ptr_equal(eg_partition_find_type(t, 1, EG_PARTITION_SUBTYPE_ANY), entry(t, 0));
    assert_null(eg_partition_find_type(t, 1, 0x83));
    assert_null(eg_partition_find_type(t, 0x40, EG_PARTITION_SUBTYPE_ANY));
    eg_partition_table_free(t);
}

static void target_is(const char *csv, const char *name, const char *want)
{
    eg_partition_table *t = csv_ok(csv);
    const eg_partition *p = (const eg_partition *)&not_a_table;
    if (eg_partition_app_target(&p, t, name) != 0)
        fail_msg("no target: %s", eg_error_msg());
    assert_non_null(p);
    assert_string_equal(p->name, want);
    eg_partition_table_free(t);
}

static void target_bad(const char *csv, const char *name, int code, const char *msg)
{
    eg_partition_table *t = csv_ok(csv);
    const eg_partition *p = (const eg_partition *)&not_a_table;
    assert_int_equal(eg_partition_app_target(&p, t, name), code);
    assert_null(p);
    assert_string_equal(eg_error_msg(), msg);
    eg_partition_table_free(t);
}

static void test_app_target(void **state)
{
    (void)state;
    target_is(OTA_TABLE, NULL, "factory");
    target_is(OTA_TABLE, "ota_1", "ota_1");
    target_is(OTA_TABLE, "tee_0", "tee_0");
    target_is("tee_0, app, tee_0, , 64K\nb, app, ota_1, , 64K\na, app, ota_0, , 64K\n", NULL, "a");
    target_is("tee_0, app, tee_0, , 64K\ntee_1, app, tee_1, , 64K\nt, app, test, , 64K\n"
              "b, app, ota_1, , 64K\n",
              NULL, "t");
    target_bad("tee_0, app, tee_0, , 64K\nnvs, data, nvs, , 0x6000\n", NULL, EG_ENOTFOUND,
               "the partition table has no app partition");
    target_bad(OTA_TABLE, "nvs", EG_EINVAL, "partition 'nvs' is a data partition, not an app");
    target_bad("c, 0x40, 0, , 4K\nf, app, factory, , 64K\n", "c", EG_EINVAL,
               "partition 'c' has type 0x40, not app");
    target_bad(OTA_TABLE, "ota_2", EG_ENOTFOUND,
               "no partition named 'ota_2' (the table has: nvs, otadata, phy_init, tee_0, "
               "factory, ota_0, ota_1, fs_a, spiffs, fs_b)");
}

static void test_select_data(void **state)
{
    eg_partition_table *t;
    const eg_partition **sel = (const eg_partition **)&not_a_table;
    size_t n = 99;
    (void)state;
    t = csv_ok(OTA_TABLE);
    assert_int_equal(eg_partition_select_data(&sel, &n, t, "ota,nvs"), 0);
    assert_int_equal(n, 2);
    assert_ptr_equal(sel[0], entry(t, 0)); /* table order, not list order */
    assert_ptr_equal(sel[1], entry(t, 1));
    free(sel);
    assert_int_equal(eg_partition_select_data(&sel, &n, t, " fat , NVS,fat,0x82"), 0);
    assert_int_equal(n, 4);
    assert_string_equal(sel[0]->name, "nvs");
    assert_string_equal(sel[1]->name, "fs_a");
    assert_string_equal(sel[2]->name, "spiffs");
    assert_string_equal(sel[3]->name, "fs_b");
    free(sel);
    sel = (const eg_partition **)&not_a_table;
    assert_int_equal(eg_partition_select_data(&sel, &n, t, "littlefs,coredump"), 0);
    assert_int_equal(n, 0);
    assert_null(sel);

    sel = (const eg_partition **)&not_a_table;
    n = 99;
    assert_int_equal(eg_partition_select_data(&sel, &n, t, "ota,nvss"), EG_EINVAL);
    assert_null(sel);
    assert_int_equal(n, 0);
    assert_string_equal(eg_error_msg(),
                        "data partition list 'ota,nvss': unknown data subtype 'nvss' (known: ota, "
                        "phy, nvs, coredump, nvs_keys, efuse, undefined, esphttpd, fat, spiffs, "
                        "littlefs, tee_ota, or a number)");
    sel = (const eg_partition **)&not_a_table;
    assert_int_equal(eg_partition_select_data(&sel, &n, t, "ota,,nvs"), EG_EINVAL);
    assert_null(sel);
    assert_string_equal(eg_error_msg(), "data partition list 'ota,,nvs' has an empty item");
    assert_int_equal(eg_partition_select_data(&sel, &n, t, ""), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "data partition list '' has an empty item");
    assert_int_equal(eg_partition_select_data(&sel, &n, t, "ota,"), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "data partition list 'ota,' has an empty item");
    assert_int_equal(eg_partition_select_data(&sel, &n, t, "0xff"), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "data partition list '0xff': subtype 0xff is reserved "
                                        "(ESP-IDF reads it as any subtype)");
    eg_partition_table_free(t);
}

/* ---- files and the corpus ------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_load(void **state)
{
    char dir[] = "/tmp/eg_partition_XXXXXX";
    char csv[64], bin[64], missing[64];
    eg_partition_table *t = SENTINEL;
    uint8_t b[0x1000];
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(csv, sizeof(csv), "%s/p.csv", dir);
    snprintf(bin, sizeof(bin), "%s/p.bin", dir);
    snprintf(missing, sizeof(missing), "%s/none.csv", dir);

    write_file(csv, SINGLEAPP, strlen(SINGLEAPP));
    assert_int_equal(eg_partition_load(&t, csv, NULL), 0);
    assert_int_equal(count(t), 3);
    eg_partition_table_free(t);

    singleapp_bin(b, 1);
    write_file(bin, b, 0xC00);
    t = SENTINEL;
    assert_int_equal(eg_partition_load(&t, bin, NULL), 0);
    check_entry(entry(t, 2), "factory", 0, 0, 0x10000, 0x100000, 0);
    eg_partition_table_free(t);

    b[3 * 32 + 16] ^= 1;
    write_file(bin, b, 0xC00);
    t = SENTINEL;
    assert_int_equal(eg_partition_load(&t, bin, NULL), EG_EMISMATCH);
    assert_null(t);
    expect_msg(bin);
    expect_msg(": MD5 mismatch");

    write_file(csv, "nvs, data, nvs, , 0x2000\n", 25);
    t = SENTINEL;
    assert_int_equal(eg_partition_load(&t, csv, NULL), EG_EINVAL);
    assert_null(t);
    expect_msg("/p.csv:1: partition 'nvs' at 0x9000: an nvs partition smaller than 0x3000");

    t = SENTINEL;
    assert_int_equal(eg_partition_load(&t, missing, NULL), EG_ENOTFOUND);
    assert_null(t);
    expect_msg("cannot open");

    unlink(csv);
    unlink(bin);
    rmdir(dir);
}

/* The next blank-separated word of *p (advanced past it) into dst, or 0 at the end. */
static int next_word(char *dst, size_t len, const char **p)
{
    size_t n = 0;

    while (**p == ' ')
        (*p)++;
    while (**p && **p != ' ' && **p != '\r' && **p != '\n' && n + 1 < len)
        dst[n++] = *(*p)++;
    dst[n] = '\0';
    return n > 0;
}

/* Reads the options a corpus file's "# gen: ..." line gives gen_esp32part.py. */
static void corpus_opts(eg_partition_opts *o, const char *text)
{
    const char *p = strstr(text, "# gen: ");
    char opt[64], val[64];

    eg_partition_opts_default(o);
    if (!p)
        return;
    p += 7;
    while (next_word(opt, sizeof(opt), &p)) {
        if (!next_word(val, sizeof(val), &p))
            fail_msg("gen option '%s' without a value", opt);
        if (strcmp(opt, "--offset") == 0)
            o->table_offset = (uint32_t)strtoul(val, NULL, 0);
        else if (strcmp(opt, "--primary-bootloader-offset") == 0)
            o->bootloader_offset = (uint32_t)strtoul(val, NULL, 0);
        else if (strcmp(opt, "--recovery-bootloader-offset") == 0)
            o->recovery_offset = (uint32_t)strtoul(val, NULL, 0);
        else if (strcmp(opt, "--flash-size") == 0)
            o->flash_size = (uint32_t)strtoul(val, NULL, 10) << 20;
        else
            fail_msg("unknown gen option '%s'", opt);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the *.csv files in dir, sorted; *n their number. */
static char **list_csv(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;

    *n = 0;
    if (!d)
        fail_msg("cannot open the corpus folder '%s'", dir);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".csv") != 0)
            continue;
        names = realloc(names, (*n + 1) * sizeof(*names));
        assert_non_null(names);
        names[*n] = strdup(de->d_name);
        assert_non_null(names[*n]);
        (*n)++;
    }
    closedir(d);
    qsort(names, *n, sizeof(*names), cmp_str);
    return names;
}

/* dir/base + suffix into dst, where base is file without its last cut bytes. */
static void path_of(char *dst, size_t len, const char *dir, const char *file, size_t cut,
                    const char *suffix)
{
    int n = snprintf(dst, len, "%s/%.*s%s", dir, (int)(strlen(file) - cut), file, suffix);
    assert_true(n > 0 && (size_t)n < len);
}

static void read_text(eg_buf *out, const char *path)
{
    if (eg_buf_read_file(out, path) != 0)
        fail_msg("%s", eg_error_msg());
    assert_int_equal(eg_buf_push(out, 0), 0);
    out->len--;
}

static void corpus_good(const char *dir, const char *file)
{
    char path[1024];
    eg_partition_opts o;
    eg_buf text = EG_BUF_INIT, bin = EG_BUF_INIT, csv = EG_BUF_INIT, bin2 = EG_BUF_INIT,
           csv2 = EG_BUF_INIT, bin3 = EG_BUF_INIT, ref = EG_BUF_INIT, human = EG_BUF_INIT;
    eg_partition_table *t = SENTINEL, *t2 = SENTINEL, *t3 = SENTINEL;
    size_t n;

    path_of(path, sizeof(path), dir, file, 0, "");
    read_text(&text, path);
    corpus_opts(&o, (const char *)text.data);
    if (eg_partition_parse_csv(&t, (const char *)text.data, text.len, file, &o) != 0)
        fail_msg("%s rejected: %s", file, eg_error_msg());
    eg_partition_entries(t, &n);
    assert_true(n > 0);
    assert_int_equal(eg_partition_to_bin(&bin, t), 0);
    assert_int_equal(bin.len, EG_PARTITION_BIN_LEN);
    assert_int_equal(eg_partition_to_csv(&csv, t), 0);
    assert_int_equal(eg_partition_render(&human, t), 0);

    /* gen_esp32part.py's binary and CSV for this file, when made (make_refs.sh). */
    path_of(path, sizeof(path), dir, file, 4, ".bin");
    if (access(path, R_OK) == 0) {
        read_text(&ref, path);
        if (ref.len != bin.len || memcmp(ref.data, bin.data, bin.len) != 0)
            fail_msg("%s: binary differs from gen_esp32part.py's %s", file, path);
        eg_buf_release(&ref);
        path_of(path, sizeof(path), dir, file, 4, ".bin.txt");
        read_text(&ref, path);
        if (strcmp((const char *)ref.data, (const char *)csv.data) != 0)
            fail_msg("%s: CSV\n%s\ndiffers from gen_esp32part.py's\n%s", file,
                     (const char *)csv.data, (const char *)ref.data);
        eg_buf_release(&ref);
    }

    /* CSV -> binary -> CSV -> binary gives the same binary, and binary -> CSV the same
     * text. */
    if (eg_partition_parse_csv(&t2, (const char *)csv.data, csv.len, "out.csv", &o) != 0)
        fail_msg("%s: our CSV rejected: %s\n%s", file, eg_error_msg(), (const char *)csv.data);
    assert_int_equal(eg_partition_to_bin(&bin2, t2), 0);
    assert_int_equal(bin2.len, bin.len);
    assert_memory_equal(bin2.data, bin.data, bin.len);
    if (eg_partition_parse_bin(&t3, bin.data, bin.len, "out.bin", &o) != 0)
        fail_msg("%s: our binary rejected: %s", file, eg_error_msg());
    assert_int_equal(eg_partition_to_bin(&bin3, t3), 0);
    assert_memory_equal(bin3.data, bin.data, bin.len);
    assert_int_equal(eg_partition_to_csv(&csv2, t3), 0);
    assert_string_equal((const char *)csv2.data, (const char *)csv.data);

    eg_partition_table_free(t);
    eg_partition_table_free(t2);
    eg_partition_table_free(t3);
    eg_buf_release(&text);
    eg_buf_release(&bin);
    eg_buf_release(&bin2);
    eg_buf_release(&bin3);
    eg_buf_release(&csv);
    eg_buf_release(&csv2);
    eg_buf_release(&human);
}

static void corpus_bad(const char *dir, const char *file)
{
    char path[1024], expect[512];
    eg_partition_opts o;
    eg_buf text = EG_BUF_INIT;
    eg_partition_table *t = SENTINEL;
    const char *line;
    size_t len;
    int rc;

    path_of(path, sizeof(path), dir, file, 0, "");
    read_text(&text, path);
    line = (const char *)text.data;
    if (strncmp(line, "# expect: ", 10) != 0)
        fail_msg("%s: the first line must be '# expect: <message fragment>'", file);
    line += 10;
    len = strcspn(line, "\r\n");
    assert_true(len > 0 && len < sizeof(expect));
    memcpy(expect, line, len);
    expect[len] = '\0';
    corpus_opts(&o, (const char *)text.data);
    rc = eg_partition_parse_csv(&t, (const char *)text.data, text.len, file, &o);
    if (rc != EG_EINVAL)
        fail_msg("%s: code %d, wanted EG_EINVAL (%s)", file, rc, eg_error_msg());
    assert_null(t);
    if (!strstr(eg_error_msg(), expect))
        fail_msg("%s: message\n  '%s'\nlacks\n  '%s'", file, eg_error_msg(), expect);
    /* Every message starts with the file, and names the line when a row is at fault. */
    if (strncmp(eg_error_msg(), file, strlen(file)) != 0 || eg_error_msg()[strlen(file)] != ':')
        fail_msg("%s: message '%s' does not start with the file name", file, eg_error_msg());
    eg_buf_release(&text);
}

static void test_corpus(void **state)
{
    static const char *root = EG_PARTITION_CORPUS;
    char dir[1024];
    char **names;
    size_t n;
    (void)state;

    snprintf(dir, sizeof(dir), "%s/good", root);
    names = list_csv(dir, &n);
    assert_true(n >= 10);
    for (size_t i = 0; i < n; i++) {
        corpus_good(dir, names[i]);
        free(names[i]);
    }
    free(names);

    snprintf(dir, sizeof(dir), "%s/bad", root);
    names = list_csv(dir, &n);
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        corpus_bad(dir, names[i]);
        free(names[i]);
    }
    free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_default),
        cmocka_unit_test(test_type_parse),
        cmocka_unit_test(test_subtype_parse),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_csv_singleapp),
        cmocka_unit_test(test_csv_numbers),
        cmocka_unit_test(test_csv_auto_offsets),
        cmocka_unit_test(test_csv_bootloader_rows),
        cmocka_unit_test(test_csv_bad_rows),
        cmocka_unit_test(test_csv_flash_size),
        cmocka_unit_test(test_csv_bad_opts),
        cmocka_unit_test(test_csv_text_forms),
        cmocka_unit_test(test_csv_max_entries),
        cmocka_unit_test(test_bin_write),
        cmocka_unit_test(test_bin_read),
        cmocka_unit_test(test_bin_bad_all),
        cmocka_unit_test(test_bin_bootloader_entries),
        cmocka_unit_test(test_to_csv),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_app_target),
        cmocka_unit_test(test_select_data),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
