/* espflash's configuration files at the command line: read once per run (the current
 * folder, its parent, the global folder), their warnings printed, and their settings
 * given to the options the command line left out. */
#include "cli/cli.h"

#include "core/error.h"
#include "image/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static eg_espflash_config *config; /* read once, kept to the end of the run */

int eg_cli_config(const eg_espflash_config **out)
{
    char cwd[4096], global[4096];

    *out = NULL;
    if (!config) {
        if (!getcwd(cwd, sizeof(cwd)))
            return eg_cli_fail("cannot tell the current folder (to look for espflash.toml): %s",
                               eg_strerror(errno));
        eg_espflash_global_dir(global, sizeof(global), getenv("XDG_CONFIG_HOME"), getenv("HOME"));
        if (eg_espflash_config_load(&config, cwd, global) < 0)
            return eg_cli_fail("%s", eg_error_msg());
        for (size_t i = 0; i < config->warning_count; i++)
            fprintf(stderr, "warning: %s\n", config->warnings[i]);
    }
    *out = config;
    return 0;
}

/* Sets option id (--name) to value from the file at path when the command line did
 * not give it; says so with -v. */
static void fill(eg_args *a, int id, const char *name, const char *value, const char *path)
{
    if (value && !a->val[id]) {
        a->val[id] = value;
        a->count[id] = 1;
        if (a->count[OPT_VERBOSE])
            fprintf(stderr, "%s: --%s %s\n", path, name, value);
    }
}

int eg_cli_config_image_defaults(const eg_command *cmd, eg_args *a)
{
    static char offset[16];
    const eg_espflash_config *c;
    int rc;

    if ((rc = eg_cli_config(&c)) != 0)
        return rc;
    const char *p = c->project_path;
    /* save-image takes a bootloader only to merge it. */
    if (!c->project_found)
        return 0;
    if (strcmp(cmd->name, "save-image") != 0 || a->count[OPT_MERGE])
        fill(a, OPT_BOOTLOADER, "bootloader", c->bootloader, p);
    fill(a, OPT_PARTITION_TABLE, "partition-table", c->partition_table, p);
    if (c->has_table_offset) {
        snprintf(offset, sizeof(offset), "0x%x", c->table_offset);
        fill(a, OPT_PARTITION_TABLE_OFFSET, "partition-table-offset", offset, p);
    }
    fill(a, OPT_TARGET_APP_PARTITION, "target-app-partition", c->target_app_partition, p);
    fill(a, OPT_FLASH_MODE, "flash-mode", c->flash_mode, p);
    fill(a, OPT_FLASH_SIZE, "flash-size", c->flash_size, p);
    fill(a, OPT_FLASH_FREQ, "flash-freq", c->flash_frequency, p);
    /* Values espflash takes that espgang does not (256KB, a 512KB flash): the file is
     * named, not the command line. */
    uint8_t mode, code;
    uint32_t size;
    if (a->val[OPT_FLASH_MODE] == c->flash_mode && c->flash_mode &&
        eg_flash_mode_parse(&mode, c->flash_mode) < 0)
        return eg_cli_fail("%s: [flash] mode: %s", p, eg_error_msg());
    if (a->val[OPT_FLASH_SIZE] == c->flash_size && c->flash_size &&
        eg_flash_size_parse(&size, &code, c->flash_size) < 0)
        return eg_cli_fail("%s: [flash] size: %s", p, eg_error_msg());
    /* A file named there that is not here: say where the name came from. */
    const char *files[2] = {a->val[OPT_BOOTLOADER], a->val[OPT_PARTITION_TABLE]};
    const char *keys[2] = {"bootloader", "partition_table"};
    const char *from[2] = {c->bootloader, c->partition_table};
    for (int i = 0; i < 2; i++) {
        char cwd[4096];
        if (files[i] && files[i] == from[i] && access(files[i], R_OK) != 0)
            return eg_cli_fail("%s: %s '%s': %s (its paths are taken from the current folder, "
                               "%s)",
                               p, keys[i], files[i], eg_strerror(errno),
                               getcwd(cwd, sizeof(cwd)) ? cwd : "?");
    }
    return 0;
}
