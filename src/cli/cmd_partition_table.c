/* partition-table FILE: shows, checks and converts an ESP-IDF partition table. */
#include "cli/cmds.h"

#include "core/error.h"

#include <stdio.h>
#include <unistd.h>

int cmd_partition_table(const eg_command *cmd, eg_args *a)
{
    const char *path = a->pos[0], *out_path = a->val[OPT_OUTPUT];
    int to_csv = a->count[OPT_TO_CSV] > 0, to_bin = a->count[OPT_TO_BINARY] > 0;
    eg_partition_opts popts;
    eg_partition_table *t = NULL;
    eg_buf out = EG_BUF_INIT;
    int rc, exit_code = EG_EXIT_FAIL;

    if (to_csv && to_bin)
        return eg_cli_usage(cmd, "%s: give --to-csv or --to-binary, not both", cmd->name);
    if (to_bin && !out_path && isatty(STDOUT_FILENO))
        return eg_cli_usage(cmd, "%s: --to-binary writes binary: give -o FILE, or redirect it",
                            cmd->name);
    eg_partition_opts_default(&popts);
    if (eg_cli_table_offset(&popts.table_offset, cmd, a) < 0)
        return EG_EXIT_USAGE;
    if (a->val[OPT_FLASH_SIZE] &&
        eg_flash_size_parse(&popts.flash_size, NULL, a->val[OPT_FLASH_SIZE]) < 0)
        return eg_cli_usage(cmd, "%s: %s", cmd->name, eg_error_msg());

    if (a->val[OPT_CHIP]) {
        const eg_chip *chip = eg_chip_by_name(a->val[OPT_CHIP]);
        if (!chip)
            return eg_cli_usage(cmd, "%s: unknown chip '%s' (%s)", cmd->name, a->val[OPT_CHIP],
                                eg_chip_names());
        popts.bootloader_offset = chip->bootloader_offset;
    }

    if ((rc = eg_partition_load(&t, path, &popts)) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if (to_bin)
        rc = eg_partition_to_bin(&out, t);
    else if (to_csv)
        rc = eg_partition_to_csv(&out, t);
    else
        rc = eg_partition_render(&out, t);
    if (rc < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if (out_path) {
        if (eg_file_write_atomic(out_path, out.data, out.len) < 0) {
            eg_cli_fail("%s", eg_error_msg());
            goto done;
        }
        fprintf(stderr, "Wrote the partition table of '%s' to '%s' as %s\n", path, out_path,
                to_bin   ? "binary"
                : to_csv ? "CSV"
                         : "a table");
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        eg_cli_fail("writing to standard output failed");
        goto done;
    }
    exit_code = EG_EXIT_OK;
done:
    eg_buf_release(&out);
    eg_partition_table_free(t);
    return exit_code;
}
