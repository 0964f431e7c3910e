/* The flasher stubs built into espgang: esptool-js's JSON files, one per chip (and
 * chip revision), as the build found them (src/plan/embed_stubs.cmake). */
#ifndef EG_PLAN_STUBS_BUILTIN_H
#define EG_PLAN_STUBS_BUILTIN_H

#include <stddef.h>

typedef struct eg_stub_file {
    const char *name; /* "esp32c3", "esp32p4-rev1", ... */
    size_t len;       /* of json */
    const char *json; /* the file's text */
} eg_stub_file;

/* eg_stub_n_files rows (0 when the build had no stubs). */
extern const eg_stub_file eg_stub_files[];
extern const size_t eg_stub_n_files;

#endif
