#include "cli/cmds.h"

#include "core/error.h"
#include "core/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EG_SECTOR 0x1000
/* zlib level 6, by measurement on a 1 MiB application-like image (README, "Speed"):
 * level 9 saves 0.6% more (2.5 KB, 0.03 s of wire at 921600 baud) for 276 ms more CPU
 * than level 6, a loss from 921600 baud up and break-even at 115200; level 1 sends 9%
 * more bytes (0.4 s at 921600) to save 43 ms. */
#define EG_DEFLATE_LEVEL 6

typedef struct region {
    uint32_t addr;
    const char *path;
    eg_buf data;
} region;

typedef struct write_ctx {
    region *r;
    int n;
    int level; /* zlib level, or -1 for plain FLASH_DATA */
    int verify, skip;
} write_ctx;

static int do_write(eg_board *b, void *vctx)
{
    write_ctx *c = vctx;
    int rc;

    for (int i = 0; i < c->n; i++) {
        rc = eg_cli_check_range(b, c->r[i].addr, c->r[i].data.len);
        if (rc < 0)
            return eg_error_prefix(rc, "'%s': ", c->r[i].path);
    }
    for (int i = 0; i < c->n; i++) {
        region *r = &c->r[i];
        uint8_t want[16], got[16];
        char hw[33], hg[33];

        if ((rc = eg_md5(want, r->data.data, r->data.len)) < 0)
            return rc;
        eg_hex(hw, want, 16);
        if (c->skip) {
            /* What the flash already holds needs no writing (nor erasing). */
            rc = eg_session_flash_md5(got, b->s, r->addr, (uint32_t)r->data.len);
            if (rc < 0)
                return eg_error_prefix(rc, "'%s': ", r->path);
            if (memcmp(want, got, 16) == 0) {
                fprintf(stderr, "Skipped '%s' at 0x%08x: the flash already holds it (md5 %s)\n",
                        r->path, r->addr, hw);
                continue;
            }
        }
        rc = eg_session_flash_write(b->s, r->addr, r->data.data, r->data.len, c->level);
        if (rc < 0)
            return eg_error_prefix(rc, "'%s': ", r->path);
        if (!c->verify) {
            fprintf(stderr, "Wrote '%s' at 0x%08x (%zu bytes, not verified)\n", r->path, r->addr,
                    r->data.len);
            continue;
        }
        if ((rc = eg_session_flash_md5(got, b->s, r->addr, (uint32_t)r->data.len)) < 0)
            return eg_error_prefix(rc, "'%s': verifying: ", r->path);
        eg_hex(hg, got, 16);
        if (memcmp(want, got, 16) != 0)
            return eg_error_set(EG_EMISMATCH,
                                "'%s' at 0x%08x: verify failed: flash MD5 %s, file MD5 %s", r->path,
                                r->addr, hg, hw);
        fprintf(stderr, "Wrote and verified '%s' at 0x%08x (%zu bytes, md5 %s)\n", r->path, r->addr,
                r->data.len, hw);
    }
    return 0;
}

int cmd_write_bin(const eg_command *cmd, eg_args *a)
{
    write_ctx c = {0};
    int rc = EG_EXIT_USAGE;

    if (a->npos % 2 != 0)
        return eg_cli_usage(cmd, "write-bin: arguments come in pairs: ADDR FILE [ADDR FILE]...");
    c.n = a->npos / 2;
    c.level = a->count[OPT_NO_COMPRESS] ? -1 : EG_DEFLATE_LEVEL;
    c.verify = !a->count[OPT_NO_VERIFY];
    c.skip = !a->count[OPT_NO_SKIP];
    c.r = calloc((size_t)c.n, sizeof(*c.r));
    if (!c.r)
        return eg_cli_fail("out of memory");
    for (int i = 0; i < c.n; i++) {
        region *r = &c.r[i];
        if (eg_cli_u32(&r->addr, cmd, "ADDR", a->pos[2 * i]) < 0)
            goto done;
        if (r->addr % EG_SECTOR) {
            rc = eg_cli_usage(cmd, "write-bin: address 0x%x is not aligned to a 4 KiB sector",
                              r->addr);
            goto done;
        }
        r->path = a->pos[2 * i + 1];
        if (eg_buf_read_file(&r->data, r->path) < 0) {
            rc = eg_cli_fail("%s", eg_error_msg());
            goto done;
        }
        if (r->data.len == 0) {
            rc = eg_cli_fail("'%s' is empty: nothing to write", r->path);
            goto done;
        }
    }
    for (int i = 0; i < c.n; i++)
        for (int j = i + 1; j < c.n; j++) {
            region *p = &c.r[i], *q = &c.r[j];
            if ((uint64_t)p->addr < q->addr + (uint64_t)q->data.len &&
                (uint64_t)q->addr < p->addr + (uint64_t)p->data.len) {
                rc = eg_cli_fail("'%s' at 0x%x overlaps '%s' at 0x%x", p->path, p->addr, q->path,
                                 q->addr);
                goto done;
            }
        }
    rc = eg_cli_with_board(a, 1, do_write, &c);
done:
    for (int i = 0; i < c.n; i++)
        eg_buf_release(&c.r[i].data);
    free(c.r);
    return rc;
}
