#include "cli/cmds.h"

#include "core/error.h"
#include "transport/reset.h"

#include <stdio.h>
#include <stdlib.h>

/* Opens the port alone (no sync): a reset must work on a board running its app. */
static int open_port(const char *port, eg_transport **out)
{
    int rc;

    *out = NULL;
    rc = eg_transport_open(out, port, EG_ROM_BAUD, NULL);
    if (rc < 0)
        return eg_error_prefix(rc, "port '%s': ", port);
    if (!((*out)->caps & EG_TRANSPORT_CAP_LINES)) {
        eg_transport_free(*out);
        *out = NULL;
        return eg_error_set(EG_EUNSUPPORTED,
                            "port '%s': no DTR/RTS lines: the board cannot be reset from here",
                            port);
    }
    return 0;
}

/* Opens the port, drives the lines with action, reports done. */
static int drive_lines(const eg_command *cmd, eg_args *a, int (*action)(eg_transport *t),
                       const char *done)
{
    eg_transport *t = NULL;
    const char *port;
    char chosen[256];
    int rc = eg_cli_port(&port, chosen, sizeof(chosen), cmd, a);

    if (rc != 0)
        return rc;
    rc = open_port(port, &t);

    if (rc == 0 && (rc = action(t)) < 0)
        eg_error_prefix(rc, "port '%s': ", t->name);
    if (rc < 0) {
        eg_transport_free(t);
        return eg_cli_fail("%s", eg_error_msg());
    }
    fprintf(stderr, "%s the board on '%s'\n", done, t->name);
    eg_transport_free(t);
    return EG_EXIT_OK;
}

int cmd_reset(const eg_command *cmd, eg_args *a)
{
    return drive_lines(cmd, a, eg_reset_hard, "Reset");
}

int cmd_hold_in_reset(const eg_command *cmd, eg_args *a)
{
    return drive_lines(cmd, a, eg_reset_hold, "Holding in reset");
}
