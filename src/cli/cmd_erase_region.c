#include "cli/cmds.h"

#include "core/error.h"

#include <stdio.h>

/* Runs a plan that only erases: what, where. */
static int run_erase(const eg_command *cmd, eg_args *a, uint32_t addr, uint32_t size, int all)
{
    eg_cli_job j;
    eg_plan *plan = NULL;
    char label[64];
    int rc;

    if ((rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_FLASH)) != 0 ||
        (rc = eg_cli_plan_new(&plan, &j, cmd->name)) != 0)
        return rc;
    snprintf(label, sizeof(label), "0x%x+0x%x", addr, size);
    if (all)
        plan->erase_all = 1;
    else if (eg_plan_add_erase(plan, addr, size, label) < 0) {
        eg_plan_free(plan);
        return eg_cli_fail("%s", eg_error_msg());
    }
    rc = eg_cli_run(&j, plan);
    if (rc == EG_EXIT_OK && all)
        fprintf(stderr, "Erased the flash\n");
    eg_plan_free(plan);
    return rc;
}

int cmd_erase_flash(const eg_command *cmd, eg_args *a)
{
    return run_erase(cmd, a, 0, 0, 1);
}

int cmd_erase_region(const eg_command *cmd, eg_args *a)
{
    uint32_t addr, size;
    if (eg_cli_u32(&addr, cmd, "ADDR", a->pos[0]) < 0 ||
        eg_cli_u32(&size, cmd, "SIZE", a->pos[1]) < 0)
        return EG_EXIT_USAGE;
    if (addr % 0x1000 || size % 0x1000 || size == 0)
        return eg_cli_usage(cmd, "erase-region: ADDR and SIZE must be non-zero multiples of 4 KiB "
                                 "(0x1000)");
    return run_erase(cmd, a, addr, size, 0);
}
