/* The TOML subset reader (toml.h): one pass over the text, line by line, building the
 * tree as it goes. Tables remember how they were made, which is what TOML's rules on
 * defining a table twice turn on: a [header] may define a table that earlier headers
 * only made on the way (implicit), never one defined already or made by dotted keys;
 * dotted keys may only add to tables that dotted keys made. */
#include "config/toml.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    T_IMPLICIT = 1 << 0, /* made as a parent by a header ([a.b] makes a) */
    T_HEADER = 1 << 1,   /* defined by its own [header] or [[header]] */
    T_DOTTED = 1 << 2,   /* made by a dotted key (a.b = 1 makes a) */
    T_ROOT = 1 << 3,
    A_TABLES = 1 << 4, /* an array of tables, made by [[header]] */
};

#define MAX_KEY_PARTS 16

typedef struct parser {
    const char *name;
    const unsigned char *s;
    size_t len, p;
    unsigned line;
    size_t line_start; /* offset where the current line starts */
    eg_toml *root, *cur;
    /* The last column worked out: col_val at offset col_off of the line at col_line
     * (columns are asked for in order: each is counted on from the last). */
    size_t col_line, col_off;
    unsigned col_val;
} parser;

typedef struct key_part {
    char *text;
    unsigned line, column;
} key_part;

typedef struct key_path {
    key_part part[MAX_KEY_PARTS];
    size_t n;
} key_path;

/* --- Positions and errors --- */

/* The 1-based column, in characters, of offset off on the current line. */
static unsigned col_at(const parser *cps, size_t off)
{
    parser *ps = (parser *)cps; /* the cache only */
    unsigned col = 1;
    size_t i = ps->line_start;

    if (ps->col_val && ps->col_line == ps->line_start && ps->col_off <= off) {
        i = ps->col_off;
        col = ps->col_val;
    }
    for (; i < off && i < ps->len; i++)
        if ((ps->s[i] & 0xC0) != 0x80)
            col++;
    ps->col_line = ps->line_start;
    ps->col_off = i;
    ps->col_val = col;
    return col;
}

static int fail_at(const parser *ps, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(const parser *ps, size_t off, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return eg_error_set(EG_EINVAL, "%s:%u:%u: %s", ps->name, ps->line, col_at(ps, off), msg);
}

int eg_toml_error(const char *name, const eg_toml *v, int key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    unsigned line = v->line, col = v->column;

    if (key && v->key) {
        line = v->key_line;
        col = v->key_column;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return eg_error_set(EG_EINVAL, "%s:%u:%u: %s", name, line, col, msg);
}

/* What is at offset off, for messages: "'x'", "the end of the line", ... */
static const char *what_at(char *buf, size_t len, const parser *ps, size_t off)
{
    if (off >= ps->len)
        return "the end of the file";
    unsigned char c = ps->s[off];
    if (c == '\n' || c == '\r')
        return "the end of the line";
    if (c < 0x20 || c == 0x7F)
        snprintf(buf, len, "the control character U+%04X", c);
    else if (c < 0x80)
        snprintf(buf, len, "'%c'", c);
    else {
        size_t n = 1;
        while (off + n < ps->len && n < 4 && (ps->s[off + n] & 0xC0) == 0x80)
            n++;
        snprintf(buf, len, "'%.*s'", (int)n, (const char *)ps->s + off);
    }
    return buf;
}

#define FOUND(ps) what_at(found, sizeof(found), ps, (ps)->p)

/* --- Values --- */

const char *eg_toml_type_name(eg_toml_type t)
{
    static const char *const names[] = {"a string", "an integer", "a boolean", "an array",
                                        "a table"};
    return (unsigned)t < 5 ? names[t] : "a value";
}

static eg_toml *new_value(eg_toml_type type, unsigned line, unsigned column)
{
    eg_toml *v = calloc(1, sizeof(*v));
    if (v) {
        v->type = type;
        v->line = line;
        v->column = column;
    }
    return v;
}

void eg_toml_free(eg_toml *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++)
        eg_toml_free(v->items[i]);
    free(v->items);
    free(v->key);
    free(v->string);
    free(v);
}

/* Tables and arrays hold at most this many entries: espflash's files have a handful,
 * and lookups go one by one. */
#define MAX_ITEMS 4096

static int append(eg_toml *parent, eg_toml *child)
{
    if (parent->count >= MAX_ITEMS)
        return eg_error_set(EG_EINVAL, "more than %d entries in one table or array", MAX_ITEMS);
    eg_toml **items = realloc(parent->items, (parent->count + 1) * sizeof(*items));
    if (!items)
        return eg_error_set(EG_ENOMEM, "out of memory");
    parent->items = items;
    parent->items[parent->count++] = child;
    return 0;
}

const eg_toml *eg_toml_get(const eg_toml *table, const char *key)
{
    if (!table || table->type != EG_TOML_TABLE)
        return NULL;
    for (size_t i = 0; i < table->count; i++)
        if (strcmp(table->items[i]->key, key) == 0)
            return table->items[i];
    return NULL;
}

static eg_toml *get_mut(eg_toml *table, const char *key)
{
    return (eg_toml *)eg_toml_get(table, key);
}

/* Puts v into table under the key part kp (whose text it takes); frees v on error. */
static int put(eg_toml *table, key_part *kp, eg_toml *v)
{
    v->key = kp->text;
    v->key_line = kp->line;
    v->key_column = kp->column;
    kp->text = NULL;
    int rc = append(table, v);
    if (rc < 0)
        eg_toml_free(v);
    return rc;
}

/* --- Lexical pieces --- */

static int peek(const parser *ps)
{
    return ps->p < ps->len ? ps->s[ps->p] : -1;
}

static int peek_at(const parser *ps, size_t ahead)
{
    return ps->p + ahead < ps->len ? ps->s[ps->p + ahead] : -1;
}

static void skip_ws(parser *ps)
{
    while (peek(ps) == ' ' || peek(ps) == '\t')
        ps->p++;
}

static int is_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

/* At a newline (LF or CRLF): takes it and starts the next line. */
static int take_newline(parser *ps)
{
    if (peek(ps) == '\r') {
        if (peek_at(ps, 1) != '\n')
            return fail_at(ps, ps->p, "a carriage return (CR) must be followed by a line feed");
        ps->p++;
    }
    ps->p++;
    ps->line++;
    ps->line_start = ps->p;
    return 0;
}

static int at_newline(const parser *ps)
{
    return peek(ps) == '\n' || peek(ps) == '\r';
}

/* At '#': takes the comment up to the end of the line (not the newline). */
static int take_comment(parser *ps)
{
    ps->p++;
    while (ps->p < ps->len && !at_newline(ps)) {
        if (is_control(peek(ps)))
            return fail_at(ps, ps->p, "control character U+%04X in a comment", peek(ps));
        ps->p++;
    }
    return 0;
}

/* After a key/value pair or a header: blanks, a comment, then the end of the line. */
static int end_of_line(parser *ps)
{
    char found[32];
    skip_ws(ps);
    if (peek(ps) == '#' && take_comment(ps) < 0)
        return EG_EINVAL;
    if (ps->p >= ps->len)
        return 0;
    if (!at_newline(ps))
        return fail_at(ps, ps->p, "expected the end of the line, found %s", FOUND(ps));
    return take_newline(ps);
}

/* Blanks, comments and newlines (inside arrays). */
static int skip_blank_lines(parser *ps)
{
    for (;;) {
        skip_ws(ps);
        if (peek(ps) == '#') {
            if (take_comment(ps) < 0)
                return EG_EINVAL;
        } else if (at_newline(ps)) {
            if (take_newline(ps) < 0)
                return EG_EINVAL;
        } else {
            return 0;
        }
    }
}

static int put_utf8(eg_buf *b, uint32_t cp)
{
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xF0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return eg_buf_append(b, u, n);
}

/* A string on one line, at its opening quote: basic ("...", with escapes) or literal
 * ('...', as written). *out is a new NUL-terminated copy. */
static int take_string(parser *ps, char **out)
{
    const size_t start = ps->p;
    const int quote = peek(ps);
    eg_buf b = EG_BUF_INIT;
    int rc = 0;

    *out = NULL;
    if (peek_at(ps, 1) == quote && peek_at(ps, 2) == quote)
        return fail_at(ps, start, "multi-line strings (%c%c%c) are not supported", quote, quote,
                       quote);
    ps->p++;
    for (;;) {
        int c = peek(ps);
        if (c < 0 || c == '\n' || c == '\r') {
            rc = fail_at(ps, start, "unterminated string: the %s ends before its closing %c",
                         c < 0 ? "file" : "line", quote);
            goto done;
        }
        if (c == quote) {
            ps->p++;
            break;
        }
        if (is_control(c)) {
            rc = fail_at(ps, ps->p, "control character U+%04X in a string (write it as an escape)",
                         c);
            goto done;
        }
        if (c != '\\' || quote == '\'') {
            if ((rc = eg_buf_push(&b, (uint8_t)c)) < 0)
                goto done;
            ps->p++;
            continue;
        }
        /* An escape. */
        const size_t esc = ps->p;
        int e = peek_at(ps, 1);
        static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
        const char *hit = e > 0 ? strchr(from, e) : NULL;
        if (hit) {
            if ((rc = eg_buf_push(&b, (uint8_t)to[hit - from])) < 0)
                goto done;
            ps->p += 2;
            continue;
        }
        if (e == 'u' || e == 'U') {
            int digits = e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            for (int i = 0; i < digits; i++) {
                int d = eg_hex_value(peek_at(ps, 2 + (size_t)i));
                if (d < 0) {
                    rc = fail_at(ps, esc, "bad escape: \\%c needs %d hex digits", e, digits);
                    goto done;
                }
                cp = cp << 4 | (uint32_t)d;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                rc = fail_at(ps, esc, "bad escape: \\%c%.*s is not a Unicode scalar value", e,
                             digits, (const char *)ps->s + esc + 2);
                goto done;
            }
            if (cp == 0) {
                rc = fail_at(ps, esc, "a NUL character (\\%c%.*s) is not supported in strings", e,
                             digits, (const char *)ps->s + esc + 2);
                goto done;
            }
            if ((rc = put_utf8(&b, cp)) < 0)
                goto done;
            ps->p += 2 + (size_t)digits;
            continue;
        }
        if (e < 0 || e == '\n' || e == '\r') {
            rc = fail_at(ps, start, "unterminated string: the %s ends before its closing %c",
                         e < 0 ? "file" : "line", quote);
            goto done;
        }
        if (e >= 0x20 && e < 0x7F)
            rc = fail_at(ps, esc,
                         "bad escape '\\%c' in a string (known: \\b \\t \\n \\f \\r \\\" "
                         "\\\\ \\uXXXX \\UXXXXXXXX; a literal string '...' takes backslashes "
                         "as they are)",
                         e);
        else
            rc = fail_at(ps, esc, "bad escape: a backslash before a character that is no escape");
        goto done;
    }
    if ((rc = eg_buf_push(&b, 0)) < 0)
        goto done;
    *out = (char *)b.data;
    b.data = NULL;
done:
    eg_buf_release(&b);
    return rc;
}

static int is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int take_key_part(parser *ps, key_part *kp)
{
    char found[32];
    kp->line = ps->line;
    kp->column = col_at(ps, ps->p);
    kp->text = NULL;
    if (peek(ps) == '"' || peek(ps) == '\'')
        return take_string(ps, &kp->text);
    if (!is_bare(peek(ps)))
        return fail_at(ps, ps->p, "expected a key, found %s", FOUND(ps));
    size_t start = ps->p;
    while (is_bare(peek(ps)))
        ps->p++;
    kp->text = strndup((const char *)ps->s + start, ps->p - start);
    return kp->text ? 0 : eg_error_set(EG_ENOMEM, "out of memory");
}

static void key_path_release(key_path *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->part[i].text);
    k->n = 0;
}

/* key ( '.' key )*, with blanks around the dots. */
static int take_key_path(parser *ps, key_path *k)
{
    k->n = 0;
    for (;;) {
        if (k->n == MAX_KEY_PARTS)
            return fail_at(ps, ps->p, "a key of more than %d parts", MAX_KEY_PARTS);
        if (take_key_part(ps, &k->part[k->n]) < 0)
            return EG_EINVAL;
        k->n++;
        skip_ws(ps);
        if (peek(ps) != '.')
            return 0;
        ps->p++;
        skip_ws(ps);
    }
}

/* The key path's first n parts joined by dots, for messages. */
static const char *key_text(char *buf, size_t len, const key_path *k, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "." : "", k->part[i].text);
    return buf;
}

static int is_delimiter(int c)
{
    return c < 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' ||
           c == '#';
}

/* An integer at its first character (a sign or a digit). */
static int take_integer(parser *ps, eg_toml *v)
{
    const size_t start = ps->p;
    int negative = 0, base = 10, digits = 0, prev_digit = 0;
    uint64_t mag = 0, limit;

    if (peek(ps) == '+' || peek(ps) == '-') {
        negative = peek(ps) == '-';
        ps->p++;
    }
    size_t run = 0;
    while (peek_at(ps, run) >= '0' && peek_at(ps, run) <= '9')
        run++;
    if ((run == 2 && peek_at(ps, run) == ':') ||
        (run == 4 && ps->p == start && peek_at(ps, run) == '-'))
        return fail_at(ps, start, "dates and times are not supported");
    if ((peek(ps) == 'i' && peek_at(ps, 1) == 'n' && peek_at(ps, 2) == 'f') ||
        (peek(ps) == 'n' && peek_at(ps, 1) == 'a' && peek_at(ps, 2) == 'n'))
        return fail_at(ps, start, "floats (inf, nan) are not supported");
    if (peek(ps) == '0' &&
        (peek_at(ps, 1) == 'x' || peek_at(ps, 1) == 'o' || peek_at(ps, 1) == 'b')) {
        base = peek_at(ps, 1) == 'x' ? 16 : peek_at(ps, 1) == 'o' ? 8 : 2;
        if (ps->p != start)
            return fail_at(ps, start, "a %s number takes no sign",
                           base == 16  ? "hex"
                           : base == 8 ? "octal"
                                       : "binary");
        ps->p += 2;
    } else if (peek(ps) == '0' &&
               ((peek_at(ps, 1) >= '0' && peek_at(ps, 1) <= '9') || peek_at(ps, 1) == '_')) {
        return fail_at(ps, start, "leading zeros are not allowed in a decimal integer");
    }
    limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (;;) {
        int c = peek(ps), d = eg_hex_value(c);
        if (c == '_') {
            if (!prev_digit || eg_hex_value(peek_at(ps, 1)) < 0 ||
                eg_hex_value(peek_at(ps, 1)) >= base)
                return fail_at(ps, ps->p, "an underscore in a number must sit between two digits");
            prev_digit = 0;
            ps->p++;
            continue;
        }
        if (d < 0 || d >= base)
            break;
        if (mag > (limit - (uint64_t)d) / (uint64_t)base)
            return fail_at(ps, start, "integer out of range (a signed 64-bit number)");
        mag = mag * (uint64_t)base + (uint64_t)d;
        digits++;
        prev_digit = 1;
        ps->p++;
    }
    if (base == 10 && (peek(ps) == '.' || peek(ps) == 'e' || peek(ps) == 'E'))
        return fail_at(ps, start, "floats are not supported");
    if (!digits || !is_delimiter(peek(ps))) {
        size_t end = ps->p;
        while (!is_delimiter(end < ps->len ? ps->s[end] : -1))
            end++;
        return fail_at(ps, start, "'%.*s' is not a number (nor a quoted string)",
                       (int)(end - start), (const char *)ps->s + start);
    }
    v->integer = negative ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

static int take_value(parser *ps, eg_toml **out, int in_array);

static int take_array(parser *ps, eg_toml *arr)
{
    const size_t open = ps->p;
    const unsigned open_line = ps->line;
    const size_t open_line_start = ps->line_start;
    char found[32];

    ps->p++;
    for (;;) {
        if (skip_blank_lines(ps) < 0)
            return EG_EINVAL;
        if (peek(ps) == ']') {
            ps->p++;
            return 0;
        }
        if (peek(ps) < 0)
            break;
        eg_toml *item = NULL;
        if (take_value(ps, &item, 1) < 0)
            return EG_EINVAL;
        int rc = append(arr, item);
        if (rc < 0) {
            eg_toml_free(item);
            return rc;
        }
        if (skip_blank_lines(ps) < 0)
            return EG_EINVAL;
        if (peek(ps) == ',') {
            ps->p++;
            continue;
        }
        if (peek(ps) == ']') {
            ps->p++;
            return 0;
        }
        if (peek(ps) < 0)
            break;
        return fail_at(ps, ps->p, "expected ',' or ']' in the array, found %s", FOUND(ps));
    }
    /* The file ended inside the array: point at its '['. */
    ps->line = open_line;
    ps->line_start = open_line_start;
    return fail_at(ps, open, "unterminated array: the file ends before its ']'");
}

static int take_word(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if (ps->p + n <= ps->len && memcmp(ps->s + ps->p, word, n) == 0 &&
        is_delimiter(ps->p + n < ps->len ? ps->s[ps->p + n] : -1)) {
        ps->p += n;
        return 1;
    }
    return 0;
}

/* A value at its first character. */
static int take_value(parser *ps, eg_toml **out, int in_array)
{
    const int c = peek(ps);
    eg_toml_type type = c == '"' || c == '\''  ? EG_TOML_STRING
                        : c == '['             ? EG_TOML_ARRAY
                        : c == 't' || c == 'f' ? EG_TOML_BOOLEAN
                                               : EG_TOML_INTEGER;
    eg_toml *v = new_value(type, ps->line, col_at(ps, ps->p));
    char found[32];
    int rc = 0;

    *out = NULL;
    if (!v)
        return eg_error_set(EG_ENOMEM, "out of memory");
    if (type == EG_TOML_STRING) {
        rc = take_string(ps, &v->string);
    } else if (type == EG_TOML_ARRAY) {
        rc = in_array ? fail_at(ps, ps->p, "arrays inside arrays are not supported")
                      : take_array(ps, v);
        v->flags = 0;
    } else if (c == '{') {
        rc = fail_at(ps, ps->p, "inline tables ({...}) are not supported: write a [table]");
    } else if (type == EG_TOML_BOOLEAN && take_word(ps, "true")) {
        v->boolean = 1;
    } else if (type == EG_TOML_BOOLEAN && take_word(ps, "false")) {
        v->boolean = 0;
    } else if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        v->type = EG_TOML_INTEGER;
        rc = take_integer(ps, v);
    } else if (take_word(ps, "inf") || take_word(ps, "nan")) {
        ps->p -= 3;
        rc = fail_at(ps, ps->p, "floats (inf, nan) are not supported");
    } else if (c < 0 || c == '\n' || c == '\r' || c == '#') {
        rc = fail_at(ps, ps->p, "expected a value, found %s", FOUND(ps));
    } else {
        rc = fail_at(ps, ps->p,
                     "expected a value (a string, an integer, true, false or an array), found %s%s",
                     FOUND(ps), is_bare(c) || c == '/' ? ": a string needs quotes" : "");
    }
    if (rc < 0) {
        eg_toml_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* --- Tables --- */

static const char *table_kind(const eg_toml *v)
{
    if (v->type == EG_TOML_ARRAY)
        return v->flags & A_TABLES ? "an array of tables" : "an array";
    if (v->type != EG_TOML_TABLE)
        return eg_toml_type_name(v->type);
    if (v->flags & T_DOTTED)
        return "a table made by dotted keys";
    return "a table";
}

/* [header] or [[header]], at its first '['. */
static int take_header(parser *ps)
{
    const size_t open = ps->p;
    const int aot = peek_at(ps, 1) == '[';
    key_path k = {.n = 0};
    char name[256], found[32];
    eg_toml *t = ps->root;
    int rc = 0;

    ps->p += aot ? 2 : 1;
    skip_ws(ps);
    if ((rc = take_key_path(ps, &k)) < 0)
        goto done;
    if (peek(ps) != ']' || (aot && peek_at(ps, 1) != ']')) {
        rc = fail_at(ps, ps->p, "expected '%s' to close the header, found %s", aot ? "]]" : "]",
                     FOUND(ps));
        goto done;
    }
    ps->p += aot ? 2 : 1;
    /* The parents: made as they are needed, the last table of an array of tables. */
    for (size_t i = 0; i + 1 < k.n; i++) {
        eg_toml *v = get_mut(t, k.part[i].text);
        if (!v) {
            if (!(v = new_value(EG_TOML_TABLE, k.part[i].line, k.part[i].column))) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
            v->flags = T_IMPLICIT;
            if ((rc = put(t, &k.part[i], v)) < 0)
                goto done;
        } else if (v->type == EG_TOML_ARRAY && (v->flags & A_TABLES)) {
            v = v->items[v->count - 1];
        } else if (v->type != EG_TOML_TABLE) {
            rc = fail_at(ps, open, "'%s' is %s (line %u), not a table",
                         key_text(name, sizeof(name), &k, i + 1), table_kind(v), v->key_line);
            goto done;
        }
        t = v;
    }
    key_part *last = &k.part[k.n - 1];
    eg_toml *v = get_mut(t, last->text);
    key_text(name, sizeof(name), &k, k.n);
    if (aot) {
        if (v && !(v->type == EG_TOML_ARRAY && (v->flags & A_TABLES))) {
            rc = fail_at(ps, open, "[[%s]]: '%s' is %s already (line %u)", name, name,
                         table_kind(v), v->key_line);
            goto done;
        }
        if (!v) {
            if (!(v = new_value(EG_TOML_ARRAY, last->line, last->column))) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
            v->flags = A_TABLES;
            if ((rc = put(t, last, v)) < 0)
                goto done;
        }
        eg_toml *elem = new_value(EG_TOML_TABLE, ps->line, col_at(ps, open));
        if (!elem) {
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = append(v, elem)) < 0) {
            free(elem);
            goto done;
        }
        elem->flags = T_HEADER;
        ps->cur = elem;
    } else {
        if (v && v->type == EG_TOML_TABLE && v->flags == T_IMPLICIT) {
            v->flags = T_HEADER;
            v->line = ps->line;
            v->column = col_at(ps, open);
        } else if (v && v->type == EG_TOML_TABLE && (v->flags & T_DOTTED)) {
            rc = fail_at(ps, open, "table [%s] is defined already by dotted keys (line %u)", name,
                         v->key_line);
            goto done;
        } else if (v && v->type == EG_TOML_TABLE) {
            rc = fail_at(ps, open, "table [%s] is defined twice (first at line %u)", name, v->line);
            goto done;
        } else if (v) {
            rc = fail_at(ps, open, "[%s]: '%s' is %s already (line %u)", name, name, table_kind(v),
                         v->key_line);
            goto done;
        } else {
            if (!(v = new_value(EG_TOML_TABLE, ps->line, col_at(ps, open)))) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
            v->flags = T_HEADER;
            if ((rc = put(t, last, v)) < 0)
                goto done;
        }
        ps->cur = v;
    }
    rc = end_of_line(ps);
done:
    key_path_release(&k);
    return rc;
}

/* key = value, at the key's first character. */
static int take_key_value(parser *ps)
{
    key_path k = {.n = 0};
    char name[256], found[32];
    eg_toml *t = ps->cur, *v = NULL;
    int rc;

    if ((rc = take_key_path(ps, &k)) < 0)
        goto done;
    if (peek(ps) != '=') {
        rc = fail_at(ps, ps->p, "expected '=' after the key '%s', found %s",
                     key_text(name, sizeof(name), &k, k.n), FOUND(ps));
        goto done;
    }
    ps->p++;
    skip_ws(ps);
    for (size_t i = 0; i + 1 < k.n; i++) {
        eg_toml *p = get_mut(t, k.part[i].text);
        if (!p) {
            if (!(p = new_value(EG_TOML_TABLE, k.part[i].line, k.part[i].column))) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
            p->flags = T_DOTTED;
            if ((rc = put(t, &k.part[i], p)) < 0)
                goto done;
        } else if (p->type != EG_TOML_TABLE || !(p->flags & T_DOTTED)) {
            key_part *kp = &k.part[i];
            rc = eg_error_set(EG_EINVAL,
                              "%s:%u:%u: '%s' is %s already (line %u): dotted keys "
                              "cannot add to it",
                              ps->name, kp->line, kp->column,
                              key_text(name, sizeof(name), &k, i + 1), table_kind(p), p->key_line);
            goto done;
        }
        t = p;
    }
    key_part *last = &k.part[k.n - 1];
    const eg_toml *dup = eg_toml_get(t, last->text);
    if (dup) {
        rc = eg_error_set(EG_EINVAL, "%s:%u:%u: duplicate key '%s' (first at line %u)", ps->name,
                          last->line, last->column, key_text(name, sizeof(name), &k, k.n),
                          dup->key_line);
        goto done;
    }
    if ((rc = take_value(ps, &v, 0)) < 0)
        goto done;
    if ((rc = put(t, last, v)) < 0)
        goto done;
    rc = end_of_line(ps);
done:
    key_path_release(&k);
    return rc;
}

/* The offset of the first byte that is not UTF-8 (overlong forms, surrogates and
 * code points past U+10FFFF are not), or len. */
static size_t utf8_bad(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return i;
        }
        for (size_t j = 1; j <= n; j++) {
            if (i + j >= len || (s[i + j] & 0xC0) != 0x80)
                return i;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

int eg_toml_parse(eg_toml **out, const char *name, const char *text, size_t len)
{
    parser ps = {name, (const unsigned char *)text, len, 0, 1, 0, NULL, NULL, 0, 0, 0};
    size_t bad;
    int rc = 0;

    *out = NULL;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.p = ps.line_start = 3; /* a byte order mark */
    if ((bad = utf8_bad(ps.s, len)) < len) {
        for (size_t i = 0; i < bad; i++)
            if (ps.s[i] == '\n') {
                ps.line++;
                ps.line_start = i + 1;
            }
        return fail_at(&ps, bad, "not UTF-8 text (byte 0x%02X)", ps.s[bad]);
    }
    if (!(ps.root = new_value(EG_TOML_TABLE, 1, 1)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    ps.root->flags = T_ROOT;
    ps.cur = ps.root;
    while (rc == 0 && ps.p < ps.len) {
        skip_ws(&ps);
        int c = peek(&ps);
        if (c < 0)
            break;
        if (c == '#' || at_newline(&ps))
            rc = end_of_line(&ps);
        else if (c == '[')
            rc = take_header(&ps);
        else
            rc = take_key_value(&ps);
    }
    if (rc < 0) {
        eg_toml_free(ps.root);
        return rc;
    }
    *out = ps.root;
    return 0;
}

int eg_toml_load(eg_toml **out, const char *path)
{
    eg_buf b = EG_BUF_INIT;
    struct stat st;
    int rc;

    *out = NULL;
    /* A configuration file is a small regular file: not a FIFO that never ends, not
     * /dev/zero. */
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return eg_error_set(EG_EIO, "cannot read '%s': not a regular file", path);
        if (st.st_size > EG_TOML_MAX_BYTES)
            return eg_error_set(EG_EINVAL,
                                "%s: %lld bytes, more than a configuration file has (%d)", path,
                                (long long)st.st_size, EG_TOML_MAX_BYTES);
    }
    if ((rc = eg_buf_read_file(&b, path)) < 0)
        return rc;
    rc = eg_toml_parse(out, path, (const char *)b.data, b.len);
    eg_buf_release(&b);
    return rc;
}
