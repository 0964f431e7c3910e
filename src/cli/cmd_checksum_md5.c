#include "cli/cmds.h"

#include "core/error.h"
#include "core/hash.h"

#include <stdio.h>

typedef struct md5_ctx {
    uint32_t addr, size;
} md5_ctx;

static int do_md5(void *vctx, eg_device *b)
{
    md5_ctx *c = vctx;
    uint8_t md5[16];
    char hex[33];
    int rc = eg_device_check_range(b, c->addr, c->size);

    if (rc < 0)
        return rc;
    rc = eg_session_flash_md5(md5, b->s, c->addr, c->size);
    if (rc < 0)
        return rc;
    eg_hex(hex, md5, 16);
    printf("%s\n", hex);
    return 0;
}

int cmd_checksum_md5(const eg_command *cmd, eg_args *a)
{
    md5_ctx c;
    if (eg_cli_u32(&c.addr, cmd, "ADDR", a->pos[0]) < 0 ||
        eg_cli_u32(&c.size, cmd, "SIZE", a->pos[1]) < 0)
        return EG_EXIT_USAGE;
    return eg_cli_run_work(cmd, a, do_md5, &c);
}
