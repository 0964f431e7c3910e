/* erase-parts NAMES: erases partitions by name, as the given table or the board's own
 * table places them. */
#include "cli/cmds.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct erase_ctx {
    const eg_args *a;
    uint32_t table_offset;
    char *names; /* the positional names joined by ',' */
} erase_ctx;

static int do_erase(eg_board *b, void *vctx)
{
    erase_ctx *c = vctx;
    eg_partition_opts popts;
    eg_partition_table *t = NULL;
    eg_buf bin = EG_BUF_INIT;
    int rc;

    eg_partition_opts_default(&popts);
    popts.table_offset = c->table_offset;
    popts.flash_size = b->flash_size;
    popts.bootloader_offset = b->chip->bootloader_offset;
    if (c->a->val[OPT_PARTITION_TABLE]) {
        rc = eg_partition_load(&t, c->a->val[OPT_PARTITION_TABLE], &popts);
    } else {
        /* The table the board boots with. */
        rc = eg_session_flash_read(&bin, b->s, c->table_offset, EG_PARTITION_BIN_LEN);
        if (rc < 0)
            rc = eg_error_prefix(rc, "reading the partition table at 0x%x: ", c->table_offset);
        else if ((rc = eg_partition_parse_bin(&t, bin.data, bin.len, "the board's table", &popts)) <
                 0)
            rc = eg_error_prefix(
                rc, "at 0x%x (give the table with --partition-table FILE): ", c->table_offset);
        eg_buf_release(&bin);
    }
    if (rc < 0)
        return rc;
    rc = eg_cli_erase_parts(b, t, c->names, NULL);
    eg_partition_table_free(t);
    return rc;
}

int cmd_erase_parts(const eg_command *cmd, eg_args *a)
{
    erase_ctx c = {a, 0, NULL};
    size_t len = 1;
    int rc;

    if (eg_cli_table_offset(&c.table_offset, cmd, a) < 0)
        return EG_EXIT_USAGE;
    for (int i = 0; i < a->npos; i++)
        len += strlen(a->pos[i]) + 1;
    if (!(c.names = calloc(1, len)))
        return eg_cli_fail("out of memory");
    for (int i = 0; i < a->npos; i++) {
        if (i)
            strcat(c.names, ",");
        strcat(c.names, a->pos[i]);
    }
    if (strspn(c.names, ", ") == strlen(c.names)) {
        free(c.names);
        return eg_cli_usage(cmd, "%s: which partitions? (names like nvs,otadata)", cmd->name);
    }
    rc = eg_cli_with_board(a, 1, do_erase, &c);
    free(c.names);
    return rc;
}
