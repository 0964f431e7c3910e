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
    const eg_chip *elf_chip; /* from its metadata; NULL when it names none */
    uint32_t table_offset;
    eg_cli_write_opts wopts;
} flash_ctx;

/* The chip named in the ELF's metadata, and the revisions the app accepts. */
static int check_target(const flash_ctx *c, const eg_board *b, const eg_image_opts *opts)
{
    if (c->elf_chip && c->elf_chip != b->chip)
        return eg_error_set(EG_EMISMATCH, "'%s' was built for %s, but the board is %s", c->elf_path,
                            c->elf_chip->name, b->chip->name);
    return eg_cli_check_revision(c->a, b, opts->min_rev_full, opts->max_rev_full, "the app");
}

/* With no --bootloader the board's own is kept: it must be a valid image for the chip,
 * or the app would never start. */
static int check_board_bootloader(const flash_ctx *c, eg_board *b)
{
    uint32_t off = b->chip->bootloader_offset, gap = c->table_offset - off;
    eg_buf boot = EG_BUF_INIT;
    eg_image_info info;
    int rc;

    /* The header first: an erased or foreign flash shows there, without reading the
     * whole gap up to the table. */
    if ((rc = eg_session_flash_read(&boot, b->s, off, gap < 0x1000 ? gap : 0x1000)) < 0)
        return eg_error_prefix(rc, "reading the bootloader at 0x%x: ", off);
    rc = boot.len >= EG_IMAGE_HEADER_LEN && boot.data[0] == EG_IMAGE_MAGIC &&
                 eg_get_u16le(boot.data + 12) == b->chip->image_chip_id
             ? 0
             : EG_EINVAL;
    /* Then the rest, appended. */
    if (rc == 0 && gap > boot.len &&
        (rc = eg_session_flash_read(&boot, b->s, off + (uint32_t)boot.len,
                                    gap - (uint32_t)boot.len)) < 0) {
        eg_buf_release(&boot);
        return eg_error_prefix(rc, "reading the bootloader at 0x%x: ", off);
    }
    if (rc == 0)
        rc = eg_image_parse(&info, boot.data, boot.len) < 0 || !eg_image_valid(&info) ? EG_EINVAL
                                                                                      : 0;
    eg_buf_release(&boot);
    if (rc < 0)
        return eg_error_set(
            EG_EINVAL,
            "the board has no valid %s bootloader at 0x%x: give one with "
            "--bootloader FILE (ESP-IDF builds it as build/bootloader/bootloader.bin)",
            b->chip->name, off);
    return 0;
}

static int do_flash(eg_board *b, void *vctx)
{
    flash_ctx *c = vctx;
    eg_image_opts opts;
    eg_cli_layout l;
    int rc;

    if (!b->flash_size)
        return eg_error_set(EG_EINVAL, "the flash size is unknown: give it with --flash-size");
    if ((rc = eg_cli_image_opts(&opts, c->a, b->chip, b->flash_size)) < 0)
        return rc;
    if (!c->a->val[OPT_MIN_CHIP_REV] && c->elf->min_chip_revision >= 0)
        opts.min_rev_full = (uint16_t)c->elf->min_chip_revision;
    if ((rc = check_target(c, b, &opts)) < 0)
        return rc;
    rc = eg_cli_layout_build(&l, c->a, b->chip, b->flash_size, c->elf, c->elf_path, &opts,
                             c->table_offset);
    if (rc == 0 && !l.boot.len)
        rc = check_board_bootloader(c, b);
    for (int i = 0; rc == 0 && i < l.n; i++)
        if ((rc = eg_cli_check_range(b, l.regions[i].addr, l.regions[i].len)) < 0)
            rc = eg_error_prefix(rc, "%s: ", l.regions[i].label);
    if (rc == 0)
        rc = eg_cli_erase_parts(b, l.table, c->a->val[OPT_ERASE_PARTS],
                                c->a->val[OPT_ERASE_DATA_PARTS]);
    if (rc == 0)
        rc = eg_cli_write_regions(b, l.regions, l.n, &c->wopts);
    eg_cli_layout_free(&l);
    return rc;
}

/* --ram needs an ELF with nothing mapped from flash. */
static int check_ram_only(const flash_ctx *c, const eg_chip *chip)
{
    if (c->elf->machine != chip->elf_machine)
        return eg_error_set(EG_EMISMATCH, "'%s' is not built for %s (ELF machine %u)", c->elf_path,
                            chip->name, c->elf->machine);
    for (size_t i = 0; i < c->elf->n_sections; i++) {
        const eg_elf_section *sec = &c->elf->sections[i];
        if (eg_chip_addr_in_flash(chip, sec->addr))
            return eg_error_set(EG_EINVAL,
                                "'%s' cannot run from RAM: section %s is mapped from flash "
                                "(0x%08x); link everything into RAM, or flash it without --ram",
                                c->elf_path, sec->name, sec->addr);
    }
    return 0;
}

/* flash --ram: the ELF's sections go into RAM through the ROM loader, which then jumps
 * to the entry point; the flash is not touched. */
static int do_ram(eg_board *b, void *vctx)
{
    flash_ctx *c = vctx;
    eg_image_opts opts;
    int rc;

    if ((rc = eg_cli_image_opts(&opts, c->a, b->chip, 0)) < 0)
        return rc;
    if (!c->a->val[OPT_MIN_CHIP_REV] && c->elf->min_chip_revision >= 0)
        opts.min_rev_full = (uint16_t)c->elf->min_chip_revision;
    if ((rc = check_target(c, b, &opts)) < 0 || (rc = check_ram_only(c, b->chip)) < 0)
        return rc;
    for (size_t i = 0; i < c->elf->n_sections; i++) {
        const eg_elf_section *sec = &c->elf->sections[i];
        if ((rc = eg_session_mem_write(b->s, sec->data, sec->size, sec->addr)) < 0)
            return eg_error_prefix(rc, "loading section %s into RAM: ", sec->name);
        fprintf(stderr, "Loaded %s (%u bytes) at 0x%08x\n", sec->name, sec->size, sec->addr);
    }
    rc = eg_session_mem_run(b->s, c->elf->entry);
    /* The ROM may jump before its answer is out. */
    if (rc == EG_ETIMEDOUT)
        rc = 0;
    if (rc < 0)
        return eg_error_prefix(rc, "starting the code at 0x%08x: ", c->elf->entry);
    fprintf(stderr, "Running '%s' from RAM (entry 0x%08x)\n", c->elf_path, c->elf->entry);
    /* A reset would end it. */
    b->after = EG_AFTER_NO_RESET;
    return 0;
}

/* Options that name what --ram does not write. */
static const int not_with_ram[] = {
    OPT_BOOTLOADER,           OPT_PARTITION_TABLE, OPT_PARTITION_TABLE_OFFSET,
    OPT_TARGET_APP_PARTITION, OPT_ERASE_PARTS,     OPT_ERASE_DATA_PARTS,
    OPT_FLASH_MODE,           OPT_FLASH_FREQ};

static int flash_ram(flash_ctx *c, eg_args *a)
{
    if (eg_cli_refuse_opts(c->cmd, a, not_with_ram, sizeof(not_with_ram) / sizeof(not_with_ram[0]),
                           "--ram, which leaves the flash alone"))
        return EG_EXIT_USAGE;
    const eg_chip *chip = c->elf_chip;
    if (!chip && a->val[OPT_CHIP])
        chip = eg_chip_by_name(a->val[OPT_CHIP]);
    if (chip && check_ram_only(c, chip) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    /* The flasher stub lives in RAM the app may need: stay with the ROM loader. */
    a->count[OPT_NO_STUB] = 1;
    return eg_cli_with_board(a, 0, do_ram, c);
}

int cmd_flash(const eg_command *cmd, eg_args *a)
{
    flash_ctx c = {cmd, a, NULL, NULL, NULL, 0, {0}};
    int rc;

    if (a->val[OPT_IDF_BUILD]) {
        if (a->npos)
            return eg_cli_usage(cmd, "flash: give either an ELF or --idf-build DIR, not both");
        return eg_cli_flash_idf_build(cmd, a);
    }
    if (a->npos != 1)
        return eg_cli_usage(cmd, "flash: which ELF? (or --idf-build DIR)");
    c.elf_path = a->pos[0];
    if (eg_cli_table_offset(&c.table_offset, cmd, a) < 0)
        return EG_EXIT_USAGE;
    eg_cli_write_opts_from_args(&c.wopts, a);
    if (eg_elf_load(&c.elf, c.elf_path) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    /* What can be told from the ELF alone is told before the board is touched. */
    if (eg_cli_elf_chip(&c.elf_chip, c.elf, c.elf_path,
                        a->val[OPT_CHIP] ? eg_chip_by_name(a->val[OPT_CHIP]) : NULL) < 0) {
        rc = eg_cli_fail("%s", eg_error_msg());
    } else if ((rc = eg_cli_flash_opts_early(cmd, a, c.elf_chip)) != 0) {
        /* printed */
    } else if (a->count[OPT_RAM]) {
        rc = flash_ram(&c, a);
    } else if (!a->count[OPT_IGNORE_APP_DESC] && !eg_elf_find_section(c.elf, ".flash.appdesc")) {
        rc = eg_cli_fail("'%s' has no app descriptor (section .flash.appdesc), which "
                         "ESP-IDF's bootloader expects: esp-hal apps get one from "
                         "esp_bootloader_esp_idf::esp_app_desc!(); --ignore-app-descriptor "
                         "flashes it anyway",
                         c.elf_path);
    } else {
        rc = eg_cli_with_board(a, 1, do_flash, &c);
    }
    eg_elf_free(c.elf);
    return rc;
}
