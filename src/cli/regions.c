/* Writing regions to a board's flash: the core of write-bin and flash. */
#include "cli/cmds.h"

#include "core/error.h"
#include "core/hash.h"

#include <stdio.h>
#include <string.h>

/* zlib level 6, by measurement on a 1 MiB application-like image (README, "Speed"):
 * level 9 saves 0.6% more (2.5 KB, 0.03 s of wire at 921600 baud) for 276 ms more CPU
 * than level 6, a loss from 921600 baud up and break-even at 115200; level 1 sends 9%
 * more bytes (0.4 s at 921600) to save 43 ms. */
#define EG_DEFLATE_LEVEL 6

void eg_cli_write_opts_from_args(eg_cli_write_opts *out, const eg_args *a)
{
    out->level = a->count[OPT_NO_COMPRESS] ? -1 : EG_DEFLATE_LEVEL;
    out->verify = !a->count[OPT_NO_VERIFY];
    out->skip = !a->count[OPT_NO_SKIP];
}

int eg_cli_write_regions(eg_board *b, const eg_region *regions, int n,
                         const eg_cli_write_opts *opts)
{
    int rc;

    for (int i = 0; i < n; i++) {
        rc = eg_cli_check_range(b, regions[i].addr, regions[i].len);
        if (rc < 0)
            return eg_error_prefix(rc, "'%s': ", regions[i].label);
    }
    for (int i = 0; i < n; i++) {
        const eg_region *r = &regions[i];
        uint8_t want[16], got[16];
        char hw[33], hg[33];

        if ((rc = eg_md5(want, r->data, r->len)) < 0)
            return rc;
        eg_hex(hw, want, 16);
        if (opts->skip) {
            /* What the flash already holds needs no writing (nor erasing). */
            rc = eg_session_flash_md5(got, b->s, r->addr, (uint32_t)r->len);
            if (rc < 0)
                return eg_error_prefix(rc, "'%s': ", r->label);
            if (memcmp(want, got, 16) == 0) {
                fprintf(stderr, "Skipped '%s' at 0x%08x: the flash already holds it (md5 %s)\n",
                        r->label, r->addr, hw);
                continue;
            }
        }
        rc = eg_session_flash_write(b->s, r->addr, r->data, r->len, opts->level);
        if (rc < 0)
            return eg_error_prefix(rc, "'%s': ", r->label);
        if (!opts->verify) {
            fprintf(stderr, "Wrote '%s' at 0x%08x (%zu bytes, not verified)\n", r->label, r->addr,
                    r->len);
            continue;
        }
        if ((rc = eg_session_flash_md5(got, b->s, r->addr, (uint32_t)r->len)) < 0)
            return eg_error_prefix(rc, "'%s': verifying: ", r->label);
        eg_hex(hg, got, 16);
        if (memcmp(want, got, 16) != 0)
            return eg_error_set(EG_EMISMATCH,
                                "'%s' at 0x%08x: verify failed: flash MD5 %s, file MD5 %s",
                                r->label, r->addr, hg, hw);
        fprintf(stderr, "Wrote and verified '%s' at 0x%08x (%zu bytes, md5 %s)\n", r->label,
                r->addr, r->len, hw);
    }
    return 0;
}
