/* Partition tables in the binary form the bootloader reads: 32-byte entries, the MD5
 * row, the end-of-table marker, 0xff padding to 0xc00 bytes. */
#include "partition/internal.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

#include <stdio.h>
#include <string.h>

#define MAGIC_0    0xAA
#define MAGIC_1    0x50
#define MD5_MAGIC  0xEB
#define MD5_AT     16 /* the digest's place in the MD5 row */
#define MAX_ROWS   (EG_PARTITION_BIN_LEN / EG_PARTITION_ENTRY_LEN)
#define NAME_AT    12
#define FLAGS_AT   28
#define OFFSET_AT  4
#define SIZE_AT    8
#define SUBTYPE_AT 3
#define TYPE_AT    2
#define HEX_DIGEST (2 * EG_MD5_LEN + 1)

static int all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return 0;
    return 1;
}

/* "partitions.bin: " or "". */
static const char *src(char *dst, size_t len, const char *source)
{
    if (source)
        snprintf(dst, len, "%s: ", source);
    else
        dst[0] = '\0';
    return dst;
}

int eg_partition_parse_bin(eg_partition_table **out, const uint8_t *data, size_t len,
                           const char *source, const eg_partition_opts *opts)
{
    eg_partition_opts o;
    eg_partition_table *t = NULL;
    char s[512];
    int md5_seen = 0;
    int rc;

    *out = NULL;
    src(s, sizeof(s), source);
    if ((rc = eg_partition_start(&t, &o, opts, MAX_ROWS)) < 0)
        goto done;
    for (size_t row = 0;; row++) {
        size_t off = row * EG_PARTITION_ENTRY_LEN;
        const uint8_t *r = data + off;
        eg_partition *p;

        if (row == MAX_ROWS) {
            rc = eg_error_set(EG_EINVAL,
                              "%sno end-of-table marker (a row of 32 0xff bytes) in the first "
                              "0x%x bytes",
                              s, EG_PARTITION_BIN_LEN);
            goto done;
        }
        if (off == len) {
            rc = eg_error_set(EG_EINVAL,
                              "%struncated: the data ends after %zu rows without the "
                              "end-of-table marker",
                              s, row);
            goto done;
        }
        if (len - off < EG_PARTITION_ENTRY_LEN) {
            rc = eg_error_set(EG_EINVAL, "%struncated: entry %zu has %zu of %d bytes", s, row + 1,
                              len - off, EG_PARTITION_ENTRY_LEN);
            goto done;
        }
        if (all_ff(r, EG_PARTITION_ENTRY_LEN)) {
            if (t->n == 0) {
                rc = eg_error_set(EG_EINVAL, "%sempty partition table (%s)", s,
                                  row == 0 ? "erased flash?" : "only the MD5 row");
                goto done;
            }
            break;
        }
        if (md5_seen) {
            rc = eg_error_set(EG_EINVAL,
                              "%sentry %zu follows the MD5 row, where only the end-of-table "
                              "marker may",
                              s, row + 1);
            goto done;
        }
        if (r[0] == MD5_MAGIC && r[1] == MD5_MAGIC) {
            uint8_t digest[EG_MD5_LEN];
            char want[HEX_DIGEST], got[HEX_DIGEST];
            if (!all_ff(r + 2, MD5_AT - 2)) {
                rc = eg_error_set(EG_EINVAL, "%sentry %zu: bad MD5 row (bytes 2-15 are not 0xff)",
                                  s, row + 1);
                goto done;
            }
            rc = eg_md5(digest, data, off);
            if (rc < 0)
                goto done;
            if (memcmp(digest, r + MD5_AT, EG_MD5_LEN) != 0) {
                eg_hex(want, r + MD5_AT, EG_MD5_LEN);
                eg_hex(got, digest, EG_MD5_LEN);
                rc = eg_error_set(EG_EMISMATCH,
                                  "%sMD5 mismatch: the table says %s, its entries hash to %s", s,
                                  want, got);
                goto done;
            }
            md5_seen = 1;
            continue;
        }
        if (r[0] != MAGIC_0 || r[1] != MAGIC_1) {
            rc = eg_error_set(EG_EINVAL,
                              "%sentry %zu: bad magic %02x %02x (not an entry, the MD5 row or "
                              "the end-of-table marker)",
                              s, row + 1, r[0], r[1]);
            goto done;
        }
        p = &t->e[t->n++];
        p->type = r[TYPE_AT];
        p->subtype = r[SUBTYPE_AT];
        p->offset = eg_get_u32le(r + OFFSET_AT);
        p->size = eg_get_u32le(r + SIZE_AT);
        /* The name runs to the first NUL; all 16 bytes when there is none. */
        for (size_t i = 0; i < EG_PARTITION_NAME_MAX && r[NAME_AT + i]; i++)
            p->name[i] = (char)r[NAME_AT + i];
        p->flags = eg_get_u32le(r + FLAGS_AT);
        p->line = 0;
    }
    rc = eg_partition_finish(out, t, &o, source);
    t = NULL;
done:
    eg_partition_table_free(t);
    return rc;
}

int eg_partition_to_bin(eg_buf *out, const eg_partition_table *t)
{
    uint8_t bin[EG_PARTITION_BIN_LEN];
    size_t at;
    int rc;

    if (t->n > EG_PARTITION_MAX)
        return eg_error_set(EG_EINVAL,
                            "too many partitions for a binary table: %zu (at most %d fit with "
                            "the MD5 row)",
                            t->n, EG_PARTITION_MAX);
    memset(bin, 0xFF, sizeof(bin));
    for (size_t i = 0; i < t->n; i++) {
        const eg_partition *p = &t->e[i];
        uint8_t *r = bin + i * EG_PARTITION_ENTRY_LEN;
        size_t nlen = strlen(p->name);

        r[0] = MAGIC_0;
        r[1] = MAGIC_1;
        r[TYPE_AT] = p->type;
        r[SUBTYPE_AT] = p->subtype;
        eg_put_u32le(r + OFFSET_AT, p->offset);
        eg_put_u32le(r + SIZE_AT, p->size);
        memset(r + NAME_AT, 0, EG_PARTITION_NAME_MAX);
        memcpy(r + NAME_AT, p->name, nlen);
        eg_put_u32le(r + FLAGS_AT, p->flags);
    }
    at = t->n * EG_PARTITION_ENTRY_LEN;
    bin[at] = MD5_MAGIC;
    bin[at + 1] = MD5_MAGIC;
    rc = eg_md5(bin + at + MD5_AT, bin, at);
    if (rc < 0)
        return rc;
    return eg_buf_append(out, bin, sizeof(bin));
}
