#include "prod/hotplug.h"

#include "core/error.h"
#include "transport/transport.h"

#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eg_hotplug {
    struct udev *udev;
    struct udev_monitor *mon;
};

int eg_hotplug_open(eg_hotplug **out)
{
    eg_hotplug *h = calloc(1, sizeof(*h));

    *out = NULL;
    if (!h)
        return eg_error_set(EG_ENOMEM, "out of memory");
    if (!(h->udev = udev_new()) || !(h->mon = udev_monitor_new_from_netlink(h->udev, "udev")) ||
        udev_monitor_filter_add_match_subsystem_devtype(h->mon, "tty", NULL) < 0 ||
        udev_monitor_enable_receiving(h->mon) < 0) {
        eg_hotplug_free(h);
        return eg_error_set(EG_EIO, "cannot watch for boards coming and going (udev)");
    }
    *out = h;
    return 0;
}

int eg_hotplug_fd(const eg_hotplug *h)
{
    return udev_monitor_get_fd(h->mon);
}

/* Fills e from a tty device; 0 when it is not one of a USB device. */
static int describe(eg_hotplug_event *e, struct udev_device *d, int added)
{
    const char *node = udev_device_get_devnode(d);
    const char *path = udev_device_get_syspath(d);
    struct udev_device *usb;

    memset(e, 0, sizeof(*e));
    e->added = added;
    if (!node || !path)
        return 0;
    snprintf(e->devnode, sizeof(e->devnode), "%s", node);
    eg_usb_location_in(e->location, sizeof(e->location), path);
    if (!e->location[0])
        return 0;
    usb = udev_device_get_parent_with_subsystem_devtype(d, "usb", "usb_device");
    if (usb) {
        const char *v = udev_device_get_sysattr_value(usb, "idVendor");
        const char *p = udev_device_get_sysattr_value(usb, "idProduct");
        const char *s = udev_device_get_sysattr_value(usb, "serial");
        e->vid = v ? (uint16_t)strtoul(v, NULL, 16) : 0;
        e->pid = p ? (uint16_t)strtoul(p, NULL, 16) : 0;
        snprintf(e->serial, sizeof(e->serial), "%s", s ? s : "");
    }
    return 1;
}

int eg_hotplug_scan(eg_hotplug *h, eg_hotplug_fn fn, void *ctx)
{
    struct udev_enumerate *en = udev_enumerate_new(h->udev);
    struct udev_list_entry *it;

    if (!en || udev_enumerate_add_match_subsystem(en, "tty") < 0 ||
        udev_enumerate_scan_devices(en) < 0) {
        udev_enumerate_unref(en);
        return eg_error_set(EG_EIO, "cannot list the terminals (udev)");
    }
    udev_list_entry_foreach(it, udev_enumerate_get_list_entry(en))
    {
        struct udev_device *d = udev_device_new_from_syspath(h->udev, udev_list_entry_get_name(it));
        eg_hotplug_event e;
        if (d && describe(&e, d, 1))
            fn(ctx, &e);
        udev_device_unref(d);
    }
    udev_enumerate_unref(en);
    return 0;
}

int eg_hotplug_read(eg_hotplug *h, eg_hotplug_fn fn, void *ctx)
{
    struct udev_device *d;

    while ((d = udev_monitor_receive_device(h->mon))) {
        const char *action = udev_device_get_action(d);
        eg_hotplug_event e;
        if (action && (!strcmp(action, "add") || !strcmp(action, "remove")) &&
            describe(&e, d, !strcmp(action, "add")))
            fn(ctx, &e);
        udev_device_unref(d);
    }
    return 0;
}

void eg_hotplug_free(eg_hotplug *h)
{
    if (!h)
        return;
    udev_monitor_unref(h->mon);
    udev_unref(h->udev);
    free(h);
}
