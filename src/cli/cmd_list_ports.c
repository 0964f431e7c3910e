/* list-ports: the serial ports of this machine, with what USB says of them and the slot
 * a slots file gives their USB location. */
#include "cli/cmds.h"

#include "core/error.h"
#include "profile/slots.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_list_ports(const eg_command *cmd, eg_args *a)
{
    eg_port_info *ports = NULL;
    eg_slots *slots = NULL;
    size_t n = 0, shown = 0;
    int all = a->count[OPT_ALL] > 0;

    if (a->count[OPT_NAME_ONLY] && a->count[OPT_JSON])
        return eg_cli_usage(cmd, "%s: --name-only and --json exclude each other", cmd->name);
    if (a->val[OPT_SLOTS] && eg_slots_load(&slots, a->val[OPT_SLOTS]) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (eg_port_list(&ports, &n) < 0) {
        eg_slots_free(slots);
        return eg_cli_fail("%s", eg_error_msg());
    }
    json_t *arr = a->count[OPT_JSON] ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const eg_port_info *p = &ports[i];
        const eg_slot *slot = eg_slots_find(slots, p->location);
        char vidpid[16] = "";
        /* By default only the ports a board is likely on. */
        if (!all && !(p->usb && eg_port_known(p->vid, p->pid)))
            continue;
        if (p->usb)
            snprintf(vidpid, sizeof(vidpid), "%04x:%04x", p->vid, p->pid);
        if (a->count[OPT_NAME_ONLY] && !arr) {
            printf("%s\n", p->name);
        } else if (arr) {
            json_t *o =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", p->name, "vid_pid", vidpid,
                          "manufacturer", p->manufacturer, "product", p->product, "serial",
                          p->serial, "location", p->location, "description", p->description);
            json_object_set_new(o, "slot", slot ? json_integer(slot->number) : json_null());
            json_object_set_new(o, "slot_label",
                                slot && slot->label ? json_string(slot->label) : json_null());
            json_array_append_new(arr, o);
        } else {
            char slot_text[16] = "-";
            if (!shown)
                printf("%-22s %-9s %-18s %-26s %-16s %-10s %-5s %s\n", "PORT", "VID:PID",
                       "MANUFACTURER", "PRODUCT", "SERIAL", "LOCATION", "SLOT", "LABEL");
            if (slot)
                snprintf(slot_text, sizeof(slot_text), "%u", slot->number);
            printf("%-22s %-9s %-18.18s %-26.26s %-16s %-10s %-5s %s\n", p->name,
                   vidpid[0] ? vidpid : "-", p->manufacturer[0] ? p->manufacturer : "-",
                   p->product[0] ? p->product : (p->description[0] ? p->description : "-"),
                   p->serial[0] ? p->serial : "-", p->location[0] ? p->location : "-", slot_text,
                   slot && slot->label ? slot->label : "");
        }
        shown++;
    }
    if (arr) {
        json_dumpf(arr, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(arr);
    } else if (!shown) {
        fprintf(stderr, all ? "No serial ports found.\n"
                            : "No serial port of an Espressif chip or a known USB-UART bridge "
                              "(--all lists every port).\n");
    }
    free(ports);
    eg_slots_free(slots);
    return EG_EXIT_OK;
}
