/* A scripted transport for unit tests: reads return queued chunks one at a time (so
 * tests control short reads), an empty queue is a timeout, and every write is kept
 * and may trigger a responder that queues the answer.
 *
 * Time is scripted: the fake carries its own clock (through its cancel token, as the
 * engine expects), which only moves when something waits on it; a read with nothing
 * queued moves it by the whole timeout at once, a pause by the pause. Nothing sleeps. */
#ifndef EG_TEST_FAKE_TRANSPORT_H
#define EG_TEST_FAKE_TRANSPORT_H

#include "core/buf.h"
#include "core/cancel.h"
#include "transport/transport.h"

typedef void (*fake_responder)(eg_transport *t, const uint8_t *written, size_t len, void *ctx);

eg_transport *fake_transport_new(void);
/* Queues bytes that one read returns (a read never spans two chunks). */
void fake_push(eg_transport *t, const void *data, size_t len);
/* Queues a failure: the read that reaches it fails with EG_EGONE (device unplugged). */
void fake_push_eio(eg_transport *t);
void fake_set_responder(eg_transport *t, fake_responder fn, void *ctx);
/* Writes fail with EG_EGONE once this many more bytes have been written (the board is
 * unplugged mid-write); the write that crosses the limit fails. */
void fake_fail_writes_after(eg_transport *t, size_t bytes);
/* Everything written so far. */
const eg_buf *fake_written(eg_transport *t);
/* Counts calls. */
int fake_flushes(eg_transport *t);
/* Gives the fake DTR/RTS lines; every change is then recorded as "D1", "R0", and each
 * pause between changes as "|MS|" (the milliseconds the clock moved), joined in one
 * string. */
void fake_enable_lines(eg_transport *t);
const char *fake_lines(eg_transport *t);
/* Waits on the system clock from now on (for tests of threads: a stop from another
 * thread must end a real wait). */
void fake_use_system_clock(eg_transport *t);
/* The fake's clock (milliseconds since it was made) and its cancel token. */
int64_t fake_now(eg_transport *t);
eg_cancel *fake_cancel(eg_transport *t);

#endif
