#include "cli/cmds.h"

#include "core/error.h"
#include "core/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EG_SECTOR 0x1000

void eg_cli_write_opts(eg_cli_job *j, const eg_args *a)
{
    j->po.level = a->count[OPT_NO_COMPRESS] ? -1 : EG_PLAN_DEFLATE_LEVEL;
    j->policy.verify_md5 = !a->count[OPT_NO_VERIFY];
    j->policy.skip_same = !a->count[OPT_NO_SKIP];
}

int cmd_write_bin(const eg_command *cmd, eg_args *a)
{
    eg_cli_job j;
    eg_cli_monitor mon;
    eg_plan *plan = NULL;
    eg_buf file = EG_BUF_INIT;
    int rc;

    if (a->npos % 2 != 0)
        return eg_cli_usage(cmd, "write-bin: arguments come in pairs: ADDR FILE [ADDR FILE]...");
    for (int i = 0; i < a->npos; i += 2) {
        uint32_t addr;
        if (eg_cli_u32(&addr, cmd, "ADDR", a->pos[i]) < 0)
            return EG_EXIT_USAGE;
        if (addr % EG_SECTOR)
            return eg_cli_usage(cmd, "write-bin: address 0x%x is not aligned to a 4 KiB sector",
                                addr);
    }
    if ((rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_FLASH)) != 0)
        return rc;
    if ((rc = eg_cli_monitor_setup(&mon, cmd, a, NULL)) != 0) {
        eg_cli_monitor_release(&mon);
        return rc;
    }
    eg_cli_write_opts(&j, a);
    if ((rc = eg_cli_plan_new(&plan, &j, cmd->name)) != 0) {
        eg_cli_monitor_release(&mon);
        return rc;
    }
    /* Every file is read, and the regions checked, before the board is touched. */
    for (int i = 0; i < a->npos; i += 2) {
        uint32_t addr;
        eg_num_parse_u32(&addr, a->pos[i]);
        if ((rc = eg_buf_read_file(&file, a->pos[i + 1])) < 0 ||
            (rc = eg_plan_add_region(plan, addr, a->pos[i + 1], &file)) < 0)
            break;
    }
    if (rc == 0)
        rc = eg_plan_finish(plan);
    rc = rc < 0 ? eg_cli_fail("%s", eg_error_msg()) : eg_cli_run(&j, plan);
    eg_plan_free(plan);
    return eg_cli_monitor_after(&mon, cmd, a, rc);
}
