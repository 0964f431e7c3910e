/* zlib compression of a whole buffer (what FLASH_DEFL_DATA carries). */
#ifndef EG_CORE_DEFLATE_H
#define EG_CORE_DEFLATE_H

#include "core/buf.h"

/* Appends the zlib stream of data, compressed at level (0-9), to out. */
int eg_deflate(eg_buf *out, const uint8_t *data, size_t len, int level);

/* Appends the inflated bytes of a whole zlib stream to out; EG_EINVAL if it is
 * corrupt or inflates to more than max bytes. */
int eg_inflate(eg_buf *out, const uint8_t *data, size_t len, size_t max);

/* Measures how many plain bytes each piece of a zlib stream inflates to, without
 * keeping them (to size the time a loader needs to write a compressed block). */
typedef struct eg_inflate_meter {
    void *z; /* z_stream */
} eg_inflate_meter;

int eg_inflate_meter_init(eg_inflate_meter *m);
/* Feeds the next piece; *out is the number of plain bytes it produced. */
int eg_inflate_meter_feed(eg_inflate_meter *m, const uint8_t *data, size_t len, size_t *out);
void eg_inflate_meter_release(eg_inflate_meter *m);

#endif
