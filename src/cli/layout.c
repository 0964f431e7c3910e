/* Where an app goes in flash: the bootloader, the partition table and the app image in
 * its partition. flash writes the layout; save-image --merge writes it into one file. */
#include "cli/cmds.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int eg_cli_table_offset(uint32_t *out, const eg_command *cmd, const eg_args *a)
{
    *out = EG_PARTITION_TABLE_OFFSET;
    if (a->val[OPT_PARTITION_TABLE_OFFSET] &&
        eg_cli_u32(out, cmd, "--partition-table-offset", a->val[OPT_PARTITION_TABLE_OFFSET]) < 0)
        return EG_EINVAL;
    if (*out % EG_PARTITION_TABLE_SECTOR || *out < 0x1000) {
        eg_cli_usage(cmd,
                     "%s: the partition table offset 0x%x is not a 4 KiB-aligned address "
                     "above 0",
                     cmd->name, *out);
        return EG_EINVAL;
    }
    return 0;
}

int eg_cli_bootloader_load(eg_buf *boot, const char *path, const eg_chip *chip,
                           uint32_t table_offset, const eg_image_opts *opts)
{
    eg_image_info info;
    uint32_t off = chip->bootloader_offset;
    int rc;

    if ((rc = eg_buf_read_file(boot, path)) < 0)
        return eg_error_prefix(rc, "bootloader: ");
    if ((rc = eg_image_parse(&info, boot->data, boot->len)) < 0)
        return eg_error_prefix(rc, "bootloader '%s': ", path);
    if (!eg_image_valid(&info))
        return eg_error_set(EG_EINVAL,
                            "bootloader '%s': its checksum or SHA-256 does not match its contents",
                            path);
    if (info.chip_id != chip->image_chip_id)
        return eg_error_set(EG_EMISMATCH, "bootloader '%s' is for image chip id %u, not %s (%u)",
                            path, info.chip_id, chip->name, chip->image_chip_id);
    if (off + boot->len > table_offset)
        return eg_error_set(EG_EINVAL,
                            "bootloader '%s' (%zu bytes at 0x%x) runs into the partition table "
                            "at 0x%x",
                            path, boot->len, off, table_offset);
    /* The bootloader sets the flash up: it carries the flash settings. */
    return eg_cli_patch_bootloader(path, boot->data, boot->len, opts->flash_mode,
                                   opts->flash_size_code, opts->flash_freq_code);
}

int eg_cli_patch_bootloader(const char *label, uint8_t *data, size_t len, int mode, int size,
                            int freq)
{
    int rc = eg_image_patch_flash_params(data, len, mode, size, freq);
    if (rc == EG_EUNSUPPORTED) {
        fprintf(stderr, "Note: bootloader '%s': %s\n", label, eg_error_msg());
        return 0;
    }
    return rc < 0 ? eg_error_prefix(rc, "bootloader '%s': ", label) : 0;
}

int eg_cli_layout_build(eg_cli_layout *l, const eg_args *a, const eg_chip *chip,
                        uint32_t flash_size, const eg_elf *elf, const char *elf_path,
                        const eg_image_opts *opts, uint32_t table_offset)
{
    eg_partition_opts popts;
    int rc;

    memset(l, 0, sizeof(*l));
    if ((rc = eg_image_from_elf(&l->app, elf, chip, opts)) < 0)
        return eg_error_prefix(rc, "'%s': ", elf_path);

    eg_partition_opts_default(&popts);
    popts.table_offset = table_offset;
    popts.flash_size = flash_size;
    popts.bootloader_offset = chip->bootloader_offset;
    if (a->val[OPT_PARTITION_TABLE])
        rc = eg_partition_load(&l->table, a->val[OPT_PARTITION_TABLE], &popts);
    else
        rc = eg_partition_default(&l->table, &popts);
    if (rc < 0)
        return rc;
    if ((rc = eg_partition_app_target(&l->app_part, l->table, a->val[OPT_TARGET_APP_PARTITION])) <
        0)
        return rc;
    if (l->app.len > l->app_part->size)
        return eg_error_set(EG_EINVAL,
                            "the app image of '%s' (%zu bytes) does not fit partition '%s' (%u "
                            "bytes)",
                            elf_path, l->app.len, l->app_part->name, l->app_part->size);
    if ((rc = eg_partition_to_bin(&l->table_bin, l->table)) < 0)
        return rc;
    if (a->val[OPT_BOOTLOADER] && (rc = eg_cli_bootloader_load(&l->boot, a->val[OPT_BOOTLOADER],
                                                               chip, table_offset, opts)) < 0)
        return rc;

    if (l->boot.len)
        l->regions[l->n++] =
            (eg_region){chip->bootloader_offset, "bootloader", l->boot.data, l->boot.len};
    l->regions[l->n++] =
        (eg_region){table_offset, "partition table", l->table_bin.data, l->table_bin.len};
    l->regions[l->n++] = (eg_region){l->app_part->offset, elf_path, l->app.data, l->app.len};
    return eg_regions_overlap(l->regions, l->n);
}

void eg_cli_layout_free(eg_cli_layout *l)
{
    eg_partition_table_free(l->table);
    eg_buf_release(&l->app);
    eg_buf_release(&l->boot);
    eg_buf_release(&l->table_bin);
    memset(l, 0, sizeof(*l));
}

/* Erases one partition, saying so. */
static int erase_one(eg_board *b, const eg_partition *p)
{
    int rc = eg_session_flash_erase(b->s, p->offset, p->size);
    if (rc < 0)
        return eg_error_prefix(rc, "erasing partition '%s': ", p->name);
    fprintf(stderr, "Erased partition '%s' (0x%08x, %u bytes)\n", p->name, p->offset, p->size);
    return 0;
}

int eg_cli_erase_parts(eg_board *b, const eg_partition_table *t, const char *names,
                       const char *data_types)
{
    const eg_partition **sel = NULL, **data = NULL;
    size_t n = 0, cap = 0, n_data = 0;
    int rc = 0;

    /* Every name is looked up before anything is erased. */
    if (names) {
        char *copy = strdup(names), *save = NULL;
        if (!copy)
            return eg_error_set(EG_ENOMEM, "out of memory");
        for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
            while (*s == ' ')
                s++;
            size_t len = strlen(s);
            while (len && s[len - 1] == ' ')
                s[--len] = 0;
            if (!*s)
                continue;
            const eg_partition *p = eg_partition_find_name(t, s);
            if (!p) {
                rc = eg_error_set(EG_ENOTFOUND, "no partition named '%s' in the table", s);
                break;
            }
            if (n == cap) {
                const eg_partition **grown = realloc(sel, (cap = cap ? cap * 2 : 8) * sizeof(*sel));
                if (!grown) {
                    rc = eg_error_set(EG_ENOMEM, "out of memory");
                    break;
                }
                sel = grown;
            }
            sel[n++] = p;
        }
        free(copy);
    }
    /* So are the data subtypes. */
    if (rc == 0 && data_types && (rc = eg_partition_select_data(&data, &n_data, t, data_types)) < 0)
        rc = eg_error_prefix(rc, "--erase-data-parts: ");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = erase_one(b, sel[i]);
    for (size_t i = 0; i < n_data && rc == 0; i++)
        rc = erase_one(b, data[i]);
    free(sel);
    free(data);
    return rc;
}
