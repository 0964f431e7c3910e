/* flash ELF: the app image, the partition table and the bootloader, written and
 * verified; everything that could make the board refuse the app is checked before a
 * byte is written. The plan is built before connecting when the chip and the flash
 * size are known (--chip or the ELF's metadata, and -s), else once the board has said
 * what it is. */
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
    eg_cli_job *j;
    const char *elf_path;
    eg_elf *elf;
    const eg_chip *chip; /* --chip, else the ELF's metadata; NULL: the board's */
    char chip_from[600];
    uint32_t table_offset;
    eg_buf boot, table; /* --bootloader and --partition-table, read up front */
    eg_plan *late;      /* the plan built once the board is known */
} flash_ctx;

/* The layout for chip and a flash of flash_size bytes, into a new plan. */
static int build(eg_plan **out, flash_ctx *c, const eg_chip *chip, uint32_t flash_size)
{
    const eg_args *a = c->a;
    eg_plan_app app = {0};
    eg_plan_opts po = c->j->po;
    eg_plan *p = NULL;
    int rc;

    *out = NULL;
    po.chip = chip;
    if ((rc = eg_plan_new(&p, &po)) < 0)
        return rc;
    if (c->chip)
        p->chip_from = c->chip_from;
    p->ignore_revision = a->count[OPT_FORCE] > 0;
    if ((rc = eg_cli_image_opts(&app.opts, a, chip, flash_size)) < 0)
        goto done;
    if (!a->val[OPT_MIN_CHIP_REV] && c->elf->min_chip_revision >= 0)
        app.opts.min_rev_full = (uint16_t)c->elf->min_chip_revision;
    app.flash_size = flash_size;
    app.elf = c->elf;
    app.app_path = c->elf_path;
    app.boot_mode = app.opts.flash_mode;
    app.boot_size = app.opts.flash_size_code;
    app.boot_freq = app.opts.flash_freq_code;
    if (c->boot.len) {
        app.bootloader = c->boot.data;
        app.bootloader_len = c->boot.len;
        app.bootloader_path = a->val[OPT_BOOTLOADER];
    }
    if (c->table.len) {
        app.table = c->table.data;
        app.table_len = c->table.len;
        app.table_path = a->val[OPT_PARTITION_TABLE];
    }
    app.table_offset = c->table_offset;
    app.target_app_partition = a->val[OPT_TARGET_APP_PARTITION];
    if ((rc = eg_plan_layout_app(p, &app)) < 0)
        goto done;
    if ((a->val[OPT_ERASE_PARTS] || a->val[OPT_ERASE_DATA_PARTS]) &&
        (rc = eg_plan_erase_parts(p, a->val[OPT_ERASE_PARTS], a->val[OPT_ERASE_DATA_PARTS])) < 0)
        goto done;
    rc = eg_plan_finish(p);
done:
    if (rc < 0)
        eg_plan_free(p);
    else
        *out = p;
    return rc;
}

/* The board is known: its chip (unless one was expected) and its flash size (unless
 * -s gave one) complete the plan. */
static int replan(void *ctx, const eg_device *d, const eg_plan **out)
{
    flash_ctx *c = ctx;
    uint32_t size = d->flash_size;
    uint8_t code;
    int rc;

    if (c->a->val[OPT_FLASH_SIZE] &&
        eg_flash_size_parse(&size, &code, c->a->val[OPT_FLASH_SIZE]) < 0)
        return EG_EINVAL;
    if (!size)
        return eg_error_set(EG_EINVAL, "the flash size is unknown: give it with --flash-size");
    if ((rc = build(&c->late, c, c->chip ? c->chip : d->chip, size)) < 0)
        return rc;
    *out = c->late;
    return 0;
}

static int flash_elf(flash_ctx *c)
{
    const eg_args *a = c->a;
    eg_plan *plan = NULL;
    int rc;

    if (a->val[OPT_BOOTLOADER] && eg_buf_read_file(&c->boot, a->val[OPT_BOOTLOADER]) < 0)
        return eg_cli_fail("bootloader: %s", eg_error_msg());
    if (a->val[OPT_PARTITION_TABLE] && eg_buf_read_file(&c->table, a->val[OPT_PARTITION_TABLE]) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (c->chip && a->val[OPT_FLASH_SIZE]) {
        uint32_t size;
        uint8_t code;
        if (eg_flash_size_parse(&size, &code, a->val[OPT_FLASH_SIZE]) < 0 ||
            build(&plan, c, c->chip, size) < 0)
            return eg_cli_fail("%s", eg_error_msg());
    } else {
        /* Connect first: the layout needs the board's chip or flash size. */
        eg_plan_opts po = c->j->po;
        po.chip = c->chip;
        if (eg_plan_new(&plan, &po) < 0)
            return eg_cli_fail("%s", eg_error_msg());
        if (c->chip)
            plan->chip_from = c->chip_from;
        c->j->jo.replan = replan;
        c->j->jo.ctx = c;
    }
    rc = eg_cli_run(c->j, plan);
    eg_plan_free(plan);
    eg_plan_free(c->late);
    return rc;
}

/* Options that name what --ram does not write. */
static const int not_with_ram[] = {
    OPT_BOOTLOADER,           OPT_PARTITION_TABLE, OPT_PARTITION_TABLE_OFFSET,
    OPT_TARGET_APP_PARTITION, OPT_ERASE_PARTS,     OPT_ERASE_DATA_PARTS,
    OPT_FLASH_MODE,           OPT_FLASH_FREQ};

/* flash --ram: the ELF's sections go into RAM through the ROM loader (the flasher stub
 * lives in the RAM the app may need), which then jumps to the entry point; the flash
 * is not touched and the board is not reset after. */
static int flash_ram(flash_ctx *c)
{
    eg_image_opts opts;
    eg_plan *plan = NULL;
    int rc;

    if (eg_cli_refuse_opts(c->cmd, c->a, not_with_ram,
                           sizeof(not_with_ram) / sizeof(not_with_ram[0]),
                           "--ram, which leaves the flash alone"))
        return EG_EXIT_USAGE;
    c->j->po.no_stub = 1;
    c->j->po.chip = c->chip;
    if (eg_cli_image_opts(&opts, c->a, c->chip, 0) < 0 || eg_plan_new(&plan, &c->j->po) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (c->chip)
        plan->chip_from = c->chip_from;
    plan->ignore_revision = c->a->count[OPT_FORCE] > 0;
    plan->min_rev_full = c->a->val[OPT_MIN_CHIP_REV]      ? opts.min_rev_full
                         : c->elf->min_chip_revision >= 0 ? (uint16_t)c->elf->min_chip_revision
                                                          : 0;
    snprintf(plan->rev_what, sizeof(plan->rev_what), "the app");
    if (eg_plan_ram(plan, c->elf, c->elf_path) < 0 || eg_plan_finish(plan) < 0) {
        eg_plan_free(plan);
        return eg_cli_fail("%s", eg_error_msg());
    }
    rc = eg_cli_run(c->j, plan);
    if (rc == EG_EXIT_OK)
        fprintf(stderr, "Running '%s' from RAM (entry 0x%08x)\n", c->elf_path, c->elf->entry);
    eg_plan_free(plan);
    return rc;
}

int cmd_flash(const eg_command *cmd, eg_args *a)
{
    eg_cli_job j;
    eg_cli_monitor mon = {0};
    flash_ctx c = {cmd, a, &j, NULL, NULL, NULL, "", 0, EG_BUF_INIT, EG_BUF_INIT, NULL};
    const eg_chip *elf_chip = NULL;
    int rc;

    if (a->val[OPT_IDF_BUILD]) {
        if (a->npos)
            return eg_cli_usage(cmd, "flash: give either an ELF or --idf-build DIR, not both");
        if ((rc = eg_cli_monitor_setup(&mon, cmd, a, NULL)) != 0) {
            eg_cli_monitor_release(&mon);
            return rc;
        }
        return eg_cli_monitor_after(&mon, cmd, a, eg_cli_flash_idf_build(cmd, a));
    }
    if (a->npos != 1)
        return eg_cli_usage(cmd, "flash: which ELF? (or --idf-build DIR)");
    c.elf_path = a->pos[0];
    /* espflash.toml's layout and flash settings (not for --ram, which writes no flash). */
    if (!a->count[OPT_RAM] && (rc = eg_cli_config_image_defaults(cmd, a)) != 0)
        return rc;
    if (eg_cli_table_offset(&c.table_offset, cmd, a) < 0)
        return EG_EXIT_USAGE;
    /* The ELF and the monitor's options are checked before a port is chosen (which may
     * ask); the monitor decodes with the ELF just flashed unless --elf names another. */
    if (eg_elf_load(&c.elf, c.elf_path) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if ((rc = eg_cli_monitor_setup(&mon, cmd, a, c.elf_path)) != 0)
        goto done;
    /* A RAM app runs until the next reset: the monitor leaves the board alone. */
    if (a->count[OPT_RAM])
        mon.reset = 0;
    if ((rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_FLASH)) != 0)
        goto done;
    eg_cli_write_opts(&j, a);
    /* What can be told from the ELF alone is told before the board is touched. */
    if (eg_cli_elf_chip(&elf_chip, c.elf, c.elf_path, j.chip) < 0) {
        rc = eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    c.chip = j.chip ? j.chip : elf_chip;
    if (j.chip)
        snprintf(c.chip_from, sizeof(c.chip_from), "given with --chip");
    else
        snprintf(c.chip_from, sizeof(c.chip_from), "'%.550s' was built for", c.elf_path);
    if ((rc = eg_cli_flash_opts_early(cmd, a, c.chip)) != 0) {
        /* printed */
    } else if (a->count[OPT_RAM]) {
        rc = flash_ram(&c);
    } else if (!a->count[OPT_IGNORE_APP_DESC] && eg_image_check_app_desc(c.elf, c.chip) < 0) {
        rc = eg_cli_fail("'%s': %s", c.elf_path, eg_error_msg());
    } else {
        rc = flash_elf(&c);
    }
done:
    eg_buf_release(&c.boot);
    eg_buf_release(&c.table);
    eg_elf_free(c.elf);
    return eg_cli_monitor_after(&mon, cmd, a, rc);
}
