#include "monitor/monitor.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eg_monitor {
    eg_monitor_format *format;
    eg_symbols *symbols;
    int all_addresses;
    eg_monitor_emit_fn emit;
    void *ctx;
    char line[EG_MONITOR_LINE_MAX]; /* the line so far, for decoding */
    size_t line_len;
    int cr_held;    /* a "\r" came last: a "\n" may follow */
    eg_buf decoded; /* what goes under a line */
};

/* Lines the first-stage bootloader prints while it loads the second: their addresses
 * are RAM the ELF may also use, and decoding them only misleads. */
static const char *const undecoded_prefixes[] = {"load:0x", "entry 0x", "Saved PC:"};

int eg_monitor_new(eg_monitor **out, const eg_monitor_opts *o)
{
    eg_monitor *m;
    int rc;

    *out = NULL;
    m = calloc(1, sizeof(*m));
    if (!m) {
        eg_monitor_format_free(o->format);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    m->format = o->format;
    if (!m->format && (rc = eg_monitor_format_new(&m->format, "serial", NULL)) < 0) {
        free(m);
        return rc;
    }
    m->symbols = o->symbols;
    m->all_addresses = o->all_addresses;
    m->emit = o->emit;
    m->ctx = o->ctx;
    *out = m;
    return 0;
}

void eg_monitor_free(eg_monitor *m)
{
    if (!m)
        return;
    eg_monitor_format_free(m->format);
    eg_buf_release(&m->decoded);
    free(m);
}

static int put(eg_buf *b, const char *s)
{
    return eg_buf_append(b, s, strlen(s));
}

/* Appends the frames of one address: "MATCH - NAME" (or "NAME" when the line is only
 * the address), "    at FILE:LINE", then per inlining level " (inlined by) NAME" and its
 * call site. */
static int put_frames(eg_buf *b, const char *match, int alone, const eg_symbol_frame *f, size_t n)
{
    char text[1200];
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = f[i].function[0] ? f[i].function : "??";
        if (i > 0)
            snprintf(text, sizeof(text), " (inlined by) %.255s\n", name);
        else if (alone)
            snprintf(text, sizeof(text), "%.255s\n", name);
        else
            snprintf(text, sizeof(text), "%.10s - %.255s\n", match, name);
        if ((rc = put(b, text)) < 0)
            break;
        if (f[i].file[0] && f[i].line)
            snprintf(text, sizeof(text), "    at %.511s:%u\n", f[i].file, f[i].line);
        else if (f[i].file[0])
            snprintf(text, sizeof(text), "    at %.511s:??\n", f[i].file);
        else
            snprintf(text, sizeof(text), "    at ??:??\n");
        rc = put(b, text);
    }
    return rc;
}

/* The decoding of one whole line into m->decoded. */
static int decode_line(eg_monitor *m, const char *line, size_t n)
{
    const char *start = line, *end = line + n;
    int rc;

    eg_buf_clear(&m->decoded);
    if (!m->all_addresses)
        for (size_t i = 0; i < sizeof(undecoded_prefixes) / sizeof(undecoded_prefixes[0]); i++) {
            size_t plen = strlen(undecoded_prefixes[i]);
            if (n >= plen && memcmp(line, undecoded_prefixes[i], plen) == 0)
                return 0;
        }
    /* The line without the blanks around it, to tell a line that is only an address. */
    while (start < end && (*start == ' ' || *start == '\t' || *start == '\r'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    for (size_t i = 0; i + 10 <= n; i++) {
        uint64_t addr = 0;
        size_t k;

        if (line[i] != '0' || (line[i + 1] != 'x' && line[i + 1] != 'X'))
            continue;
        for (k = 0; k < 8 && eg_hex_value(line[i + 2 + k]) >= 0; k++)
            addr = addr << 4 | (uint64_t)eg_hex_value(line[i + 2 + k]);
        /* Eight hex digits, no more: part of a longer number is no address. */
        if (k < 8 || (i + 10 < n && eg_hex_value(line[i + 10]) >= 0))
            continue;
        if (m->all_addresses || eg_symbols_in_code(m->symbols, addr)) {
            eg_symbol_frame frames[EG_SYMBOL_FRAMES_MAX];
            size_t nf = eg_symbols_lookup(m->symbols, addr, frames, EG_SYMBOL_FRAMES_MAX);
            if (nf && (rc = put_frames(&m->decoded, line + i,
                                       start == line + i && end == line + i + 10, frames, nf)) < 0)
                return rc;
        }
        i += 9;
    }
    return 0;
}

/* A line ended: "\n", then what decodes under it. */
static int end_line(eg_monitor *m)
{
    int rc;

    if ((rc = m->emit(m->ctx, EG_MONITOR_BOARD, "\n", 1)) < 0)
        return rc;
    if (m->symbols) {
        if ((rc = decode_line(m, m->line, m->line_len)) < 0)
            return rc;
        if (m->decoded.len && (rc = m->emit(m->ctx, EG_MONITOR_DECODED,
                                            (const char *)m->decoded.data, m->decoded.len)) < 0)
            return rc;
    }
    m->line_len = 0;
    return 0;
}

static void keep(eg_monitor *m, const char *text, size_t len)
{
    size_t room = sizeof(m->line) - m->line_len;
    if (len > room)
        len = room;
    memcpy(m->line + m->line_len, text, len);
    m->line_len += len;
}

/* Text from the format: passed on at once, runs of it in one piece. */
static int take_text(void *ctx, const char *text, size_t len)
{
    eg_monitor *m = ctx;
    size_t run = 0; /* start of the run not yet passed on */
    int rc;

    for (size_t i = 0; i < len; i++) {
        if (m->cr_held) {
            m->cr_held = 0;
            if (text[i] == '\n') {
                run = i + 1;
                if ((rc = end_line(m)) < 0)
                    return rc;
                continue;
            }
            /* A lone "\r" (a line drawn over): passed on, kept in the line. */
            if ((rc = m->emit(m->ctx, EG_MONITOR_BOARD, "\r", 1)) < 0)
                return rc;
            keep(m, "\r", 1);
        }
        if (text[i] != '\r' && text[i] != '\n')
            continue;
        if (i > run) {
            if ((rc = m->emit(m->ctx, EG_MONITOR_BOARD, text + run, i - run)) < 0)
                return rc;
            keep(m, text + run, i - run);
        }
        run = i + 1;
        if (text[i] == '\r')
            m->cr_held = 1;
        else if ((rc = end_line(m)) < 0)
            return rc;
    }
    if (len > run) {
        if ((rc = m->emit(m->ctx, EG_MONITOR_BOARD, text + run, len - run)) < 0)
            return rc;
        keep(m, text + run, len - run);
    }
    return 0;
}

int eg_monitor_feed(eg_monitor *m, const uint8_t *data, size_t len)
{
    return m->format->ops->feed(m->format, data, len, take_text, m);
}

int eg_monitor_finish(eg_monitor *m)
{
    int rc;

    if (m->format->ops->finish && (rc = m->format->ops->finish(m->format, take_text, m)) < 0)
        return rc;
    if (m->cr_held) {
        m->cr_held = 0;
        keep(m, "\r", 1);
        return m->emit(m->ctx, EG_MONITOR_BOARD, "\r", 1);
    }
    return 0;
}
