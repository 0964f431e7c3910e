#include "cli/cmds.h"

#include "core/error.h"
#include "image/elf.h"

#include <stdio.h>

int cmd_save_image(const eg_command *cmd, eg_args *a)
{
    const char *elf_path = a->pos[0], *out_path = a->pos[1];
    const eg_chip *chip;
    eg_image_opts opts;
    eg_elf *elf = NULL;
    eg_buf img = EG_BUF_INIT;
    int rc, exit_code = EG_EXIT_FAIL;

    if (!a->val[OPT_CHIP])
        return eg_cli_usage(cmd, "%s: give the chip the image is for with --chip (%s)", cmd->name,
                            eg_chip_names());
    if (!(chip = eg_chip_by_name(a->val[OPT_CHIP])))
        return eg_cli_usage(cmd, "%s: unknown chip '%s' (%s)", cmd->name, a->val[OPT_CHIP],
                            eg_chip_names());
    if (eg_cli_image_opts(&opts, cmd, a, chip, 0) < 0)
        return EG_EXIT_USAGE;
    if ((rc = eg_elf_load(&elf, elf_path)) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if (elf->chip_name) {
        const eg_chip *built_for = eg_chip_by_name(elf->chip_name);
        if (!built_for) {
            eg_cli_fail("'%s' was built for '%s', which espgang does not know", elf_path,
                        elf->chip_name);
            goto done;
        }
        if (built_for != chip) {
            eg_cli_fail("'%s' was built for %s, not %s", elf_path, built_for->name, chip->name);
            goto done;
        }
    }
    if ((rc = eg_image_from_elf(&img, elf, chip, &opts)) < 0) {
        eg_cli_fail("'%s': %s", elf_path, eg_error_msg());
        goto done;
    }
    if ((rc = eg_file_write_atomic(out_path, img.data, img.len)) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    printf("Saved %s image of '%s' to '%s' (%zu bytes)\n", chip->name, elf_path, out_path, img.len);
    exit_code = EG_EXIT_OK;
done:
    eg_buf_release(&img);
    eg_elf_free(elf);
    return exit_code;
}
