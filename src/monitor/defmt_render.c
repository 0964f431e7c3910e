/* A frame's arguments decoded and formatted by its format string (defmt's parser crate,
 * decoder/src/decoder.rs and frame.rs). Each format is decoded one level at a time:
 * the level's arguments in the order of their positions, nested formats skipped over
 * by decoding them once; then the fragments are rendered, a nested format by decoding
 * its bytes again from where it started. */
#include "core/buf.h"
#include "monitor/defmt_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH  32
#define MAX_BUDGET 1000000 /* formats and elements decoded for one frame */

typedef enum ty {
    TY_FORMAT, /* {} or {=?} */
    TY_BITFIELD,
    TY_BOOL,
    TY_CHAR,
    TY_DEBUG,   /* {=__internal_Debug} */
    TY_DISPLAY, /* {=__internal_Display} */
    TY_FSEQ,    /* {=__internal_FormatSequence} */
    TY_F32,
    TY_F64,
    TY_FARRAY, /* {=[?; N]} */
    TY_FSLICE, /* {=[?]} */
    TY_I8,
    TY_I16,
    TY_I32,
    TY_I64,
    TY_I128,
    TY_ISIZE,
    TY_ISTR,
    TY_STR,
    TY_U8,
    TY_U16,
    TY_U32,
    TY_U64,
    TY_U128,
    TY_USIZE,
    TY_U8SLICE,
    TY_U8ARRAY,
} ty;

static const struct {
    const char *name;
    ty t;
} TYPE_NAMES[] = {
    {"u8", TY_U8},
    {"u16", TY_U16},
    {"u32", TY_U32},
    {"u64", TY_U64},
    {"u128", TY_U128},
    {"usize", TY_USIZE},
    {"i8", TY_I8},
    {"i16", TY_I16},
    {"i32", TY_I32},
    {"i64", TY_I64},
    {"i128", TY_I128},
    {"isize", TY_ISIZE},
    {"f32", TY_F32},
    {"f64", TY_F64},
    {"bool", TY_BOOL},
    {"str", TY_STR},
    {"istr", TY_ISTR},
    {"__internal_Debug", TY_DEBUG},
    {"__internal_Display", TY_DISPLAY},
    {"__internal_FormatSequence", TY_FSEQ},
    {"[u8]", TY_U8SLICE},
    {"?", TY_FORMAT},
    {"[?]", TY_FSLICE},
    {"char", TY_CHAR},
};

typedef enum hk {
    H_NOHINT, /* ":" with only a zero padding, or ":0N" */
    H_HEX,
    H_OCT,
    H_BIN,
    H_ASCII,
    H_DEBUG,
    H_SEC_US,
    H_SEC_MS,
    H_TIME_US,
    H_TIME_MS,
    H_TIME_S,
    H_ISO_MS,
    H_ISO_S,
    H_BITFLAGS,
    H_CBOR,
    H_UNKNOWN,
} hk;

typedef struct hint {
    hk kind;
    int alt, upper;
    unsigned pad;
    const char *flags; /* H_BITFLAGS: "NAME@PACKAGE@DISAMBIGUATOR[@CRATE]" */
    size_t flags_len;
} hint;

typedef struct frag {
    int param;
    const char *lit; /* a literal, {{ and }} not yet undone */
    size_t lit_len;
    unsigned index;
    ty t;
    size_t n;        /* array length */
    unsigned lo, hi; /* bit field */
    int has_hint;
    hint h;
} frag;

typedef struct arg {
    int set;
    ty t;
    dm_u128 u;         /* integers (signed ones sign-extended), bool, char */
    double f;          /* f32 and f64 */
    size_t start, end; /* the bytes of str, [u8], Debug text; where nested data starts */
    const char *fmt;   /* FORMAT: the format (an enum's variant); ISTR: the string */
    size_t fmt_len;
    size_t count;     /* slices and arrays */
    const char *elem; /* their element format */
    size_t elem_len;
    unsigned lo, hi; /* merged bit field range */
} arg;

typedef struct level {
    frag *frags;
    size_t n_frags;
    arg *args;
    size_t n_args;
} level;

typedef struct ctx {
    const eg_defmt_table *t;
    const uint8_t *b;
    size_t n;
    eg_buf *out;
    char *why;
    size_t whylen;
    int depth;
    long budget;
} ctx;

static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(ctx *c, const char *fmt, ...)
{
    if (c->why[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->why, c->whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- output ---- */

static int put(ctx *c, const void *p, size_t n)
{
    if (c->out->len + n > EG_DEFMT_MESSAGE_MAX)
        return fail(c, "message longer than %d bytes", EG_DEFMT_MESSAGE_MAX);
    if (eg_buf_append(c->out, p, n) != 0)
        return fail(c, "out of memory");
    return 0;
}

static int puts_(ctx *c, const char *s)
{
    return put(c, s, strlen(s));
}

static int putc_(ctx *c, char ch)
{
    return put(c, &ch, 1);
}

/* ---- format strings (defmt's parser crate) ---- */

static void level_free(level *lv)
{
    free(lv->frags);
    free(lv->args);
    lv->frags = NULL;
    lv->args = NULL;
}

static int parse_uint(const char *s, size_t len, size_t *val)
{
    size_t v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *val = v;
    return 0;
}

static int eq(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* DisplayHint::parse; an unknown hint is H_UNKNOWN (forwards compatible). */
static void parse_hint(const char *s, size_t len, hint *h)
{
    memset(h, 0, sizeof(*h));
    if (len && s[0] == '#') {
        h->alt = 1;
        s++;
        len--;
    }
    if (len && s[0] == '0') {
        size_t d = 1, pad = 0;
        while (d < len && s[d] >= '0' && s[d] <= '9')
            d++;
        if (d == 1 || parse_uint(s + 1, d - 1, &pad) != 0) {
            h->kind = H_UNKNOWN;
            return;
        }
        h->pad = (unsigned)pad;
        s += d;
        len -= d;
    }
    static const char bf[] = "__internal_bitflags_";
    if (len >= sizeof(bf) - 1 && memcmp(s, bf, sizeof(bf) - 1) == 0) {
        size_t ats = 0;
        for (size_t i = sizeof(bf) - 1; i < len; i++)
            ats += s[i] == '@';
        h->kind = (ats == 2 || ats == 3) ? H_BITFLAGS : H_UNKNOWN;
        h->flags = s + sizeof(bf) - 1;
        h->flags_len = len - (sizeof(bf) - 1);
        return;
    }
    static const struct {
        const char *s;
        hk k;
        int upper;
    } H[] = {
        {"", H_NOHINT, 0},        {"us", H_SEC_US, 0},   {"ms", H_SEC_MS, 0},
        {"tus", H_TIME_US, 0},    {"tms", H_TIME_MS, 0}, {"ts", H_TIME_S, 0},
        {"a", H_ASCII, 0},        {"b", H_BIN, 0},       {"o", H_OCT, 0},
        {"x", H_HEX, 0},          {"X", H_HEX, 1},       {"iso8601ms", H_ISO_MS, 0},
        {"iso8601s", H_ISO_S, 0}, {"cbor", H_CBOR, 0},   {"?", H_DEBUG, 0},
    };
    for (size_t i = 0; i < sizeof(H) / sizeof(H[0]); i++) {
        if (eq(s, len, H[i].s)) {
            h->kind = H[i].k;
            h->upper = H[i].upper;
            return;
        }
    }
    h->kind = H_UNKNOWN;
}

/* "N]" after "[u8;" or "[?;" (spaces allowed before N). */
static int parse_array_len(const char *s, size_t len, size_t *n)
{
    size_t i = 0;
    while (i < len && s[i] == ' ')
        i++;
    size_t d = i;
    while (d < len && s[d] >= '0' && s[d] <= '9')
        d++;
    if (d == i || d + 1 != len || s[d] != ']')
        return -1;
    return parse_uint(s + i, d - i, n);
}

static int parse_type(const char *s, size_t len, frag *f)
{
    for (size_t i = 0; i < sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]); i++) {
        if (eq(s, len, TYPE_NAMES[i].name)) {
            f->t = TYPE_NAMES[i].t;
            return 0;
        }
    }
    if (len > 4 && memcmp(s, "[u8;", 4) == 0) {
        f->t = TY_U8ARRAY;
        return parse_array_len(s + 4, len - 4, &f->n);
    }
    if (len > 3 && memcmp(s, "[?;", 3) == 0) {
        f->t = TY_FARRAY;
        return parse_array_len(s + 3, len - 3, &f->n);
    }
    /* a bit field: START..END, 0 <= START < END <= 128 */
    const char *dots = memchr(s, '.', len);
    size_t lo, hi;
    if (!dots || dots + 1 >= s + len || dots[1] != '.' ||
        parse_uint(s, (size_t)(dots - s), &lo) != 0 ||
        parse_uint(dots + 2, len - (size_t)(dots + 2 - s), &hi) != 0 || hi <= lo || lo >= 128 ||
        hi > 128)
        return -1;
    f->t = TY_BITFIELD;
    f->lo = (unsigned)lo;
    f->hi = (unsigned)hi;
    return 0;
}

static int parse_param(ctx *c, const char *s, size_t len, frag *f, unsigned *next)
{
    size_t i = 0, idx;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    f->param = 1;
    f->t = TY_FORMAT;
    if (i > 0) {
        if (parse_uint(s, i, &idx) != 0 || idx > 1000)
            return fail(c, "bad argument position in format '%.*s'", (int)len, s);
        f->index = (unsigned)idx;
    } else {
        f->index = (*next)++;
    }
    s += i;
    len -= i;
    if (len && s[0] == '=') {
        const char *colon = memchr(s + 1, ':', len - 1);
        size_t tlen = colon ? (size_t)(colon - s - 1) : len - 1;
        if (parse_type(s + 1, tlen, f) != 0)
            return fail(c, "unknown type '%.*s' in a format string", (int)tlen, s + 1);
        s += 1 + tlen;
        len -= 1 + tlen;
    }
    if (len && s[0] == ':') {
        if (len == 1)
            return fail(c, "a format string with ':' and no display hint");
        f->has_hint = 1;
        parse_hint(s + 1, len - 1, &f->h);
    } else if (len) {
        return fail(c, "unexpected '%.*s' in a format string", (int)len, s);
    }
    return 0;
}

static int add_frag(ctx *c, level *lv, size_t *cap, const frag *f)
{
    if (lv->n_frags == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        frag *p = realloc(lv->frags, nc * sizeof(*p));
        if (!p)
            return fail(c, "out of memory");
        lv->frags = p;
        *cap = nc;
    }
    lv->frags[lv->n_frags++] = *f;
    return 0;
}

/* A literal may hold {{ and }} but no single brace. */
static int check_literal(ctx *c, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '{' || s[i] == '}') {
            if (i + 1 < len && s[i + 1] == s[i])
                i++;
            else
                return fail(c, "unmatched '%c' in format string '%.*s'", s[i], (int)len, s);
        }
    }
    return 0;
}

static int parse_format(ctx *c, const char *s, size_t len, level *lv)
{
    size_t cap = 0, lit = 0, i = 0;
    unsigned next = 0;

    lv->frags = NULL;
    lv->n_frags = 0;
    lv->args = NULL;
    lv->n_args = 0;
    while (i < len) {
        if (s[i] != '{') {
            i++;
            continue;
        }
        if (i + 1 < len && s[i + 1] == '{') {
            i += 2;
            continue;
        }
        const char *close = memchr(s + i + 1, '}', len - i - 1);
        if (!close)
            return fail(c, "unmatched '{' in format string '%.*s'", (int)len, s);
        if (i > lit) {
            frag f = {.lit = s + lit, .lit_len = i - lit};
            if (check_literal(c, f.lit, f.lit_len) != 0 || add_frag(c, lv, &cap, &f) != 0)
                return -1;
        }
        frag f;
        memset(&f, 0, sizeof(f));
        if (parse_param(c, s + i + 1, (size_t)(close - s - i - 1), &f, &next) != 0 ||
            add_frag(c, lv, &cap, &f) != 0)
            return -1;
        i = (size_t)(close - s) + 1;
        lit = i;
    }
    if (len > lit) {
        frag f = {.lit = s + lit, .lit_len = len - lit};
        if (check_literal(c, f.lit, f.lit_len) != 0 || add_frag(c, lv, &cap, &f) != 0)
            return -1;
    }
    /* arguments: one type each (bit fields may differ in range), none unused */
    for (size_t k = 0; k < lv->n_frags; k++)
        if (lv->frags[k].param && lv->frags[k].index + 1 > lv->n_args)
            lv->n_args = lv->frags[k].index + 1;
    if (lv->n_args && !(lv->args = calloc(lv->n_args, sizeof(*lv->args))))
        return fail(c, "out of memory");
    for (size_t k = 0; k < lv->n_frags; k++) {
        const frag *f = &lv->frags[k];
        if (!f->param)
            continue;
        arg *a = &lv->args[f->index];
        if (!a->set) {
            a->set = 1;
            a->t = f->t;
            a->count = f->n;
            a->lo = f->lo;
            a->hi = f->hi;
            continue;
        }
        if (a->t != f->t || a->count != f->n)
            return fail(c, "argument %u has two types in format string '%.*s'", f->index, (int)len,
                        s);
        if (f->t == TY_BITFIELD) {
            if (f->lo < a->lo)
                a->lo = f->lo;
            if (f->hi > a->hi)
                a->hi = f->hi;
        }
    }
    for (size_t k = 0; k < lv->n_args; k++)
        if (!lv->args[k].set)
            return fail(c, "argument %zu is not used in format string '%.*s'", k, (int)len, s);
    return 0;
}

/* ---- decoding ---- */

static int need(ctx *c, size_t pos, size_t k)
{
    if (pos > c->n || c->n - pos < k)
        return fail(c, "truncated (%zu bytes, more needed at byte %zu)", c->n, pos);
    return 0;
}

static int read_le(ctx *c, size_t *pos, unsigned bytes, dm_u128 *v)
{
    if (need(c, *pos, bytes) != 0)
        return -1;
    dm_u128 x = 0;
    for (unsigned i = bytes; i > 0; i--)
        x = x << 8 | c->b[*pos + i - 1];
    *pos += bytes;
    *v = x;
    return 0;
}

static int read_u16(ctx *c, size_t *pos, unsigned *v)
{
    dm_u128 x;
    if (read_le(c, pos, 2, &x) != 0)
        return -1;
    *v = (unsigned)x;
    return 0;
}

static int utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = p[i];
        size_t k;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            k = 1;
            cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            k = 2;
            cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            k = 3;
            cp = b & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* A nested format by index: any entry but a log statement with a level. */
static const dm_entry *nested(ctx *c, unsigned index)
{
    const dm_entry *e = dm_table_find(c->t, index);
    if (!e) {
        fail(c, "unknown format index 0x%04x", index);
        return NULL;
    }
    if (dm_tag_has_level(e->tag)) {
        fail(c, "format index 0x%04x is a log statement", index);
        return NULL;
    }
    return e;
}

/* An enum's format "A|B(..)|C": the variant number (u8 up to 255 '|'s, u16 up to
 * 65535, else u32) picks one. */
static int variant(ctx *c, const char *fmt, size_t len, size_t *pos, const char **v, size_t *vlen)
{
    size_t bars = 0;
    for (size_t i = 0; i < len; i++)
        bars += fmt[i] == '|';
    dm_u128 d;
    if (read_le(c, pos, bars <= 0xFF ? 1 : bars <= 0xFFFF ? 2 : 4, &d) != 0)
        return -1;
    const char *p = fmt, *end = fmt + len;
    for (dm_u128 k = 0; k < d; k++) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        if (!bar)
            return fail(c, "variant %u of '%.*s' does not exist", (unsigned)d, (int)len, fmt);
        p = bar + 1;
    }
    const char *bar = memchr(p, '|', (size_t)(end - p));
    *v = p;
    *vlen = bar ? (size_t)(bar - p) : (size_t)(end - p);
    return 0;
}

static int decode_level(ctx *c, const char *fmt, size_t len, size_t *pos, level *lv);

/* Moves *pos past a nested format's arguments. */
static int skip_format(ctx *c, const char *fmt, size_t len, size_t *pos)
{
    level lv;
    int rc = decode_level(c, fmt, len, pos, &lv);
    level_free(&lv);
    return rc;
}

/* Moves past the elements of a slice or array of count elements of format e. */
static int skip_elements(ctx *c, const dm_entry *e, size_t count, size_t *pos)
{
    size_t len = strlen(e->format);
    int is_enum = memchr(e->format, '|', len) != NULL;
    for (size_t k = 0; k < count; k++) {
        const char *f = e->format;
        size_t flen = len;
        if (--c->budget < 0)
            return fail(c, "too many elements");
        if (is_enum && variant(c, e->format, len, pos, &f, &flen) != 0)
            return -1;
        if (skip_format(c, f, flen, pos) != 0)
            return -1;
    }
    return 0;
}

/* A u16 index of a string that is no log statement: the string into a->fmt. */
static int read_string_index(ctx *c, size_t *pos, arg *a)
{
    unsigned idx;
    const dm_entry *e;
    if (read_u16(c, pos, &idx) != 0 || !(e = nested(c, idx)))
        return -1;
    a->fmt = e->format;
    a->fmt_len = strlen(e->format);
    return 0;
}

static int decode_arg(ctx *c, arg *a, size_t *pos)
{
    static const unsigned width[] = {
        [TY_I8] = 1, [TY_I16] = 2, [TY_I32] = 4, [TY_I64] = 8, [TY_I128] = 16, [TY_ISIZE] = 4,
        [TY_U8] = 1, [TY_U16] = 2, [TY_U32] = 4, [TY_U64] = 8, [TY_U128] = 16, [TY_USIZE] = 4,
    };
    dm_u128 x;
    unsigned idx;
    const dm_entry *e;

    switch (a->t) {
    case TY_I8:
    case TY_I16:
    case TY_I32:
    case TY_I64:
    case TY_I128:
    case TY_ISIZE:
        if (read_le(c, pos, width[a->t], &x) != 0)
            return -1;
        if (width[a->t] < 16 && (x >> (width[a->t] * 8 - 1)) & 1)
            x |= ~(dm_u128)0 << (width[a->t] * 8);
        a->u = x;
        return 0;
    case TY_U8:
    case TY_U16:
    case TY_U32:
    case TY_U64:
    case TY_U128:
    case TY_USIZE:
        return read_le(c, pos, width[a->t], &a->u);
    case TY_F32: {
        if (read_le(c, pos, 4, &x) != 0)
            return -1;
        uint32_t bits = (uint32_t)x;
        float f;
        memcpy(&f, &bits, 4);
        a->f = f;
        return 0;
    }
    case TY_F64: {
        if (read_le(c, pos, 8, &x) != 0)
            return -1;
        uint64_t bits = (uint64_t)x;
        memcpy(&a->f, &bits, 8);
        return 0;
    }
    case TY_BOOL:
        if (read_le(c, pos, 1, &x) != 0)
            return -1;
        if (x > 1)
            return fail(c, "bool byte 0x%02x", (unsigned)x);
        a->u = x;
        return 0;
    case TY_CHAR:
        if (read_le(c, pos, 4, &x) != 0)
            return -1;
        if (x > 0x10FFFF || (x >= 0xD800 && x <= 0xDFFF))
            return fail(c, "char 0x%x is no Unicode scalar value", (unsigned)x);
        a->u = x;
        return 0;
    case TY_STR:
    case TY_U8SLICE:
        if (read_le(c, pos, 4, &x) != 0 || need(c, *pos, (size_t)x) != 0)
            return -1;
        a->start = *pos;
        a->end = *pos + (size_t)x;
        *pos = a->end;
        if (a->t == TY_STR && !utf8_valid(c->b + a->start, (size_t)x))
            return fail(c, "str argument is not UTF-8");
        return 0;
    case TY_U8ARRAY:
        if (need(c, *pos, a->count) != 0)
            return -1;
        a->start = *pos;
        a->end = *pos + a->count;
        *pos = a->end;
        return 0;
    case TY_DEBUG:
    case TY_DISPLAY: {
        const uint8_t *ff = *pos <= c->n ? memchr(c->b + *pos, 0xFF, c->n - *pos) : NULL;
        if (!ff)
            return fail(c, "truncated (preformatted text without its 0xff)");
        a->start = *pos;
        a->end = (size_t)(ff - c->b);
        *pos = a->end + 1;
        if (!utf8_valid(c->b + a->start, a->end - a->start))
            return fail(c, "preformatted text is not UTF-8");
        return 0;
    }
    case TY_ISTR:
        return read_string_index(c, pos, a);
    case TY_BITFIELD: {
        unsigned lowest = a->lo / 8, highest = (a->hi - 1) / 8, size = highest - lowest + 1;
        unsigned bytes = size == 1 ? 1 : size == 2 ? 2 : size <= 4 ? 4 : size <= 8 ? 8 : 16;
        if (read_le(c, pos, bytes, &x) != 0)
            return -1;
        a->u = lowest ? x << (lowest * 8) : x;
        return 0;
    }
    case TY_FORMAT:
        if (read_string_index(c, pos, a) != 0)
            return -1;
        if (memchr(a->fmt, '|', a->fmt_len) &&
            variant(c, a->fmt, a->fmt_len, pos, &a->fmt, &a->fmt_len) != 0)
            return -1;
        a->start = *pos;
        return skip_format(c, a->fmt, a->fmt_len, pos);
    case TY_FSLICE:
    case TY_FARRAY:
        if (a->t == TY_FSLICE) {
            if (read_le(c, pos, 4, &x) != 0)
                return -1;
            a->count = (size_t)x;
        }
        if (read_u16(c, pos, &idx) != 0 || !(e = nested(c, idx)))
            return -1;
        a->elem = e->format;
        a->elem_len = strlen(e->format);
        a->start = *pos;
        return skip_elements(c, e, a->count, pos);
    case TY_FSEQ:
        a->start = *pos;
        for (;;) {
            if (read_u16(c, pos, &idx) != 0)
                return -1;
            if (idx == 0)
                return 0;
            if (!(e = nested(c, idx)))
                return -1;
            if (--c->budget < 0)
                return fail(c, "too many elements");
            if (skip_format(c, e->format, strlen(e->format), pos) != 0)
                return -1;
        }
    }
    return fail(c, "unknown argument type");
}

/* Parses fmt and decodes its arguments at *pos, in the order of their positions. */
static int decode_level(ctx *c, const char *fmt, size_t len, size_t *pos, level *lv)
{
    if (c->depth >= MAX_DEPTH) {
        memset(lv, 0, sizeof(*lv));
        return fail(c, "formats nested deeper than %d", MAX_DEPTH);
    }
    if (--c->budget < 0) {
        memset(lv, 0, sizeof(*lv));
        return fail(c, "too many elements");
    }
    if (parse_format(c, fmt, len, lv) != 0)
        return -1;
    c->depth++;
    for (size_t k = 0; k < lv->n_args; k++) {
        if (decode_arg(c, &lv->args[k], pos) != 0) {
            c->depth--;
            return -1;
        }
    }
    c->depth--;
    return 0;
}

/* ---- rendering ---- */

static int render_format(ctx *c, const char *fmt, size_t len, size_t *pos, const hint *parent);

static int put_u128(ctx *c, dm_u128 x, unsigned base, int upper, const char *prefix, unsigned pad)
{
    char digits[140];
    size_t n = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        digits[n++] = set[(unsigned)(x % base)];
        x /= base;
    } while (x);
    size_t plen = strlen(prefix), total = plen + n;
    if (puts_(c, prefix) != 0)
        return -1;
    for (; total < pad; total++)
        if (putc_(c, '0') != 0)
            return -1;
    while (n)
        if (putc_(c, digits[--n]) != 0)
            return -1;
    return 0;
}

static int put_dec(ctx *c, dm_u128 x, unsigned pad)
{
    return put_u128(c, x, 10, 0, "", pad);
}

/* hh:mm:ss[.frac], with days in front when there are any. */
static int put_time(ctx *c, dm_u128 x, hk kind)
{
    unsigned places = kind == H_TIME_US ? 6 : kind == H_TIME_MS ? 3 : 0;
    dm_u128 div = kind == H_TIME_US ? 1000000 : kind == H_TIME_MS ? 1000 : 1;
    dm_u128 frac = x % div, t = x / div;
    unsigned s = (unsigned)(t % 60), m = (unsigned)(t / 60 % 60), h = (unsigned)(t / 3600 % 24);
    dm_u128 days = t / 86400;
    char buf[48];
    if (days) {
        if (put_dec(c, days, 0) != 0 || putc_(c, ':') != 0)
            return -1;
    }
    snprintf(buf, sizeof(buf), "%02u:%02u:%02u", h, m, s);
    if (puts_(c, buf) != 0)
        return -1;
    if (places) {
        if (putc_(c, '.') != 0 || put_dec(c, frac, places) != 0)
            return -1;
    }
    return 0;
}

/* Unix time to a UTC date (days since 1970-01-01 to year, month, day). */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int put_iso8601(ctx *c, dm_u128 x, hk kind)
{
    uint64_t v = (uint64_t)x;
    uint64_t secs = kind == H_ISO_MS ? v / 1000 : v;
    unsigned ms = (unsigned)(v % 1000);
    long long y;
    unsigned mo, d;
    char buf[64];
    civil_from_days((long long)(secs / 86400), &y, &mo, &d);
    if (y > 9999)
        return put_dec(c, x, 0);
    unsigned sod = (unsigned)(secs % 86400);
    if (kind == H_ISO_MS)
        snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mo, d, sod / 3600,
                 sod / 60 % 60, sod % 60, ms);
    else
        snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02uZ", y, mo, d, sod / 3600,
                 sod / 60 % 60, sod % 60);
    return puts_(c, buf);
}

static int key_matches(const char *key, const char *flags, size_t len)
{
    /* the hint's crate part is optional (wire format 3): then the key's is empty */
    size_t ats = 0;
    for (size_t i = 0; i < len; i++)
        ats += flags[i] == '@';
    size_t klen = strlen(key);
    if (ats == 3)
        return klen == len && memcmp(key, flags, len) == 0;
    return klen == len + 1 && memcmp(key, flags, len) == 0 && key[len] == '@';
}

static int put_bitflags(ctx *c, dm_u128 x, const hint *h)
{
    const eg_defmt_table *t = c->t;
    int found = 0, any = 0;
    for (size_t i = 0; i < t->n_flags; i++) {
        const dm_flag *f = &t->flags[i];
        if (!key_matches(f->key, h->flags, h->flags_len))
            continue;
        found = 1;
        if (f->value == 0 ? x != 0 : (x & f->value) != f->value)
            continue;
        if ((any && puts_(c, " | ") != 0) || puts_(c, f->name) != 0)
            return -1;
        any = 1;
    }
    if (!found)
        return put_dec(c, x, 0);
    return any ? 0 : puts_(c, "(empty)");
}

static int put_unsigned(ctx *c, dm_u128 x, const hint *h)
{
    if (!h)
        return put_dec(c, x, 0);
    switch (h->kind) {
    case H_NOHINT:
        return put_dec(c, x, h->pad);
    case H_BIN:
        return put_u128(c, x, 2, 0, h->alt ? "0b" : "", h->pad);
    case H_OCT:
        return put_u128(c, x, 8, 0, h->alt ? "0o" : "", h->pad);
    case H_HEX:
        return put_u128(c, x, 16, h->upper, h->alt ? "0x" : "", h->pad);
    case H_SEC_US:
    case H_SEC_MS: {
        unsigned places = h->kind == H_SEC_US ? 6 : 3;
        dm_u128 div = h->kind == H_SEC_US ? 1000000 : 1000;
        if (put_dec(c, x / div, 0) != 0 || putc_(c, '.') != 0)
            return -1;
        return put_dec(c, x % div, places);
    }
    case H_TIME_US:
    case H_TIME_MS:
    case H_TIME_S:
        return put_time(c, x, h->kind);
    case H_BITFLAGS:
        return put_bitflags(c, x, h);
    default:
        return put_dec(c, x, 0);
    }
}

static unsigned type_bits(ty t)
{
    switch (t) {
    case TY_I8:
        return 8;
    case TY_I16:
        return 16;
    case TY_I32:
    case TY_ISIZE:
        return 32;
    case TY_I64:
        return 64;
    default:
        return 128;
    }
}

static int put_signed(ctx *c, dm_u128 bits, ty t, const hint *h)
{
    dm_i128 x = (dm_i128)bits;
    dm_u128 mag = x < 0 ? (dm_u128)0 - bits : bits;
    if (h && (h->kind == H_BIN || h->kind == H_OCT))
        /* Rust writes a negative i128 in binary and octal as its two's complement */
        return put_unsigned(c, bits, h);
    if (h && h->kind == H_HEX) {
        unsigned w = type_bits(t);
        dm_u128 v = w < 128 ? bits & (((dm_u128)1 << w) - 1) : bits;
        return put_u128(c, v, 16, h->upper, h->alt ? "0x" : "", h->pad);
    }
    return put_u128(c, mag, 10, 0, x < 0 ? "-" : "", h && h->kind == H_NOHINT ? h->pad : 0);
}

/* Quoted and escaped as Rust's Debug writes a str (bytes 0) or a byte string b"..."
 * (bytes 1): \t \r \n \\ \" in both; a str then escapes \0 and the other ASCII
 * control characters as \u{..}, a byte string every byte outside ' '..'~' as \xNN. */
static int put_quoted(ctx *c, const uint8_t *p, size_t n, int bytes)
{
    char esc[16];
    if ((bytes && putc_(c, 'b') != 0) || putc_(c, '"') != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        const char *e = NULL;
        switch (ch) {
        case '\t':
            e = "\\t";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '"':
            e = "\\\"";
            break;
        default:
            if (bytes && (ch < 0x20 || ch > 0x7E)) {
                snprintf(esc, sizeof(esc), "\\x%02x", ch);
                e = esc;
            } else if (!bytes && ch == 0) {
                e = "\\0";
            } else if (!bytes && (ch < 0x20 || ch == 0x7F)) {
                snprintf(esc, sizeof(esc), "\\u{%x}", ch);
                e = esc;
            }
        }
        if (e ? puts_(c, e) != 0 : putc_(c, (char)ch) != 0)
            return -1;
    }
    return putc_(c, '"');
}

static int put_str(ctx *c, const char *s, size_t n, const hint *h)
{
    if (h && h->kind == H_DEBUG)
        return put_quoted(c, (const uint8_t *)s, n, 0);
    return put(c, s, n);
}

static int put_bytes(ctx *c, const uint8_t *p, size_t n, const hint *h)
{
    if (h && h->kind == H_ASCII)
        return put_quoted(c, p, n, 1);
    int numeric = h && (h->kind == H_HEX || h->kind == H_OCT || h->kind == H_BIN);
    if (putc_(c, '[') != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((i && puts_(c, ", ") != 0) ||
            (numeric ? put_unsigned(c, p[i], h) : put_dec(c, p[i], 0)) != 0)
            return -1;
    }
    return putc_(c, ']');
}

static int put_char(ctx *c, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return put(c, u, n);
}

/* A float as the ryu crate's Buffer::format writes it: the shortest digits that read
 * back as the same value, plain up to 10^13 (f32) or 10^16 (f64) and down to 10^-6
 * (f32) or 10^-5 (f64), else d.ddde-N; NaN, inf, -inf. */
static int put_float(ctx *c, double v, int is32)
{
    char buf[64], digits[32], out[64];
    int exp10 = 0, nd = 0;

    if (isnan(v))
        return puts_(c, "NaN");
    if (isinf(v))
        return puts_(c, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return puts_(c, signbit(v) ? "-0.0" : "0.0");
    for (int p = 1; p <= (is32 ? 9 : 17); p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
        if (is32 ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    /* buf: [-]d[.ddd]e[+-]NN */
    const char *s = buf;
    int neg = *s == '-';
    if (neg)
        s++;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[nd++] = *s;
    if (*s == 'e')
        exp10 = (int)strtol(s + 1, NULL, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int k = exp10 - nd + 1, kk = nd + k; /* value = digits x 10^k, 10^(kk-1) <= v < 10^kk */
    int lim = is32 ? 13 : 16, low = is32 ? -6 : -5;
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (k >= 0 && kk <= lim) {
        memcpy(out + o, digits, (size_t)nd);
        o += (size_t)nd;
        for (int i = 0; i < k; i++)
            out[o++] = '0';
        out[o++] = '.';
        out[o++] = '0';
    } else if (kk > 0 && kk <= lim) {
        memcpy(out + o, digits, (size_t)kk);
        o += (size_t)kk;
        out[o++] = '.';
        memcpy(out + o, digits + kk, (size_t)(nd - kk));
        o += (size_t)(nd - kk);
    } else if (kk > low && kk <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -kk; i++)
            out[o++] = '0';
        memcpy(out + o, digits, (size_t)nd);
        o += (size_t)nd;
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)(nd - 1));
            o += (size_t)(nd - 1);
        }
        o += (size_t)snprintf(out + o, sizeof(out) - o, "e%d", kk - 1);
    }
    return put(c, out, o);
}

/* The elements of a slice or array: [a, b, c], or b"..." for u8 elements with :a. */
static int put_elements(ctx *c, const arg *a, const hint *h)
{
    size_t pos = a->start;
    int is_enum = memchr(a->elem, '|', a->elem_len) != NULL;
    if (h && h->kind == H_ASCII && !is_enum && eq(a->elem, a->elem_len, "{=u8}")) {
        if (need(c, pos, a->count) != 0)
            return -1;
        return put_quoted(c, c->b + pos, a->count, 1);
    }
    if (putc_(c, '[') != 0)
        return -1;
    for (size_t k = 0; k < a->count; k++) {
        const char *f = a->elem;
        size_t flen = a->elem_len;
        if (k && puts_(c, ", ") != 0)
            return -1;
        if (is_enum && variant(c, a->elem, a->elem_len, &pos, &f, &flen) != 0)
            return -1;
        if (render_format(c, f, flen, &pos, h) != 0)
            return -1;
    }
    return putc_(c, ']');
}

static int put_literal(ctx *c, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if ((s[i] == '{' || s[i] == '}') && i + 1 < n && s[i + 1] == s[i]) {
            if (put(c, s + start, i + 1 - start) != 0)
                return -1;
            i++;
            start = i + 1;
        }
    }
    return put(c, s + start, n - start);
}

static int render_param(ctx *c, const frag *f, const arg *a, const hint *parent)
{
    const hint *h = f->has_hint ? &f->h : parent;
    size_t pos;

    switch (a->t) {
    case TY_BOOL:
        return puts_(c, a->u ? "true" : "false");
    case TY_F32:
        return put_float(c, a->f, 1);
    case TY_F64:
        return put_float(c, a->f, 0);
    case TY_U8:
    case TY_U16:
    case TY_U32:
    case TY_U64:
    case TY_U128:
    case TY_USIZE:
        if (h && (h->kind == H_ISO_MS || h->kind == H_ISO_S))
            return put_iso8601(c, a->u, h->kind);
        if (h && h->kind == H_DEBUG)
            return put_unsigned(c, a->u, parent);
        return put_unsigned(c, a->u, h);
    case TY_BITFIELD: {
        unsigned left = 128 - f->hi, right = left + f->lo;
        dm_u128 v = right >= 128 ? 0 : (a->u << left) >> right;
        if (h && h->kind == H_ASCII) {
            uint8_t be[16];
            for (int i = 0; i < 16; i++)
                be[i] = (uint8_t)(v >> (8 * (15 - i)));
            return put_quoted(c, be + right / 8, 16 - right / 8, 1);
        }
        return put_unsigned(c, v, h);
    }
    case TY_I8:
    case TY_I16:
    case TY_I32:
    case TY_I64:
    case TY_I128:
    case TY_ISIZE:
        return put_signed(c, a->u, a->t, h);
    case TY_STR:
    case TY_DEBUG:
    case TY_DISPLAY:
        return put_str(c, (const char *)c->b + a->start, a->end - a->start, h);
    case TY_ISTR:
        return put_str(c, a->fmt, a->fmt_len, h);
    case TY_U8SLICE:
    case TY_U8ARRAY:
        return put_bytes(c, c->b + a->start, a->end - a->start, h);
    case TY_CHAR:
        return put_char(c, (uint32_t)a->u);
    case TY_FORMAT:
        pos = a->start;
        return render_format(c, a->fmt, a->fmt_len, &pos,
                             parent && parent->kind == H_ASCII ? parent : h);
    case TY_FSLICE:
    case TY_FARRAY:
        return put_elements(c, a, h);
    case TY_FSEQ:
        pos = a->start;
        for (;;) {
            unsigned idx;
            const dm_entry *e;
            if (read_u16(c, &pos, &idx) != 0)
                return -1;
            if (idx == 0)
                return 0;
            if (!(e = nested(c, idx)) ||
                render_format(c, e->format, strlen(e->format), &pos, h) != 0)
                return -1;
        }
    }
    return fail(c, "unknown argument type");
}

static int render_format(ctx *c, const char *fmt, size_t len, size_t *pos, const hint *parent)
{
    level lv;
    int rc = decode_level(c, fmt, len, pos, &lv);
    if (rc == 0) {
        c->depth++;
        for (size_t k = 0; k < lv.n_frags && rc == 0; k++) {
            const frag *f = &lv.frags[k];
            rc = f->param ? render_param(c, f, &lv.args[f->index], parent)
                          : put_literal(c, f->lit, f->lit_len);
        }
        c->depth--;
    }
    level_free(&lv);
    return rc;
}

int dm_render(const eg_defmt_table *t, const char *fmt, const uint8_t *frame, size_t n, size_t *pos,
              eg_buf *out, char *why, size_t whylen)
{
    ctx c = {
        .t = t, .b = frame, .n = n, .out = out, .why = why, .whylen = whylen, .budget = MAX_BUDGET};
    why[0] = '\0';
    return render_format(&c, fmt, strlen(fmt), pos, NULL);
}
