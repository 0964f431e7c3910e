/* erase-parts NAMES: erases partitions by name, as the given table or the board's own
 * table places them. */
#include "cli/cmds.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int cmd_erase_parts(const eg_command *cmd, eg_args *a)
{
    eg_cli_job j;
    eg_plan *plan = NULL;
    eg_partition_table *table = NULL;
    uint32_t table_offset;
    char *names = NULL;
    size_t len = 1;
    int rc;

    if (eg_cli_table_offset(&table_offset, cmd, a) < 0)
        return EG_EXIT_USAGE;
    for (int i = 0; i < a->npos; i++)
        len += strlen(a->pos[i]) + 1;
    if (!(names = calloc(1, len)))
        return eg_cli_fail("out of memory");
    for (int i = 0; i < a->npos; i++) {
        if (i)
            strcat(names, ",");
        strcat(names, a->pos[i]);
    }
    if (strspn(names, ", ") == strlen(names)) {
        free(names);
        return eg_cli_usage(cmd, "%s: which partitions? (names like nvs,otadata)", cmd->name);
    }
    if ((rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_FLASH)) != 0 ||
        (rc = eg_cli_plan_new(&plan, &j, cmd->name)) != 0) {
        free(names);
        return rc;
    }
    /* A table given is read now; else the board's is read once connected. */
    if (a->val[OPT_PARTITION_TABLE]) {
        eg_partition_opts popts;
        eg_partition_opts_default(&popts);
        popts.table_offset = table_offset;
        rc = eg_partition_load(&table, a->val[OPT_PARTITION_TABLE], &popts);
    }
    if (rc == 0)
        rc = eg_plan_erase_parts_of(plan, names, table_offset, table);
    rc = rc < 0 ? eg_cli_fail("%s", eg_error_msg()) : eg_cli_run(&j, plan);
    eg_plan_free(plan);
    free(names);
    return rc;
}
