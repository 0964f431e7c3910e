/* The image options shared by save-image and flash. */
#include "cli/cmds.h"

#include "core/error.h"
#include "core/num.h"

#include <stdlib.h>
#include <string.h>

/* "3.1" or "v3.1": major.minor, as espflash takes it, into major * 100 + minor. A bare
 * number is refused: "1" is no more v0.1 than v1.0. */
static int parse_rev(uint16_t *out, const char *s)
{
    char *end;
    unsigned long major, minor;

    if (*s == 'v' || *s == 'V')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    major = strtoul(s, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9')
        return -1;
    const char *m = end + 1;
    minor = strtoul(m, &end, 10);
    if (*end || minor > 99 || major > 655)
        return -1;
    *out = (uint16_t)(major * 100 + minor);
    return 0;
}

int eg_cli_image_opts(eg_image_opts *out, const eg_args *a, const eg_chip *chip,
                      uint32_t flash_size)
{
    eg_image_opts_default(out);
    if (a->val[OPT_FLASH_MODE] && eg_flash_mode_parse(&out->flash_mode, a->val[OPT_FLASH_MODE]) < 0)
        return EG_EINVAL;
    if (a->val[OPT_FLASH_SIZE]) {
        uint32_t size;
        if (eg_flash_size_parse(&size, &out->flash_size_code, a->val[OPT_FLASH_SIZE]) < 0)
            return EG_EINVAL;
    } else if (flash_size && eg_flash_size_code(&out->flash_size_code, flash_size) < 0) {
        return EG_EINVAL;
    }
    if (a->val[OPT_FLASH_FREQ] && chip &&
        eg_flash_freq_parse(&out->flash_freq_code, chip, a->val[OPT_FLASH_FREQ]) < 0)
        return EG_EINVAL;
    if (a->val[OPT_MIN_CHIP_REV] && parse_rev(&out->min_rev_full, a->val[OPT_MIN_CHIP_REV]) < 0)
        return eg_error_set(EG_EINVAL,
                            "--min-chip-rev '%s' is not a revision: give major.minor (0.3, v1.0)",
                            a->val[OPT_MIN_CHIP_REV]);
    if (a->val[OPT_MMU_PAGE_SIZE]) {
        uint64_t v;
        if (eg_num_parse(&v, a->val[OPT_MMU_PAGE_SIZE], 0x10000) < 0)
            return eg_error_prefix(EG_EINVAL, "--mmu-page-size: ");
        out->mmu_page_size = (uint32_t)v;
    }
    out->require_app_desc = !a->count[OPT_IGNORE_APP_DESC];
    return 0;
}

int eg_cli_flash_opts_early(const eg_command *cmd, const eg_args *a, const eg_chip *chip)
{
    eg_image_opts opts;

    if (!chip && a->val[OPT_CHIP])
        chip = eg_chip_by_name(a->val[OPT_CHIP]);
    if (eg_cli_image_opts(&opts, a, chip, 0) < 0)
        return eg_cli_usage(cmd, "%s: %s", cmd->name, eg_error_msg());
    return 0;
}

int eg_cli_elf_chip(const eg_chip **out, const eg_elf *elf, const char *path, const eg_chip *want)
{
    *out = NULL;
    if (!elf->chip_name)
        return 0;
    if (!(*out = eg_chip_by_name(elf->chip_name)))
        return eg_error_set(EG_EINVAL, "'%s' was built for '%s', which espgang does not know", path,
                            elf->chip_name);
    if (want && *out != want)
        return eg_error_set(EG_EMISMATCH, "'%s' was built for %s, not %s", path, (*out)->name,
                            want->name);
    return 0;
}

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
