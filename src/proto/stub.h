/* The flasher stub: Espressif's esp-flasher-stub, a small program the session uploads
 * into the chip's RAM and runs in place of the ROM loader (faster writes, reads and
 * erases). Its bytes come from the plan (which loads them from the npm package
 * esptool-js); none of them is part of espgang's sources. */
#ifndef EG_PROTO_STUB_H
#define EG_PROTO_STUB_H

#include "core/program.h"
#include "proto/session.h"

/* Uploads the stub into RAM (MEM_BEGIN / MEM_DATA / MEM_END), waits for its "OHAI"
 * and switches the session to the stub's framing. */
int eg_session_run_stub(eg_session *s, const eg_ram_program *stub);

/* Waits for the running stub's "OHAI" (after an upload whose greeting was missed at
 * one rate, say) and switches the session to the stub's framing. */
int eg_session_await_stub(eg_session *s, unsigned timeout_ms);

/* Loads a program's segments into RAM and runs it at its entry (no greeting awaited:
 * an application, flash --ram). The ROM may jump before its answer is out; that is
 * not an error. */
int eg_session_run_ram(eg_session *s, const eg_ram_program *prog);

#endif
