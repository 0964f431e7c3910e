#include "cli/cmds.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EG_SECTOR 0x1000

typedef struct write_ctx {
    eg_region *r;
    eg_buf *files;
    int n;
    eg_cli_write_opts opts;
} write_ctx;

static int do_write(eg_board *b, void *vctx)
{
    write_ctx *c = vctx;
    return eg_cli_write_regions(b, c->r, c->n, &c->opts);
}

int cmd_write_bin(const eg_command *cmd, eg_args *a)
{
    write_ctx c = {0};
    int rc = EG_EXIT_USAGE;

    if (a->npos % 2 != 0)
        return eg_cli_usage(cmd, "write-bin: arguments come in pairs: ADDR FILE [ADDR FILE]...");
    c.n = a->npos / 2;
    eg_cli_write_opts_from_args(&c.opts, a);
    c.r = calloc((size_t)c.n, sizeof(*c.r));
    c.files = calloc((size_t)c.n, sizeof(*c.files));
    if (!c.r || !c.files) {
        free(c.r);
        free(c.files);
        return eg_cli_fail("out of memory");
    }
    for (int i = 0; i < c.n; i++) {
        eg_region *r = &c.r[i];
        eg_buf *f = &c.files[i];
        if (eg_cli_u32(&r->addr, cmd, "ADDR", a->pos[2 * i]) < 0)
            goto done;
        if (r->addr % EG_SECTOR) {
            rc = eg_cli_usage(cmd, "write-bin: address 0x%x is not aligned to a 4 KiB sector",
                              r->addr);
            goto done;
        }
        r->label = a->pos[2 * i + 1];
        if (eg_buf_read_file(f, r->label) < 0) {
            rc = eg_cli_fail("%s", eg_error_msg());
            goto done;
        }
        if (f->len == 0) {
            rc = eg_cli_fail("'%s' is empty: nothing to write", r->label);
            goto done;
        }
        r->data = f->data;
        r->len = f->len;
    }
    if (eg_regions_overlap(c.r, c.n) < 0) {
        rc = eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    rc = eg_cli_with_board(a, 1, do_write, &c);
done:
    for (int i = 0; i < c.n; i++)
        eg_buf_release(&c.files[i]);
    free(c.files);
    free(c.r);
    return rc;
}
