#include "proto/slip.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_OUTSIDE, ST_INSIDE, ST_ESCAPE, ST_SKIP };
enum { DROP_NONE, DROP_ESCAPE, DROP_SIZE };

int eg_slip_decoder_init(eg_slip_decoder *d, size_t max_frame)
{
    memset(d, 0, sizeof(*d));
    d->frame = malloc(max_frame ? max_frame : 1);
    if (!d->frame)
        return eg_error_set(EG_ENOMEM, "out of memory");
    d->max = max_frame;
    return 0;
}

void eg_slip_decoder_release(eg_slip_decoder *d)
{
    free(d->frame);
    memset(d, 0, sizeof(*d));
}

void eg_slip_decoder_reset(eg_slip_decoder *d)
{
    d->len = 0;
    d->state = ST_OUTSIDE;
    d->dropped_error = DROP_NONE;
    d->noise_len = 0;
}

static void note_noise(eg_slip_decoder *d, uint8_t b)
{
    if (d->noise_len == EG_SLIP_NOISE_MAX) {
        memmove(d->noise, d->noise + 1, EG_SLIP_NOISE_MAX - 1);
        d->noise_len--;
    }
    d->noise[d->noise_len++] = b;
    d->noise_total++;
}

static int drop(eg_slip_decoder *d, int why)
{
    d->state = ST_SKIP;
    d->dropped_error = why;
    d->len = 0;
    return 0;
}

int eg_slip_decode(eg_slip_decoder *d, const uint8_t *data, size_t len, size_t *used)
{
    size_t i;

    for (i = 0; i < len; i++) {
        uint8_t b = data[i];
        switch (d->state) {
        case ST_OUTSIDE:
            if (b == SLIP_END) {
                d->state = ST_INSIDE;
                d->len = 0;
            } else {
                note_noise(d, b);
            }
            break;
        case ST_SKIP:
            if (b == SLIP_END) {
                int why = d->dropped_error;
                d->state = ST_OUTSIDE;
                d->dropped_error = DROP_NONE;
                d->bad_frames++;
                *used = i + 1;
                if (why == DROP_SIZE)
                    return eg_error_set(EG_EPROTO, "oversized frame (more than %zu bytes)", d->max);
                return eg_error_set(EG_EPROTO, "invalid SLIP escape in a frame");
            }
            break;
        case ST_INSIDE:
            if (b == SLIP_END) {
                if (d->len == 0)
                    break; /* back-to-back delimiters: the real frame starts here */
                d->state = ST_OUTSIDE;
                *used = i + 1;
                return EG_SLIP_FRAME;
            }
            if (b == SLIP_ESC) {
                d->state = ST_ESCAPE;
                break;
            }
            if (d->len >= d->max) {
                drop(d, DROP_SIZE);
                break;
            }
            d->frame[d->len++] = b;
            break;
        case ST_ESCAPE:
            if (b != SLIP_ESC_END && b != SLIP_ESC_ESC) {
                drop(d, DROP_ESCAPE);
                if (b == SLIP_END)
                    i--; /* let ST_SKIP see the delimiter */
                break;
            }
            if (d->len >= d->max) {
                drop(d, DROP_SIZE);
                break;
            }
            d->frame[d->len++] = b == SLIP_ESC_END ? SLIP_END : SLIP_ESC;
            d->state = ST_INSIDE;
            break;
        }
    }
    *used = len;
    return EG_SLIP_MORE;
}

const uint8_t *eg_slip_frame(const eg_slip_decoder *d, size_t *len)
{
    *len = d->len;
    return d->frame;
}

void eg_slip_noise_text(const eg_slip_decoder *d, char *dst, size_t dstlen)
{
    size_t o = 0;

    if (dstlen == 0)
        return;
    for (size_t i = 0; i < d->noise_len && o + 5 < dstlen; i++) {
        uint8_t c = d->noise[i];
        if (c >= 0x20 && c < 0x7F && c != '\\')
            dst[o++] = (char)c;
        else if (c == '\n' || c == '\r')
            dst[o++] = ' ';
        else
            o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x", c);
    }
    dst[o < dstlen ? o : dstlen - 1] = '\0';
}

int eg_slip_encode_pieces(eg_buf *out, const eg_slip_piece *pieces, size_t n)
{
    size_t need = 2;
    int rc;

    for (size_t k = 0; k < n; k++) {
        const eg_slip_piece *p = &pieces[k];
        need += p->len;
        if (!p->data)
            need += (p->fill == SLIP_END || p->fill == SLIP_ESC) ? p->len : 0;
        for (size_t i = 0; p->data && i < p->len; i++)
            need += p->data[i] == SLIP_END || p->data[i] == SLIP_ESC;
    }
    if ((rc = eg_buf_reserve(out, need)) < 0)
        return rc;
    uint8_t *o = out->data + out->len;
    *o++ = SLIP_END;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < pieces[k].len; i++) {
            uint8_t c = pieces[k].data ? pieces[k].data[i] : pieces[k].fill;
            if (c == SLIP_END) {
                *o++ = SLIP_ESC;
                *o++ = SLIP_ESC_END;
            } else if (c == SLIP_ESC) {
                *o++ = SLIP_ESC;
                *o++ = SLIP_ESC_ESC;
            } else {
                *o++ = c;
            }
        }
    }
    *o++ = SLIP_END;
    out->len += need;
    return 0;
}

int eg_slip_encode(eg_buf *out, const uint8_t *data, size_t len)
{
    int rc = eg_buf_reserve(out, len * 2 + 2);
    if (rc < 0)
        return rc;
    out->data[out->len++] = SLIP_END;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == SLIP_END) {
            out->data[out->len++] = SLIP_ESC;
            out->data[out->len++] = SLIP_ESC_END;
        } else if (data[i] == SLIP_ESC) {
            out->data[out->len++] = SLIP_ESC;
            out->data[out->len++] = SLIP_ESC_ESC;
        } else {
            out->data[out->len++] = data[i];
        }
    }
    out->data[out->len++] = SLIP_END;
    return 0;
}
