/* USB serial boards coming and going (libudev): the terminals present now, and the
 * ones added and removed from then on. Belongs to one thread. */
#ifndef EG_PROD_HOTPLUG_H
#define EG_PROD_HOTPLUG_H

#include <stdint.h>

typedef struct eg_hotplug eg_hotplug;

typedef struct eg_hotplug_event {
    int added;         /* 1: plugged in (or present at the scan); 0: unplugged */
    char devnode[256]; /* "/dev/ttyUSB0" */
    char location[64]; /* the USB port path, "1-2.3"; "" when not USB */
    uint16_t vid, pid; /* 0 when unknown (a removal may not say) */
    char serial[128];  /* the USB serial number, "" when none */
} eg_hotplug_event;

typedef void (*eg_hotplug_fn)(void *ctx, const eg_hotplug_event *e);

/* Starts listening for terminals (the udev monitor), before anything is scanned, so
 * nothing plugged in meanwhile is missed. */
int eg_hotplug_open(eg_hotplug **out);
/* The fd that becomes readable when events wait. */
int eg_hotplug_fd(const eg_hotplug *h);
/* Calls fn for every USB terminal present now, as added. */
int eg_hotplug_scan(eg_hotplug *h, eg_hotplug_fn fn, void *ctx);
/* Calls fn for every event waiting (terminals of USB devices only). */
int eg_hotplug_read(eg_hotplug *h, eg_hotplug_fn fn, void *ctx);
void eg_hotplug_free(eg_hotplug *h);

#endif
