#include "cli/cmds.h"

#include "core/error.h"
#include "image/elf.h"

#include <stdio.h>

int cmd_save_image(const eg_command *cmd, eg_args *a)
{
    const char *elf_path = a->pos[0], *out_path = a->pos[1];
    const eg_chip *chip, *built_for;
    eg_image_opts opts;
    eg_elf *elf = NULL;
    eg_buf img = EG_BUF_INIT, boot = EG_BUF_INIT, table = EG_BUF_INIT;
    eg_plan *plan = NULL;
    eg_plan_opts po = {cmd->name, NULL, 1, NULL, -1, NULL, eg_cli_log_events(a)};
    eg_plan_app app = {0};
    uint32_t flash_size, table_offset;
    int rc, exit_code = EG_EXIT_FAIL;

    if ((rc = eg_cli_config_image_defaults(cmd, a)) != 0)
        return rc;
    if (!a->val[OPT_CHIP])
        return eg_cli_usage(cmd, "%s: give the chip the image is for with --chip (%s)", cmd->name,
                            eg_chip_names());
    if (!(chip = eg_chip_by_name(a->val[OPT_CHIP])))
        return eg_cli_usage(cmd, "%s: unknown chip '%s' (%s)", cmd->name, a->val[OPT_CHIP],
                            eg_chip_names());
    if (eg_cli_image_opts(&opts, a, chip, 0) < 0)
        return eg_cli_usage(cmd, "%s: %s", cmd->name, eg_error_msg());
    if (a->val[OPT_BOOTLOADER] && !a->count[OPT_MERGE])
        return eg_cli_usage(cmd,
                            "%s: --bootloader goes with --merge (the app image alone has "
                            "no bootloader)",
                            cmd->name);
    if (a->count[OPT_SKIP_PADDING] && !a->count[OPT_MERGE])
        return eg_cli_usage(cmd, "%s: --skip-padding goes with --merge", cmd->name);
    if (a->count[OPT_MERGE] && !a->val[OPT_BOOTLOADER])
        return eg_cli_usage(cmd,
                            "%s: --merge needs the bootloader: give it with --bootloader FILE "
                            "(ESP-IDF builds it as build/bootloader/bootloader.bin)",
                            cmd->name);
    if ((rc = eg_elf_load(&elf, elf_path)) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if ((rc = eg_cli_elf_chip(&built_for, elf, elf_path, chip)) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    /* Without -s the header says 4MB, and the partition table is made for 4MB. */
    flash_size = eg_flash_size_from_code(opts.flash_size_code);
    if (eg_cli_table_offset(&table_offset, cmd, a) < 0) {
        exit_code = EG_EXIT_USAGE;
        goto done;
    }
    /* The same layout flash writes, into a plan that is only merged. */
    po.chip = chip;
    app.flash_size = flash_size;
    app.elf = elf;
    app.app_path = elf_path;
    app.opts = opts;
    app.boot_mode = opts.flash_mode;
    app.boot_size = opts.flash_size_code;
    app.boot_freq = opts.flash_freq_code;
    app.table_offset = table_offset;
    app.target_app_partition = a->val[OPT_TARGET_APP_PARTITION];
    if (a->val[OPT_BOOTLOADER] && (rc = eg_buf_read_file(&boot, a->val[OPT_BOOTLOADER])) < 0) {
        eg_cli_fail("bootloader: %s", eg_error_msg());
        goto done;
    }
    if (a->val[OPT_PARTITION_TABLE] &&
        (rc = eg_buf_read_file(&table, a->val[OPT_PARTITION_TABLE])) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    app.bootloader = boot.len ? boot.data : NULL;
    app.bootloader_len = boot.len;
    app.bootloader_path = a->val[OPT_BOOTLOADER];
    app.table = table.len ? table.data : NULL;
    app.table_len = table.len;
    app.table_path = a->val[OPT_PARTITION_TABLE];
    if ((rc = eg_plan_new(&plan, &po)) < 0 || (rc = eg_plan_layout_app(plan, &app)) < 0 ||
        (rc = eg_plan_finish(plan)) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    const eg_plan_region *app_region = NULL;
    const eg_partition *app_part = NULL;
    for (size_t i = 0; i < plan->n_regions; i++)
        if (plan->regions[i].is_app)
            app_region = &plan->regions[i];
    eg_partition_app_target(&app_part, plan->table, a->val[OPT_TARGET_APP_PARTITION]);
    if (a->count[OPT_MERGE])
        rc = eg_plan_merge(&img, plan, a->count[OPT_SKIP_PADDING] ? 0 : flash_size);
    else
        rc = eg_buf_append(&img, app_region->data, app_region->len);
    if (rc < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if ((rc = eg_file_write_atomic(out_path, img.data, img.len)) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if (a->count[OPT_MERGE])
        printf("Saved merged %s image of '%s' to '%s' (%zu bytes: %s at 0x%x, partition table at "
               "0x%x, app at 0x%x in '%s')\n",
               chip->name, elf_path, out_path, img.len, "bootloader", chip->bootloader_offset,
               table_offset, app_region->addr, app_part->name);
    else
        printf("Saved %s image of '%s' to '%s' (%zu bytes)\n", chip->name, elf_path, out_path,
               img.len);
    exit_code = EG_EXIT_OK;
done:
    eg_plan_free(plan);
    eg_buf_release(&boot);
    eg_buf_release(&table);
    eg_buf_release(&img);
    eg_elf_free(elf);
    return exit_code;
}
