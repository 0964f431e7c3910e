/* flash ELF: the app image, the partition table and the bootloader, written and
 * verified; everything that could make the board refuse the app is checked before a
 * byte is written. */
#include "cli/cmds.h"

#include "core/error.h"
#include "core/num.h"
#include "image/elf.h"
#include "partition/partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct flash_ctx {
    const eg_command *cmd;
    const eg_args *a;
    const char *elf_path;
    eg_elf *elf;
    uint32_t table_offset;
    eg_cli_write_opts wopts;
} flash_ctx;

/* The revision as users read it, into a buffer of 16. */
static const char *rev_text(char *buf, unsigned rev)
{
    snprintf(buf, 16, "v%u.%u", rev / 100, rev % 100);
    return buf;
}

/* The chip named in the ELF's metadata, and the revisions the app accepts. */
static int check_target(const flash_ctx *c, const eg_board *b, const eg_image_opts *opts)
{
    unsigned board_rev = b->rev_major * 100 + b->rev_minor;
    char r1[16], r2[16];

    if (c->elf->chip_name) {
        const eg_chip *want = eg_chip_by_name(c->elf->chip_name);
        if (want != b->chip)
            return eg_error_set(EG_EMISMATCH, "'%s' was built for %s, but the board is %s",
                                c->elf_path, want ? want->name : c->elf->chip_name, b->chip->name);
    }
    if (c->a->count[OPT_FORCE])
        return 0;
    if (board_rev < opts->min_rev_full)
        return eg_error_set(EG_EMISMATCH,
                            "the board is %s revision %s, but the app needs %s or newer "
                            "(--force flashes it anyway)",
                            b->chip->name, rev_text(r1, board_rev),
                            rev_text(r2, opts->min_rev_full));
    if (opts->max_rev_full != 0xFFFF && board_rev > opts->max_rev_full)
        return eg_error_set(EG_EMISMATCH,
                            "the board is %s revision %s, but the app runs on %s at most "
                            "(--force flashes it anyway)",
                            b->chip->name, rev_text(r1, board_rev),
                            rev_text(r2, opts->max_rev_full));
    return 0;
}

/* The bootloader to write (into boot), or none when the board's own is kept; an
 * invalid or missing one on the board is an error. */
static int bootloader(eg_buf *boot, const flash_ctx *c, eg_board *b, const eg_image_opts *opts)
{
    const char *path = c->a->val[OPT_BOOTLOADER];
    uint32_t off = b->chip->bootloader_offset;
    eg_image_info info;
    int rc;

    if (path) {
        if ((rc = eg_buf_read_file(boot, path)) < 0)
            return rc;
        if ((rc = eg_image_parse(&info, boot->data, boot->len)) < 0)
            return eg_error_prefix(rc, "bootloader '%s': ", path);
        if (!eg_image_valid(&info))
            return eg_error_set(EG_EINVAL,
                                "bootloader '%s': its checksum or SHA-256 does not match its "
                                "contents",
                                path);
        if (info.chip_id != b->chip->image_chip_id)
            return eg_error_set(EG_EMISMATCH, "bootloader '%s' is for image chip id %u, not %s",
                                path, info.chip_id, b->chip->name);
        if (off + boot->len > c->table_offset)
            return eg_error_set(EG_EINVAL,
                                "bootloader '%s' (%zu bytes at 0x%x) runs into the partition "
                                "table at 0x%x",
                                path, boot->len, off, c->table_offset);
        /* The bootloader sets up the flash: it carries the flash settings. */
        return eg_image_patch_flash_params(boot->data, boot->len, opts->flash_mode,
                                           opts->flash_size_code, opts->flash_freq_code);
    }
    /* Keep the board's bootloader, if it is one for this chip. */
    if ((rc = eg_session_flash_read(boot, b->s, off, c->table_offset - off)) < 0)
        return eg_error_prefix(rc, "reading the bootloader at 0x%x: ", off);
    rc = eg_image_parse(&info, boot->data, boot->len);
    if (rc < 0 || !eg_image_valid(&info) || info.chip_id != b->chip->image_chip_id) {
        rc =
            eg_error_set(EG_EINVAL,
                         "the board has no valid %s bootloader at 0x%x: give one with "
                         "--bootloader FILE (ESP-IDF builds it as build/bootloader/bootloader.bin)",
                         b->chip->name, off);
        eg_buf_release(boot);
        return rc;
    }
    eg_buf_release(boot);
    return 0;
}

static int erase_partitions(const flash_ctx *c, eg_board *b, const eg_partition_table *t)
{
    const char *names = c->a->val[OPT_ERASE_PARTS];
    const char *types = c->a->val[OPT_ERASE_DATA_PARTS];
    int rc = 0;

    if (names) {
        char *copy = strdup(names), *save = NULL;
        if (!copy)
            return eg_error_set(EG_ENOMEM, "out of memory");
        for (char *n = strtok_r(copy, ",", &save); n && rc == 0; n = strtok_r(NULL, ",", &save)) {
            while (*n == ' ')
                n++;
            const eg_partition *p = eg_partition_find_name(t, n);
            if (!p) {
                rc = eg_error_set(EG_ENOTFOUND, "--erase-parts: no partition named '%s'", n);
                break;
            }
            if ((rc = eg_session_flash_erase(b->s, p->offset, p->size)) < 0)
                rc = eg_error_prefix(rc, "erasing partition '%s': ", p->name);
            else
                fprintf(stderr, "Erased partition '%s' (0x%08x, %u bytes)\n", p->name, p->offset,
                        p->size);
        }
        free(copy);
    }
    if (types && rc == 0) {
        const eg_partition **sel = NULL;
        size_t n = 0;
        if ((rc = eg_partition_select_data(&sel, &n, t, types)) < 0)
            return eg_error_prefix(rc, "--erase-data-parts: ");
        for (size_t i = 0; i < n && rc == 0; i++) {
            if ((rc = eg_session_flash_erase(b->s, sel[i]->offset, sel[i]->size)) < 0)
                rc = eg_error_prefix(rc, "erasing partition '%s': ", sel[i]->name);
            else
                fprintf(stderr, "Erased partition '%s' (0x%08x, %u bytes)\n", sel[i]->name,
                        sel[i]->offset, sel[i]->size);
        }
        free(sel);
    }
    return rc;
}

static int do_flash(eg_board *b, void *vctx)
{
    flash_ctx *c = vctx;
    eg_image_opts opts;
    eg_partition_opts popts;
    eg_partition_table *table = NULL;
    const eg_partition *app;
    eg_buf img = EG_BUF_INIT, boot = EG_BUF_INIT, pt = EG_BUF_INIT;
    eg_cli_region regions[3];
    int n = 0, rc;

    if (!b->flash_size)
        return eg_error_set(EG_EINVAL, "the flash size is unknown: give it with --flash-size");
    if (eg_cli_image_opts(&opts, c->cmd, c->a, b->chip, b->flash_size) < 0)
        return EG_EINVAL;
    if (!c->a->val[OPT_MIN_CHIP_REV] && c->elf->min_chip_revision >= 0)
        opts.min_rev_full = (uint16_t)c->elf->min_chip_revision;
    if ((rc = check_target(c, b, &opts)) < 0)
        return rc;
    if ((rc = eg_image_from_elf(&img, c->elf, b->chip, &opts)) < 0) {
        rc = eg_error_prefix(rc, "'%s': ", c->elf_path);
        goto done;
    }

    eg_partition_opts_default(&popts);
    popts.table_offset = c->table_offset;
    popts.flash_size = b->flash_size;
    popts.bootloader_offset = b->chip->bootloader_offset;
    if (c->a->val[OPT_PARTITION_TABLE])
        rc = eg_partition_load(&table, c->a->val[OPT_PARTITION_TABLE], &popts);
    else
        rc = eg_partition_default(&table, &popts);
    if (rc < 0)
        goto done;
    if ((rc = eg_partition_app_target(&app, table, c->a->val[OPT_TARGET_APP_PARTITION])) < 0)
        goto done;
    if (img.len > app->size) {
        rc = eg_error_set(EG_EINVAL,
                          "the app image (%zu bytes) does not fit partition '%s' (%u bytes)",
                          img.len, app->name, app->size);
        goto done;
    }
    if ((rc = eg_partition_to_bin(&pt, table)) < 0)
        goto done;
    if ((rc = bootloader(&boot, c, b, &opts)) < 0)
        goto done;

    if (boot.len)
        regions[n++] =
            (eg_cli_region){b->chip->bootloader_offset, "bootloader", boot.data, boot.len};
    regions[n++] = (eg_cli_region){c->table_offset, "partition table", pt.data, pt.len};
    regions[n++] = (eg_cli_region){app->offset, c->elf_path, img.data, img.len};
    if ((rc = eg_cli_regions_overlap(regions, n)) < 0)
        goto done;
    for (int i = 0; i < n; i++)
        if ((rc = eg_cli_check_range(b, regions[i].addr, regions[i].len)) < 0) {
            rc = eg_error_prefix(rc, "%s: ", regions[i].label);
            goto done;
        }
    if ((rc = erase_partitions(c, b, table)) < 0)
        goto done;
    rc = eg_cli_write_regions(b, regions, n, &c->wopts);
done:
    eg_partition_table_free(table);
    eg_buf_release(&img);
    eg_buf_release(&boot);
    eg_buf_release(&pt);
    return rc;
}

int cmd_flash(const eg_command *cmd, eg_args *a)
{
    flash_ctx c = {cmd, a, a->pos[0], NULL, EG_PARTITION_TABLE_OFFSET, {0}};
    int rc;

    if (a->val[OPT_PARTITION_TABLE_OFFSET] &&
        eg_cli_u32(&c.table_offset, cmd, "--partition-table-offset",
                   a->val[OPT_PARTITION_TABLE_OFFSET]) < 0)
        return EG_EXIT_USAGE;
    if (c.table_offset % 0x1000)
        return eg_cli_usage(cmd, "flash: the partition table offset 0x%x is not 4 KiB aligned",
                            c.table_offset);
    eg_cli_write_opts_from_args(&c.wopts, a);
    if (eg_elf_load(&c.elf, c.elf_path) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    /* What can be told from the ELF alone is told before the board is touched. */
    if (!a->count[OPT_IGNORE_APP_DESC] && !eg_elf_find_section(c.elf, ".flash.appdesc")) {
        eg_elf_free(c.elf);
        return eg_cli_fail("'%s' has no app descriptor (section .flash.appdesc), which "
                           "ESP-IDF's bootloader expects: esp-hal apps get one from "
                           "esp_bootloader_esp_idf::esp_app_desc!(); --ignore-app-descriptor "
                           "flashes it anyway",
                           c.elf_path);
    }
    rc = eg_cli_with_board(a, 1, do_flash, &c);
    eg_elf_free(c.elf);
    return rc;
}
