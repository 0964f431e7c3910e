#define _DEFAULT_SOURCE /* readlink */
#include "core/path.h"

#include "core/error.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

/* Drops the last component of the absolute path p (length *n), keeping "/". */
static void drop_last(char *p, size_t *n)
{
    while (*n > 1 && p[*n - 1] != '/')
        (*n)--;
    if (*n > 1)
        (*n)--;
    p[*n] = '\0';
}

int eg_path_resolve(char *dst, size_t len, const char *path)
{
    char out[PATH_MAX], pending[PATH_MAX], link[PATH_MAX], rest[PATH_MAX];
    size_t n = 0;
    int links = 0;

    if (!path || !*path) {
        errno = ENOENT;
        return -1;
    }
    if (path[0] == '/') {
        out[0] = '/';
        out[1] = '\0';
        n = 1;
    } else if (!getcwd(out, sizeof(out))) {
        return -1;
    } else {
        n = strlen(out);
    }
    if (strlen(path) >= sizeof(pending)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(pending, path, strlen(path) + 1);
    /* pending holds what is left to walk, component by component. */
    char *at = pending;
    while (*at) {
        while (*at == '/')
            at++;
        if (!*at)
            break;
        size_t clen = strcspn(at, "/");
        char *next = at + clen;
        if (clen == 1 && at[0] == '.') {
            at = next;
            continue;
        }
        if (clen == 2 && at[0] == '.' && at[1] == '.') {
            drop_last(out, &n);
            at = next;
            continue;
        }
        size_t was = n;
        if (n + (n > 1) + clen >= sizeof(out)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (n > 1)
            out[n++] = '/';
        memcpy(out + n, at, clen);
        n += clen;
        out[n] = '\0';
        /* readlink tells a link from the rest (EINVAL) in one call, with no stat: under
         * umockdev 0.17 an lstat of an emulated device node reads a buffer another
         * thread may be rewriting, and aborts. */
        ssize_t l = readlink(out, link, sizeof(link) - 1);
        if (l < 0 && errno == EINVAL) {
            at = next;
            continue;
        }
        if (l < 0)
            return -1;
        if (++links > MAX_LINKS) {
            errno = ELOOP;
            return -1;
        }
        link[l] = '\0';
        /* The link's target, then what was left after it, replace the rest. */
        size_t rlen = strlen(next);
        if ((size_t)l + rlen + 1 >= sizeof(rest)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(rest, link, (size_t)l);
        memcpy(rest + l, next, rlen + 1);
        memcpy(pending, rest, (size_t)l + rlen + 1);
        at = pending;
        if (link[0] == '/') {
            out[0] = '/';
            out[1] = '\0';
            n = 1;
        } else {
            n = was;
            out[n] = '\0';
        }
    }
    if (n + 1 > len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(dst, out, n + 1);
    return 0;
}

int eg_path_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(buf))
        return eg_error_set(EG_EINVAL, "'%s' is not a folder name", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return eg_error_set(EG_EIO, "cannot make the folder '%s': %s", buf, eg_strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return eg_error_set(EG_EIO, "'%s' is not a folder", path);
    return 0;
}
