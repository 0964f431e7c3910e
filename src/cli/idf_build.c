/* flash --idf-build DIR: writes what an ESP-IDF build directory's flasher_args.json
 * lists (flash_files at their offsets) with the flash settings and chip it names. Every
 * file is read and checked before the board is touched; the plan is built then too,
 * unless it needs the board's chip or flash size. */
#include "cli/cmds.h"

#include "core/error.h"
#include "image/idf_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct idf_ctx {
    eg_args *a;
    eg_cli_job *j;
    eg_idf_build *build;
    uint32_t table_offset;
    eg_plan *late;
} idf_ctx;

/* The flash settings to put in the bootloader's header: the command line's, else the
 * build's; "keep" leaves a field alone, "detect" takes the board's size (flash_size). */
static int settings(int *mode, int *size, int *freq, const idf_ctx *d, const eg_chip *chip,
                    uint32_t flash_size)
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
        if (eg_flash_freq_parse(&v, chip, f) < 0)
            return eg_error_prefix(EG_EINVAL, "flash frequency: ");
        *freq = v;
    }
    if (s && strcmp(s, "keep")) {
        if (strcmp(s, "detect") == 0) {
            if (!flash_size)
                return eg_error_set(EG_EINVAL, "the build asks for the detected flash size, "
                                               "and the board's is unknown: give --flash-size");
            if (eg_flash_size_code(&v, flash_size) < 0)
                return EG_EINVAL;
        } else if (eg_flash_size_parse(&bytes, &v, s) < 0) {
            return EG_EINVAL;
        }
        *size = v;
    }
    return 0;
}

/* True when the settings need the board's flash size. */
static int needs_board_size(const idf_ctx *d)
{
    const char *s = d->a->val[OPT_FLASH_SIZE] ? d->a->val[OPT_FLASH_SIZE] : d->build->flash_size;
    return s && strcmp(s, "detect") == 0;
}

static int build(eg_plan **out, idf_ctx *d, const eg_chip *chip, uint32_t flash_size)
{
    eg_plan_opts po = d->j->po;
    eg_plan *p = NULL;
    int mode, size, freq, rc;

    *out = NULL;
    po.chip = chip;
    if ((rc = eg_plan_new(&p, &po)) < 0)
        return rc;
    p->chip_from = d->j->chip ? "given with --chip" : "the build is for";
    p->ignore_revision = d->a->count[OPT_FORCE] > 0;
    if ((rc = settings(&mode, &size, &freq, d, chip, flash_size)) < 0) {
        rc = eg_error_prefix(rc, "flash settings: ");
        goto done;
    }
    if ((rc = eg_plan_layout_idf(p, d->build, d->table_offset, mode, size, freq)) < 0)
        goto done;
    if (d->a->val[OPT_ERASE_PARTS] || d->a->val[OPT_ERASE_DATA_PARTS]) {
        if (!p->table) {
            rc = eg_error_set(EG_EINVAL, "--%s: the build flashes no partition table at 0x%x",
                              d->a->val[OPT_ERASE_PARTS] ? "erase-parts" : "erase-data-parts",
                              d->table_offset);
            goto done;
        }
        if ((rc = eg_plan_erase_parts(p, d->a->val[OPT_ERASE_PARTS],
                                      d->a->val[OPT_ERASE_DATA_PARTS])) < 0)
            goto done;
    }
    rc = eg_plan_finish(p);
done:
    if (rc < 0)
        eg_plan_free(p);
    else
        *out = p;
    return rc;
}

static int replan(void *ctx, const eg_device *dev, const eg_plan **out)
{
    idf_ctx *d = ctx;
    int rc = build(&d->late, d, d->j->chip ? d->j->chip : dev->chip, dev->flash_size);
    *out = d->late;
    return rc;
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
    eg_cli_job j;
    idf_ctx d = {a, &j, NULL, 0, NULL};
    eg_plan *plan = NULL;
    const eg_chip *chip = NULL;
    uint8_t freq;
    int rc;

    if (eg_cli_refuse_opts(cmd, a, not_with_idf, sizeof(not_with_idf) / sizeof(not_with_idf[0]),
                           "--idf-build, which flashes what the build lists"))
        return EG_EXIT_USAGE;
    if (eg_cli_table_offset(&d.table_offset, cmd, a) < 0 ||
        eg_cli_flash_opts_early(cmd, a, NULL) != 0)
        return EG_EXIT_USAGE;
    if (eg_idf_build_load(&d.build, a->val[OPT_IDF_BUILD]) < 0 || apply_extra(a, d.build) < 0) {
        rc = eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if ((rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_FLASH)) != 0)
        goto done;
    eg_cli_write_opts(&j, a);
    chip = j.chip ? j.chip : d.build->chip ? eg_chip_by_name(d.build->chip) : NULL;
    /* The build's flash frequency, checked before the board is touched when the chip
     * is known. */
    if (chip && d.build->flash_freq && !a->val[OPT_FLASH_FREQ] &&
        strcmp(d.build->flash_freq, "keep") &&
        eg_flash_freq_parse(&freq, chip, d.build->flash_freq) < 0) {
        rc = eg_cli_fail("%s: flash_settings: %s", d.build->json_path, eg_error_msg());
        goto done;
    }
    if (d.build->table_offset != EG_IDF_NONE && !a->val[OPT_PARTITION_TABLE_OFFSET])
        d.table_offset = d.build->table_offset;
    if (chip && !needs_board_size(&d)) {
        if (build(&plan, &d, chip, 0) < 0) {
            rc = eg_cli_fail("%s", eg_error_msg());
            goto done;
        }
    } else {
        eg_plan_opts po = j.po;
        po.chip = chip;
        if (eg_plan_new(&plan, &po) < 0) {
            rc = eg_cli_fail("%s", eg_error_msg());
            goto done;
        }
        plan->chip_from = j.chip ? "given with --chip" : "the build is for";
        j.jo.replan = replan;
        j.jo.ctx = &d;
    }
    rc = eg_cli_run(&j, plan);
done:
    eg_plan_free(plan);
    eg_plan_free(d.late);
    eg_idf_build_free(d.build);
    return rc;
}
