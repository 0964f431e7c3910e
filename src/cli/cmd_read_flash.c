#include "cli/cmds.h"

#include "core/error.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct read_ctx {
    uint32_t addr, size;
    char path[PATH_MAX]; /* where the bytes go: FILE, or what its symlink points to */
} read_ctx;

static int do_read(void *vctx, eg_device *b)
{
    read_ctx *c = vctx;
    eg_buf data = EG_BUF_INIT;
    int rc = eg_device_check_range(b, c->addr, c->size);

    if (rc < 0)
        return rc;
    rc = eg_session_flash_read(&data, b->s, c->addr, c->size);
    if (rc == 0 && data.len != c->size)
        rc = eg_error_set(EG_EPROTO, "read %zu bytes, expected %u", data.len, c->size);
    if (rc == 0)
        rc = eg_file_write_atomic(c->path, data.data, data.len);
    if (rc == 0)
        fprintf(stderr, "Read 0x%x bytes at 0x%08x into '%s'\n", c->size, c->addr, c->path);
    eg_buf_release(&data);
    return rc;
}

/* Where FILE's bytes go: FILE itself, or the file its symlink names (the link stays).
 * Only a regular file (or none yet) may be replaced: never a device, a folder or a
 * pipe. */
static int output_place(read_ctx *c, const char *file)
{
    struct stat st;
    char link[PATH_MAX], dir[PATH_MAX];
    const char *target = file;

    for (int hops = 0; lstat(target, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
        ssize_t n = readlink(target, link, sizeof(link) - 1);
        if (n < 0 || hops == 40)
            return eg_error_set(EG_EINVAL, "cannot follow the link '%s'", file);
        link[n] = '\0';
        if (link[0] != '/') {
            /* Relative to the folder the link is in. */
            snprintf(dir, sizeof(dir), "%s", target);
            char *d = dirname(dir);
            size_t dl = strlen(d), ll = strlen(link);
            if (dl + 1 + ll >= sizeof(c->path))
                return eg_error_set(EG_EINVAL, "the link '%s' names a path too long", file);
            memmove(c->path, d, dl);
            c->path[dl] = '/';
            memcpy(c->path + dl + 1, link, ll + 1);
        } else {
            snprintf(c->path, sizeof(c->path), "%s", link);
        }
        target = c->path;
    }
    if (target != c->path)
        snprintf(c->path, sizeof(c->path), "%s", file);
    if (stat(c->path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return eg_error_set(EG_EINVAL, "'%s' is a folder: give a file to read into", file);
        if (!S_ISREG(st.st_mode))
            return eg_error_set(EG_EINVAL,
                                "'%s' is not a regular file (a device, a pipe?): refusing to "
                                "replace it",
                                file);
        if (access(c->path, W_OK) != 0)
            return eg_error_set(EG_EIO, "cannot write '%s': %s", file, eg_strerror(errno));
    } else if (errno != ENOENT) {
        return eg_error_set(EG_EIO, "cannot write '%s': %s", file, eg_strerror(errno));
    }
    snprintf(dir, sizeof(dir), "%s", c->path);
    if (access(dirname(dir), W_OK) != 0)
        return eg_error_set(EG_EIO, "cannot write '%s': its folder is missing or not writable",
                            file);
    return 0;
}

int cmd_read_flash(const eg_command *cmd, eg_args *a)
{
    read_ctx c;
    if (eg_cli_u32(&c.addr, cmd, "ADDR", a->pos[0]) < 0 ||
        eg_cli_u32(&c.size, cmd, "SIZE", a->pos[1]) < 0)
        return EG_EXIT_USAGE;
    if (c.size == 0)
        return eg_cli_usage(cmd, "%s: SIZE is 0: nothing to read", cmd->name);
    /* Refuse an output place we cannot or must not write before spending minutes
     * reading. */
    if (output_place(&c, a->pos[2]) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    return eg_cli_run_work(cmd, a, do_read, &c);
}
