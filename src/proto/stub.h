/* The flasher stub: Espressif's esp-flasher-stub, a small program the session uploads
 * into the chip's RAM and runs in place of the ROM loader (faster writes, reads and
 * erases). Its files come from the npm package esptool-js as JSON: entry, text,
 * text_start, data, data_start (base64). None of them is part of espgang's sources. */
#ifndef EG_PROTO_STUB_H
#define EG_PROTO_STUB_H

#include "core/buf.h"
#include "proto/session.h"

#include <stdint.h>

typedef struct eg_stub {
    char name[32]; /* "esp32c3", "esp32p4-rev1" */
    uint32_t entry;
    uint32_t text_start, data_start;
    eg_buf text, data;
} eg_stub;

/* Loads dir/name.json into *out (which eg_stub_release() frees). A missing file is
 * EG_ENOTFOUND, with a message that names --no-stub and --stub-dir. */
int eg_stub_load(eg_stub *out, const char *dir, const char *name);
void eg_stub_release(eg_stub *stub);

/* Uploads the stub into RAM (MEM_BEGIN / MEM_DATA / MEM_END), waits for its "OHAI"
 * and switches the session to the stub's framing. */
int eg_session_run_stub(eg_session *s, const eg_stub *stub);

#endif
