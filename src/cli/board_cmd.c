/* What the board-level commands share: open, work, finish, report. */
#include "cli/cmds.h"

#include "core/error.h"

#include <string.h>

int eg_cli_with_board(const eg_args *a, int need_flash, int (*work)(eg_board *b, void *ctx),
                      void *ctx)
{
    eg_board *b = NULL;
    int rc;

    rc = eg_cli_board_open(a, &b);
    if (rc < 0)
        return eg_cli_fail("%s", eg_error_msg());
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
    if (b->flash_size && (uint64_t)addr + size > b->flash_size)
        return eg_error_set(EG_EINVAL,
                            "region 0x%x+0x%llx ends beyond the %u MB flash (0x%x bytes)", addr,
                            (unsigned long long)size, b->flash_size >> 20, b->flash_size);
    return 0;
}
