/* The log format of -F/--output-format (defmt's decoder/src/log/format): a string of
 * text and {SPEC} segments, parsed once, rendered per line. */
#include "core/error.h"
#include "monitor/defmt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum seg_kind {
    SEG_TEXT,
    SEG_MESSAGE,  /* s */
    SEG_LEVEL,    /* L */
    SEG_TIME,     /* t */
    SEG_PATH,     /* F */
    SEG_FILENAME, /* f, ff, fff, ... */
    SEG_LINE,     /* l */
    SEG_MODULE,   /* m */
    SEG_CRATE,    /* c */
    SEG_GROUP,    /* {...{X}...%param} */
} seg_kind;

enum { COLOR_NONE = 0, COLOR_SEVERITY = -1, COLOR_WERROR = -2 };

/* Styles in the order the colored crate writes them, with their SGR codes. */
static const struct {
    const char *name;
    int code;
} STYLES[] = {{"bold", 1}, {"dimmed", 2}, {"italic", 3}, {"underline", 4}, {"strike", 9}};

static const struct {
    const char *name;
    int code;
} COLORS[] = {{"black", 30},   {"red", 31},    {"green", 32}, {"yellow", 33}, {"blue", 34},
              {"magenta", 35}, {"purple", 35}, {"cyan", 36},  {"white", 37}};

typedef struct seg {
    seg_kind kind;
    char *text;     /* SEG_TEXT */
    unsigned depth; /* SEG_FILENAME: how many path components */
    int color;      /* an SGR code, or COLOR_* */
    unsigned styles;
    int has_width;
    unsigned width;
    char align; /* '<' '^' '>' */
    int zero;
    struct seg *kids; /* SEG_GROUP */
    size_t n_kids;
} seg;

struct eg_defmt_format {
    seg *segs;
    size_t n;
    char *warning;
};

typedef struct parser {
    const char *spec;
    size_t pos;
    int has_message, has_time;
} parser;

static void segs_free(seg *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].text);
        segs_free(s[i].kids, s[i].n_kids);
    }
    free(s);
}

static int perr(const parser *p, size_t at, const char *what)
{
    return eg_error_set(EG_EINVAL, "output format '%s': %s at column %zu", p->spec, what, at + 1);
}

static int push_seg(seg **v, size_t *n, const seg *s)
{
    seg *nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return eg_error_set(EG_ENOMEM, "out of memory");
    *v = nv;
    (*v)[(*n)++] = *s;
    return 0;
}

static int word_is(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && strncmp(w, lit, n) == 0;
}

static int is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* One parameter (colour, style, width) at spec[a..b) into s. */
static int parse_param(parser *p, size_t a, size_t b, seg *s)
{
    const char *w = p->spec + a;
    size_t n = b - a;
    if (n == 0)
        return perr(p, a, "an empty parameter");
    if (is_alpha(w[0])) {
        for (size_t i = 0; i < sizeof(STYLES) / sizeof(STYLES[0]); i++) {
            if (word_is(w, n, STYLES[i].name)) {
                if (s->styles & (1u << i))
                    return perr(p, a, "a style given twice");
                s->styles |= 1u << i;
                return 0;
            }
        }
        int color = COLOR_NONE;
        if (word_is(w, n, "severity"))
            color = COLOR_SEVERITY;
        else if (word_is(w, n, "werror"))
            color = COLOR_WERROR;
        for (size_t i = 0; i < sizeof(COLORS) / sizeof(COLORS[0]) && color == COLOR_NONE; i++) {
            char low[16];
            if (n >= sizeof(low))
                break;
            for (size_t k = 0; k < n; k++)
                low[k] = (char)(w[k] >= 'A' && w[k] <= 'Z' ? w[k] + 32 : w[k]);
            if (word_is(low, n, COLORS[i].name))
                color = COLORS[i].code;
        }
        if (color == COLOR_NONE)
            return perr(p, a, "unknown specifier or parameter");
        if (s->color != COLOR_NONE)
            return perr(p, a, "two colours");
        s->color = color;
        return 0;
    }
    size_t i = 0;
    char align = '<';
    if (w[0] == '<' || w[0] == '^' || w[0] == '>') {
        align = w[0];
        i = 1;
    }
    if (i == n)
        return perr(p, a + i, "an alignment without a width");
    unsigned width = 0;
    for (size_t k = i; k < n; k++) {
        if (w[k] < '0' || w[k] > '9' || width > 100000)
            return perr(p, a + k, "a bad width");
        width = width * 10 + (unsigned)(w[k] - '0');
    }
    if (s->has_width)
        return perr(p, a, "two widths");
    s->has_width = 1;
    s->width = width;
    s->align = align;
    s->zero = w[i] == '0';
    return 0;
}

/* A specifier word at spec[a..b): s, L, t, ... */
static int parse_spec_word(parser *p, size_t a, size_t b, seg *s)
{
    const char *w = p->spec + a;
    size_t n = b - a;
    static const struct {
        const char *w;
        seg_kind k;
    } SPECS[] = {{"s", SEG_MESSAGE}, {"L", SEG_LEVEL},  {"t", SEG_TIME}, {"F", SEG_PATH},
                 {"l", SEG_LINE},    {"m", SEG_MODULE}, {"c", SEG_CRATE}};
    for (size_t i = 0; i < sizeof(SPECS) / sizeof(SPECS[0]); i++) {
        if (word_is(w, n, SPECS[i].w)) {
            s->kind = SPECS[i].k;
            p->has_message |= s->kind == SEG_MESSAGE;
            p->has_time |= s->kind == SEG_TIME;
            return 1;
        }
    }
    size_t f = 0;
    while (f < n && w[f] == 'f')
        f++;
    if (n > 0 && f == n && n <= 255) {
        s->kind = SEG_FILENAME;
        s->depth = (unsigned)n;
        return 1;
    }
    return 0;
}

/* The closing brace that matches the '{' at spec[open]. */
static int matching_close(const parser *p, size_t open, size_t *close)
{
    int depth = 0;
    for (size_t i = open; p->spec[i]; i++) {
        if (p->spec[i] == '{')
            depth++;
        else if (p->spec[i] == '}' && --depth == 0) {
            *close = i;
            return 0;
        }
    }
    return perr(p, open, "an unmatched '{'");
}

static int parse_sequence(parser *p, size_t a, size_t b, int in_group, seg **out, size_t *n,
                          size_t *stop);

/* The segment between the braces at spec[a-1] and spec[b]. */
static int parse_braced(parser *p, size_t a, size_t b, seg *s)
{
    memset(s, 0, sizeof(*s));
    if (memchr(p->spec + a, '{', b - a)) {
        size_t stop;
        int rc;
        s->kind = SEG_GROUP;
        if ((rc = parse_sequence(p, a, b, 1, &s->kids, &s->n_kids, &stop)) != 0)
            return rc;
        int spec = 0;
        for (size_t i = 0; i < s->n_kids; i++)
            spec |= s->kids[i].kind != SEG_TEXT;
        if (!spec)
            return perr(p, a, "a group without a specifier");
        while (stop < b) { /* %param%param */
            size_t e = stop + 1;
            while (e < b && p->spec[e] != '%')
                e++;
            if ((rc = parse_param(p, stop + 1, e, s)) != 0)
                return rc;
            stop = e;
        }
        return 0;
    }
    int have = 0;
    size_t i = a;
    while (i <= b) {
        size_t e = i;
        while (e < b && p->spec[e] != ':')
            e++;
        seg probe = *s;
        int rc;
        if (e > i && parse_spec_word(p, i, e, &probe)) {
            if (have)
                return perr(p, i, "two specifiers in one segment");
            have = 1;
            s->kind = probe.kind;
            s->depth = probe.depth;
        } else if ((rc = parse_param(p, i, e, s)) != 0) {
            return rc;
        }
        i = e + 1;
    }
    if (!have)
        return perr(p, a, "a segment without a specifier");
    return 0;
}

/* Text and braced segments in spec[a..b); in a group it stops at '%' (*stop). */
static int parse_sequence(parser *p, size_t a, size_t b, int in_group, seg **out, size_t *n,
                          size_t *stop)
{
    size_t i = a;
    *out = NULL;
    *n = 0;
    while (i < b) {
        char ch = p->spec[i];
        seg s;
        int rc;
        if (ch == '{') {
            size_t close = 0;
            if ((rc = matching_close(p, i, &close)) != 0)
                return rc;
            if (close > b)
                return perr(p, i, "an unmatched '{'");
            if ((rc = parse_braced(p, i + 1, close, &s)) != 0 || (rc = push_seg(out, n, &s)) != 0) {
                segs_free(s.kids, s.n_kids);
                return rc;
            }
            i = close + 1;
            continue;
        }
        if (ch == '%') {
            if (in_group)
                break;
            return perr(p, i, "a '%' outside a group");
        }
        if (ch == '}')
            return perr(p, i, "an unmatched '}'");
        size_t e = i;
        while (e < b && p->spec[e] != '{' && p->spec[e] != '}' && p->spec[e] != '%')
            e++;
        memset(&s, 0, sizeof(s));
        s.kind = SEG_TEXT;
        if (!(s.text = malloc(e - i + 1)))
            return eg_error_set(EG_ENOMEM, "out of memory");
        memcpy(s.text, p->spec + i, e - i);
        s.text[e - i] = '\0';
        if ((rc = push_seg(out, n, &s)) != 0) {
            free(s.text);
            return rc;
        }
        i = e;
    }
    *stop = i;
    return 0;
}

int eg_defmt_format_new(eg_defmt_format **out, const char *spec, const eg_defmt_table *table)
{
    const char *text = spec;
    int custom = 0;
    int ts = eg_defmt_table_has_timestamp(table);
    int loc = eg_defmt_table_locations(table) == EG_DEFMT_LOCATIONS_ALL;
    size_t stop;
    int rc;

    *out = NULL;
    if (!spec || strcmp(spec, "oneline") == 0) {
        text = ts ? (loc ? "{t} {[{L}]%bold} {s} {({c:bold} {fff}:{l:1})%dimmed}"
                         : "{t} {[{L}]%bold} {s}")
                  : (loc ? "{[{L}]%bold} {s} {({c:bold} {fff}:{l:1})%dimmed}" : "{[{L}]%bold} {s}");
    } else if (strcmp(spec, "full") == 0) {
        text = ts ? (loc ? "{t} {L} {s}\n└─ {m} @ {F}:{l}" : "{t} {L} {s}")
                  : (loc ? "{L} {s}\n└─ {m} @ {F}:{l}" : "{L} {s}");
    } else {
        custom = 1;
    }
    eg_defmt_format *f = calloc(1, sizeof(*f));
    if (!f)
        return eg_error_set(EG_ENOMEM, "out of memory");
    parser p = {.spec = text};
    if ((rc = parse_sequence(&p, 0, strlen(text), 0, &f->segs, &f->n, &stop)) != 0)
        goto fail;
    if (!p.has_message) {
        rc = eg_error_set(EG_EINVAL, "output format '%s': no {s} (the message) in it", text);
        goto fail;
    }
    if (custom && p.has_time != ts) {
        const char *w = ts ? "the firmware has a defmt timestamp, but the output format does "
                             "not show it ({t})"
                           : "the output format shows {t}, but the firmware has no defmt "
                             "timestamp (defmt::timestamp!)";
        size_t n = strlen(w) + 1;
        if (!(f->warning = malloc(n))) {
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(f->warning, w, n);
    }
    *out = f;
    return 0;
fail:
    eg_defmt_format_free(f);
    return rc;
}

void eg_defmt_format_free(eg_defmt_format *f)
{
    if (!f)
        return;
    segs_free(f->segs, f->n);
    free(f->warning);
    free(f);
}

const char *eg_defmt_format_warning(const eg_defmt_format *f)
{
    return f->warning;
}

/* ---- rendering ---- */

static int sgr_of(int color, eg_defmt_level level)
{
    static const int SEVERITY[] = {0, 90, 97, 32, 33, 31}; /* -, trace ... error */
    if (color == COLOR_SEVERITY)
        return level >= EG_DEFMT_TRACE && level <= EG_DEFMT_ERROR ? SEVERITY[level] : 0;
    if (color == COLOR_WERROR)
        return level == EG_DEFMT_WARN || level == EG_DEFMT_ERROR ? SEVERITY[level] : 0;
    return color;
}

/* Characters shown: UTF-8 code points outside ANSI escape sequences. */
static size_t visible(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\x1b' && i + 1 < n && s[i + 1] == '[') {
            i += 2;
            while (i < n && !(s[i] >= '@' && s[i] <= '~'))
                i++;
            continue;
        }
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    }
    return w;
}

/* Appends s (n bytes) to out formatted by seg's parameters: coloured (when colour is
 * on), padded to its width inside the colour, as the colored crate does. */
static int put_formatted(eg_buf *out, const char *s, size_t n, const seg *sg, unsigned def_width,
                         int def_color, eg_defmt_level level, unsigned flags)
{
    char prefix[48];
    size_t plen = 0;
    unsigned width = sg->has_width ? sg->width : def_width;
    size_t shown = visible(s, n), pad = width > shown ? width - shown : 0;
    char fill = sg->has_width && sg->zero ? '0' : ' ';
    char align = sg->has_width ? sg->align : '<';
    size_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0, right = pad - left;

    if (flags & EG_DEFMT_COLOR) {
        int code = sgr_of(sg->color != COLOR_NONE ? sg->color : def_color, level);
        int first = 1;
        plen = (size_t)snprintf(prefix, sizeof(prefix), "\x1b[");
        for (size_t i = 0; i < sizeof(STYLES) / sizeof(STYLES[0]); i++) {
            if (sg->styles & (1u << i)) {
                plen += (size_t)snprintf(prefix + plen, sizeof(prefix) - plen, "%s%d",
                                         first ? "" : ";", STYLES[i].code);
                first = 0;
            }
        }
        if (code)
            plen += (size_t)snprintf(prefix + plen, sizeof(prefix) - plen, "%s%d", first ? "" : ";",
                                     code);
        if (first && !code)
            plen = 0;
        else
            plen += (size_t)snprintf(prefix + plen, sizeof(prefix) - plen, "m");
    }
    if (plen && eg_buf_append(out, prefix, plen) != 0)
        return -1;
    if (eg_buf_fill(out, (uint8_t)fill, left) != 0)
        return -1;
    if (plen) {
        /* an inner reset would end this segment's style too: start it again after */
        size_t start = 0;
        for (size_t i = 0; i + 4 <= n; i++) {
            if (memcmp(s + i, "\x1b[0m", 4) == 0) {
                if (eg_buf_append(out, s + start, i + 4 - start) != 0 ||
                    eg_buf_append(out, prefix, plen) != 0)
                    return -1;
                start = i + 4;
                i += 3;
            }
        }
        if (eg_buf_append(out, s + start, n - start) != 0)
            return -1;
    } else if (eg_buf_append(out, s, n) != 0) {
        return -1;
    }
    if (eg_buf_fill(out, (uint8_t)fill, right) != 0)
        return -1;
    if (plen && eg_buf_append(out, "\x1b[0m", 4) != 0)
        return -1;
    return 0;
}

/* The last depth components of path joined by '/' (defmt's {f}, {ff}, ...: Rust's
 * Path components, where a leading "/" and a leading "." are components and empty and
 * inner "." ones are not). */
static int file_tail(const char *path, unsigned depth, eg_buf *out)
{
    const char *comp[256];
    size_t clen[256], nc = 0, len = strlen(path), i = 0;

    if (path[0] == '/') {
        comp[nc] = "/";
        clen[nc++] = 1;
    }
    while (i < len) {
        while (i < len && path[i] == '/')
            i++;
        size_t e = i;
        while (e < len && path[e] != '/')
            e++;
        int dot = e == i + 1 && path[i] == '.';
        if (e > i && (!dot || (nc == 0 && i == 0))) {
            if (nc == sizeof(comp) / sizeof(comp[0])) {
                memmove(comp, comp + 1, (nc - 1) * sizeof(*comp));
                memmove(clen, clen + 1, (nc - 1) * sizeof(*clen));
                nc--;
            }
            comp[nc] = path + i;
            clen[nc++] = e - i;
        }
        i = e;
    }
    size_t first = nc > depth ? nc - depth : 0;
    for (size_t k = first; k < nc; k++) {
        if ((k > first && eg_buf_push(out, '/') != 0) || eg_buf_append(out, comp[k], clen[k]) != 0)
            return -1;
    }
    return 0;
}

static int render_seg(const eg_defmt_format *f, const seg *sg, const eg_defmt_line *line,
                      unsigned flags, eg_buf *out);

static int render_list(const eg_defmt_format *f, const seg *segs, size_t n,
                       const eg_defmt_line *line, unsigned flags, eg_buf *out)
{
    for (size_t i = 0; i < n; i++)
        if (render_seg(f, &segs[i], line, flags, out) != 0)
            return -1;
    return 0;
}

static int render_seg(const eg_defmt_format *f, const seg *sg, const eg_defmt_line *line,
                      unsigned flags, eg_buf *out)
{
    char num[32];
    const char *s = NULL;
    unsigned def_width = 0;
    int def_color = COLOR_NONE;

    switch (sg->kind) {
    case SEG_TEXT:
        return eg_buf_append(out, sg->text, strlen(sg->text));
    case SEG_MESSAGE:
        s = line->message;
        break;
    case SEG_LEVEL:
        s = line->level == EG_DEFMT_PRINTLN ? "<lvl>" : eg_defmt_level_name(line->level);
        def_width = 5;
        def_color = COLOR_SEVERITY;
        break;
    case SEG_TIME:
        s = line->timestamp && line->timestamp[0] ? line->timestamp : "<time>";
        break;
    case SEG_PATH:
        s = line->file ? line->file : "<file>";
        break;
    case SEG_FILENAME: {
        if (!line->file) {
            s = "<file>";
            break;
        }
        eg_buf tail = EG_BUF_INIT;
        int rc = file_tail(line->file, sg->depth, &tail);
        if (rc == 0)
            rc = put_formatted(out, tail.data ? (const char *)tail.data : "", tail.len, sg, 0,
                               COLOR_NONE, line->level, flags);
        eg_buf_release(&tail);
        return rc;
    }
    case SEG_LINE:
        snprintf(num, sizeof(num), "%u", line->file ? line->line : 0);
        s = num;
        def_width = 4;
        break;
    case SEG_MODULE:
        s = line->module ? line->module : "<mod path>";
        break;
    case SEG_CRATE: {
        const char *sep = line->module ? strstr(line->module, "::") : NULL;
        if (!sep)
            s = "<crate>";
        else
            return put_formatted(out, line->module, (size_t)(sep - line->module), sg, 0, COLOR_NONE,
                                 line->level, flags);
        break;
    }
    case SEG_GROUP: {
        eg_buf inner = EG_BUF_INIT;
        int rc = render_list(f, sg->kids, sg->n_kids, line, flags, &inner);
        if (rc == 0)
            rc = put_formatted(out, inner.data ? (const char *)inner.data : "", inner.len, sg, 0,
                               COLOR_NONE, line->level, flags);
        eg_buf_release(&inner);
        return rc;
    }
    }
    return put_formatted(out, s, strlen(s), sg, def_width, def_color, line->level, flags);
}

int eg_defmt_format_line(const eg_defmt_format *f, const eg_defmt_line *line, unsigned flags,
                         eg_buf *out)
{
    int rc = 0;
    switch (line->kind) {
    case EG_DEFMT_TEXT:
        return 0;
    case EG_DEFMT_MALFORMED:
        rc = eg_buf_append(out, line->message, strlen(line->message));
        break;
    case EG_DEFMT_FRAME:
        if (line->level == EG_DEFMT_PRINTLN)
            rc = eg_buf_append(out, line->message, strlen(line->message));
        else
            rc = render_list(f, f->segs, f->n, line, flags, out);
        break;
    }
    return rc ? eg_error_set(EG_ENOMEM, "out of memory") : 0;
}
