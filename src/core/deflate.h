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

/* A zlib stream cut into the blocks a loader takes one at a time (FLASH_DEFL_DATA),
 * with how many plain bytes each block inflates to: a block of zeros or 0xFF inflates
 * a thousandfold, and the loader needs the time that writing them takes. Built once
 * (in the plan) and shared read-only by every worker. */
typedef struct eg_zblocks {
    eg_buf z;            /* the whole stream */
    uint32_t block_size; /* every block but the last holds this many stream bytes */
    uint32_t n_blocks;
    uint32_t *plain; /* n_blocks entries: plain bytes each block inflates to */
} eg_zblocks;

/* Compresses len bytes at level (0-9) into *out (released first on failure) and cuts
 * the stream into blocks of block_size bytes. */
int eg_zblocks_build(eg_zblocks *out, const uint8_t *data, size_t len, int level,
                     uint32_t block_size);
void eg_zblocks_release(eg_zblocks *z);

#endif
