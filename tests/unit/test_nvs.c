/* NVS partition images (src/image/nvs.c): every key type read back through an
 * independent reader (nvs_reader.c, which checks every CRC32, span and blob index and
 * answers the app's nvs_get_*), the page boundaries where entries move, blobs over
 * pages, namespaces, partition sizes, every bad input's message, nvs_partition_gen's
 * CSV, and byte-for-byte agreement with nvs_partition_gen (SHA-256 digests of its images
 * in tests/data/nvs/golden.tsv). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "image/nvs.h"
#include "nvs_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#ifndef EG_NVS_CORPUS
#error "EG_NVS_CORPUS must name tests/data/nvs"
#endif

#define PAGE 4096

/* The folder CSVs are read from: files/ (a link to the corpus's) and gen/ with the
 * pattern files golden.sh makes the same way. */
static char work[64];

static void pattern(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i * 131 + 7) % 251);
}

static uint8_t *pattern_new(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    pattern(p, n);
    return p;
}

static int make_work(void **state)
{
    static const size_t sizes[] = {100, 3968, 10000, 508000};
    char path[256];
    (void)state;
    snprintf(work, sizeof(work), "/tmp/eg_nvs_XXXXXX");
    if (!mkdtemp(work))
        return -1;
    snprintf(path, sizeof(path), "%s/gen", work);
    if (mkdir(path, 0755) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/files", work);
    if (symlink(EG_NVS_CORPUS "/files", path) < 0)
        return -1;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint8_t *p = pattern_new(sizes[k]);
        snprintf(path, sizeof(path), "%s/gen/pattern-%zu.bin", work, sizes[k]);
        FILE *f = fopen(path, "wb");
        int ok = f && fwrite(p, 1, sizes[k], f) == sizes[k];
        free(p);
        if (!f || fclose(f) != 0 || !ok)
            return -1;
    }
    return 0;
}

static int remove_work(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ---- */

#define NUM_U(n, k, t, v)                                                                          \
    {                                                                                              \
        .ns = (n), .key = (k), .type = (t), .u = (v)                                               \
    }
#define NUM_I(n, k, t, v)                                                                          \
    {                                                                                              \
        .ns = (n), .key = (k), .type = (t), .i = (v)                                               \
    }
#define STR(n, k, s)                                                                               \
    {                                                                                              \
        .ns = (n), .key = (k), .type = EG_NVS_STRING, .data = (const uint8_t *)(s),                \
        .len = sizeof(s) - 1                                                                       \
    }
#define BYTES(n, k, t, p, l)                                                                       \
    {                                                                                              \
        .ns = (n), .key = (k), .type = (t), .data = (p), .len = (l)                                \
    }

static void build_ok(eg_buf *img, const eg_nvs_entry *e, size_t n, uint32_t size)
{
    int rc = eg_nvs_build(img, e, n, size);
    if (rc != 0)
        fail_msg("eg_nvs_build: %s", eg_error_msg());
    assert_int_equal(img->len, size);
}

static nvsr *reader_ok(const eg_buf *img)
{
    char err[256] = "";
    nvsr *r = nvsr_open(img->data, img->len, err, sizeof(err));
    if (!r)
        fail_msg("the reader refuses the image: %s", err);
    return r;
}

/* The reader's complaint about img; the test fails if it has none. */
static const char *reader_refuses(const eg_buf *img)
{
    static _Thread_local char err[256];
    nvsr *r = nvsr_open(img->data, img->len, err, sizeof(err));
    if (r) {
        nvsr_free(r);
        fail_msg("the reader accepts a damaged image");
    }
    return err;
}

/* The reader's complaint starts with prefix. */
static void expect_refusal(const eg_buf *img, const char *prefix)
{
    const char *err = reader_refuses(img);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("the reader says \"%s\", not \"%s...\"", err, prefix);
}

static void build_bad(const eg_nvs_entry *e, size_t n, uint32_t size, const char *msg)
{
    eg_buf out = EG_BUF_INIT;
    assert_int_equal(eg_nvs_build(&out, e, n, size), EG_EINVAL);
    assert_string_equal(eg_error_msg(), msg);
    assert_null(out.data);
    assert_int_equal(out.len, 0);
}

/* Every keyed entry reads back through the app's API as it went in. */
static void check_reads_back(const nvsr *r, const eg_nvs_entry *e, size_t n)
{
    for (size_t k = 0; k < n; k++, e++) {
        union {
            uint8_t u8;
            int8_t i8;
            uint16_t u16;
            int16_t i16;
            uint32_t u32;
            int32_t i32;
            uint64_t u64;
            int64_t i64;
        } v;
        size_t len = 0;
        uint8_t *buf;

        if (!e->key)
            continue;
        switch (e->type) {
        case EG_NVS_U8:
            assert_int_equal(nvsr_get_u8(r, e->ns, e->key, &v.u8), NVSR_OK);
            assert_true(v.u8 == e->u);
            break;
        case EG_NVS_I8:
            assert_int_equal(nvsr_get_i8(r, e->ns, e->key, &v.i8), NVSR_OK);
            assert_true(v.i8 == e->i);
            break;
        case EG_NVS_U16:
            assert_int_equal(nvsr_get_u16(r, e->ns, e->key, &v.u16), NVSR_OK);
            assert_true(v.u16 == e->u);
            break;
        case EG_NVS_I16:
            assert_int_equal(nvsr_get_i16(r, e->ns, e->key, &v.i16), NVSR_OK);
            assert_true(v.i16 == e->i);
            break;
        case EG_NVS_U32:
            assert_int_equal(nvsr_get_u32(r, e->ns, e->key, &v.u32), NVSR_OK);
            assert_true(v.u32 == e->u);
            break;
        case EG_NVS_I32:
            assert_int_equal(nvsr_get_i32(r, e->ns, e->key, &v.i32), NVSR_OK);
            assert_true(v.i32 == e->i);
            break;
        case EG_NVS_U64:
            assert_int_equal(nvsr_get_u64(r, e->ns, e->key, &v.u64), NVSR_OK);
            assert_true(v.u64 == e->u);
            break;
        case EG_NVS_I64:
            assert_int_equal(nvsr_get_i64(r, e->ns, e->key, &v.i64), NVSR_OK);
            assert_true(v.i64 == e->i);
            break;
        case EG_NVS_STRING:
            assert_int_equal(nvsr_get_str(r, e->ns, e->key, NULL, &len), NVSR_OK);
            assert_int_equal(len, e->len + 1);
            buf = malloc(len);
            assert_non_null(buf);
            assert_int_equal(nvsr_get_str(r, e->ns, e->key, (char *)buf, &len), NVSR_OK);
            assert_int_equal(len, e->len + 1);
            assert_memory_equal(buf, e->len ? e->data : (const uint8_t *)"", e->len);
            assert_int_equal(buf[e->len], 0);
            free(buf);
            break;
        case EG_NVS_BLOB:
            assert_int_equal(nvsr_get_blob(r, e->ns, e->key, NULL, &len), NVSR_OK);
            assert_int_equal(len, e->len);
            buf = malloc(len + 1);
            assert_non_null(buf);
            assert_int_equal(nvsr_get_blob(r, e->ns, e->key, buf, &len), NVSR_OK);
            assert_int_equal(len, e->len);
            if (len)
                assert_memory_equal(buf, e->data, len);
            free(buf);
            break;
        }
    }
}

/* Where an item landed: page, entry and span. */
static void expect_at(const nvsr *r, const char *ns, const char *key, uint8_t type, uint8_t chunk,
                      unsigned page, unsigned entry, unsigned span)
{
    const nvsr_item *it = nvsr_find(r, ns, key, type, chunk);
    if (!it)
        fail_msg("no item '%s' type 0x%02x chunk %u", key, type, chunk);
    if (it->page != page || it->entry != entry || it->span != span)
        fail_msg("'%s' chunk %u is at page %u entry %u span %u, not page %u entry %u span %u", key,
                 chunk, it->page, it->entry, it->span, page, entry, span);
}

static void reseal_item(uint8_t *item)
{
    uLong crc = crc32(0xFFFFFFFFul, item, 4);
    crc = crc32(crc, item + 8, 24);
    item[4] = (uint8_t)crc;
    item[5] = (uint8_t)(crc >> 8);
    item[6] = (uint8_t)(crc >> 16);
    item[7] = (uint8_t)(crc >> 24);
}

static uint8_t *item_bytes(eg_buf *img, const nvsr_item *it)
{
    return img->data + (size_t)it->page * PAGE + 64 + (size_t)it->entry * 32;
}

/* ---- types ---- */

static void test_type_names(void **state)
{
    static const char *const aliases[] = {"binary", "hex2bin", "base64"};
    eg_nvs_type t;
    (void)state;
    for (int k = EG_NVS_U8; k <= EG_NVS_BLOB; k++) {
        assert_int_equal(eg_nvs_type_parse(&t, eg_nvs_type_name((eg_nvs_type)k)), 0);
        assert_int_equal(t, k);
    }
    assert_string_equal(eg_nvs_type_name(EG_NVS_I32), "i32");
    assert_string_equal(eg_nvs_type_name(EG_NVS_STRING), "string");
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(eg_nvs_type_parse(&t, aliases[k]), 0);
        assert_int_equal(t, EG_NVS_BLOB);
    }
    assert_string_equal(eg_nvs_type_name((eg_nvs_type)42), "?");
    assert_int_equal(eg_nvs_type_parse(&t, "u128"), EG_EINVAL);
    assert_string_equal(eg_error_msg(),
                        "unknown nvs type 'u128' (u8, i8, u16, i16, u32, i32, u64, i64, string, "
                        "blob, binary, hex2bin, base64)");
    assert_int_equal(eg_nvs_type_parse(&t, "U8"), EG_EINVAL);
}

static void test_decode(void **state)
{
    eg_buf out = EG_BUF_INIT;
    (void)state;
    assert_int_equal(eg_nvs_decode(&out, "hex2bin", (const uint8_t *)" 0aFf10 \n", 9), 0);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.data, "\x0a\xff\x10", 3);
    eg_buf_release(&out);
    assert_int_equal(eg_nvs_decode(&out, "base64", (const uint8_t *)"SGVs\nbG8s\nIE5WUyE=\n", 19),
                     0);
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.data, "Hello, NVS!", 11);
    eg_buf_release(&out);

    assert_int_equal(eg_nvs_decode(&out, "hex2bin", (const uint8_t *)"abc", 3), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "hex2bin value has an odd number of digits (3)");
    assert_null(out.data);
    assert_int_equal(eg_nvs_decode(&out, "hex2bin", (const uint8_t *)" 00g1", 5), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "hex2bin value has 'g' at 3, not a hex digit");
    assert_null(out.data);
    assert_int_equal(eg_nvs_decode(&out, "base64", (const uint8_t *)"SGV@bG8=", 8), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "base64 value is not valid base64");
    assert_null(out.data);
    assert_int_equal(eg_nvs_decode(&out, "rot13", (const uint8_t *)"x", 1), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "unknown nvs encoding 'rot13' (hex2bin, base64)");
    assert_null(out.data);
}

/* ---- images ---- */

static void test_every_type_reads_back(void **state)
{
    static const uint8_t blob[] = {0xDE, 0xAD, 0xBE, 0xEF, 0x00};
    const eg_nvs_entry e[] = {
        NUM_U("app", "u8_min", EG_NVS_U8, 0),
        NUM_U("app", "u8_max", EG_NVS_U8, 255),
        NUM_I("app", "i8_min", EG_NVS_I8, -128),
        NUM_I("app", "i8_max", EG_NVS_I8, 127),
        NUM_U("app", "u16_max", EG_NVS_U16, 65535),
        NUM_I("app", "i16_min", EG_NVS_I16, -32768),
        NUM_U("app", "u32_max", EG_NVS_U32, UINT32_MAX),
        NUM_I("app", "i32_min", EG_NVS_I32, INT32_MIN),
        NUM_U("app", "u64_max", EG_NVS_U64, UINT64_MAX),
        NUM_I("app", "i64_min", EG_NVS_I64, INT64_MIN),
        NUM_I("app", "i64_max", EG_NVS_I64, INT64_MAX),
        STR("app", "greeting", "hello"),
        STR("app", "empty", ""),
        BYTES("app", "blob", EG_NVS_BLOB, blob, sizeof(blob)),
        BYTES("app", "no_bytes", EG_NVS_BLOB, NULL, 0),
        STR("device", "serial", "WX-0001-000042"),
        NUM_U("device", "u8_max", EG_NVS_U8, 7),
        NUM_I("app", "fifteen_chars_k", EG_NVS_I32, -1),
    };
    eg_buf img = EG_BUF_INIT;
    char s[8];
    size_t len;
    uint8_t u8;
    int8_t i8;
    nvsr *r;
    (void)state;

    build_ok(&img, e, sizeof(e) / sizeof(e[0]), 0x3000);
    r = reader_ok(&img);
    check_reads_back(r, e, sizeof(e) / sizeof(e[0]));
    assert_string_equal(nvsr_states(r), "AEE");
    assert_int_equal(nvsr_namespaces(r), 2);
    /* Namespaces in order of first use, from 1, their entries where first used. */
    assert_int_equal(nvsr_get_u8(r, "", "app", &u8), NVSR_OK);
    assert_int_equal(u8, 1);
    assert_int_equal(nvsr_get_u8(r, "", "device", &u8), NVSR_OK);
    assert_int_equal(u8, 2);
    expect_at(r, "", "app", NVSR_U8, 0xFF, 0, 0, 1);
    expect_at(r, "app", "u8_min", NVSR_U8, 0xFF, 0, 1, 1);
    expect_at(r, "app", "greeting", NVSR_STR, 0xFF, 0, 12, 2);
    expect_at(r, "app", "empty", NVSR_STR, 0xFF, 0, 14, 2);
    expect_at(r, "app", "blob", NVSR_BLOB_DATA, 0, 0, 16, 2);
    expect_at(r, "app", "blob", NVSR_BLOB_IDX, 0xFF, 0, 18, 1);
    expect_at(r, "app", "no_bytes", NVSR_BLOB_DATA, 0, 0, 19, 1);
    expect_at(r, "", "device", NVSR_U8, 0xFF, 0, 21, 1);
    expect_at(r, "app", "fifteen_chars_k", NVSR_I32, 0xFF, 0, 25, 1);
    assert_int_equal(nvsr_used(r, 0), 26);
    /* Same key in two namespaces, each its own. */
    assert_int_equal(nvsr_get_u8(r, "device", "u8_max", &u8), NVSR_OK);
    assert_int_equal(u8, 7);
    /* What the app's API answers for keys that are not there as asked. */
    assert_int_equal(nvsr_get_i8(r, "app", "u8_max", &i8), NVSR_NOT_FOUND);
    assert_int_equal(nvsr_get_u8(r, "nope", "u8_max", &u8), NVSR_NOT_FOUND);
    assert_int_equal(nvsr_get_u8(r, "app", "missing", &u8), NVSR_NOT_FOUND);
    len = 5;
    assert_int_equal(nvsr_get_str(r, "app", "greeting", s, &len), NVSR_INVALID_LENGTH);
    assert_int_equal(len, 6);
    len = sizeof(s);
    assert_int_equal(nvsr_get_str(r, "app", "greeting", s, &len), NVSR_OK);
    assert_string_equal(s, "hello");
    len = 2;
    assert_int_equal(nvsr_get_blob(r, "app", "blob", s, &len), NVSR_INVALID_LENGTH);
    assert_int_equal(len, 5);
    /* The rest of the partition is erased. */
    for (size_t k = PAGE; k < img.len; k++)
        if (img.data[k] != 0xFF)
            fail_msg("byte 0x%zx is 0x%02x", k, img.data[k]);
    nvsr_free(r);
    eg_buf_release(&img);
}

static void test_no_entries(void **state)
{
    eg_buf img = EG_BUF_INIT;
    nvsr *r;
    (void)state;
    build_ok(&img, NULL, 0, 0x3000);
    r = reader_ok(&img);
    assert_string_equal(nvsr_states(r), "AEE");
    assert_int_equal(nvsr_used(r, 0), 0);
    assert_int_equal(nvsr_namespaces(r), 0);
    nvsr_free(r);
    eg_buf_release(&img);
}

static char *text_new(size_t n, unsigned seed)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + (i + seed) % 26);
    s[n] = 0;
    return s;
}

/* A string goes where it fits without reaching a page's last entry; the longest (3999
 * bytes and its NUL) fills a page of its own. */
static void test_string_boundaries(void **state)
{
    char *s3935 = text_new(3935, 0), *moved = text_new(3935, 1), *s3967 = text_new(3967, 2),
         *s3999 = text_new(3999, 3);
    const eg_nvs_entry e[] = {
        BYTES("str", "s3935", EG_NVS_STRING, (const uint8_t *)s3935, 3935),
        STR("str", "short1", "abcde"),
        BYTES("str", "moved", EG_NVS_STRING, (const uint8_t *)moved, 3935),
        NUM_U("str", "p124", EG_NVS_U8, 124),
        NUM_U("str", "p125", EG_NVS_U8, 125),
        BYTES("str", "s3967", EG_NVS_STRING, (const uint8_t *)s3967, 3967),
        NUM_U("str", "last", EG_NVS_U8, 42),
        BYTES("str", "s3999", EG_NVS_STRING, (const uint8_t *)s3999, 3999),
        STR("str", "len31", "0123456789012345678901234567890"),
        STR("str", "len32", "01234567890123456789012345678901"),
    };
    size_t n = sizeof(e) / sizeof(e[0]);
    eg_buf img = EG_BUF_INIT;
    nvsr *r;
    (void)state;

    build_ok(&img, e, n, 0x7000);
    r = reader_ok(&img);
    check_reads_back(r, e, n);
    assert_string_equal(nvsr_states(r), "FFFFFAE");
    expect_at(r, "str", "s3935", NVSR_STR, 0xFF, 0, 1, 124);
    assert_int_equal(nvsr_used(r, 0), 125); /* entry 125 stays free */
    expect_at(r, "str", "short1", NVSR_STR, 0xFF, 1, 0, 2);
    expect_at(r, "str", "moved", NVSR_STR, 0xFF, 2, 0, 124); /* 2 + 124 would reach 125 */
    assert_int_equal(nvsr_used(r, 1), 2);
    expect_at(r, "str", "p124", NVSR_U8, 0xFF, 2, 124, 1);
    expect_at(r, "str", "p125", NVSR_U8, 0xFF, 2, 125, 1); /* numbers take the last entry */
    expect_at(r, "str", "s3967", NVSR_STR, 0xFF, 3, 0, 125);
    expect_at(r, "str", "last", NVSR_U8, 0xFF, 3, 125, 1);
    expect_at(r, "str", "s3999", NVSR_STR, 0xFF, 4, 0, 126);
    assert_int_equal(nvsr_used(r, 4), 126);
    expect_at(r, "str", "len31", NVSR_STR, 0xFF, 5, 0, 2);
    expect_at(r, "str", "len32", NVSR_STR, 0xFF, 5, 2, 3);
    nvsr_free(r);
    eg_buf_release(&img);

    build_bad(e, n, 0x6000,
              "nvs partition size 0x6000 is too small for its data: it needs 0x7000 (6 pages of "
              "data and one kept free)");
    free(s3935);
    free(moved);
    free(s3967);
    free(s3999);
}

/* Blob chunks fill what is left of each page; the index follows the last chunk, on the
 * next page when the chunk left no entry. */
static void test_blob_layout(void **state)
{
    uint8_t *b3968 = pattern_new(3968), *b100 = pattern_new(100), *b10000 = pattern_new(10000);
    eg_nvs_entry e[130];
    char keys[124][8];
    size_t n = 0;
    eg_buf img = EG_BUF_INIT;
    const nvsr_item *it;
    nvsr *r;
    (void)state;

    e[n++] = (eg_nvs_entry)BYTES("blobs", "b3968", EG_NVS_BLOB, b3968, 3968);
    for (int k = 0; k < 124; k++) {
        snprintf(keys[k], sizeof(keys[k]), "f%03d", k);
        e[n++] = (eg_nvs_entry)NUM_U("blobs", keys[k], EG_NVS_U8, (uint64_t)k);
    }
    e[n++] = (eg_nvs_entry)BYTES("blobs", "b100", EG_NVS_BLOB, b100, 100);
    e[n++] = (eg_nvs_entry)BYTES("blobs", "b10000", EG_NVS_BLOB, b10000, 10000);
    e[n++] = (eg_nvs_entry)BYTES("blobs", "empty", EG_NVS_BLOB, NULL, 0);
    build_ok(&img, e, n, 0x6000);
    r = reader_ok(&img);
    check_reads_back(r, e, n);
    assert_string_equal(nvsr_states(r), "FFFFAE");

    /* 3968 bytes fill page 0 after the namespace entry: the index opens page 1. */
    expect_at(r, "blobs", "b3968", NVSR_BLOB_DATA, 0, 0, 1, 125);
    expect_at(r, "blobs", "b3968", NVSR_BLOB_IDX, 0xFF, 1, 0, 1);
    it = nvsr_find(r, "blobs", "b3968", NVSR_BLOB_IDX, 0xFF);
    assert_int_equal(it->size, 3968);
    assert_int_equal(it->chunk_count, 1);
    assert_int_equal(it->chunk_start, 0);
    /* With one entry left, the first chunk is empty (just its header). */
    expect_at(r, "blobs", "b100", NVSR_BLOB_DATA, 0, 1, 125, 1);
    assert_int_equal(nvsr_find(r, "blobs", "b100", NVSR_BLOB_DATA, 0)->size, 0);
    expect_at(r, "blobs", "b100", NVSR_BLOB_DATA, 1, 2, 0, 5);
    expect_at(r, "blobs", "b100", NVSR_BLOB_IDX, 0xFF, 2, 5, 1);
    assert_int_equal(nvsr_find(r, "blobs", "b100", NVSR_BLOB_IDX, 0xFF)->chunk_count, 2);
    /* Over three pages: 3808 + 4000 + 2192 bytes. */
    expect_at(r, "blobs", "b10000", NVSR_BLOB_DATA, 0, 2, 6, 120);
    assert_int_equal(nvsr_find(r, "blobs", "b10000", NVSR_BLOB_DATA, 0)->size, 3808);
    expect_at(r, "blobs", "b10000", NVSR_BLOB_DATA, 1, 3, 0, 126);
    assert_int_equal(nvsr_find(r, "blobs", "b10000", NVSR_BLOB_DATA, 1)->size, 4000);
    expect_at(r, "blobs", "b10000", NVSR_BLOB_DATA, 2, 4, 0, 70);
    assert_int_equal(nvsr_find(r, "blobs", "b10000", NVSR_BLOB_DATA, 2)->size, 2192);
    expect_at(r, "blobs", "b10000", NVSR_BLOB_IDX, 0xFF, 4, 70, 1);
    assert_int_equal(nvsr_find(r, "blobs", "b10000", NVSR_BLOB_IDX, 0xFF)->chunk_count, 3);
    /* An empty blob: one empty chunk and its index. */
    expect_at(r, "blobs", "empty", NVSR_BLOB_DATA, 0, 4, 71, 1);
    expect_at(r, "blobs", "empty", NVSR_BLOB_IDX, 0xFF, 4, 72, 1);
    nvsr_free(r);
    eg_buf_release(&img);
    free(b3968);
    free(b100);
    free(b10000);
}

static void test_largest_blob(void **state)
{
    uint8_t *big = pattern_new(508001);
    eg_nvs_entry e[] = {BYTES("big", "blob", EG_NVS_BLOB, big, 508000)};
    eg_buf img = EG_BUF_INIT;
    const nvsr_item *it;
    nvsr *r;
    (void)state;

    build_ok(&img, e, 1, 0x81000);
    r = reader_ok(&img);
    check_reads_back(r, e, 1);
    it = nvsr_find(r, "big", "blob", NVSR_BLOB_IDX, 0xFF);
    assert_non_null(it);
    assert_int_equal(it->chunk_count, 128);
    assert_int_equal(it->size, 508000);
    expect_at(r, "big", "blob", NVSR_BLOB_DATA, 127, 127, 0, 2);
    expect_at(r, "big", "blob", NVSR_BLOB_IDX, 0xFF, 127, 2, 1);
    assert_int_equal(strlen(nvsr_states(r)), 129);
    assert_int_equal(nvsr_states(r)[127], 'A');
    assert_int_equal(nvsr_states(r)[128], 'E');
    nvsr_free(r);
    eg_buf_release(&img);

    build_bad(e, 1, 0x80000,
              "nvs partition size 0x80000 is too small for its data: it needs 0x81000 (128 pages "
              "of data and one kept free)");
    e[0].len = 508001;
    build_bad(e, 1, 0x100000,
              "nvs key 'blob' in namespace 'big': the blob is 508001 bytes, more than the 508000 "
              "that fit");
    free(big);
}

static void test_namespaces(void **state)
{
    eg_nvs_entry e[256];
    char names[256][8];
    const eg_nvs_entry interleaved[] = {
        NUM_U("a", "x", EG_NVS_U8, 1), NUM_U("b", "x", EG_NVS_U8, 2), NUM_U("a", "y", EG_NVS_U8, 3),
        {.ns = "c", .key = NULL},      NUM_U("b", "y", EG_NVS_U8, 4),
    };
    eg_buf img = EG_BUF_INIT;
    const nvsr_item *items;
    size_t n_items, ns_entries = 0;
    uint8_t v;
    nvsr *r;
    (void)state;

    for (int k = 0; k < 255; k++) {
        snprintf(names[k], sizeof(names[k]), "n%03d", k + 1);
        e[k] = (eg_nvs_entry)NUM_U(names[k], "v", EG_NVS_U8, (uint64_t)k);
    }
    build_ok(&img, e, 254, 0x6000);
    r = reader_ok(&img);
    check_reads_back(r, e, 254);
    assert_int_equal(nvsr_namespaces(r), 254);
    assert_int_equal(nvsr_get_u8(r, "", "n254", &v), NVSR_OK);
    assert_int_equal(v, 254);
    nvsr_free(r);
    eg_buf_release(&img);
    build_bad(e, 255, 0x6000, "nvs namespace 'n255' is one more than the 254 that fit");

    /* A namespace used again keeps its index and gets no second entry; a namespace
     * without keys (a CSV namespace row) still gets its entry. */
    build_ok(&img, interleaved, 5, 0x3000);
    r = reader_ok(&img);
    check_reads_back(r, interleaved, 5);
    n_items = nvsr_items(r, &items);
    for (size_t k = 0; k < n_items; k++)
        ns_entries += items[k].ns == 0;
    assert_int_equal(ns_entries, 3);
    assert_int_equal(n_items, 7);
    assert_int_equal(nvsr_get_u8(r, "", "c", &v), NVSR_OK);
    assert_int_equal(v, 3);
    expect_at(r, "", "c", NVSR_U8, 0xFF, 0, 5, 1);
    nvsr_free(r);
    eg_buf_release(&img);
}

/* Numbers take every entry of a page, the last one too; the page is closed (FULL) only
 * when the next entry needs a new one. */
static void test_full_pages(void **state)
{
    eg_nvs_entry e[260];
    char keys[260][8];
    eg_buf img = EG_BUF_INIT;
    nvsr *r;
    (void)state;

    for (int k = 0; k < 260; k++) {
        snprintf(keys[k], sizeof(keys[k]), "k%03d", k);
        e[k] = (eg_nvs_entry)NUM_U("full", keys[k], EG_NVS_U16, (uint64_t)k * 251);
    }
    build_ok(&img, e, 125, 0x3000);
    r = reader_ok(&img);
    assert_string_equal(nvsr_states(r), "AEE");
    assert_int_equal(nvsr_used(r, 0), 126);
    nvsr_free(r);
    eg_buf_release(&img);

    build_ok(&img, e, 126, 0x3000);
    r = reader_ok(&img);
    check_reads_back(r, e, 126);
    assert_string_equal(nvsr_states(r), "FAE");
    expect_at(r, "full", "k125", NVSR_U16, 0xFF, 1, 0, 1);
    nvsr_free(r);
    eg_buf_release(&img);

    /* Two pages of data fit 0x3000 exactly; a third needs 0x4000. */
    build_ok(&img, e, 251, 0x3000);
    r = reader_ok(&img);
    assert_string_equal(nvsr_states(r), "FAE");
    assert_int_equal(nvsr_used(r, 1), 126);
    nvsr_free(r);
    eg_buf_release(&img);
    build_bad(e, 252, 0x3000,
              "nvs partition size 0x3000 is too small for its data: it needs 0x4000 (3 pages of "
              "data and one kept free)");
    build_ok(&img, e, 260, 0x4000);
    r = reader_ok(&img);
    check_reads_back(r, e, 260);
    assert_string_equal(nvsr_states(r), "FFAE");
    nvsr_free(r);
    eg_buf_release(&img);
}

static void test_partition_sizes(void **state)
{
    const eg_nvs_entry e[] = {NUM_U("app", "k", EG_NVS_U8, 1)};
    eg_buf img = EG_BUF_INIT;
    nvsr *r;
    (void)state;

    build_bad(e, 1, 0x3800, "nvs partition size 0x3800 is not a multiple of 4096");
    build_bad(e, 1, 0x2000,
              "nvs partition size 0x2000 is too small: at least 0x3000 (3 pages, one kept free)");
    build_bad(e, 1, 0,
              "nvs partition size 0x0 is too small: at least 0x3000 (3 pages, one kept "
              "free)");
    build_ok(&img, e, 1, 0x100000);
    r = reader_ok(&img);
    check_reads_back(r, e, 1);
    assert_int_equal(strlen(nvsr_states(r)), 256);
    nvsr_free(r);
    eg_buf_release(&img);
}

static void test_bad_entries(void **state)
{
    static const uint8_t nul[] = {'a', 'b', 0, 'c'};
    char *s4000 = text_new(4000, 0);
    eg_nvs_entry one;
    const eg_nvs_entry ok = NUM_U("app", "k", EG_NVS_U8, 1);
    eg_nvs_entry two[2] = {ok, ok};
    eg_buf img = EG_BUF_INIT;
    (void)state;

#define BAD(field_init, msg)                                                                       \
    do {                                                                                           \
        one = (eg_nvs_entry)field_init;                                                            \
        build_bad(&one, 1, 0x3000, msg);                                                           \
    } while (0)

    BAD(NUM_U("app", "abcdefghijklmnop", EG_NVS_U8, 1),
        "nvs key 'abcdefghijklmnop' in namespace 'app' is longer than 15 characters");
    BAD(NUM_U("app", "", EG_NVS_U8, 1), "nvs entry 0 in namespace 'app' has no key");
    BAD(NUM_U(NULL, "k", EG_NVS_U8, 1), "nvs entry 0 has no namespace");
    BAD(NUM_U("", "k", EG_NVS_U8, 1), "nvs entry 0 has no namespace");
    BAD(NUM_U("abcdefghijklmnop", "k", EG_NVS_U8, 1),
        "nvs namespace 'abcdefghijklmnop' is longer than 15 characters");
    BAD(NUM_U("app", "k", EG_NVS_U8, 256),
        "nvs key 'k' in namespace 'app': 256 is out of range for u8 (0 to 255)");
    BAD(NUM_I("app", "k", EG_NVS_I8, -129),
        "nvs key 'k' in namespace 'app': -129 is out of range for i8 (-128 to 127)");
    BAD(NUM_I("app", "k", EG_NVS_I8, 128),
        "nvs key 'k' in namespace 'app': 128 is out of range for i8 (-128 to 127)");
    BAD(NUM_U("app", "k", EG_NVS_U16, 65536),
        "nvs key 'k' in namespace 'app': 65536 is out of range for u16 (0 to 65535)");
    BAD(NUM_I("app", "k", EG_NVS_I16, 32768),
        "nvs key 'k' in namespace 'app': 32768 is out of range for i16 (-32768 to 32767)");
    BAD(NUM_U("app", "k", EG_NVS_U32, UINT64_C(4294967296)),
        "nvs key 'k' in namespace 'app': 4294967296 is out of range for u32 (0 to 4294967295)");
    BAD(NUM_I("app", "k", EG_NVS_I32, INT64_C(-2147483649)),
        "nvs key 'k' in namespace 'app': -2147483649 is out of range for i32 (-2147483648 to "
        "2147483647)");
    BAD(BYTES("app", "s", EG_NVS_STRING, (const uint8_t *)s4000, 4000),
        "nvs key 's' in namespace 'app': the string is 4000 bytes, more than the 3999 that fit");
    BAD(BYTES("app", "s", EG_NVS_STRING, nul, sizeof(nul)),
        "nvs key 's' in namespace 'app': the string holds a NUL byte at offset 2");
    BAD(BYTES("app", "b", EG_NVS_BLOB, NULL, 3),
        "nvs key 'b' in namespace 'app': 3 bytes but no data");
    BAD(NUM_U("app", "k", (eg_nvs_type)42, 1), "nvs key 'k' in namespace 'app': unknown type 42");
    build_bad(two, 2, 0x3000, "nvs key 'k' in namespace 'app' appears twice");
    two[1].type = EG_NVS_STRING;
    two[1].data = (const uint8_t *)"x";
    two[1].len = 1;
    build_bad(two, 2, 0x3000, "nvs key 'k' in namespace 'app' appears twice");
    /* The second entry's index in the message. */
    two[1] = (eg_nvs_entry)NUM_U("app", NULL, EG_NVS_U8, 0);
    two[1].ns = "";
    build_bad(two, 2, 0x3000, "nvs entry 1 has no namespace");
#undef BAD

    /* Fifteen characters, the same key in two namespaces, 3999 bytes: fine. */
    two[0] = (eg_nvs_entry)NUM_U("abcdefghijklmno", "abcdefghijklmno", EG_NVS_U8, 1);
    two[1] =
        (eg_nvs_entry)BYTES("app", "abcdefghijklmno", EG_NVS_STRING, (const uint8_t *)s4000, 3999);
    build_ok(&img, two, 2, 0x3000);
    eg_buf_release(&img);
    free(s4000);
}

/* The reader is the yardstick: it must refuse what an app could not read back. */
static void test_reader_catches_damage(void **state)
{
    static const uint8_t blob[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const eg_nvs_entry e[] = {
        NUM_U("app", "n", EG_NVS_U32, 7),
        STR("app", "s", "a string of some length"),
        BYTES("app", "b", EG_NVS_BLOB, blob, sizeof(blob)),
    };
    eg_buf img = EG_BUF_INIT, bad = EG_BUF_INIT;
    const nvsr_item *n_item, *s_item, *idx_item;
    nvsr *r;
    (void)state;

    build_ok(&img, e, 3, 0x3000);
    r = reader_ok(&img);
    n_item = nvsr_find(r, "app", "n", NVSR_U32, 0xFF);
    s_item = nvsr_find(r, "app", "s", NVSR_STR, 0xFF);
    idx_item = nvsr_find(r, "app", "b", NVSR_BLOB_IDX, 0xFF);
    assert_non_null(n_item);
    assert_non_null(s_item);
    assert_non_null(idx_item);

#define DAMAGED(change, msg)                                                                       \
    do {                                                                                           \
        eg_buf_clear(&bad);                                                                        \
        assert_int_equal(eg_buf_append(&bad, img.data, img.len), 0);                               \
        change;                                                                                    \
        expect_refusal(&bad, msg);                                                                 \
    } while (0)

    DAMAGED(bad.data[4] = 1, "page 0: header CRC32 ");
    DAMAGED(bad.data[8] = 0xFF, "page 0: version 0xff, not 0xfe");
    DAMAGED(item_bytes(&bad, n_item)[9] ^= 1, "page 0 entry 1: header CRC32 ");
    DAMAGED(item_bytes(&bad, s_item)[40] ^= 1, "page 0 entry 2: data CRC32 ");
    DAMAGED((item_bytes(&bad, s_item)[2] = 3, reseal_item(item_bytes(&bad, s_item))),
            "page 0 entry 2: span 3 for 24 bytes of data");
    DAMAGED((item_bytes(&bad, idx_item)[28] = 2, reseal_item(item_bytes(&bad, idx_item))),
            "blob 'b': chunk 1 is missing");
    DAMAGED((item_bytes(&bad, idx_item)[24] = 10, reseal_item(item_bytes(&bad, idx_item))),
            "blob 'b': chunks hold 9 bytes, the index says 10");
    DAMAGED((item_bytes(&bad, n_item)[0] = 9, reseal_item(item_bytes(&bad, n_item))),
            "key 'n' in namespace 9, which no entry names");
    DAMAGED(bad.data[32 + 1] &= 0xBF, "page 0 entry 7: header CRC32 ");
    DAMAGED(bad.data[32 + 2] &= 0xBF, "page 0 entry 11: written after an empty entry");
    DAMAGED(bad.data[32] &= 0xFD, "page 0 entry 0: entry state 0");
    DAMAGED(bad.data[2 * PAGE + 100] = 0, "page 2: empty page has bytes written");
    DAMAGED(bad.len = 2 * PAGE, "size 8192 is not a multiple of 4096 of at least 3 pages");
#undef DAMAGED
    nvsr_free(r);

    /* Three pages of data in three pages: no page left free for the app. */
    {
        eg_nvs_entry many[260];
        char keys[260][8];
        for (int k = 0; k < 260; k++) {
            snprintf(keys[k], sizeof(keys[k]), "k%03d", k);
            many[k] = (eg_nvs_entry)NUM_U("full", keys[k], EG_NVS_U8, (uint64_t)k % 256);
        }
        eg_buf_release(&img);
        build_ok(&img, many, 260, 0x4000);
        img.len = 0x3000;
        assert_string_equal(reader_refuses(&img), "no free page (states FFA)");
    }
    eg_buf_release(&img);
    eg_buf_release(&bad);
}

/* ---- CSV ---- */

static eg_nvs_csv *csv_file_ok(const char *name)
{
    char path[512];
    eg_buf text = EG_BUF_INIT;
    eg_nvs_csv *csv = NULL;
    int rc;
    snprintf(path, sizeof(path), "%s/%s", EG_NVS_CORPUS, name);
    assert_int_equal(eg_buf_read_file(&text, path), 0);
    rc = eg_nvs_parse_csv(&csv, (const char *)text.data, text.len, name, work);
    if (rc != 0)
        fail_msg("%s: %s", name, eg_error_msg());
    eg_buf_release(&text);
    return csv;
}

static void csv_bad(const char *text, int code, const char *msg)
{
    eg_nvs_csv *csv = (eg_nvs_csv *)1;
    assert_int_equal(eg_nvs_parse_csv(&csv, text, strlen(text), "t.csv", work), code);
    assert_string_equal(eg_error_msg(), msg);
    assert_null(csv);
}

/* An app-side read of every key type of types.csv against the values the CSV states. */
static void test_csv_types(void **state)
{
    eg_nvs_csv *csv = csv_file_ok("types.csv");
    eg_buf img = EG_BUF_INIT;
    uint8_t u8, buf[64];
    int8_t i8;
    uint16_t u16;
    int16_t i16;
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    int64_t i64;
    size_t len;
    nvsr *r;
    (void)state;

    assert_int_equal(csv->n, 26);
    assert_null(csv->entries[0].key);
    assert_string_equal(csv->entries[0].ns, "config");
    assert_int_equal(csv->lines[0], 3);
    assert_int_equal(csv->lines[25], 28);
    build_ok(&img, csv->entries, csv->n, 0x3000);
    r = reader_ok(&img);
    check_reads_back(r, csv->entries, csv->n);
    assert_int_equal(nvsr_get_u8(r, "config", "u8_min", &u8), NVSR_OK);
    assert_int_equal(u8, 0);
    assert_int_equal(nvsr_get_u8(r, "config", "u8_max", &u8), NVSR_OK);
    assert_int_equal(u8, 255);
    assert_int_equal(nvsr_get_i8(r, "config", "i8_min", &i8), NVSR_OK);
    assert_int_equal(i8, -128);
    assert_int_equal(nvsr_get_i8(r, "config", "i8_max", &i8), NVSR_OK);
    assert_int_equal(i8, 127);
    assert_int_equal(nvsr_get_u16(r, "config", "u16_max", &u16), NVSR_OK);
    assert_int_equal(u16, 65535);
    assert_int_equal(nvsr_get_i16(r, "config", "i16_min", &i16), NVSR_OK);
    assert_int_equal(i16, -32768);
    assert_int_equal(nvsr_get_i16(r, "config", "i16_max", &i16), NVSR_OK);
    assert_int_equal(i16, 32767);
    assert_int_equal(nvsr_get_u32(r, "config", "u32_max", &u32), NVSR_OK);
    assert_true(u32 == 4294967295u);
    assert_int_equal(nvsr_get_i32(r, "config", "i32_min", &i32), NVSR_OK);
    assert_true(i32 == INT32_MIN);
    assert_int_equal(nvsr_get_i32(r, "config", "i32_max", &i32), NVSR_OK);
    assert_true(i32 == INT32_MAX);
    assert_int_equal(nvsr_get_u64(r, "config", "u64_max", &u64), NVSR_OK);
    assert_true(u64 == UINT64_MAX);
    assert_int_equal(nvsr_get_i64(r, "config", "i64_min", &i64), NVSR_OK);
    assert_true(i64 == INT64_MIN);
    assert_int_equal(nvsr_get_i64(r, "config", "i64_max", &i64), NVSR_OK);
    assert_true(i64 == INT64_MAX);
    assert_int_equal(nvsr_get_i32(r, "config", "zero", &i32), NVSR_OK);
    assert_int_equal(i32, 0);
    len = sizeof(buf);
    assert_int_equal(nvsr_get_str(r, "config", "empty_str", (char *)buf, &len), NVSR_OK);
    assert_int_equal(len, 1);
    len = sizeof(buf);
    assert_int_equal(nvsr_get_str(r, "config", "str", (char *)buf, &len), NVSR_OK);
    assert_string_equal(buf, "hello world");
    len = sizeof(buf);
    assert_int_equal(nvsr_get_str(r, "config", "utf8", (char *)buf, &len), NVSR_OK);
    assert_string_equal(buf, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93");
    len = sizeof(buf);
    assert_int_equal(nvsr_get_blob(r, "config", "hex", buf, &len), NVSR_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, "\xde\xad\xbe\xef\x00\xff", 6);
    len = sizeof(buf);
    assert_int_equal(nvsr_get_blob(r, "config", "b64", buf, &len), NVSR_OK);
    assert_int_equal(len, 11);
    assert_memory_equal(buf, "Hello, NVS!", 11);
    len = sizeof(buf);
    assert_int_equal(nvsr_get_blob(r, "config", "empty_blob", buf, &len), NVSR_OK);
    assert_int_equal(len, 0);
    len = sizeof(buf);
    assert_int_equal(nvsr_get_str(r, "device", "serial", (char *)buf, &len), NVSR_OK);
    assert_string_equal(buf, "WX-0001-000042");
    assert_int_equal(nvsr_get_u32(r, "device", "count", &u32), NVSR_OK);
    assert_int_equal(u32, 7);
    assert_int_equal(nvsr_get_i32(r, "device", "again", &i32), NVSR_OK);
    assert_int_equal(i32, -1);
    assert_int_equal(nvsr_namespaces(r), 2);
    nvsr_free(r);
    eg_buf_release(&img);
    eg_nvs_csv_free(csv);
}

static void test_csv_quoting_and_files(void **state)
{
    eg_nvs_csv *q = csv_file_ok("quoting.csv"), *f = csv_file_ok("files.csv");
    uint8_t cert[300], *p100 = pattern_new(100);
    eg_buf img = EG_BUF_INIT;
    nvsr *r;
    (void)state;

    assert_int_equal(q->n, 5);
    assert_string_equal(q->entries[1].key, "a,b");
    assert_int_equal(q->entries[1].len, strlen("x, \"y\" and z"));
    assert_memory_equal(q->entries[1].data, "x, \"y\" and z", q->entries[1].len);
    assert_int_equal(q->entries[2].len, strlen("line one\nline two\n"));
    assert_memory_equal(q->entries[2].data, "line one\nline two\n", q->entries[2].len);
    assert_int_equal(q->lines[2], 7);
    assert_int_equal(q->entries[3].type, EG_NVS_I16);
    assert_int_equal(q->entries[3].i, -7);
    assert_int_equal(q->lines[3], 11);
    assert_int_equal(q->entries[4].len, 2);
    assert_memory_equal(q->entries[4].data, "\xab\xcd", 2);
    build_ok(&img, q->entries, q->n, 0x3000);
    r = reader_ok(&img);
    check_reads_back(r, q->entries, q->n);
    nvsr_free(r);
    eg_buf_release(&img);

    for (int i = 0; i < 300; i++)
        cert[i] = (uint8_t)((i * 37 + 11) % 256);
    assert_int_equal(f->n, 5);
    assert_int_equal(f->entries[1].type, EG_NVS_STRING);
    assert_int_equal(f->entries[1].len, strlen("Hello from the factory floor.\nLine two.\n"));
    assert_int_equal(f->entries[2].len, 16);
    assert_memory_equal(f->entries[2].data,
                        "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
    assert_int_equal(f->entries[3].len, 300);
    assert_memory_equal(f->entries[3].data, cert, 300);
    assert_int_equal(f->entries[4].len, 100);
    assert_memory_equal(f->entries[4].data, p100, 100);
    build_ok(&img, f->entries, f->n, 0x3000);
    r = reader_ok(&img);
    check_reads_back(r, f->entries, f->n);
    nvsr_free(r);
    eg_buf_release(&img);
    eg_nvs_csv_free(q);
    eg_nvs_csv_free(f);
    free(p100);
}

/* Windows line ends read as Unix ones: the same image. */
static void test_csv_crlf(void **state)
{
    eg_nvs_csv *lf = csv_file_ok("types.csv"), *crlf = NULL;
    eg_buf text = EG_BUF_INIT, converted = EG_BUF_INIT, a = EG_BUF_INIT, b = EG_BUF_INIT;
    char path[512];
    (void)state;

    snprintf(path, sizeof(path), "%s/types.csv", EG_NVS_CORPUS);
    assert_int_equal(eg_buf_read_file(&text, path), 0);
    for (size_t k = 0; k < text.len; k++) {
        if (text.data[k] == '\n')
            assert_int_equal(eg_buf_push(&converted, '\r'), 0);
        assert_int_equal(eg_buf_push(&converted, text.data[k]), 0);
    }
    assert_int_equal(
        eg_nvs_parse_csv(&crlf, (const char *)converted.data, converted.len, "crlf.csv", work), 0);
    assert_int_equal(crlf->n, lf->n);
    assert_int_equal(crlf->lines[crlf->n - 1], lf->lines[lf->n - 1]);
    build_ok(&a, lf->entries, lf->n, 0x3000);
    build_ok(&b, crlf->entries, crlf->n, 0x3000);
    assert_memory_equal(a.data, b.data, a.len);
    eg_buf_release(&text);
    eg_buf_release(&converted);
    eg_buf_release(&a);
    eg_buf_release(&b);
    eg_nvs_csv_free(lf);
    eg_nvs_csv_free(crlf);
}

static void test_csv_errors(void **state)
{
    (void)state;
#define HEAD "key,type,encoding,value\nns,namespace,,\n"
    csv_bad("", EG_EINVAL, "t.csv: no header row (key,type,encoding,value)");
    csv_bad("# only a comment\n\n", EG_EINVAL, "t.csv: no header row (key,type,encoding,value)");
    csv_bad("key,type,value\n", EG_EINVAL, "t.csv:1: the header row has no 'encoding' column");
    csv_bad("key,type,encoding,value\nk,data,u8,1\n", EG_EINVAL,
            "t.csv:2: key 'k' comes before any namespace row");
    csv_bad("key,type,encoding,value\nabcdefghijklmnop,namespace,,\n", EG_EINVAL,
            "t.csv:2: key 'abcdefghijklmnop' is longer than 15 characters");
    csv_bad(HEAD "abcdefghijklmnop,data,u8,1\n", EG_EINVAL,
            "t.csv:3: key 'abcdefghijklmnop' is longer than 15 characters");
    csv_bad(HEAD ",data,u8,1\n", EG_EINVAL, "t.csv:3: no key");
    csv_bad(HEAD "k\n", EG_EINVAL, "t.csv:3: key 'k' has no type");
    csv_bad(HEAD "k,data\n", EG_EINVAL, "t.csv:3: key 'k' has no encoding");
    csv_bad(HEAD "k,data,u8\n", EG_EINVAL, "t.csv:3: key 'k' has no value");
    csv_bad(HEAD "k,blob,u8,1\n", EG_EINVAL,
            "t.csv:3: key 'k' has type 'blob' (namespace, data, file)");
    csv_bad(HEAD "k,data,u9,1\n", EG_EINVAL,
            "t.csv:3: key 'k' has encoding 'u9' (u8, i8, u16, i16, u32, i32, u64, i64, string, "
            "hex2bin, base64, binary)");
    csv_bad(HEAD "k,data,blob,00\n", EG_EINVAL,
            "t.csv:3: key 'k': a blob's encoding is hex2bin, base64 or binary");
    csv_bad(HEAD "k,data,u8,256\n", EG_EINVAL,
            "t.csv:3: key 'k': u8 value '256' is out of range (0 to 255)");
    csv_bad(HEAD "k,data,i8,-129\n", EG_EINVAL,
            "t.csv:3: key 'k': i8 value '-129' is out of range (-128 to 127)");
    csv_bad(HEAD "k,data,u32,-1\n", EG_EINVAL,
            "t.csv:3: key 'k': u32 value '-1' is out of range (0 to 4294967295)");
    csv_bad(HEAD "k,data,u64,18446744073709551616\n", EG_EINVAL,
            "t.csv:3: key 'k': u64 value '18446744073709551616' is out of range (0 to "
            "18446744073709551615)");
    csv_bad(HEAD "k,data,i64,9223372036854775808\n", EG_EINVAL,
            "t.csv:3: key 'k': i64 value '9223372036854775808' is out of range "
            "(-9223372036854775808 to 9223372036854775807)");
    csv_bad(HEAD "k,data,u8,0x10\n", EG_EINVAL,
            "t.csv:3: key 'k': u8 value '0x10' is not a decimal number");
    csv_bad(HEAD "k,data,u8,\n", EG_EINVAL,
            "t.csv:3: key 'k': u8 value '' is not a decimal number");
    csv_bad(HEAD "k,data,hex2bin,abc\n", EG_EINVAL,
            "t.csv:3: key 'k': hex2bin value has an odd number of digits (3)");
    csv_bad(HEAD "k,data,hex2bin,zz\n", EG_EINVAL,
            "t.csv:3: key 'k': hex2bin value has 'z' at 1, not a hex digit");
    csv_bad(HEAD "k,data,base64,@@@@\n", EG_EINVAL,
            "t.csv:3: key 'k': base64 value is not valid base64");
    csv_bad(HEAD "k,file,u8,files/key.hex\n", EG_EINVAL,
            "t.csv:3: key 'k': a file row's encoding is string, hex2bin, base64 or binary");
    csv_bad(HEAD "k,file,binary,\n", EG_EINVAL, "t.csv:3: key 'k': a file row needs a file name");
    csv_bad(HEAD "\"k,data,string,x\n", EG_EINVAL, "t.csv:3: a quoted field has no closing quote");
    csv_bad(HEAD "\"k\"x,data,u8,1\n", EG_EINVAL,
            "t.csv:3: text after the closing quote of a field");
    csv_bad(HEAD "k,data,u8,1\nother,namespace,,\nk,data,u8,2\nns,namespace,,\nj,data,u8,3\n",
            EG_EINVAL,
            "t.csv:6: namespace 'ns' again after 'other' (nvs_partition_gen would put the keys "
            "that follow in 'other'): keep a namespace's keys together");
    {
        /* The namespace row of the namespace in use changes nothing. */
        eg_nvs_csv *csv = NULL;
        const char *text = HEAD "k,data,u8,1\nns,namespace,,\nj,data,u8,2\n";
        assert_int_equal(eg_nvs_parse_csv(&csv, text, strlen(text), "t.csv", work), 0);
        assert_int_equal(csv->n, 4);
        assert_string_equal(csv->entries[3].ns, "ns");
        eg_nvs_csv_free(csv);
    }
    /* Lines count comments and blank lines. */
    csv_bad("# c\nkey,type,encoding,value\n# c\nns,namespace,,\n\nk,data,u8,300\n", EG_EINVAL,
            "t.csv:6: key 'k': u8 value '300' is out of range (0 to 255)");
    {
        eg_nvs_csv *csv = (eg_nvs_csv *)1;
        const char *text = HEAD "k,file,binary,missing.bin\n";
        assert_int_equal(eg_nvs_parse_csv(&csv, text, strlen(text), "t.csv", work), EG_ENOTFOUND);
        assert_null(csv);
        assert_true(strncmp(eg_error_msg(), "t.csv:3: key 'k': ", 18) == 0);
        assert_non_null(strstr(eg_error_msg(), "/missing.bin"));
    }
#undef HEAD
}

/* ---- byte-for-byte agreement with nvs_partition_gen ---- */

static void test_golden(void **state)
{
    char path[512], line[512];
    FILE *f;
    int rows = 0;
    (void)state;

    snprintf(path, sizeof(path), "%s/golden.tsv", EG_NVS_CORPUS);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char csv_name[64], size_text[16], sha[65];
        uint8_t digest[EG_SHA256_LEN];
        char hex[2 * EG_SHA256_LEN + 1];
        eg_buf img = EG_BUF_INIT;
        eg_nvs_csv *csv;
        nvsr *r;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_int_equal(sscanf(line, "%63s %15s %64s", csv_name, size_text, sha), 3);
        csv = csv_file_ok(csv_name);
        build_ok(&img, csv->entries, csv->n, (uint32_t)strtoul(size_text, NULL, 16));
        assert_int_equal(eg_sha256(digest, img.data, img.len), 0);
        eg_hex(hex, digest, sizeof(digest));
        if (strcmp(hex, sha) != 0)
            fail_msg("%s at %s: SHA-256 %s, nvs_partition_gen's %s", csv_name, size_text, hex, sha);
        r = reader_ok(&img);
        check_reads_back(r, csv->entries, csv->n);
        nvsr_free(r);
        eg_buf_release(&img);
        eg_nvs_csv_free(csv);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_every_type_reads_back),
        cmocka_unit_test(test_no_entries),
        cmocka_unit_test(test_string_boundaries),
        cmocka_unit_test(test_blob_layout),
        cmocka_unit_test(test_largest_blob),
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_full_pages),
        cmocka_unit_test(test_partition_sizes),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_reader_catches_damage),
        cmocka_unit_test(test_csv_types),
        cmocka_unit_test(test_csv_quoting_and_files),
        cmocka_unit_test(test_csv_crlf),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_golden),
    };
    return cmocka_run_group_tests(tests, make_work, remove_work);
}
