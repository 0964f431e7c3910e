#include "image/nvs.h"

#include "core/error.h"
#include "core/hash.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Page layout (ESP-IDF components/nvs_flash, nvs_partition_gen). */
enum {
    ENTRY_SIZE = 32,
    ENTRY_COUNT = 126,
    BITMAP_OFFSET = 32,
    FIRST_ENTRY_OFFSET = 64,
    CHUNK_ANY = 0xFF,
    FORMAT_VERSION2 = 0xFE,
    TYPE_STRING = 0x21,
    TYPE_BLOB_DATA = 0x42,
    TYPE_BLOB_INDEX = 0x48,
};
#define STATE_ACTIVE 0xFFFFFFFEu
#define STATE_FULL   0xFFFFFFFCu

static const struct {
    const char *name;
    uint8_t code;  /* the item type on flash */
    uint8_t bytes; /* width of a number; 0 for strings and blobs */
    uint8_t is_signed;
} types[] = {
    [EG_NVS_U8] = {"u8", 0x01, 1, 0},
    [EG_NVS_I8] = {"i8", 0x11, 1, 1},
    [EG_NVS_U16] = {"u16", 0x02, 2, 0},
    [EG_NVS_I16] = {"i16", 0x12, 2, 1},
    [EG_NVS_U32] = {"u32", 0x04, 4, 0},
    [EG_NVS_I32] = {"i32", 0x14, 4, 1},
    [EG_NVS_U64] = {"u64", 0x08, 8, 0},
    [EG_NVS_I64] = {"i64", 0x18, 8, 1},
    [EG_NVS_STRING] = {"string", TYPE_STRING, 0, 0},
    [EG_NVS_BLOB] = {"blob", 0, 0, 0},
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

int eg_nvs_type_parse(eg_nvs_type *out, const char *name)
{
    static const char *const blob_encodings[] = {"binary", "hex2bin", "base64"};

    *out = EG_NVS_U8;
    for (size_t t = 0; t < N_TYPES; t++)
        if (strcmp(name, types[t].name) == 0) {
            *out = (eg_nvs_type)t;
            return 0;
        }
    for (size_t k = 0; k < sizeof(blob_encodings) / sizeof(blob_encodings[0]); k++)
        if (strcmp(name, blob_encodings[k]) == 0) {
            *out = EG_NVS_BLOB;
            return 0;
        }
    return eg_error_set(EG_EINVAL,
                        "unknown nvs type '%s' (u8, i8, u16, i16, u32, i32, u64, i64, string, "
                        "blob, binary, hex2bin, base64)",
                        name);
}

const char *eg_nvs_type_name(eg_nvs_type type)
{
    return (unsigned)type < N_TYPES ? types[type].name : "?";
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int decode_hex(eg_buf *out, const uint8_t *text, size_t len)
{
    size_t start = 0, end = len;

    while (start < end && is_space(text[start]))
        start++;
    while (end > start && is_space(text[end - 1]))
        end--;
    if ((end - start) % 2)
        return eg_error_set(EG_EINVAL, "hex2bin value has an odd number of digits (%zu)",
                            end - start);
    if (eg_buf_reserve(out, (end - start) / 2 + 1) < 0)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t k = start; k < end; k += 2) {
        int hi = eg_hex_value(text[k]), lo = eg_hex_value(text[k + 1]);
        if (hi < 0 || lo < 0)
            return eg_error_set(EG_EINVAL, "hex2bin value has '%c' at %zu, not a hex digit",
                                hi < 0 ? text[k] : text[k + 1], (hi < 0 ? k : k + 1) - start + 1);
        out->data[out->len++] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* OpenSSL's streaming decoder: it takes line breaks and white space between groups. */
static int decode_base64(eg_buf *out, const uint8_t *text, size_t len)
{
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int n = 0, tail = 0, rc = 0;

    if (!ctx || len > INT32_MAX / 2 || eg_buf_reserve(out, len / 4 * 3 + 80) < 0) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, out->data, &n, text, (int)len) < 0 ||
        EVP_DecodeFinal(ctx, out->data + n, &tail) < 0) {
        rc = eg_error_set(EG_EINVAL, "base64 value is not valid base64");
        goto done;
    }
    out->len = (size_t)n + (size_t)tail;
done:
    EVP_ENCODE_CTX_free(ctx);
    return rc;
}

int eg_nvs_decode(eg_buf *out, const char *encoding, const uint8_t *text, size_t len)
{
    int rc;

    if (strcmp(encoding, "hex2bin") == 0)
        rc = decode_hex(out, text, len);
    else if (strcmp(encoding, "base64") == 0)
        rc = decode_base64(out, text, len);
    else
        rc = eg_error_set(EG_EINVAL, "unknown nvs encoding '%s' (hex2bin, base64)", encoding);
    if (rc < 0)
        eg_buf_release(out);
    return rc;
}

/* ---- Checking entries ---- */

/* "nvs key 'k' in namespace 'ns'", the subject of most messages. */
#define KEY_FMT     "nvs key '%s' in namespace '%s'"
#define KEY_ARGS(e) (e)->key, (e)->ns

static int check_name(const char *name, const char *what, const char *ns, size_t index)
{
    if (!name || !*name) {
        if (ns)
            return eg_error_set(EG_EINVAL, "nvs entry %zu in namespace '%s' has no key", index, ns);
        return eg_error_set(EG_EINVAL, "nvs entry %zu has no namespace", index);
    }
    if (strlen(name) > EG_NVS_KEY_MAX) {
        if (ns)
            return eg_error_set(EG_EINVAL, "%s '%s' in namespace '%s' is longer than %d characters",
                                what, name, ns, EG_NVS_KEY_MAX);
        return eg_error_set(EG_EINVAL, "%s '%s' is longer than %d characters", what, name,
                            EG_NVS_KEY_MAX);
    }
    return 0;
}

/* The range of e's number type into *min and *max, and whether its value is in it. */
static int in_range(const eg_nvs_entry *e, int64_t *min, uint64_t *max)
{
    unsigned bits = types[e->type].bytes * 8u;

    if (types[e->type].is_signed) {
        *max = bits == 64 ? (uint64_t)INT64_MAX : (UINT64_C(1) << (bits - 1)) - 1;
        *min = -(int64_t)*max - 1;
        return e->i >= *min && e->i <= (int64_t)*max;
    }
    *min = 0;
    *max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    return e->u <= *max;
}

static int check_range(const eg_nvs_entry *e)
{
    int64_t min;
    uint64_t max;

    if (in_range(e, &min, &max))
        return 0;
    if (types[e->type].is_signed)
        return eg_error_set(
            EG_EINVAL, KEY_FMT ": %" PRId64 " is out of range for %s (%" PRId64 " to %" PRIu64 ")",
            KEY_ARGS(e), e->i, types[e->type].name, min, max);
    return eg_error_set(EG_EINVAL,
                        KEY_FMT ": %" PRIu64 " is out of range for %s (0 to %" PRIu64 ")",
                        KEY_ARGS(e), e->u, types[e->type].name, max);
}

static int check_entry(const eg_nvs_entry *e, size_t index)
{
    int rc;

    if ((rc = check_name(e->ns, "nvs namespace", NULL, index)) < 0)
        return rc;
    if (!e->key)
        return 0;
    if ((rc = check_name(e->key, "nvs key", e->ns, index)) < 0)
        return rc;
    if ((unsigned)e->type >= N_TYPES)
        return eg_error_set(EG_EINVAL, KEY_FMT ": unknown type %d", KEY_ARGS(e), (int)e->type);
    if (types[e->type].bytes)
        return check_range(e);
    if (e->len && !e->data)
        return eg_error_set(EG_EINVAL, KEY_FMT ": %zu bytes but no data", KEY_ARGS(e), e->len);
    if (e->type == EG_NVS_STRING) {
        const void *nul = e->len ? memchr(e->data, 0, e->len) : NULL;
        if (e->len > EG_NVS_STRING_MAX)
            return eg_error_set(EG_EINVAL,
                                KEY_FMT ": the string is %zu bytes, more than the %d that fit",
                                KEY_ARGS(e), e->len, EG_NVS_STRING_MAX);
        if (nul)
            return eg_error_set(EG_EINVAL, KEY_FMT ": the string holds a NUL byte at offset %zu",
                                KEY_ARGS(e), (size_t)((const uint8_t *)nul - e->data));
    } else if (e->len > EG_NVS_BLOB_MAX) {
        return eg_error_set(EG_EINVAL, KEY_FMT ": the blob is %zu bytes, more than the %d that fit",
                            KEY_ARGS(e), e->len, EG_NVS_BLOB_MAX);
    }
    return 0;
}

typedef struct key_ref {
    uint8_t ns;
    const eg_nvs_entry *e;
} key_ref;

static int by_key(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns < y->ns ? -1 : 1;
    return strcmp(x->e->key, y->e->key);
}

/* Numbers the namespaces in order of first use into ns_index[] and refuses a key that
 * appears twice in one namespace. */
static int number_namespaces(uint8_t *ns_index, const eg_nvs_entry *entries, size_t n)
{
    const char *names[EG_NVS_NAMESPACES_MAX];
    size_t n_names = 0, n_keys = 0;
    key_ref *keys = calloc(n ? n : 1, sizeof(*keys));
    int rc = 0;

    if (!keys)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        size_t j = 0;
        while (j < n_names && strcmp(names[j], entries[k].ns) != 0)
            j++;
        if (j == n_names) {
            if (n_names == EG_NVS_NAMESPACES_MAX) {
                rc = eg_error_set(EG_EINVAL, "nvs namespace '%s' is one more than the %d that fit",
                                  entries[k].ns, EG_NVS_NAMESPACES_MAX);
                goto done;
            }
            names[n_names++] = entries[k].ns;
        }
        ns_index[k] = (uint8_t)(j + 1);
        if (entries[k].key)
            keys[n_keys++] = (key_ref){(uint8_t)(j + 1), &entries[k]};
    }
    qsort(keys, n_keys, sizeof(*keys), by_key);
    for (size_t k = 1; k < n_keys; k++)
        if (by_key(&keys[k - 1], &keys[k]) == 0) {
            rc = eg_error_set(EG_EINVAL, KEY_FMT " appears twice", KEY_ARGS(keys[k].e));
            goto done;
        }
done:
    free(keys);
    return rc;
}

/* ---- Laying out pages ---- */

typedef struct layout {
    eg_buf img;
    size_t page;   /* offset of the current page */
    unsigned used; /* entries written on it */
} layout;

static uint32_t crc32_nvs(uLong crc, const uint8_t *p, size_t len)
{
    return (uint32_t)crc32(crc, p, (uInt)len);
}

/* Closes the current page (FULL) and opens the next one: state ACTIVE, its sequence
 * number, version 2 and the CRC32 of bytes 4 to 27. */
static int new_page(layout *l)
{
    uint8_t *p;
    size_t seq = l->img.len / EG_NVS_PAGE_SIZE;

    if (l->img.len)
        eg_put_u32le(l->img.data + l->page, STATE_FULL);
    if (eg_buf_fill(&l->img, 0xFF, EG_NVS_PAGE_SIZE) < 0)
        return eg_error_set(EG_ENOMEM, "out of memory");
    l->page = l->img.len - EG_NVS_PAGE_SIZE;
    l->used = 0;
    p = l->img.data + l->page;
    eg_put_u32le(p, STATE_ACTIVE);
    eg_put_u32le(p + 4, (uint32_t)seq);
    p[8] = FORMAT_VERSION2;
    eg_put_u32le(p + 28, crc32_nvs(0xFFFFFFFFu, p + 4, 24));
    return 0;
}

/* Copies len bytes into the current page from its next free entry on, and marks the
 * entries they cover written (2 bits an entry: 11 empty, 10 written). */
static void put_entries(layout *l, const uint8_t *bytes, size_t len)
{
    uint8_t *p = l->img.data + l->page;
    size_t count = (len + ENTRY_SIZE - 1) / ENTRY_SIZE;

    if (len)
        memcpy(p + FIRST_ENTRY_OFFSET + (size_t)l->used * ENTRY_SIZE, bytes, len);
    for (size_t k = 0; k < count; k++, l->used++)
        p[BITMAP_OFFSET + l->used / 4] &= (uint8_t) ~(1u << (l->used % 4 * 2));
}

/* An item header: namespace, type, span, chunk index, the key NUL-padded to 16 bytes
 * and 8 bytes of data, 0xFF where the caller puts nothing. */
static void item_init(uint8_t item[ENTRY_SIZE], uint8_t ns, uint8_t type, size_t span,
                      uint8_t chunk, const char *key)
{
    memset(item, 0xFF, ENTRY_SIZE);
    item[0] = ns;
    item[1] = type;
    item[2] = (uint8_t)span;
    item[3] = chunk;
    memset(item + 8, 0, 16);
    memcpy(item + 8, key, strlen(key));
}

/* The header's CRC32: over bytes 0-3 and 8-31, stored at 4. */
static void item_seal(uint8_t item[ENTRY_SIZE])
{
    eg_put_u32le(item + 4, crc32_nvs(crc32_nvs(0xFFFFFFFFu, item, 4), item + 8, 24));
}

static int put_number(layout *l, uint8_t ns, const char *key, eg_nvs_type type, uint64_t bits)
{
    uint8_t item[ENTRY_SIZE];
    int rc;

    if (l->used >= ENTRY_COUNT && (rc = new_page(l)) < 0)
        return rc;
    item_init(item, ns, types[type].code, 1, CHUNK_ANY, key);
    for (unsigned k = 0; k < types[type].bytes; k++)
        item[24 + k] = (uint8_t)(bits >> (8 * k));
    item_seal(item);
    put_entries(l, item, sizeof(item));
    return 0;
}

/* A header whose data is (u16 size, 0xFFFF, CRC32 of the bytes), then the bytes. */
static void put_var(layout *l, uint8_t item[ENTRY_SIZE], const uint8_t *data, size_t len)
{
    eg_put_u16le(item + 24, (uint16_t)len);
    eg_put_u32le(item + 28, crc32_nvs(0xFFFFFFFFu, data, len));
    item_seal(item);
    put_entries(l, item, ENTRY_SIZE);
    put_entries(l, data, len);
}

/* A string and its NUL on one page. Like nvs_partition_gen, a string that would reach
 * the page's last entry goes to a new page; there it may fill the page (the tool gives
 * up on those, the app writes them so). */
static int put_string(layout *l, uint8_t ns, const eg_nvs_entry *e)
{
    uint8_t item[ENTRY_SIZE], *bytes;
    size_t size = e->len + 1, span = 1 + (size + ENTRY_SIZE - 1) / ENTRY_SIZE;
    int rc;

    if (l->used + span >= ENTRY_COUNT && (rc = new_page(l)) < 0)
        return rc;
    if (!(bytes = malloc(size)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    if (e->len)
        memcpy(bytes, e->data, e->len);
    bytes[e->len] = 0;
    item_init(item, ns, TYPE_STRING, span, CHUNK_ANY, e->key);
    put_var(l, item, bytes, size);
    free(bytes);
    return 0;
}

/* A blob as chunks: each fills what is left of a page after its header (chunk indexes
 * from 0); a page left with no entry for the next item is closed. Then the blob index:
 * (u32 size, u8 chunk count, u8 chunk start 0, 0xFFFF). */
static int put_blob(layout *l, uint8_t ns, const eg_nvs_entry *e)
{
    uint8_t item[ENTRY_SIZE];
    size_t offset = 0, remaining = e->len;
    unsigned chunk = 0;
    int rc;

    if (l->used >= ENTRY_COUNT && (rc = new_page(l)) < 0)
        return rc;
    for (;;) {
        size_t room = (size_t)(ENTRY_COUNT - l->used - 1) * ENTRY_SIZE;
        size_t size = remaining < room ? remaining : room;

        remaining -= size;
        item_init(item, ns, TYPE_BLOB_DATA, 1 + (size + ENTRY_SIZE - 1) / ENTRY_SIZE,
                  (uint8_t)chunk++, e->key);
        put_var(l, item, e->data ? e->data + offset : (const uint8_t *)"", size);
        offset += size;
        if ((remaining || room - size < ENTRY_SIZE) && (rc = new_page(l)) < 0)
            return rc;
        if (!remaining)
            break;
    }
    item_init(item, ns, TYPE_BLOB_INDEX, 1, CHUNK_ANY, e->key);
    eg_put_u32le(item + 24, (uint32_t)e->len);
    item[28] = (uint8_t)chunk;
    item[29] = 0;
    item_seal(item);
    put_entries(l, item, sizeof(item));
    return 0;
}

int eg_nvs_build(eg_buf *out, const eg_nvs_entry *entries, size_t n, uint32_t partition_size)
{
    layout l = {EG_BUF_INIT, 0, 0};
    uint8_t *ns_index = NULL, written[EG_NVS_NAMESPACES_MAX + 1] = {0};
    size_t pages, needed;
    int rc;

    if (partition_size % EG_NVS_PAGE_SIZE) {
        rc = eg_error_set(EG_EINVAL, "nvs partition size 0x%" PRIx32 " is not a multiple of 4096",
                          partition_size);
        goto done;
    }
    if (partition_size < EG_NVS_MIN_SIZE) {
        rc = eg_error_set(EG_EINVAL,
                          "nvs partition size 0x%" PRIx32
                          " is too small: at least 0x%x (3 pages, one kept free)",
                          partition_size, EG_NVS_MIN_SIZE);
        goto done;
    }
    for (size_t k = 0; k < n; k++)
        if ((rc = check_entry(&entries[k], k)) < 0)
            goto done;
    if (!(ns_index = malloc(n ? n : 1))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = number_namespaces(ns_index, entries, n)) < 0 || (rc = new_page(&l)) < 0)
        goto done;
    for (size_t k = 0; k < n; k++) {
        const eg_nvs_entry *e = &entries[k];
        uint8_t ns = ns_index[k];

        if (!written[ns]) {
            written[ns] = 1;
            if ((rc = put_number(&l, 0, e->ns, EG_NVS_U8, ns)) < 0)
                goto done;
        }
        if (!e->key)
            continue;
        if (e->type == EG_NVS_STRING)
            rc = put_string(&l, ns, e);
        else if (e->type == EG_NVS_BLOB)
            rc = put_blob(&l, ns, e);
        else
            rc = put_number(&l, ns, e->key, e->type,
                            types[e->type].is_signed ? (uint64_t)e->i : e->u);
        if (rc < 0)
            goto done;
    }
    pages = l.img.len / EG_NVS_PAGE_SIZE;
    needed = (pages + 1) * EG_NVS_PAGE_SIZE;
    if (needed > partition_size) {
        rc = eg_error_set(EG_EINVAL,
                          "nvs partition size 0x%" PRIx32 " is too small for its data: it needs "
                          "0x%zx (%zu pages of data and one kept free)",
                          partition_size, needed, pages);
        goto done;
    }
    if ((rc = eg_buf_fill(&l.img, 0xFF, partition_size - l.img.len)) < 0) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    eg_buf_release(out);
    *out = l.img;
    l.img = (eg_buf)EG_BUF_INIT;
done:
    eg_buf_release(&l.img);
    free(ns_index);
    return rc;
}

/* ---- nvs_partition_gen's CSV ---- */

enum { COL_KEY, COL_TYPE, COL_ENCODING, COL_VALUE, N_COLS };
static const char *const column_names[N_COLS] = {"key", "type", "encoding", "value"};

/* One CSV record: its fields, each NUL-terminated. */
typedef struct record {
    eg_buf *fields;
    size_t n, cap;
    unsigned line;
} record;

typedef struct csv_reader {
    const char *text;
    size_t len, pos;
    unsigned line;
    const char *name;
} csv_reader;

static int at_newline(const csv_reader *r)
{
    return r->text[r->pos] == '\n' || r->text[r->pos] == '\r';
}

static void skip_newline(csv_reader *r)
{
    if (r->text[r->pos] == '\r' && r->pos + 1 < r->len && r->text[r->pos + 1] == '\n')
        r->pos++;
    r->pos++;
    r->line++;
}

static int record_add_field(record *rec)
{
    if (rec->n == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 8;
        eg_buf *f = realloc(rec->fields, cap * sizeof(*f));
        if (!f)
            return eg_error_set(EG_ENOMEM, "out of memory");
        for (size_t k = rec->cap; k < cap; k++)
            f[k] = (eg_buf)EG_BUF_INIT;
        rec->fields = f;
        rec->cap = cap;
    }
    eg_buf_clear(&rec->fields[rec->n++]);
    return 0;
}

/* Reads the next record (skipping '#' lines and blank lines) as Python's csv module
 * reads the excel dialect: fields split at commas, a field in double quotes may hold
 * commas, line breaks and "" for a quote. rec->n is 0 at the end of the text. */
static int read_record(csv_reader *r, record *rec)
{
    int rc;

    rec->n = 0;
    for (;;) {
        if (r->pos >= r->len)
            return 0;
        if (r->text[r->pos] == '#') {
            while (r->pos < r->len && !at_newline(r))
                r->pos++;
        }
        if (r->pos < r->len && at_newline(r)) {
            skip_newline(r);
            continue;
        }
        if (r->pos < r->len)
            break;
    }
    rec->line = r->line;
    for (;;) {
        eg_buf *f;
        if ((rc = record_add_field(rec)) < 0)
            return rc;
        f = &rec->fields[rec->n - 1];
        if (r->pos < r->len && r->text[r->pos] == '"') {
            r->pos++;
            for (;;) {
                if (r->pos >= r->len)
                    return eg_error_set(EG_EINVAL, "%s:%u: a quoted field has no closing quote",
                                        r->name, rec->line);
                if (r->text[r->pos] == '"') {
                    if (r->pos + 1 < r->len && r->text[r->pos + 1] == '"') {
                        rc = eg_buf_push(f, '"');
                        r->pos += 2;
                    } else {
                        r->pos++;
                        break;
                    }
                } else if (at_newline(r)) {
                    rc = eg_buf_push(f, '\n');
                    skip_newline(r);
                } else {
                    rc = eg_buf_push(f, (uint8_t)r->text[r->pos++]);
                }
                if (rc < 0)
                    return eg_error_set(EG_ENOMEM, "out of memory");
            }
            if (r->pos < r->len && r->text[r->pos] != ',' && !at_newline(r))
                return eg_error_set(EG_EINVAL, "%s:%u: text after the closing quote of a field",
                                    r->name, r->line);
        } else {
            while (r->pos < r->len && r->text[r->pos] != ',' && !at_newline(r))
                if (eg_buf_push(f, (uint8_t)r->text[r->pos++]) < 0)
                    return eg_error_set(EG_ENOMEM, "out of memory");
        }
        if (eg_buf_push(f, 0) < 0)
            return eg_error_set(EG_ENOMEM, "out of memory");
        f->len--;
        if (r->pos < r->len && r->text[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (r->pos < r->len)
            skip_newline(r);
        return 0;
    }
}

static void record_release(record *rec)
{
    for (size_t k = 0; k < rec->cap; k++)
        eg_buf_release(&rec->fields[k]);
    free(rec->fields);
}

/* The capacity to grow an array of n elements to before adding one (doubling at every
 * power of two), or 0 when it has room. */
static size_t grown(size_t n)
{
    return n & (n - 1) ? 0 : n ? 2 * n : 4;
}

/* Takes ownership of p into csv (freed with it); p NULL means out of memory. */
static int own(eg_nvs_csv *csv, void *p)
{
    size_t cap = grown(csv->n_owned);
    void **owned;
    if (!p)
        return eg_error_set(EG_ENOMEM, "out of memory");
    if (cap) {
        if (!(owned = realloc(csv->owned, cap * sizeof(*owned)))) {
            free(p);
            return eg_error_set(EG_ENOMEM, "out of memory");
        }
        csv->owned = owned;
    }
    csv->owned[csv->n_owned++] = p;
    return 0;
}

static int add_entry(eg_nvs_csv *csv, const eg_nvs_entry *e, unsigned line)
{
    size_t cap = grown(csv->n);
    if (cap) {
        eg_nvs_entry *entries = realloc(csv->entries, cap * sizeof(*entries));
        unsigned *lines;
        if (!entries)
            return eg_error_set(EG_ENOMEM, "out of memory");
        csv->entries = entries;
        if (!(lines = realloc(csv->lines, cap * sizeof(*lines))))
            return eg_error_set(EG_ENOMEM, "out of memory");
        csv->lines = lines;
    }
    csv->entries[csv->n] = *e;
    csv->lines[csv->n++] = line;
    return 0;
}

/* A decimal number as Python's int() reads it (white space around, a sign), into e->i or
 * e->u as e->type says, within the type's range. */
static int parse_number(eg_nvs_entry *e, const char *text)
{
    const char *p = text, *name = types[e->type].name;
    int negative = 0, overflow = 0;
    uint64_t v = 0, max;
    int64_t min;

    while (is_space((uint8_t)*p))
        p++;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    if (*p < '0' || *p > '9')
        return eg_error_set(EG_EINVAL, "%s value '%s' is not a decimal number", name, text);
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            overflow = 1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    while (is_space((uint8_t)*p))
        p++;
    if (*p)
        return eg_error_set(EG_EINVAL, "%s value '%s' is not a decimal number", name, text);
    if (types[e->type].is_signed) {
        if (v > (uint64_t)INT64_MAX + negative)
            overflow = 1;
        e->i = !negative ? (int64_t)v : v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
    } else {
        overflow |= negative && v;
        e->u = v;
    }
    if (overflow || !in_range(e, &min, &max)) {
        in_range(e, &min, &max);
        if (types[e->type].is_signed)
            return eg_error_set(EG_EINVAL,
                                "%s value '%s' is out of range (%" PRId64 " to %" PRIu64 ")", name,
                                text, min, max);
        return eg_error_set(EG_EINVAL, "%s value '%s' is out of range (0 to %" PRIu64 ")", name,
                            text, max);
    }
    return 0;
}

/* The bytes of a string or blob row: the value's text, or the file it names, decoded
 * as the encoding says. */
static int row_bytes(eg_buf *out, const char *type, const char *encoding, const eg_buf *value,
                     const char *dir)
{
    eg_buf file = EG_BUF_INIT;
    const eg_buf *src = value;
    int rc = 0;

    if (strcmp(type, "file") == 0) {
        char path[4096];
        int n;
        if (value->len == 0) {
            rc = eg_error_set(EG_EINVAL, "a file row needs a file name");
            goto done;
        }
        n = value->data[0] == '/' || !dir
                ? snprintf(path, sizeof(path), "%s", (const char *)value->data)
                : snprintf(path, sizeof(path), "%s/%s", dir, (const char *)value->data);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            rc = eg_error_set(EG_EINVAL, "file name '%s' is too long", (const char *)value->data);
            goto done;
        }
        if ((rc = eg_buf_read_file(&file, path)) < 0)
            goto done;
        src = &file;
    }
    if (strcmp(encoding, "hex2bin") == 0 || strcmp(encoding, "base64") == 0)
        rc = eg_nvs_decode(out, encoding, src->data ? src->data : (const uint8_t *)"", src->len);
    else if (src->len && (rc = eg_buf_append(out, src->data, src->len)) < 0)
        rc = eg_error_set(EG_ENOMEM, "out of memory");
done:
    eg_buf_release(&file);
    return rc;
}

/* One row after the header into csv; *ns is the namespace rows select. */
static int parse_row(eg_nvs_csv *csv, const char **ns, const record *rec, const size_t *col,
                     const char *dir)
{
    const char *f[N_COLS];
    eg_nvs_entry e = {0};
    eg_buf bytes = EG_BUF_INIT;
    char *key;
    int rc;

    for (int c = 0; c < N_COLS; c++)
        f[c] = col[c] < rec->n ? (const char *)rec->fields[col[c]].data : NULL;
    if (!f[COL_KEY] || !*f[COL_KEY])
        return eg_error_set(EG_EINVAL, "no key");
    if (strlen(f[COL_KEY]) > EG_NVS_KEY_MAX)
        return eg_error_set(EG_EINVAL, "key '%s' is longer than %d characters", f[COL_KEY],
                            EG_NVS_KEY_MAX);
    if (!f[COL_TYPE])
        return eg_error_set(EG_EINVAL, "key '%s' has no type", f[COL_KEY]);
    if ((rc = own(csv, key = strdup(f[COL_KEY]))) < 0)
        return rc;
    if (strcmp(f[COL_TYPE], "namespace") == 0) {
        /* nvs_partition_gen files the keys after a namespace row under the namespace it
         * made last, whatever the row names: refuse going back to an earlier one. */
        for (size_t k = 0; *ns && strcmp(key, *ns) != 0 && k < csv->n; k++)
            if (!csv->entries[k].key && strcmp(csv->entries[k].ns, key) == 0)
                return eg_error_set(EG_EINVAL,
                                    "namespace '%s' again after '%s' (nvs_partition_gen would "
                                    "put the keys that follow in '%s'): keep a namespace's keys "
                                    "together",
                                    key, *ns, *ns);
        *ns = key;
        e.ns = key;
        return add_entry(csv, &e, rec->line);
    }
    if (strcmp(f[COL_TYPE], "data") != 0 && strcmp(f[COL_TYPE], "file") != 0)
        return eg_error_set(EG_EINVAL, "key '%s' has type '%s' (namespace, data, file)", f[COL_KEY],
                            f[COL_TYPE]);
    if (!*ns)
        return eg_error_set(EG_EINVAL, "key '%s' comes before any namespace row", f[COL_KEY]);
    if (!f[COL_ENCODING] || !f[COL_VALUE])
        return eg_error_set(EG_EINVAL, "key '%s' has no %s", f[COL_KEY],
                            f[COL_ENCODING] ? "value" : "encoding");
    if (eg_nvs_type_parse(&e.type, f[COL_ENCODING]) < 0)
        return eg_error_set(EG_EINVAL,
                            "key '%s' has encoding '%s' (u8, i8, u16, i16, u32, i32, u64, i64, "
                            "string, hex2bin, base64, binary)",
                            f[COL_KEY], f[COL_ENCODING]);
    if (strcmp(f[COL_ENCODING], "blob") == 0)
        return eg_error_set(EG_EINVAL, "key '%s': a blob's encoding is hex2bin, base64 or binary",
                            f[COL_KEY]);
    e.ns = *ns;
    e.key = key;
    if (types[e.type].bytes) {
        if (strcmp(f[COL_TYPE], "file") == 0)
            return eg_error_set(EG_EINVAL,
                                "key '%s': a file row's encoding is string, hex2bin, "
                                "base64 or binary",
                                f[COL_KEY]);
        if ((rc = parse_number(&e, f[COL_VALUE])) < 0)
            return eg_error_prefix(rc, "key '%s': ", f[COL_KEY]);
        return add_entry(csv, &e, rec->line);
    }
    if ((rc = row_bytes(&bytes, f[COL_TYPE], f[COL_ENCODING], &rec->fields[col[COL_VALUE]], dir)) <
        0)
        return eg_error_prefix(rc, "key '%s': ", f[COL_KEY]);
    e.data = bytes.data;
    e.len = bytes.len;
    if (bytes.data && (rc = own(csv, bytes.data)) < 0)
        return rc;
    return add_entry(csv, &e, rec->line);
}

int eg_nvs_parse_csv(eg_nvs_csv **out, const char *text, size_t len, const char *name,
                     const char *dir)
{
    csv_reader r = {text, len, 0, 1, name};
    record rec = {NULL, 0, 0, 0};
    eg_nvs_csv *csv = calloc(1, sizeof(*csv));
    size_t col[N_COLS];
    const char *ns = NULL;
    int rc;

    *out = NULL;
    if (!csv) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r.pos = 3;
    if ((rc = read_record(&r, &rec)) < 0)
        goto done;
    if (rec.n == 0) {
        rc = eg_error_set(EG_EINVAL, "%s: no header row (key,type,encoding,value)", name);
        goto done;
    }
    for (int c = 0; c < N_COLS; c++) {
        col[c] = 0;
        while (col[c] < rec.n && strcmp((const char *)rec.fields[col[c]].data, column_names[c]))
            col[c]++;
        if (col[c] == rec.n) {
            rc = eg_error_set(EG_EINVAL, "%s:%u: the header row has no '%s' column", name, rec.line,
                              column_names[c]);
            goto done;
        }
    }
    for (;;) {
        if ((rc = read_record(&r, &rec)) < 0)
            goto done;
        if (rec.n == 0)
            break;
        if ((rc = parse_row(csv, &ns, &rec, col, dir)) < 0) {
            rc = eg_error_prefix(rc, "%s:%u: ", name, rec.line);
            goto done;
        }
    }
    *out = csv;
    csv = NULL;
done:
    record_release(&rec);
    eg_nvs_csv_free(csv);
    return rc;
}

void eg_nvs_csv_free(eg_nvs_csv *csv)
{
    if (!csv)
        return;
    for (size_t k = 0; k < csv->n_owned; k++)
        free(csv->owned[k]);
    free(csv->owned);
    free(csv->entries);
    free(csv->lines);
    free(csv);
}
