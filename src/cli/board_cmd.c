/* What the board-level commands share: open, work, finish, report. */
#include "cli/cmds.h"

#include "core/error.h"

#include <string.h>

int eg_cli_with_board(const eg_args *a, int need_flash, int (*work)(eg_board *b, void *ctx),
                      void *ctx)
{
    eg_board *b = NULL;
    int rc;

    rc = eg_cli_board_open(&b, a);
    if (rc < 0) {
        eg_cli_fail("%s", eg_error_msg());
        /* A bad option value is a usage error; the board was not touched. */
        return rc == EG_EINVAL && !b ? EG_EXIT_USAGE : EG_EXIT_FAIL;
    }
    if (need_flash && (rc = eg_board_attach_flash(b)) < 0)
        goto done;
    rc = work(b, ctx);
    if (rc < 0)
        goto done;
    rc = eg_board_finish(b);
done:
    if (rc < 0) {
        if (b && strncmp(eg_error_msg(), "port '", 6) != 0)
            eg_error_prefix(rc, "port '%s': ", b->s->t->name);
        eg_cli_fail("%s", eg_error_msg());
    }
    eg_board_free(b);
    return rc < 0 ? EG_EXIT_FAIL : EG_EXIT_OK;
}

int eg_cli_check_range(const eg_board *b, uint32_t addr, uint64_t size)
{
    if (!b->flash_size)
        return eg_error_set(EG_EINVAL,
                            "the flash's size is unknown (JEDEC id 0x%06x): give it with "
                            "--flash-size so regions can be checked",
                            b->flash_id);
    if ((uint64_t)addr + size > b->flash_size)
        return eg_error_set(EG_EINVAL,
                            "region 0x%x+0x%llx ends beyond the %u MB flash (0x%x bytes)", addr,
                            (unsigned long long)size, b->flash_size >> 20, b->flash_size);
    return 0;
}
