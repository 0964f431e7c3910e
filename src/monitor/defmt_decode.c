/* The stream: text and frames apart (espflash's framing: 0xFF 0x00 before a frame,
 * 0x00 after it), rzcobs, and a frame's index, timestamp and message. */
#include "core/error.h"
#include "monitor/defmt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum dm_state {
    ST_TEXT,  /* plain text, looking for 0xFF 0x00 */
    ST_LEAD,  /* after a marker: the 0x00s before a frame */
    ST_FRAME, /* a frame's bytes up to its 0x00 */
} dm_state;

struct eg_defmt_decoder {
    const eg_defmt_table *table;
    unsigned flags;
    dm_state state;
    int held_ff;      /* a 0xFF at the end of the last text, not yet told apart */
    size_t frame_len; /* bytes of the frame so far (also those not kept) */
    eg_buf enc;       /* the frame's bytes, up to EG_DEFMT_FRAME_MAX */
    eg_buf raw;       /* the decoded frame */
    eg_buf ts, msg;   /* rendered timestamp and message */
    eg_buf text;      /* text of one feed call */
};

static const char *const LEVEL_NAMES[] = {"", "TRACE", "DEBUG", "INFO", "WARN", "ERROR"};

const char *eg_defmt_level_name(eg_defmt_level level)
{
    return (unsigned)level < sizeof(LEVEL_NAMES) / sizeof(LEVEL_NAMES[0]) ? LEVEL_NAMES[level] : "";
}

/* rzcobs (defmt's encoding/rzcobs.rs), read from the end of the frame:
 *   0x01-0x7F  seven bytes, least significant bit first: 1 = a 0x00, 0 = one byte
 *              taken from the stream;
 *   0x80-0xFE  (n & 0x7F) + 7 bytes from the stream, then a 0x00;
 *   0xFF       134 bytes from the stream.
 * Read backwards each code comes after the bytes it covers; the result is reversed. */
int dm_rzcobs_decode(const uint8_t *enc, size_t len, eg_buf *out)
{
    size_t pos = len;

    eg_buf_clear(out);
    if (eg_buf_reserve(out, len * 7) != 0)
        return -2;
    while (pos > 0) {
        uint8_t x = enc[--pos];
        if (x == 0x00) {
            return -1;
        } else if (x < 0x80) {
            for (int i = 6; i >= 0; i--) {
                if (x & (1u << i)) {
                    out->data[out->len++] = 0;
                } else {
                    if (pos == 0)
                        return -1;
                    out->data[out->len++] = enc[--pos];
                }
            }
        } else {
            unsigned n = x == 0xFF ? 134 : (x & 0x7Fu) + 7;
            if (x != 0xFF)
                out->data[out->len++] = 0;
            if (pos < n)
                return -1;
            for (unsigned i = 0; i < n; i++)
                out->data[out->len++] = enc[--pos];
        }
    }
    for (size_t i = 0, j = out->len; i + 1 < j; i++, j--) {
        uint8_t b = out->data[i];
        out->data[i] = out->data[j - 1];
        out->data[j - 1] = b;
    }
    return 0;
}

int eg_defmt_decoder_new(eg_defmt_decoder **out, const eg_defmt_table *table, unsigned flags)
{
    *out = NULL;
    if (flags & ~(unsigned)EG_DEFMT_BARE)
        return eg_error_set(EG_EINVAL, "unknown defmt decoder flags 0x%x", flags);
    eg_defmt_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return eg_error_set(EG_ENOMEM, "out of memory");
    d->table = table;
    d->flags = flags;
    eg_defmt_decoder_reset(d);
    *out = d;
    return 0;
}

void eg_defmt_decoder_free(eg_defmt_decoder *d)
{
    if (!d)
        return;
    eg_buf_release(&d->enc);
    eg_buf_release(&d->raw);
    eg_buf_release(&d->ts);
    eg_buf_release(&d->msg);
    eg_buf_release(&d->text);
    free(d);
}

void eg_defmt_decoder_reset(eg_defmt_decoder *d)
{
    d->state = (d->flags & EG_DEFMT_BARE) ? ST_LEAD : ST_TEXT;
    d->held_ff = 0;
    d->frame_len = 0;
    eg_buf_clear(&d->enc);
    eg_buf_clear(&d->text);
}

static void emit_malformed(size_t len, const char *why, eg_defmt_emit_fn emit, void *ctx)
{
    char msg[256];
    eg_defmt_line line = {.kind = EG_DEFMT_MALFORMED, .message = msg};
    snprintf(msg, sizeof(msg), "malformed defmt frame (%zu byte%s): %s", len, len == 1 ? "" : "s",
             why);
    emit(ctx, &line);
}

/* Decodes enc[0..len) into a line. 0 and the line filled, -1 with why[] set, -2 out of
 * memory. */
static int decode_frame(eg_defmt_decoder *d, const uint8_t *enc, size_t len, eg_defmt_line *line,
                        char *why, size_t whylen)
{
    const eg_defmt_table *t = d->table;
    size_t pos = 2;
    int rc;

    if ((rc = dm_rzcobs_decode(enc, len, &d->raw)) != 0) {
        snprintf(why, whylen, "no rzcobs encoding");
        return rc;
    }
    if (d->raw.len < 2) {
        snprintf(why, whylen, "shorter than a format index");
        return -1;
    }
    uint16_t index = eg_get_u16le(d->raw.data);
    const dm_entry *e = dm_table_find(t, index);
    if (!e) {
        snprintf(why, whylen, "unknown format index 0x%04x", index);
        return -1;
    }
    if (!dm_tag_has_level(e->tag) && e->tag != DM_PRINTLN) {
        snprintf(why, whylen, "format index 0x%04x is no log statement", index);
        return -1;
    }
    eg_buf_clear(&d->ts);
    eg_buf_clear(&d->msg);
    if (t->timestamp) {
        if (dm_render(t, t->timestamp, d->raw.data, d->raw.len, &pos, &d->ts, why, whylen) != 0)
            return -1;
        if (eg_buf_push(&d->ts, 0) != 0)
            return -2;
    }
    if (dm_render(t, e->format, d->raw.data, d->raw.len, &pos, &d->msg, why, whylen) != 0)
        return -1;
    if (eg_buf_push(&d->msg, 0) != 0)
        return -2;
    /* What is left are the zeros rzcobs pads a frame with, or bytes no format reads:
     * defmt's decoder ignores them too. */
    memset(line, 0, sizeof(*line));
    line->kind = EG_DEFMT_FRAME;
    line->level = e->tag == DM_PRINTLN ? EG_DEFMT_PRINTLN
                                       : (eg_defmt_level)(EG_DEFMT_TRACE + (e->tag - DM_TRACE));
    line->index = index;
    line->timestamp = t->timestamp ? (const char *)d->ts.data : NULL;
    line->message = (const char *)d->msg.data;
    if (e->file) {
        line->file = e->file;
        line->line = e->line;
        line->module = e->module ? e->module : "";
    }
    return 0;
}

/* A frame ended (its 0x00 came). Returns -2 out of memory, else 0. */
static int end_frame(eg_defmt_decoder *d, eg_defmt_emit_fn emit, void *ctx)
{
    eg_defmt_line line;
    char why[160];
    int rc;

    if (d->frame_len > EG_DEFMT_FRAME_MAX) {
        char big[64];
        snprintf(big, sizeof(big), "longer than %d bytes", EG_DEFMT_FRAME_MAX);
        emit_malformed(d->frame_len, big, emit, ctx);
        d->state = (d->flags & EG_DEFMT_BARE) ? ST_LEAD : ST_TEXT;
        return 0;
    }
    rc = decode_frame(d, d->enc.data, d->enc.len, &line, why, sizeof(why));
    if (rc == -2)
        return -2;
    if (rc == 0) {
        emit(ctx, &line);
    } else if (!(d->flags & EG_DEFMT_BARE) && d->enc.len > 1 &&
               d->enc.data[d->enc.len - 1] == 0xFF) {
        /* Garbage (a frame cut short by a reset, say) up to a frame marker 0xFF 0x00:
         * what came before the marker is the malformed part; a frame follows. */
        emit_malformed(d->enc.len - 1, "cut short before a frame marker", emit, ctx);
        d->state = ST_LEAD;
        d->frame_len = 0;
        eg_buf_clear(&d->enc);
        return 0;
    } else {
        emit_malformed(d->enc.len, why, emit, ctx);
    }
    d->state = (d->flags & EG_DEFMT_BARE) ? ST_LEAD : ST_TEXT;
    return 0;
}

static void flush_text(eg_defmt_decoder *d, eg_defmt_emit_fn emit, void *ctx)
{
    if (d->text.len == 0)
        return;
    eg_defmt_line line = {.kind = EG_DEFMT_TEXT, .text = d->text.data, .text_len = d->text.len};
    emit(ctx, &line);
    eg_buf_clear(&d->text);
}

int eg_defmt_decoder_feed(eg_defmt_decoder *d, const uint8_t *bytes, size_t len,
                          eg_defmt_emit_fn emit, void *ctx)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t b = bytes[i];
        switch (d->state) {
        case ST_TEXT:
            if (d->held_ff) {
                d->held_ff = 0;
                if (b == 0x00) {
                    flush_text(d, emit, ctx);
                    d->state = ST_LEAD;
                    break;
                }
                if (eg_buf_push(&d->text, 0xFF) != 0)
                    goto nomem;
            }
            if (b == 0xFF)
                d->held_ff = 1;
            else if (eg_buf_push(&d->text, b) != 0)
                goto nomem;
            break;
        case ST_LEAD:
            if (b == 0x00)
                break;
            d->state = ST_FRAME;
            d->frame_len = 0;
            eg_buf_clear(&d->enc);
            /* fall through */
        case ST_FRAME:
            if (b != 0x00) {
                if (d->frame_len++ < EG_DEFMT_FRAME_MAX && eg_buf_push(&d->enc, b) != 0)
                    goto nomem;
                break;
            }
            if (end_frame(d, emit, ctx) != 0)
                goto nomem;
            break;
        }
    }
    flush_text(d, emit, ctx);
    return 0;
nomem:
    eg_defmt_decoder_reset(d);
    return eg_error_set(EG_ENOMEM, "out of memory");
}
