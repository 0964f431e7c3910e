#include "cli/cmds.h"

#include "core/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_list_ports(const eg_command *cmd, eg_args *a)
{
    eg_port_info *ports = NULL;
    size_t n = 0;
    (void)cmd;

    if (eg_port_list(&ports, &n) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (a->count[OPT_JSON]) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            char vidpid[16] = "";
            if (ports[i].usb)
                snprintf(vidpid, sizeof(vidpid), "%04x:%04x", ports[i].vid, ports[i].pid);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", ports[i].name,
                                                 "vid_pid", vidpid, "serial", ports[i].serial,
                                                 "location", ports[i].location, "description",
                                                 ports[i].description));
        }
        json_dumpf(arr, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(arr);
    } else if (n == 0) {
        fprintf(stderr, "No serial ports found.\n");
    } else {
        printf("%-24s %-9s %-20s %-10s %s\n", "PORT", "VID:PID", "SERIAL", "LOCATION",
               "DESCRIPTION");
        for (size_t i = 0; i < n; i++) {
            char vidpid[16] = "-";
            if (ports[i].usb)
                snprintf(vidpid, sizeof(vidpid), "%04x:%04x", ports[i].vid, ports[i].pid);
            printf("%-24s %-9s %-20s %-10s %s\n", ports[i].name, vidpid,
                   ports[i].serial[0] ? ports[i].serial : "-",
                   ports[i].location[0] ? ports[i].location : "-", ports[i].description);
        }
    }
    free(ports);
    return EG_EXIT_OK;
}
