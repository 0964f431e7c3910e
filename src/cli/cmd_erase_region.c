#include "cli/cmds.h"

#include "core/error.h"

#include <stdio.h>

typedef struct erase_ctx {
    uint32_t addr, size;
} erase_ctx;

static int do_erase(eg_board *b, void *vctx)
{
    erase_ctx *c = vctx;
    int rc = eg_cli_check_range(b, c->addr, c->size);
    if (rc < 0)
        return rc;
    rc = eg_session_flash_erase(b->s, c->addr, c->size);
    if (rc == 0)
        fprintf(stderr, "Erased 0x%x bytes at 0x%08x\n", c->size, c->addr);
    return rc;
}

static int do_erase_all(eg_board *b, void *vctx)
{
    (void)vctx;
    int rc = eg_cli_check_range(b, 0, 0);
    if (rc < 0)
        return rc;
    fprintf(stderr, "Erasing the whole %u MB flash...\n", b->flash_size >> 20);
    rc = eg_session_flash_erase_all(b->s, b->flash_size);
    if (rc == 0)
        fprintf(stderr, "Erased the flash\n");
    return rc;
}

int cmd_erase_flash(const eg_command *cmd, eg_args *a)
{
    (void)cmd;
    return eg_cli_with_board(a, 1, do_erase_all, NULL);
}

int cmd_erase_region(const eg_command *cmd, eg_args *a)
{
    erase_ctx c;
    if (eg_cli_u32(&c.addr, cmd, "ADDR", a->pos[0]) < 0 ||
        eg_cli_u32(&c.size, cmd, "SIZE", a->pos[1]) < 0)
        return EG_EXIT_USAGE;
    if (c.addr % 0x1000 || c.size % 0x1000 || c.size == 0)
        return eg_cli_usage(cmd, "erase-region: ADDR and SIZE must be non-zero multiples of 4 KiB "
                                 "(0x1000)");
    return eg_cli_with_board(a, 1, do_erase, &c);
}
