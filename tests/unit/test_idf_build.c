/* ESP-IDF build directories (flasher_args.json) and merged flash images: what a good
 * build gives, every malformed build's error, and the merge layout. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "image/idf_build.h"
#include "image/region.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct dir_state {
    char path[64];
} dir_state;

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    dir_state *d = calloc(1, sizeof(*d));
    strcpy(d->path, "/tmp/eg_idf_XXXXXX");
    if (!mkdtemp(d->path))
        return -1;
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/bootloader", d->path);
    mkdir(sub, 0755);
    write_file(d->path, "bootloader/bootloader.bin", "BOOT", 4);
    write_file(d->path, "app.bin", "APPAPPAPP", 9);
    write_file(d->path, "pt.bin", "PT", 2);
    write_file(d->path, "empty.bin", "", 0);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    dir_state *d = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
    if (system(cmd) != 0)
        return -1;
    free(d);
    return 0;
}

static const char GOOD[] =
    "{\n"
    "  \"write_flash_args\": [\"--flash_mode\", \"dio\", \"--flash_size\", \"2MB\"],\n"
    "  \"flash_settings\": {\"flash_mode\": \"qio\", \"flash_size\": \"2MB\", "
    "\"flash_freq\": \"80m\"},\n"
    "  \"flash_files\": {\"0x10000\": \"app.bin\", \"0x0\": \"bootloader/bootloader.bin\", "
    "\"0x8000\": \"pt.bin\"},\n"
    "  \"bootloader\": {\"offset\": \"0x0\", \"file\": \"bootloader/bootloader.bin\", "
    "\"encrypted\": \"false\"},\n"
    "  \"app\": {\"offset\": \"0x10000\", \"file\": \"app.bin\", \"encrypted\": \"false\"},\n"
    "  \"partition-table\": {\"offset\": \"0x8000\", \"file\": \"pt.bin\", \"encrypted\": "
    "\"false\"},\n"
    "  \"extra_esptool_args\": {\"after\": \"hard_reset\", \"before\": \"default_reset\", "
    "\"stub\": false, \"chip\": \"esp32c3\"}\n"
    "}\n";

static void test_good_build(void **state)
{
    dir_state *d = *state;
    eg_idf_build *b = NULL;

    write_file(d->path, "flasher_args.json", GOOD, strlen(GOOD));
    assert_int_equal(eg_idf_build_load(&b, d->path), 0);
    assert_non_null(b);
    assert_int_equal(b->n_files, 3);
    /* Sorted by address, whatever the JSON's order. */
    assert_int_equal(b->files[0].addr, 0);
    assert_string_equal(b->files[0].path, "bootloader/bootloader.bin");
    assert_memory_equal(b->files[0].data.data, "BOOT", 4);
    assert_int_equal(b->files[1].addr, 0x8000);
    assert_int_equal(b->files[2].addr, 0x10000);
    assert_int_equal(b->files[2].data.len, 9);
    assert_int_equal(b->app_offset, 0x10000);
    assert_int_equal(b->bootloader_offset, 0);
    assert_int_equal(b->table_offset, 0x8000);
    assert_string_equal(b->flash_mode, "qio");
    assert_string_equal(b->flash_size, "2MB");
    assert_string_equal(b->flash_freq, "80m");
    assert_string_equal(b->chip, "esp32c3");
    assert_string_equal(b->before, "default_reset");
    assert_string_equal(b->after, "hard_reset");
    assert_int_equal(b->stub, 0);
    eg_idf_build_free(b);
}

static void test_minimal_build(void **state)
{
    dir_state *d = *state;
    eg_idf_build *b = NULL;
    const char json[] = "{\"flash_files\": {\"0x10000\": \"app.bin\"}}";

    write_file(d->path, "flasher_args.json", json, strlen(json));
    assert_int_equal(eg_idf_build_load(&b, d->path), 0);
    assert_int_equal(b->n_files, 1);
    assert_int_equal(b->app_offset, EG_IDF_NONE);
    assert_int_equal(b->table_offset, EG_IDF_NONE);
    assert_null(b->chip);
    assert_null(b->flash_mode);
    assert_int_equal(b->stub, -1);
    eg_idf_build_free(b);
}

/* Each malformed build: its code and a part of its message. */
static const struct bad_case {
    const char *json;
    int code;
    const char *msg;
} bad_cases[] = {
    {"{\"flash_files\": {\"0x0\": \"app.bin\",\n", EG_EINVAL, "flasher_args.json:2:"},
    {"[1, 2]", EG_EINVAL, "not a JSON object"},
    {"{}", EG_EINVAL, "no \"flash_files\""},
    {"{\"flash_files\": {}}", EG_EINVAL, "no \"flash_files\""},
    {"{\"flash_files\": [\"app.bin\"]}", EG_EINVAL, "no \"flash_files\""},
    {"{\"flash_files\": {\"ten\": \"app.bin\"}}", EG_EINVAL, "key \"ten\" is not an offset"},
    {"{\"flash_files\": {\"0x10800\": \"app.bin\"}}", EG_EINVAL, "not 4 KiB aligned"},
    {"{\"flash_files\": {\"0x10000\": 7}}", EG_EINVAL, "\"0x10000\" is not a file name"},
    {"{\"flash_files\": {\"0x10000\": \"\"}}", EG_EINVAL, "is not a file name"},
    {"{\"flash_files\": {\"0x10000\": \"gone.bin\"}}", EG_ENOTFOUND, "gone.bin"},
    {"{\"flash_files\": {\"0x10000\": \"empty.bin\"}}", EG_EINVAL, "empty.bin' is empty"},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"flash_settings\": {\"flash_mode\": 2}}",
     EG_EINVAL, "\"flash_settings\".\"flash_mode\" is not a string"},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"flash_settings\": {\"flash_mode\": "
     "\"fast\"}}",
     EG_EINVAL, "flash_settings: "},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"flash_settings\": {\"flash_size\": "
     "\"3MB\"}}",
     EG_EINVAL, "flash_settings: "},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"extra_esptool_args\": [1]}", EG_EINVAL,
     "\"extra_esptool_args\" is not an object"},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"app\": {\"offset\": \"0x10000\", "
     "\"encrypted\": \"true\"}}",
     EG_EUNSUPPORTED, "encrypted"},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"otadata\": {\"offset\": \"0xd000\", "
     "\"encrypted\": true}}",
     EG_EUNSUPPORTED, "\"otadata\" is to be written encrypted"},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"app\": {\"offset\": 65536}}", EG_EINVAL,
     "\"app\".\"offset\" is not an offset"},
    {"{\"flash_files\": {\"0x10000\": \"app.bin\"}, \"partition-table\": \"pt.bin\"}", EG_EINVAL,
     "\"partition-table\" is not an object"},
};

static void test_bad_builds(void **state)
{
    dir_state *d = *state;

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        eg_idf_build *b = (eg_idf_build *)1;
        write_file(d->path, "flasher_args.json", bad_cases[i].json, strlen(bad_cases[i].json));
        int rc = eg_idf_build_load(&b, d->path);
        if (rc != bad_cases[i].code || b != NULL || !strstr(eg_error_msg(), bad_cases[i].msg))
            fail_msg("case %zu: rc %d (want %d), message '%s' (want '%s')", i, rc,
                     bad_cases[i].code, eg_error_msg(), bad_cases[i].msg);
        /* Every message names the file. */
        if (!strstr(eg_error_msg(), "flasher_args.json"))
            fail_msg("case %zu: '%s' does not name the file", i, eg_error_msg());
    }
}

static void test_no_build_dir(void **state)
{
    eg_idf_build *b = NULL;
    (void)state;
    assert_int_equal(eg_idf_build_load(&b, "/nonexistent/build"), EG_EINVAL);
    assert_null(b);
    assert_non_null(strstr(eg_error_msg(), "ESP-IDF build directory"));
}

static void test_merge(void **state)
{
    const uint8_t a[3] = {1, 2, 3}, c[2] = {7, 8};
    const eg_region r[] = {{0x20, "c", c, 2}, {0x10, "a", a, 3}};
    eg_buf out = EG_BUF_INIT;
    (void)state;

    assert_int_equal(eg_regions_merge(&out, r, 2, 0x40), 0);
    assert_int_equal(out.len, 0x40);
    for (size_t i = 0; i < out.len; i++) {
        uint8_t want = 0xFF;
        if (i >= 0x10 && i < 0x13)
            want = a[i - 0x10];
        if (i >= 0x20 && i < 0x22)
            want = c[i - 0x20];
        assert_int_equal(out.data[i], want);
    }
    eg_buf_release(&out);

    /* No padding: ends with the last region. */
    assert_int_equal(eg_regions_merge(&out, r, 2, 0), 0);
    assert_int_equal(out.len, 0x22);
    eg_buf_release(&out);

    /* Beyond the flash, and overlapping: errors, nothing left in out. */
    assert_int_equal(eg_regions_merge(&out, r, 2, 0x21), EG_EINVAL);
    assert_non_null(strstr(eg_error_msg(), "'c' at 0x20 (2 bytes) ends beyond the 33-byte flash"));
    assert_int_equal(out.len, 0);
    const eg_region o[] = {{0x10, "a", a, 3}, {0x12, "c", c, 2}};
    assert_int_equal(eg_regions_merge(&out, o, 2, 0), EG_EINVAL);
    assert_non_null(strstr(eg_error_msg(), "'a' at 0x10 overlaps 'c' at 0x12"));
    assert_int_equal(out.len, 0);
    const eg_region top[] = {{0xFFFFFFFF, "top", a, 3}};
    assert_int_equal(eg_regions_overlap(top, 1), EG_EINVAL);
    assert_non_null(strstr(eg_error_msg(), "passes the end of 4 GiB"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minimal_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_builds, setup, teardown),
        cmocka_unit_test(test_no_build_dir),
        cmocka_unit_test(test_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
