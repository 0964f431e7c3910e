#define _POSIX_C_SOURCE 200809L
#include "core/buf.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int eg_buf_reserve(eg_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    if (extra > SIZE_MAX - b->len)
        return eg_error_set(EG_ENOMEM, "buffer size overflow");
    need = b->len + extra;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (!p)
        return eg_error_set(EG_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return 0;
}

int eg_buf_append(eg_buf *b, const void *data, size_t len)
{
    int rc;

    if (len == 0)
        return 0;
    rc = eg_buf_reserve(b, len);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int eg_buf_fill(eg_buf *b, uint8_t byte, size_t count)
{
    int rc;

    if (count == 0)
        return 0;
    if ((rc = eg_buf_reserve(b, count)) < 0)
        return rc;
    memset(b->data + b->len, byte, count);
    b->len += count;
    return 0;
}

int eg_buf_push(eg_buf *b, uint8_t byte)
{
    return eg_buf_append(b, &byte, 1);
}

int eg_buf_append_u32le(eg_buf *b, uint32_t v)
{
    uint8_t le[4];
    eg_put_u32le(le, v);
    return eg_buf_append(b, le, 4);
}

void eg_buf_clear(eg_buf *b)
{
    b->len = 0;
}

void eg_buf_release(eg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int eg_buf_read_file(eg_buf *out, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t chunk[65536];
    size_t n;
    int rc = 0;

    if (!f)
        return eg_error_set(errno == ENOENT ? EG_ENOTFOUND : EG_EIO, "cannot open '%s': %s", path,
                            eg_strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = eg_buf_append(out, chunk, n);
        if (rc < 0)
            goto done;
    }
    if (ferror(f))
        rc = eg_error_set(EG_EIO, "cannot read '%s': %s", path, eg_strerror(errno));
done:
    fclose(f);
    if (rc < 0)
        eg_buf_release(out);
    return rc;
}

/* Makes a rename in path's folder durable. */
static void sync_folder(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int eg_atomic_file_open(eg_atomic_file *f, const char *path)
{
    f->fd = -1;
    f->path = path;
    if (snprintf(f->tmp, sizeof(f->tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(f->tmp))
        return eg_error_set(EG_EINVAL, "path too long: '%s'", path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0)
        return eg_error_set(EG_EIO, "cannot create a file next to '%s': %s", path,
                            eg_strerror(errno));
    return 0;
}

void eg_atomic_file_abort(eg_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    unlink(f->tmp);
}

int eg_atomic_file_commit(eg_atomic_file *f, int sync)
{
    /* Keep the mode of a file being replaced; a new one gets rw-r--r--. */
    struct stat st;
    mode_t mode = stat(f->path, &st) == 0 ? (st.st_mode & 07777) : 0644;
    int rc = 0;

    if (fchmod(f->fd, mode) != 0 || (sync && fsync(f->fd) != 0))
        rc = eg_error_set(EG_EIO, "cannot write '%s': %s", f->path, eg_strerror(errno));
    if (close(f->fd) != 0 && rc == 0)
        rc = eg_error_set(EG_EIO, "cannot write '%s': %s", f->path, eg_strerror(errno));
    f->fd = -1;
    if (rc == 0 && rename(f->tmp, f->path) != 0)
        rc = eg_error_set(EG_EIO, "cannot write '%s': %s", f->path, eg_strerror(errno));
    if (rc < 0) {
        unlink(f->tmp);
        return rc;
    }
    if (sync)
        sync_folder(f->path);
    return 0;
}

int eg_file_write_atomic(const char *path, const void *data, size_t len)
{
    eg_atomic_file f;
    const uint8_t *p = data;
    int rc = eg_atomic_file_open(&f, path);

    if (rc < 0)
        return rc;
    while (len > 0) {
        ssize_t w = write(f.fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = eg_error_set(EG_EIO, "cannot write '%s': %s", path, eg_strerror(errno));
            eg_atomic_file_abort(&f);
            return rc;
        }
        p += w;
        len -= (size_t)w;
    }
    return eg_atomic_file_commit(&f, 1);
}
