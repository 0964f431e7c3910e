/* flash --idf-build DIR: writes what an ESP-IDF build directory's flasher_args.json
 * lists (flash_files at their offsets) with the flash settings and chip it names. Every
 * file is read and checked before the board is touched. */
#include "cli/cmds.h"

#include "core/error.h"
#include "image/idf_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct idf_ctx {
    eg_args *a;
    eg_idf_build *build;
    uint32_t table_offset;
    eg_cli_write_opts wopts;
} idf_ctx;

/* The flash settings to put in the bootloader's header: the command line's, else the
 * build's; "keep" leaves a field alone, "detect" takes the board's size. */
static int settings(int *mode, int *size, int *freq, const idf_ctx *d, const eg_board *b)
{
    const eg_args *a = d->a;
    const char *m = a->val[OPT_FLASH_MODE] ? a->val[OPT_FLASH_MODE] : d->build->flash_mode;
    const char *f = a->val[OPT_FLASH_FREQ] ? a->val[OPT_FLASH_FREQ] : d->build->flash_freq;
    const char *s = a->val[OPT_FLASH_SIZE] ? a->val[OPT_FLASH_SIZE] : d->build->flash_size;
    uint8_t v;
    uint32_t bytes;

    *mode = *size = *freq = -1;
    if (m && strcmp(m, "keep")) {
        if (eg_flash_mode_parse(&v, m) < 0)
            return EG_EINVAL;
        *mode = v;
    }
    if (f && strcmp(f, "keep")) {
        if (eg_flash_freq_parse(&v, b->chip, f) < 0)
            return eg_error_prefix(EG_EINVAL, "flash frequency: ");
        *freq = v;
    }
    if (s && strcmp(s, "keep")) {
        if (strcmp(s, "detect") == 0) {
            if (!b->flash_size)
                return eg_error_set(EG_EINVAL, "the build asks for the detected flash size, "
                                               "and the board's is unknown: give --flash-size");
            if (eg_flash_size_code(&v, b->flash_size) < 0)
                return EG_EINVAL;
        } else if (eg_flash_size_parse(&bytes, &v, s) < 0) {
            return EG_EINVAL;
        }
        *size = v;
    }
    return 0;
}

/* The image at off must be a valid one for the board's chip; for the app, the board's
 * revision must be one the app accepts. */
static int check_image(const idf_ctx *d, const eg_idf_file *f, const eg_board *b, int is_app)
{
    eg_image_info info;
    char what[512];
    int rc;

    if ((rc = eg_image_parse(&info, f->data.data, f->data.len)) < 0)
        return eg_error_prefix(rc, "'%s' at 0x%x: ", f->path, f->addr);
    if (!eg_image_valid(&info))
        return eg_error_set(EG_EINVAL, "'%s' at 0x%x: its checksum or SHA-256 does not match",
                            f->path, f->addr);
    if (info.chip_id != b->chip->image_chip_id)
        return eg_error_set(EG_EMISMATCH, "'%s' at 0x%x is an image for chip id %u, not %s",
                            f->path, f->addr, info.chip_id, b->chip->name);
    if (!is_app)
        return 0;
    snprintf(what, sizeof(what), "'%s'", f->path);
    return eg_cli_check_revision(d->a, b, info.min_rev_full, info.max_rev_full, what);
}

/* The build's partition table (the file at the table offset), checked for this board's
 * flash; *out NULL when the build flashes none. The app must sit at the start of an
 * app partition and fit it. */
static int build_table(eg_partition_table **out, const idf_ctx *d, const eg_board *b)
{
    const eg_idf_build *build = d->build;
    const eg_idf_file *pt = NULL, *app = NULL;
    eg_partition_opts popts;
    size_t n;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < build->n_files; i++) {
        if (build->files[i].addr == d->table_offset)
            pt = &build->files[i];
        if (build->files[i].addr == build->app_offset)
            app = &build->files[i];
    }
    if (!pt)
        return 0;
    eg_partition_opts_default(&popts);
    popts.table_offset = d->table_offset;
    popts.flash_size = b->flash_size;
    popts.bootloader_offset = b->chip->bootloader_offset;
    if ((rc = eg_partition_parse_bin(out, pt->data.data, pt->data.len, pt->path, &popts)) < 0)
        return rc;
    if (!app)
        return 0;
    const eg_partition *e = eg_partition_entries(*out, &n), *in = NULL;
    for (size_t i = 0; i < n; i++)
        if (e[i].type == EG_PARTITION_TYPE_APP && e[i].offset == app->addr)
            in = &e[i];
    if (!in)
        return eg_error_set(EG_EINVAL,
                            "'%s' at 0x%x is not at the start of an app partition of "
                            "'%s'",
                            app->path, app->addr, pt->path);
    if (app->data.len > in->size)
        return eg_error_set(EG_EINVAL, "'%s' (%zu bytes) does not fit partition '%s' (%u bytes)",
                            app->path, app->data.len, in->name, in->size);
    return 0;
}

static int do_idf(eg_board *b, void *vctx)
{
    idf_ctx *d = vctx;
    const eg_idf_build *build = d->build;
    eg_region regions[EG_IDF_MAX_FILES];
    eg_partition_table *table = NULL;
    int mode, size, freq, rc;

    if (build->bootloader_offset != EG_IDF_NONE &&
        build->bootloader_offset != b->chip->bootloader_offset)
        return eg_error_set(EG_EMISMATCH,
                            "%s puts the bootloader at 0x%x, but the %s boots from 0x%x: is the "
                            "build for this chip?",
                            build->json_path, build->bootloader_offset, b->chip->name,
                            b->chip->bootloader_offset);
    if ((rc = settings(&mode, &size, &freq, d, b)) < 0)
        return eg_error_prefix(rc, "flash settings: ");
    for (size_t i = 0; i < build->n_files; i++) {
        eg_idf_file *f = &build->files[i];
        regions[i] = (eg_region){f->addr, f->path, f->data.data, f->data.len};
        if (f->addr == b->chip->bootloader_offset) {
            if ((rc = check_image(d, f, b, 0)) < 0)
                return rc;
            if ((rc = eg_cli_patch_bootloader(f->path, f->data.data, f->data.len, mode, size,
                                              freq)) < 0)
                return rc;
        } else if (f->addr == build->app_offset && (rc = check_image(d, f, b, 1)) < 0) {
            return rc;
        }
    }
    if ((rc = eg_regions_overlap(regions, build->n_files)) < 0)
        return rc;
    for (size_t i = 0; i < build->n_files; i++)
        if ((rc = eg_cli_check_range(b, regions[i].addr, regions[i].len)) < 0)
            return eg_error_prefix(rc, "'%s': ", regions[i].label);
    if ((rc = build_table(&table, d, b)) < 0)
        return rc;
    if (d->a->val[OPT_ERASE_PARTS] || d->a->val[OPT_ERASE_DATA_PARTS]) {
        if (!table)
            rc = eg_error_set(EG_EINVAL, "--%s: the build flashes no partition table at 0x%x",
                              d->a->val[OPT_ERASE_PARTS] ? "erase-parts" : "erase-data-parts",
                              d->table_offset);
        else
            rc = eg_cli_erase_parts(b, table, d->a->val[OPT_ERASE_PARTS],
                                    d->a->val[OPT_ERASE_DATA_PARTS]);
    }
    eg_partition_table_free(table);
    if (rc < 0)
        return rc;
    return eg_cli_write_regions(b, regions, (int)build->n_files, &d->wopts);
}

/* Options that --idf-build takes from the build instead. */
static const int not_with_idf[] = {
    OPT_BOOTLOADER,   OPT_PARTITION_TABLE, OPT_TARGET_APP_PARTITION, OPT_RAM,
    OPT_MIN_CHIP_REV, OPT_MMU_PAGE_SIZE,   OPT_IGNORE_APP_DESC};

/* The chip, --before, --after and the stub from extra_esptool_args, where the command
 * line does not say; --chip must agree with the build's chip. */
static int apply_extra(eg_args *a, const eg_idf_build *build)
{
    if (build->chip) {
        const eg_chip *c = eg_chip_by_name(build->chip);
        if (!c)
            return eg_error_set(EG_EINVAL,
                                "%s: the build is for chip '%s', which espgang does "
                                "not know",
                                build->json_path, build->chip);
        if (a->val[OPT_CHIP] && eg_chip_by_name(a->val[OPT_CHIP]) != c)
            return eg_error_set(EG_EMISMATCH, "%s: the build is for %s, not %s", build->json_path,
                                c->name, a->val[OPT_CHIP]);
        a->val[OPT_CHIP] = build->chip;
    }
    if (build->before && !a->val[OPT_BEFORE])
        a->val[OPT_BEFORE] = build->before;
    if (build->after && !a->val[OPT_AFTER])
        a->val[OPT_AFTER] = build->after;
    if (build->stub == 0)
        a->count[OPT_NO_STUB] = 1;
    return 0;
}

int eg_cli_flash_idf_build(const eg_command *cmd, eg_args *a)
{
    idf_ctx d = {a, NULL, 0, {0}};
    uint8_t freq;
    int rc;

    if (eg_cli_refuse_opts(cmd, a, not_with_idf, sizeof(not_with_idf) / sizeof(not_with_idf[0]),
                           "--idf-build, which flashes what the build lists"))
        return EG_EXIT_USAGE;
    if (eg_cli_table_offset(&d.table_offset, cmd, a) < 0 ||
        eg_cli_flash_opts_early(cmd, a, NULL) != 0)
        return EG_EXIT_USAGE;
    eg_cli_write_opts_from_args(&d.wopts, a);
    if (eg_idf_build_load(&d.build, a->val[OPT_IDF_BUILD]) < 0 || apply_extra(a, d.build) < 0) {
        rc = eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    /* The build's flash frequency, checked before the board is touched when the build
     * names its chip. */
    if (d.build->chip && d.build->flash_freq && !a->val[OPT_FLASH_FREQ] &&
        strcmp(d.build->flash_freq, "keep") &&
        eg_flash_freq_parse(&freq, eg_chip_by_name(d.build->chip), d.build->flash_freq) < 0) {
        rc = eg_cli_fail("%s: flash_settings: %s", d.build->json_path, eg_error_msg());
        goto done;
    }
    if (d.build->table_offset != EG_IDF_NONE && !a->val[OPT_PARTITION_TABLE_OFFSET])
        d.table_offset = d.build->table_offset;
    rc = eg_cli_with_board(a, 1, do_idf, &d);
done:
    eg_idf_build_free(d.build);
    return rc;
}
