/* A growable byte buffer. The caller owns the struct; eg_buf_release() frees the
 * bytes and leaves an empty buffer that may be reused. */
#ifndef EG_CORE_BUF_H
#define EG_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct eg_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} eg_buf;

#define EG_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for at least extra more bytes; EG_ENOMEM on failure. */
int eg_buf_reserve(eg_buf *b, size_t extra);
int eg_buf_append(eg_buf *b, const void *data, size_t len);
int eg_buf_push(eg_buf *b, uint8_t byte);
/* Appends count copies of byte. */
int eg_buf_fill(eg_buf *b, uint8_t byte, size_t count);
int eg_buf_append_u32le(eg_buf *b, uint32_t v);
/* Drops the bytes but keeps the memory. */
void eg_buf_clear(eg_buf *b);
void eg_buf_release(eg_buf *b);

/* Reads a whole file into out (which must be empty); EG_EIO with the path in the
 * message on failure, and out left empty. */
int eg_buf_read_file(eg_buf *out, const char *path);

/* Writes len bytes to path through a temporary file in the same folder renamed into
 * place, so a reader never sees a half-written file. */
int eg_file_write_atomic(const char *path, const void *data, size_t len);

/* The same for output written bit by bit: open makes the temporary file next to path
 * (fd to write to), commit gives it path's mode (rw-r--r-- when new), syncs it when
 * sync is set, and renames it into place; abort removes it. After commit or abort fd
 * is closed. */
typedef struct eg_atomic_file {
    int fd;
    char tmp[4096];
    const char *path;
} eg_atomic_file;
int eg_atomic_file_open(eg_atomic_file *f, const char *path);
int eg_atomic_file_commit(eg_atomic_file *f, int sync);
void eg_atomic_file_abort(eg_atomic_file *f);

static inline uint32_t eg_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t eg_get_u16le(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline void eg_put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void eg_put_u16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

#endif
