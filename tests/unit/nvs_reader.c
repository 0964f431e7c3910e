/* The test-side NVS reader (see nvs_reader.h). Written from the format: a 4096-byte
 * page is a header (u32 state, u32 sequence number, u8 version, 19 reserved bytes, u32
 * CRC32 of bytes 4..27), a bitmap of 2 bits per entry at 32, and 126 entries of 32 bytes
 * from 64. An item is (u8 namespace, u8 type, u8 span, u8 chunk index, u32 CRC32 of
 * bytes 0..3 and 8..31, char key[16], u8 data[8]). CRC32 is ESP-IDF's crc32_le seeded
 * with 0xFFFFFFFF. */
#include "nvs_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE        4096u
#define SLOTS       126u
#define SLOT        32u
#define ST_EMPTY    0xFFFFFFFFu
#define ST_ACTIVE   0xFFFFFFFEu
#define ST_FULL     0xFFFFFFFCu
#define ANY_CHUNK   0xFFu
#define ENTRY_EMPTY 3u
#define ENTRY_WRITE 2u

struct nvsr {
    uint8_t *img;
    size_t len;
    unsigned pages;
    char *states;
    unsigned *used;
    nvsr_item *items;
    size_t *at; /* offset of each item's header in img */
    size_t n_items, cap_items;
    unsigned n_ns;
};

/* ESP-IDF's crc32_le(0xFFFFFFFF, ...): the reflected 0xEDB88320 polynomial, register
 * starting at ~0xFFFFFFFF = 0, inverted at the end. */
static uint32_t crc_le(const uint8_t *p, size_t n, uint32_t crc)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int all_ff(const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (p[k] != 0xFF)
            return 0;
    return 1;
}

static unsigned slot_state(const uint8_t *page, unsigned slot)
{
    return (page[32 + slot / 4] >> (slot % 4 * 2)) & 3u;
}

static int is_number(uint8_t type, unsigned *width)
{
    switch (type) {
    case NVSR_U8:
    case NVSR_I8:
        *width = 1;
        return 1;
    case NVSR_U16:
    case NVSR_I16:
        *width = 2;
        return 1;
    case NVSR_U32:
    case NVSR_I32:
        *width = 4;
        return 1;
    case NVSR_U64:
    case NVSR_I64:
        *width = 8;
        return 1;
    }
    return 0;
}

/* Checks the item at slot s of page p and records it; *span gets its span. */
static int read_item(nvsr *r, unsigned p, unsigned s, unsigned *span, char *err, size_t errlen)
{
    const uint8_t *page = r->img + (size_t)p * PAGE, *it = page + 64 + s * SLOT;
    uint8_t crcbuf[28];
    nvsr_item item = {0};
    unsigned width, key_len;

    memcpy(crcbuf, it, 4);
    memcpy(crcbuf + 4, it + 8, 24);
    if (crc_le(crcbuf, 28, 0xFFFFFFFFu) != rd32(it + 4))
        return fail(err, errlen, "page %u entry %u: header CRC32 0x%08x, computed 0x%08x", p, s,
                    rd32(it + 4), crc_le(crcbuf, 28, 0xFFFFFFFFu));
    item.page = p;
    item.entry = s;
    item.ns = it[0];
    item.type = it[1];
    item.span = it[2];
    item.chunk = it[3];
    if (item.span == 0 || s + item.span > SLOTS)
        return fail(err, errlen, "page %u entry %u: span %u runs past the page", p, s, item.span);
    for (unsigned k = s + 1; k < s + item.span; k++)
        if (slot_state(page, k) != ENTRY_WRITE)
            return fail(err, errlen, "page %u entry %u: spans entry %u, which is not written", p, s,
                        k);
    key_len = 0;
    while (key_len < 16 && it[8 + key_len])
        key_len++;
    if (key_len == 0 || key_len == 16)
        return fail(err, errlen, "page %u entry %u: key is empty or has no NUL", p, s);
    for (unsigned k = key_len; k < 16; k++)
        if (it[8 + k])
            return fail(err, errlen, "page %u entry %u: key not zero-padded", p, s);
    memcpy(item.key, it + 8, key_len);
    if (item.ns == 0xFF)
        return fail(err, errlen, "page %u entry %u: namespace index 255", p, s);

    if (is_number(item.type, &width)) {
        if (item.span != 1 || item.chunk != ANY_CHUNK)
            return fail(err, errlen, "page %u entry %u: number with span %u chunk %u", p, s,
                        item.span, item.chunk);
        if (!all_ff(it + 24 + width, 8 - width))
            return fail(err, errlen, "page %u entry %u: bytes past a %u-byte number", p, s, width);
        if (item.ns == 0 && (item.type != NVSR_U8 || it[24] == 0 || it[24] == 0xFF))
            return fail(err, errlen, "page %u entry %u: bad namespace entry", p, s);
    } else if (item.type == NVSR_STR || item.type == NVSR_BLOB_DATA) {
        const uint8_t *data = it + SLOT;
        unsigned data_slots;
        item.size = (uint32_t)it[24] | (uint32_t)it[25] << 8;
        data_slots = (item.size + SLOT - 1) / SLOT;
        if (item.ns == 0)
            return fail(err, errlen, "page %u entry %u: data in namespace 0", p, s);
        if (it[26] != 0xFF || it[27] != 0xFF)
            return fail(err, errlen, "page %u entry %u: reserved bytes written", p, s);
        if (item.span != 1 + data_slots)
            return fail(err, errlen, "page %u entry %u: span %u for %u bytes of data", p, s,
                        item.span, item.size);
        if ((item.type == NVSR_STR) != (item.chunk == ANY_CHUNK))
            return fail(err, errlen, "page %u entry %u: chunk index %u for type 0x%02x", p, s,
                        item.chunk, item.type);
        if (crc_le(data, item.size, 0xFFFFFFFFu) != rd32(it + 28))
            return fail(err, errlen, "page %u entry %u: data CRC32 0x%08x, computed 0x%08x", p, s,
                        rd32(it + 28), crc_le(data, item.size, 0xFFFFFFFFu));
        if (!all_ff(data + item.size, data_slots * SLOT - item.size))
            return fail(err, errlen, "page %u entry %u: padding after the data written", p, s);
        if (item.type == NVSR_STR &&
            (item.size == 0 || data[item.size - 1] != 0 || memchr(data, 0, item.size - 1)))
            return fail(err, errlen, "page %u entry %u: string not ended by its only NUL", p, s);
    } else if (item.type == NVSR_BLOB_IDX) {
        if (item.ns == 0 || item.span != 1 || item.chunk != ANY_CHUNK)
            return fail(err, errlen, "page %u entry %u: bad blob index header", p, s);
        item.size = rd32(it + 24);
        item.chunk_count = it[28];
        item.chunk_start = it[29];
        if ((item.chunk_start != 0 && item.chunk_start != 0x80) || item.chunk_count == 0 ||
            it[30] != 0xFF || it[31] != 0xFF)
            return fail(err, errlen, "page %u entry %u: bad blob index data", p, s);
    } else {
        return fail(err, errlen, "page %u entry %u: unknown type 0x%02x", p, s, item.type);
    }

    if (r->n_items == r->cap_items) {
        r->cap_items = r->cap_items ? r->cap_items * 2 : 64;
        r->items = realloc(r->items, r->cap_items * sizeof(*r->items));
        r->at = realloc(r->at, r->cap_items * sizeof(*r->at));
        if (!r->items || !r->at)
            abort();
    }
    r->at[r->n_items] = (size_t)(it - r->img);
    r->items[r->n_items++] = item;
    *span = item.span;
    return 0;
}

static int read_page(nvsr *r, unsigned p, uint32_t *last_seq, int *seen_used, char *err,
                     size_t errlen)
{
    const uint8_t *page = r->img + (size_t)p * PAGE;
    uint32_t state = rd32(page);
    int seen_empty = 0;

    if (state == ST_EMPTY) {
        if (!all_ff(page, PAGE))
            return fail(err, errlen, "page %u: empty page has bytes written", p);
        r->states[p] = 'E';
        return 0;
    }
    if (state != ST_ACTIVE && state != ST_FULL)
        return fail(err, errlen, "page %u: state 0x%08x is neither active nor full", p, state);
    r->states[p] = state == ST_ACTIVE ? 'A' : 'F';
    if (p > 0 && r->states[p - 1] != 'F')
        return fail(err, errlen, "page %u: a used page after a page that is '%c'", p,
                    r->states[p - 1]);
    if (page[8] != 0xFE)
        return fail(err, errlen, "page %u: version 0x%02x, not 0xfe", p, page[8]);
    if (!all_ff(page + 9, 19))
        return fail(err, errlen, "page %u: reserved header bytes written", p);
    if (crc_le(page + 4, 24, 0xFFFFFFFFu) != rd32(page + 28))
        return fail(err, errlen, "page %u: header CRC32 0x%08x, computed 0x%08x", p,
                    rd32(page + 28), crc_le(page + 4, 24, 0xFFFFFFFFu));
    if (*seen_used && rd32(page + 4) <= *last_seq)
        return fail(err, errlen, "page %u: sequence number %u after %u", p, rd32(page + 4),
                    *last_seq);
    *last_seq = rd32(page + 4);
    *seen_used = 1;
    if ((page[63] & 0xF0) != 0xF0)
        return fail(err, errlen, "page %u: bitmap bits past entry 125 written", p);
    for (unsigned s = 0; s < SLOTS;) {
        unsigned st = slot_state(page, s), span = 1;
        if (st == ENTRY_EMPTY) {
            if (!all_ff(page + 64 + s * SLOT, SLOT))
                return fail(err, errlen, "page %u entry %u: empty entry has bytes written", p, s);
            seen_empty = 1;
            s++;
            continue;
        }
        if (st != ENTRY_WRITE)
            return fail(err, errlen, "page %u entry %u: entry state %u", p, s, st);
        if (seen_empty)
            return fail(err, errlen, "page %u entry %u: written after an empty entry", p, s);
        if (read_item(r, p, s, &span, err, errlen) < 0)
            return -1;
        r->used[p] += span;
        s += span;
    }
    return 0;
}

static int same_key(const nvsr_item *a, const nvsr_item *b)
{
    return a->ns == b->ns && strcmp(a->key, b->key) == 0;
}

/* Namespaces, duplicates and blobs, across pages. */
static int check_items(nvsr *r, char *err, size_t errlen)
{
    uint8_t defined[256] = {0};

    for (size_t k = 0; k < r->n_items; k++) {
        const nvsr_item *a = &r->items[k];
        if (a->ns != 0)
            continue;
        uint8_t v = r->img[r->at[k] + 24];
        if (defined[v])
            return fail(err, errlen, "namespace index %u defined twice", v);
        defined[v] = 1;
        r->n_ns++;
    }
    for (size_t k = 0; k < r->n_items; k++) {
        const nvsr_item *a = &r->items[k];
        if (a->ns && !defined[a->ns])
            return fail(err, errlen, "key '%s' in namespace %u, which no entry names", a->key,
                        a->ns);
        for (size_t j = k + 1; j < r->n_items; j++) {
            const nvsr_item *b = &r->items[j];
            if (!same_key(a, b))
                continue;
            if (a->type == NVSR_BLOB_DATA && b->type == NVSR_BLOB_DATA && a->chunk != b->chunk)
                continue;
            if ((a->type == NVSR_BLOB_DATA) != (b->type == NVSR_BLOB_DATA) &&
                (a->type == NVSR_BLOB_IDX || b->type == NVSR_BLOB_IDX))
                continue;
            return fail(err, errlen, "key '%s' in namespace %u twice", a->key, a->ns);
        }
        if (a->type == NVSR_BLOB_IDX) {
            uint64_t total = 0;
            for (unsigned c = a->chunk_start; c < (unsigned)a->chunk_start + a->chunk_count; c++) {
                size_t j = 0;
                while (j < r->n_items && !(r->items[j].type == NVSR_BLOB_DATA &&
                                           r->items[j].chunk == c && same_key(a, &r->items[j])))
                    j++;
                if (j == r->n_items)
                    return fail(err, errlen, "blob '%s': chunk %u is missing", a->key, c);
                total += r->items[j].size;
            }
            if (total != a->size)
                return fail(err, errlen, "blob '%s': chunks hold %llu bytes, the index says %u",
                            a->key, (unsigned long long)total, a->size);
        }
        if (a->type == NVSR_BLOB_DATA) {
            size_t j = 0;
            while (j < r->n_items &&
                   !(r->items[j].type == NVSR_BLOB_IDX && same_key(a, &r->items[j]) &&
                     a->chunk >= r->items[j].chunk_start &&
                     a->chunk < r->items[j].chunk_start + r->items[j].chunk_count))
                j++;
            if (j == r->n_items)
                return fail(err, errlen, "blob '%s': chunk %u belongs to no index", a->key,
                            a->chunk);
        }
    }
    return 0;
}

nvsr *nvsr_open(const uint8_t *image, size_t len, char *err, size_t errlen)
{
    nvsr *r = calloc(1, sizeof(*r));
    uint32_t last_seq = 0;
    int seen_used = 0, ok = -1;

    if (!r)
        abort();
    if (len % PAGE || len < 3 * PAGE) {
        fail(err, errlen, "size %zu is not a multiple of 4096 of at least 3 pages", len);
        goto done;
    }
    r->pages = (unsigned)(len / PAGE);
    r->len = len;
    r->img = malloc(len);
    r->states = calloc(r->pages + 1, 1);
    r->used = calloc(r->pages, sizeof(*r->used));
    if (!r->img || !r->states || !r->used)
        abort();
    memcpy(r->img, image, len);
    for (unsigned p = 0; p < r->pages; p++)
        if (read_page(r, p, &last_seq, &seen_used, err, errlen) < 0)
            goto done;
    if (!strchr(r->states, 'E')) {
        fail(err, errlen, "no free page (states %s)", r->states);
        goto done;
    }
    if (seen_used && !strchr(r->states, 'A')) {
        fail(err, errlen, "no active page (states %s)", r->states);
        goto done;
    }
    if (check_items(r, err, errlen) < 0)
        goto done;
    ok = 0;
done:
    if (ok < 0) {
        nvsr_free(r);
        return NULL;
    }
    return r;
}

void nvsr_free(nvsr *r)
{
    if (!r)
        return;
    free(r->img);
    free(r->states);
    free(r->used);
    free(r->items);
    free(r->at);
    free(r);
}

const char *nvsr_states(const nvsr *r)
{
    return r->states;
}

unsigned nvsr_used(const nvsr *r, unsigned page)
{
    return page < r->pages ? r->used[page] : 0;
}

unsigned nvsr_namespaces(const nvsr *r)
{
    return r->n_ns;
}

size_t nvsr_items(const nvsr *r, const nvsr_item **out)
{
    *out = r->items;
    return r->n_items;
}

/* The index of namespace ns; -1 when no entry names it. */
static int ns_index(const nvsr *r, const char *ns)
{
    if (!*ns)
        return 0;
    for (size_t k = 0; k < r->n_items; k++)
        if (r->items[k].ns == 0 && strcmp(r->items[k].key, ns) == 0)
            return r->img[r->at[k] + 24];
    return -1;
}

static ptrdiff_t find_at(const nvsr *r, const char *ns, const char *key, uint8_t type,
                         uint8_t chunk)
{
    int idx = ns_index(r, ns);
    if (idx < 0)
        return -1;
    for (size_t k = 0; k < r->n_items; k++) {
        const nvsr_item *it = &r->items[k];
        if (it->ns == idx && it->type == type && it->chunk == chunk && strcmp(it->key, key) == 0)
            return (ptrdiff_t)k;
    }
    return -1;
}

const nvsr_item *nvsr_find(const nvsr *r, const char *ns, const char *key, uint8_t type,
                           uint8_t chunk)
{
    ptrdiff_t k = find_at(r, ns, key, type, chunk);
    return k < 0 ? NULL : &r->items[k];
}

/* A number's 8 data bytes as a little-endian value of width bytes. */
static int get_number(const nvsr *r, const char *ns, const char *key, uint8_t type, uint64_t *out)
{
    ptrdiff_t k = find_at(r, ns, key, type, ANY_CHUNK);
    unsigned width;
    if (k < 0)
        return NVSR_NOT_FOUND;
    is_number(type, &width);
    *out = 0;
    for (unsigned b = 0; b < width; b++)
        *out |= (uint64_t)r->img[r->at[k] + 24 + b] << (8 * b);
    return NVSR_OK;
}

#define GETTER(name, ctype, code)                                                                  \
    int nvsr_get_##name(const nvsr *r, const char *ns, const char *key, ctype *out)                \
    {                                                                                              \
        uint64_t v;                                                                                \
        int rc = get_number(r, ns, key, code, &v);                                                 \
        if (rc == NVSR_OK)                                                                         \
            memcpy(out, &v, sizeof(*out)); /* little-endian host: the low bytes */                 \
        return rc;                                                                                 \
    }
GETTER(u8, uint8_t, NVSR_U8)
GETTER(i8, int8_t, NVSR_I8)
GETTER(u16, uint16_t, NVSR_U16)
GETTER(i16, int16_t, NVSR_I16)
GETTER(u32, uint32_t, NVSR_U32)
GETTER(i32, int32_t, NVSR_I32)
GETTER(u64, uint64_t, NVSR_U64)
GETTER(i64, int64_t, NVSR_I64)

int nvsr_get_str(const nvsr *r, const char *ns, const char *key, char *buf, size_t *len)
{
    ptrdiff_t k = find_at(r, ns, key, NVSR_STR, ANY_CHUNK);
    size_t size;
    if (k < 0)
        return NVSR_NOT_FOUND;
    size = r->items[k].size;
    if (!buf) {
        *len = size;
        return NVSR_OK;
    }
    if (*len < size) {
        *len = size;
        return NVSR_INVALID_LENGTH;
    }
    memcpy(buf, r->img + r->at[k] + SLOT, size);
    *len = size;
    return NVSR_OK;
}

int nvsr_get_blob(const nvsr *r, const char *ns, const char *key, void *buf, size_t *len)
{
    ptrdiff_t k = find_at(r, ns, key, NVSR_BLOB_IDX, ANY_CHUNK);
    const nvsr_item *idx;
    size_t off = 0;
    if (k < 0)
        return NVSR_NOT_FOUND;
    idx = &r->items[k];
    if (!buf) {
        *len = idx->size;
        return NVSR_OK;
    }
    if (*len < idx->size) {
        *len = idx->size;
        return NVSR_INVALID_LENGTH;
    }
    for (unsigned c = idx->chunk_start; c < (unsigned)idx->chunk_start + idx->chunk_count; c++) {
        ptrdiff_t j = find_at(r, ns, key, NVSR_BLOB_DATA, (uint8_t)c);
        memcpy((uint8_t *)buf + off, r->img + r->at[j] + SLOT, r->items[j].size);
        off += r->items[j].size;
    }
    *len = idx->size;
    return NVSR_OK;
}
