/* SLIP framing (RFC 1055 as Espressif's loaders use it): a frame is C0 ... C0, with C0
 * inside sent as DB DC and DB as DB DD.
 *
 * The decoder is incremental: feed it whatever the transport returned and it yields
 * frames as they complete. Bytes outside frames (a boot log, noise) are kept in a
 * small window so errors can quote what the device said. Shared by espgang and espsim. */
#ifndef EG_PROTO_SLIP_H
#define EG_PROTO_SLIP_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define SLIP_END     0xC0
#define SLIP_ESC     0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

#define EG_SLIP_NOISE_MAX 256

enum {
    EG_SLIP_MORE = 0,  /* all input consumed, no complete frame yet */
    EG_SLIP_FRAME = 1, /* a frame is complete: see eg_slip_frame() */
};

typedef struct eg_slip_decoder {
    uint8_t *frame;
    size_t len;
    size_t max;        /* frames longer than this are dropped */
    int state;         /* outside / inside / after escape / skipping */
    int dropped_error; /* why the frame being skipped was dropped */
    uint8_t noise[EG_SLIP_NOISE_MAX];
    size_t noise_len;   /* bytes in noise[] (the newest ones) */
    size_t noise_total; /* all bytes seen outside frames */
    size_t bad_frames;  /* frames dropped for bad escapes or size */
} eg_slip_decoder;

/* Prepares d for frames of at most max_frame bytes; EG_ENOMEM on failure. */
int eg_slip_decoder_init(eg_slip_decoder *d, size_t max_frame);
void eg_slip_decoder_release(eg_slip_decoder *d);
/* Forgets any partial frame and the noise window. */
void eg_slip_decoder_reset(eg_slip_decoder *d);

/* Consumes bytes from data until a frame completes or the input runs out; *used tells
 * how many. Returns EG_SLIP_FRAME, EG_SLIP_MORE, or EG_EPROTO when a frame was
 * dropped (invalid escape, or longer than max); decoding may go on after an error. */
int eg_slip_decode(eg_slip_decoder *d, const uint8_t *data, size_t len, size_t *used);

/* The frame completed by the last EG_SLIP_FRAME; valid until the next decode call. */
const uint8_t *eg_slip_frame(const eg_slip_decoder *d, size_t *len);

/* Writes the noise window as printable text (non-printing bytes as \xNN) into dst. */
void eg_slip_noise_text(const eg_slip_decoder *d, char *dst, size_t dstlen);

/* Appends the SLIP encoding of data (with both C0 delimiters) to out. */
int eg_slip_encode(eg_buf *out, const uint8_t *data, size_t len);

/* Appends one frame holding n pieces of bytes one after the other, growing out only
 * by what the encoding needs (no copy of the pieces joined). A piece with no data is
 * len copies of fill (padding). */
typedef struct eg_slip_piece {
    const uint8_t *data;
    size_t len;
    uint8_t fill;
} eg_slip_piece;
int eg_slip_encode_pieces(eg_buf *out, const eg_slip_piece *pieces, size_t n);

#endif
