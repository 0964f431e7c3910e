/* Partition tables as CSV text: reading (gen_esp32part's rules), writing (its format),
 * and an aligned rendering for people. */
#include "partition/internal.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 1024
#define FIELDS       6

typedef struct csv_ctx {
    const char *source;
    const eg_partition_opts *o;
    unsigned line;
    char where[512]; /* "partitions.csv:7" or "line 7" */
} csv_ctx;

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims blanks at both ends of s in place; returns the new start. */
static char *trim(char *s)
{
    size_t len;

    while (is_blank(*s))
        s++;
    len = strlen(s);
    while (len > 0 && is_blank(s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* Prefixes the current message with the row's place and name. */
static int row_fail(int code, const csv_ctx *c, const char *name)
{
    if (name)
        return eg_error_prefix(code, "%s: partition '%s': ", c->where, name);
    return eg_error_prefix(code, "%s: ", c->where);
}

/* A number field: offset or size. */
static int parse_field_number(uint32_t *out, const char *s, const char *what)
{
    uint64_t v;
    int r = eg_partition_number(&v, s, 1, UINT32_MAX);

    *out = 0;
    if (r == EG_PARTITION_NUM_BIG)
        return eg_error_set(EG_EINVAL, "%s '%s' is too large (more than 32 bits)", what, s);
    if (r != EG_PARTITION_NUM_OK)
        return eg_error_set(EG_EINVAL,
                            "%s '%s' is not a number (write 0x hex or decimal, with an optional "
                            "K or M suffix)",
                            what, s);
    *out = (uint32_t)v;
    return 0;
}

/* A field whose value the tool decides: blank, N/A or that value. */
static int parse_fixed(const char *s, uint32_t value, const char *what, const char *why)
{
    uint32_t v;

    if (!*s || strcasecmp(s, "N/A") == 0)
        return 0;
    if (parse_field_number(&v, s, what) < 0 || v != value)
        return eg_error_set(EG_EINVAL, "the %s of this row is %s, 0x%x; write it blank or N/A",
                            what, why, value);
    return 0;
}

static int parse_flags(uint32_t *out, char *s)
{
    *out = 0;
    while (s) {
        char *colon = strchr(s, ':');
        char *f;
        uint32_t bit;

        if (colon)
            *colon = '\0';
        f = s; /* not trimmed: gen_esp32part refuses "encrypted: readonly" too */
        s = colon ? colon + 1 : NULL;
        if (!*f)
            continue; /* gen_esp32part skips empty items */
        if (strcmp(f, "encrypted") == 0)
            bit = EG_PARTITION_FLAG_ENCRYPTED;
        else if (strcmp(f, "readonly") == 0)
            bit = EG_PARTITION_FLAG_READONLY;
        else
            return eg_error_set(EG_EINVAL, "unknown flag '%s' (known: encrypted, readonly)", f);
        if (*out & bit)
            return eg_error_set(EG_EINVAL, "flag '%s' is given twice", f);
        *out |= bit;
    }
    return 0;
}

/* Parses one row (already known not to be a comment) into p; *auto_offset tells
 * whether the layout must place it. */
static int parse_row(eg_partition *p, int *auto_offset, char *line, const csv_ctx *c)
{
    const eg_partition_opts *o = c->o;
    char *f[FIELDS] = {NULL};
    size_t n = 0, last_filled = 0;
    char *s = line;
    uint32_t fixed_size = 0;
    int has_fixed_size = 0;
    int rc;

    memset(p, 0, sizeof(*p));
    *auto_offset = 0;
    p->line = c->line;
    for (;;) {
        char *comma = strchr(s, ',');
        char *field;
        if (comma)
            *comma = '\0';
        field = trim(s);
        n++;
        if (*field)
            last_filled = n;
        if (n <= FIELDS)
            f[n - 1] = field;
        if (!comma)
            break;
        s = comma + 1;
    }
    if (n < 5 || last_filled > FIELDS)
        return eg_error_set(EG_EINVAL,
                            "%s: expected 5 or 6 columns (Name, Type, SubType, Offset, Size, "
                            "Flags), found %zu",
                            c->where, n < 5 ? n : last_filled);
    if (n == 5)
        f[5] = "";

    rc = eg_partition_check_name(f[0], strlen(f[0]));
    if (rc < 0)
        return row_fail(rc, c, NULL);
    memcpy(p->name, f[0], strlen(f[0]) + 1);

    rc = eg_partition_type_parse(&p->type, f[1]);
    if (rc == 0)
        rc = eg_partition_subtype_parse(&p->subtype, p->type, f[2]);
    if (rc < 0)
        return row_fail(rc, c, p->name);

    /* The offset: fixed for the primary bootloader, the primary table and the
     * recovery bootloader; placed by the layout when blank. */
    if (p->type == EG_PARTITION_TYPE_BOOTLOADER && p->subtype == EG_PARTITION_SUBTYPE_PRIMARY) {
        if (o->bootloader_offset == EG_PARTITION_OFFSET_UNKNOWN)
            rc = eg_error_set(EG_EINVAL, "a primary bootloader row needs the chip's bootloader "
                                         "offset, which is not known here");
        else
            rc = parse_fixed(f[3], o->bootloader_offset, "offset", "the chip's bootloader offset");
        p->offset = o->bootloader_offset;
    } else if (p->type == EG_PARTITION_TYPE_BOOTLOADER &&
               p->subtype == EG_PARTITION_SUBTYPE_RECOVERY) {
        if (o->recovery_offset == EG_PARTITION_OFFSET_UNKNOWN)
            rc = eg_error_set(EG_EINVAL, "a recovery bootloader row needs the recovery "
                                         "bootloader offset, which is not known here");
        else
            rc = parse_fixed(f[3], o->recovery_offset, "offset", "the recovery bootloader offset");
        p->offset = o->recovery_offset;
    } else if (p->type == EG_PARTITION_TYPE_PARTITION_TABLE &&
               p->subtype == EG_PARTITION_SUBTYPE_PRIMARY) {
        rc = parse_fixed(f[3], o->table_offset, "offset", "the partition table offset");
        p->offset = o->table_offset;
    } else if (!*f[3]) {
        *auto_offset = 1;
    } else {
        rc = parse_field_number(&p->offset, f[3], "offset");
    }
    if (rc < 0)
        return row_fail(rc, c, p->name);

    /* The size: the space below the table for bootloaders, a sector for tables. */
    if (p->type == EG_PARTITION_TYPE_BOOTLOADER) {
        if (o->bootloader_offset == EG_PARTITION_OFFSET_UNKNOWN)
            return row_fail(eg_error_set(EG_EINVAL,
                                         "a bootloader row's size is the space below the "
                                         "partition table, which needs the chip's bootloader "
                                         "offset, not known here"),
                            c, p->name);
        fixed_size = o->table_offset - o->bootloader_offset;
        has_fixed_size = 1;
    } else if (p->type == EG_PARTITION_TYPE_PARTITION_TABLE) {
        fixed_size = EG_PARTITION_TABLE_SECTOR;
        has_fixed_size = 1;
    }
    if (has_fixed_size) {
        rc = parse_fixed(f[4], fixed_size, "size",
                         p->type == EG_PARTITION_TYPE_BOOTLOADER
                             ? "the space below the partition table"
                             : "one sector");
        p->size = fixed_size;
    } else if (!*f[4]) {
        rc = eg_error_set(EG_EINVAL, "the size is empty");
    } else {
        rc = parse_field_number(&p->size, f[4], "size");
    }
    if (rc == 0)
        rc = parse_flags(&p->flags, f[5]);
    if (rc < 0)
        return row_fail(rc, c, p->name);
    return 0;
}

/* Checks a row's text for what no row may hold. */
static int check_line_text(const char *s, const csv_ctx *c)
{
    for (const char *p = s; *p; p++) {
        unsigned char u = (unsigned char)*p;
        if ((u < 0x20 && u != '\t') || u == 0x7F)
            return eg_error_set(EG_EINVAL, "%s: control character 0x%02x in the row", c->where, u);
        if (*p == '$' && ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z') ||
                          p[1] == '_' || p[1] == '{')) {
            size_t len = 1;
            while (p[len] && p[len] != ',' && !is_blank(p[len]))
                len++;
            return eg_error_set(EG_EINVAL,
                                "%s: '%.*s': environment variables are not expanded here; "
                                "write the value",
                                c->where, (int)len, p);
        }
    }
    return 0;
}

/* Places rows with a blank offset after the previous row, aligned for their type, and
 * checks that rows with an offset come in increasing order, as gen_esp32part does. */
static int layout(eg_partition_table *t, const unsigned char *auto_offset, const csv_ctx *c)
{
    uint64_t table_end = (uint64_t)c->o->table_offset + EG_PARTITION_TABLE_SECTOR;
    uint64_t last_end = table_end;
    const eg_partition *prev = NULL;

    for (size_t i = 0; i < t->n; i++) {
        eg_partition *p = &t->e[i];
        uint64_t end;

        if (eg_partition_is_fixed_low(p))
            continue; /* placed by the chip and the table offset, not by the rows */
        if (auto_offset[i]) {
            uint64_t align = eg_partition_offset_align(p->type);
            uint64_t off = (last_end + align - 1) / align * align;
            if (off > UINT32_MAX) {
                char where[512];
                eg_partition_where(where, sizeof(where), c->source, p, i);
                return eg_error_set(EG_EINVAL,
                                    "%s: partition '%s': no room: the next free offset 0x%llx "
                                    "is beyond 4 GiB",
                                    where, p->name, (unsigned long long)off);
            }
            p->offset = (uint32_t)off;
        } else if (p->offset < last_end) {
            end = (uint64_t)p->offset + p->size;
            if (p->offset < table_end || !prev)
                eg_error_set(EG_EINVAL,
                             "it starts below 0x%llx, the end of the partition table at 0x%x",
                             (unsigned long long)table_end, c->o->table_offset);
            else if (end > prev->offset)
                eg_error_set(EG_EINVAL, "overlaps partition '%s' (line %u, 0x%x-0x%llx)",
                             prev->name, prev->line, prev->offset,
                             (unsigned long long)prev->offset + prev->size - 1);
            else
                eg_error_set(EG_EINVAL,
                             "it starts below the end (0x%llx) of the row before it, '%s' "
                             "(line %u): rows must come in increasing offset order",
                             (unsigned long long)last_end, prev->name, prev->line);
            return eg_partition_fail(EG_EINVAL, c->source, p, i);
        }
        last_end = (uint64_t)p->offset + p->size;
        prev = p;
    }
    return 0;
}

int eg_partition_parse_csv(eg_partition_table **out, const char *text, size_t len,
                           const char *source, const eg_partition_opts *opts)
{
    eg_partition_opts o;
    eg_partition_table *t = NULL;
    unsigned char auto_offset[EG_PARTITION_MAX];
    csv_ctx c;
    size_t pos = 0;
    int rc;

    *out = NULL;
    c.source = source;
    c.o = &o;
    c.line = 0;
    if ((rc = eg_partition_start(&t, &o, opts, EG_PARTITION_MAX)) < 0)
        goto done;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a UTF-8 byte-order mark */
    while (pos < len) {
        char buf[LINE_MAX_LEN + 1];
        size_t start = pos, n;
        char *line;
        int auto_off;

        while (pos < len && text[pos] != '\n' && text[pos] != '\r')
            pos++;
        n = pos - start;
        if (pos < len)
            pos += (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') ? 2 : 1;
        c.line++;
        if (source)
            snprintf(c.where, sizeof(c.where), "%s:%u", source, c.line);
        else
            snprintf(c.where, sizeof(c.where), "line %u", c.line);
        if (n > LINE_MAX_LEN) {
            rc = eg_error_set(EG_EINVAL, "%s: the line is longer than %d bytes", c.where,
                              LINE_MAX_LEN);
            goto done;
        }
        memcpy(buf, text + start, n);
        buf[n] = '\0';
        if (memchr(buf, '\0', n)) {
            rc = eg_error_set(EG_EINVAL, "%s: NUL byte in the line", c.where);
            goto done;
        }
        line = trim(buf);
        if (!*line || *line == '#')
            continue;
        rc = check_line_text(line, &c);
        if (rc < 0)
            goto done;
        if (t->n == EG_PARTITION_MAX) {
            rc = eg_error_set(EG_EINVAL, "%s: too many partitions (at most %d fit in the table)",
                              c.where, EG_PARTITION_MAX);
            goto done;
        }
        rc = parse_row(&t->e[t->n], &auto_off, line, &c);
        if (rc < 0)
            goto done;
        auto_offset[t->n++] = (unsigned char)auto_off;
    }
    if (t->n == 0) {
        if (source)
            rc =
                eg_error_set(EG_EINVAL, "%s: no partitions, only comments and blank lines", source);
        else
            rc = eg_error_set(EG_EINVAL, "no partitions, only comments and blank lines");
        goto done;
    }
    rc = layout(t, auto_offset, &c);
    if (rc < 0)
        goto done;
    rc = eg_partition_finish(out, t, &o, source);
    t = NULL;
done:
    eg_partition_table_free(t);
    return rc;
}

/* Ends text in out with a NUL not counted in len. */
static int terminate(eg_buf *out)
{
    int rc = eg_buf_push(out, 0);
    if (rc == 0)
        out->len--;
    return rc;
}

static int append_str(eg_buf *out, const char *s)
{
    return eg_buf_append(out, s, strlen(s));
}

/* A type or subtype as gen_esp32part writes it: its name, else decimal. */
static void keyword(char *dst, size_t len, const char *name, unsigned value)
{
    if (name)
        snprintf(dst, len, "%s", name);
    else
        snprintf(dst, len, "%u", value);
}

int eg_partition_to_csv(eg_buf *out, const eg_partition_table *t)
{
    size_t start = out->len;
    int rc;

    rc = append_str(out, "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n");
    for (size_t i = 0; rc == 0 && i < t->n; i++) {
        const eg_partition *p = &t->e[i];
        char type[24], sub[24], size[24], row[160];

        keyword(type, sizeof(type), eg_partition_type_name(p->type), p->type);
        keyword(sub, sizeof(sub), eg_partition_subtype_name(p->type, p->subtype), p->subtype);
        if (p->size % 0x100000 == 0)
            snprintf(size, sizeof(size), "%uM", p->size / 0x100000);
        else if (p->size % 0x400 == 0)
            snprintf(size, sizeof(size), "%uK", p->size / 0x400);
        else
            snprintf(size, sizeof(size), "0x%x", p->size);
        snprintf(row, sizeof(row), "%s,%s,%s,0x%x,%s,%s%s%s\n", p->name, type, sub, p->offset, size,
                 (p->flags & EG_PARTITION_FLAG_ENCRYPTED) ? "encrypted" : "",
                 (p->flags & EG_PARTITION_FLAG_ENCRYPTED) && (p->flags & EG_PARTITION_FLAG_READONLY)
                     ? ":"
                     : "",
                 (p->flags & EG_PARTITION_FLAG_READONLY) ? "readonly" : "");
        rc = append_str(out, row);
    }
    if (rc == 0)
        rc = terminate(out);
    if (rc < 0)
        out->len = start;
    return rc;
}

/* Characters a terminal shows for s (UTF-8 continuation bytes take no column). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

typedef struct render_row {
    char name[EG_PARTITION_NAME_MAX + 1];
    char type[16], sub[16], offset[16], size[24], flags[24];
} render_row;

/* Appends cell padded to width columns (on the left when right is set). */
static int cell(eg_buf *out, const char *s, size_t width, int right, int last)
{
    size_t w = text_width(s);
    static const char spaces[] = "                                ";
    size_t pad = width > w ? width - w : 0;
    int rc = 0;

    if (pad > sizeof(spaces) - 1)
        pad = sizeof(spaces) - 1;
    if (right)
        rc = eg_buf_append(out, spaces, pad);
    if (rc == 0)
        rc = append_str(out, s);
    if (rc == 0 && !right && !last)
        rc = eg_buf_append(out, spaces, pad);
    if (rc == 0 && !last)
        rc = append_str(out, "  ");
    return rc;
}

static void render_fill(render_row *r, const eg_partition *p)
{
    const char *tn = eg_partition_type_name(p->type);
    const char *sn = eg_partition_subtype_name(p->type, p->subtype);

    snprintf(r->name, sizeof(r->name), "%s", p->name);
    if (tn)
        snprintf(r->type, sizeof(r->type), "%s", tn);
    else
        snprintf(r->type, sizeof(r->type), "0x%02x", p->type);
    if (sn)
        snprintf(r->sub, sizeof(r->sub), "%s", sn);
    else
        snprintf(r->sub, sizeof(r->sub), "0x%02x", p->subtype);
    snprintf(r->offset, sizeof(r->offset), "0x%x", p->offset);
    eg_num_format_size(r->size, sizeof(r->size), p->size);
    snprintf(r->flags, sizeof(r->flags), "%s%s%s",
             (p->flags & EG_PARTITION_FLAG_ENCRYPTED) ? "encrypted" : "",
             (p->flags & EG_PARTITION_FLAG_ENCRYPTED) && (p->flags & EG_PARTITION_FLAG_READONLY)
                 ? ", "
                 : "",
             (p->flags & EG_PARTITION_FLAG_READONLY) ? "readonly" : "");
}

int eg_partition_render(eg_buf *out, const eg_partition_table *t)
{
    static const render_row head = {"Name", "Type", "SubType", "Offset", "Size", "Flags"};
    size_t start = out->len;
    size_t w[5];
    int rc = 0;

    w[0] = text_width(head.name);
    w[1] = strlen(head.type);
    w[2] = strlen(head.sub);
    w[3] = strlen(head.offset);
    w[4] = strlen(head.size);
    for (size_t i = 0; i < t->n; i++) {
        render_row r;
        render_fill(&r, &t->e[i]);
        w[0] = text_width(r.name) > w[0] ? text_width(r.name) : w[0];
        w[1] = strlen(r.type) > w[1] ? strlen(r.type) : w[1];
        w[2] = strlen(r.sub) > w[2] ? strlen(r.sub) : w[2];
        w[3] = strlen(r.offset) > w[3] ? strlen(r.offset) : w[3];
        w[4] = strlen(r.size) > w[4] ? strlen(r.size) : w[4];
    }
    for (size_t i = 0; rc == 0 && i <= t->n; i++) {
        render_row r;
        int has_flags;
        if (i == 0)
            r = head;
        else
            render_fill(&r, &t->e[i - 1]);
        has_flags = r.flags[0] != '\0';
        rc = cell(out, r.name, w[0], 0, 0);
        if (rc == 0)
            rc = cell(out, r.type, w[1], 0, 0);
        if (rc == 0)
            rc = cell(out, r.sub, w[2], 0, 0);
        if (rc == 0)
            rc = cell(out, r.offset, w[3], 1, 0);
        if (rc == 0)
            rc = cell(out, r.size, w[4], 1, !has_flags);
        if (rc == 0 && has_flags)
            rc = cell(out, r.flags, 0, 0, 1);
        if (rc == 0)
            rc = eg_buf_push(out, '\n');
    }
    if (rc == 0)
        rc = terminate(out);
    if (rc < 0)
        out->len = start;
    return rc;
}
