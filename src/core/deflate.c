#include "core/deflate.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int eg_deflate(eg_buf *out, const uint8_t *data, size_t len, int level)
{
    uLongf bound = compressBound((uLong)len);
    int rc = eg_buf_reserve(out, bound);
    if (rc < 0)
        return rc;
    if (compress2(out->data + out->len, &bound, data, (uLong)len, level) != Z_OK)
        return eg_error_set(EG_EINVAL, "zlib compression failed");
    out->len += bound;
    return 0;
}

int eg_inflate(eg_buf *out, const uint8_t *data, size_t len, size_t max)
{
    z_stream zs = {0};
    uint8_t chunk[16384];
    int zr, rc = 0;
    size_t produced = 0;

    if (inflateInit(&zs) != Z_OK)
        return eg_error_set(EG_ENOMEM, "zlib initialisation failed");
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    do {
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = eg_error_set(EG_EINVAL, "corrupt compressed data: %s",
                              zs.msg ? zs.msg : "inflate error");
            goto done;
        }
        size_t n = sizeof(chunk) - zs.avail_out;
        produced += n;
        if (produced > max) {
            rc = eg_error_set(EG_EINVAL, "compressed data inflates to more than %zu bytes", max);
            goto done;
        }
        rc = eg_buf_append(out, chunk, n);
        if (rc < 0)
            goto done;
        if (zr == Z_OK && zs.avail_in == 0 && n == 0) {
            rc = eg_error_set(EG_EINVAL, "compressed data ends early");
            goto done;
        }
    } while (zr != Z_STREAM_END);
done:
    inflateEnd(&zs);
    return rc;
}

int eg_inflate_meter_init(eg_inflate_meter *m)
{
    z_stream *zs = calloc(1, sizeof(*zs));
    m->z = NULL;
    if (!zs || inflateInit(zs) != Z_OK) {
        free(zs);
        return eg_error_set(EG_ENOMEM, "zlib initialisation failed");
    }
    m->z = zs;
    return 0;
}

int eg_inflate_meter_feed(eg_inflate_meter *m, const uint8_t *data, size_t len, size_t *out)
{
    z_stream *zs = m->z;
    uint8_t sink[16384];
    size_t produced = 0;
    int zr;

    *out = 0;
    zs->next_in = (Bytef *)data;
    zs->avail_in = (uInt)len;
    do {
        zs->next_out = sink;
        zs->avail_out = sizeof(sink);
        zr = inflate(zs, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            return eg_error_set(EG_EINVAL, "corrupt compressed data: %s",
                                zs->msg ? zs->msg : "inflate error");
        produced += sizeof(sink) - zs->avail_out;
    } while (zr == Z_OK && (zs->avail_in > 0 || zs->avail_out == 0));
    *out = produced;
    return 0;
}

void eg_inflate_meter_release(eg_inflate_meter *m)
{
    if (m->z) {
        inflateEnd(m->z);
        free(m->z);
        m->z = NULL;
    }
}

int eg_zblocks_build(eg_zblocks *out, const uint8_t *data, size_t len, int level,
                     uint32_t block_size)
{
    eg_inflate_meter meter = {NULL};
    int rc;

    memset(out, 0, sizeof(*out));
    out->block_size = block_size;
    if (block_size == 0)
        return eg_error_set(EG_EINVAL, "block size 0");
    if ((rc = eg_deflate(&out->z, data, len, level)) < 0)
        goto done;
    out->n_blocks = (uint32_t)((out->z.len + block_size - 1) / block_size);
    out->plain = calloc(out->n_blocks ? out->n_blocks : 1, sizeof(*out->plain));
    if (!out->plain) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = eg_inflate_meter_init(&meter)) < 0)
        goto done;
    for (uint32_t i = 0; i < out->n_blocks; i++) {
        size_t at = (size_t)i * block_size, plain = 0;
        size_t n = out->z.len - at < block_size ? out->z.len - at : block_size;
        if ((rc = eg_inflate_meter_feed(&meter, out->z.data + at, n, &plain)) < 0)
            goto done;
        out->plain[i] = (uint32_t)plain;
    }
done:
    eg_inflate_meter_release(&meter);
    if (rc < 0)
        eg_zblocks_release(out);
    return rc;
}

void eg_zblocks_release(eg_zblocks *z)
{
    if (!z)
        return;
    eg_buf_release(&z->z);
    free(z->plain);
    z->plain = NULL;
    z->n_blocks = 0;
}
