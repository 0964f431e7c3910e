#include "cli/cmds.h"

#include "core/error.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct read_ctx {
    uint32_t addr, size;
    const char *path;
} read_ctx;

static int do_read(eg_board *b, void *vctx)
{
    read_ctx *c = vctx;
    eg_buf data = EG_BUF_INIT;
    int rc = eg_cli_check_range(b, c->addr, c->size);

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

int cmd_read_flash(const eg_command *cmd, eg_args *a)
{
    read_ctx c;
    if (eg_cli_u32(&c.addr, cmd, "ADDR", a->pos[0]) < 0 ||
        eg_cli_u32(&c.size, cmd, "SIZE", a->pos[1]) < 0)
        return EG_EXIT_USAGE;
    c.path = a->pos[2];
    /* Refuse an output place we cannot write before spending minutes reading. */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", c.path);
    if (access(dirname(dir), W_OK) != 0)
        return eg_cli_fail("cannot write '%s': its folder is missing or not writable", c.path);
    return eg_cli_with_board(a, 1, do_read, &c);
}
