/* The SLIP decoder the session reads a board's answers with: any bytes, in any
 * pieces (the first byte sets the piece size). */
#include "fuzz.h"
#include "proto/slip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eg_slip_decoder d;
    char noise[256];
    size_t piece = size ? (size_t)data[0] % 64 + 1 : 1;

    if (eg_slip_decoder_init(&d, 512) < 0)
        return 0;
    for (size_t at = 0; at < size;) {
        size_t len = size - at < piece ? size - at : piece, used = 0;
        int rc = eg_slip_decode(&d, data + at, len, &used);
        if (rc == EG_SLIP_FRAME) {
            size_t flen;
            const uint8_t *f = eg_slip_frame(&d, &flen);
            volatile uint8_t sink = flen ? f[flen - 1] : 0;
            (void)sink;
        }
        at += used ? used : len;
    }
    eg_slip_noise_text(&d, noise, sizeof(noise));
    eg_slip_decoder_release(&d);
    return 0;
}
