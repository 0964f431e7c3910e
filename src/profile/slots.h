/* A fixture's slots file (YAML): which USB location (the port path in sysfs, "1-2.3",
 * as `espgang list-ports` prints it) is which slot of the fixture, with an optional
 * label, so a record says "slot 7" even when tty names change between boots.
 *
 *   version: 1
 *   slots:
 *     1-2.1: {slot: 1, label: "left row, 1"}
 *     1-2.2: {slot: 2}
 *
 * Every fault names PATH:LINE:COLUMN: a location given twice, a slot number given
 * twice, a location that is not one, unknown keys. Immutable once loaded. */
#ifndef EG_PROFILE_SLOTS_H
#define EG_PROFILE_SLOTS_H

#include <stddef.h>

#define EG_SLOTS_VERSION  1
#define EG_SLOT_MAX       4096 /* slot numbers run from 1 to this */
#define EG_SLOT_LABEL_MAX 64

typedef struct eg_slot {
    char *location; /* "1-2.3" */
    unsigned number;
    char *label; /* NULL when none */
} eg_slot;

typedef struct eg_slots {
    char *path;
    eg_slot *slots; /* in the file's order */
    size_t n;
} eg_slots;

int eg_slots_load(eg_slots **out, const char *path);
/* The slot of a USB location, NULL when the file has none. */
const eg_slot *eg_slots_find(const eg_slots *s, const char *location);
void eg_slots_free(eg_slots *s);

#endif
