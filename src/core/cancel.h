/* The cancel token a worker's every wait watches: reads, resets, baud-rate pauses and
 * the running step's deadline. Another thread (the one that takes signals) may ask
 * for a stop at any time:
 *  - EG_CANCEL_DRAIN: start no new step or region; what runs finishes;
 *  - EG_CANCEL_NOW: every wait ends at once with EG_ECANCELED.
 * The token also carries the clock the waits use, so tests script time.
 *
 * Owned by one worker; eg_cancel_request() and eg_cancel_level() may be called from
 * any thread, everything else only from the owner's. A NULL token is allowed wherever
 * one is taken: the system clock, never canceled, no deadline. */
#ifndef EG_CORE_CANCEL_H
#define EG_CORE_CANCEL_H

#include "core/clock.h"

#include <stdint.h>

enum { EG_CANCEL_NONE = 0, EG_CANCEL_DRAIN = 1, EG_CANCEL_NOW = 2 };

typedef struct eg_cancel {
    const eg_clock *clock; /* NULL: the system clock */
    int fd;                /* an eventfd, readable once EG_CANCEL_NOW is asked */
    int level;             /* EG_CANCEL_*, read and written atomically */
    int why;               /* the code a stop now ends waits with (0: EG_ECANCELED), atomic */
    int64_t deadline;      /* the running step's end on clock (0: none) */
    const char *what;      /* the step the deadline belongs to, for messages */
    unsigned deadline_ms;  /* how long that step was given, for messages */
} eg_cancel;

/* Prepares a token on clock (NULL: the system clock). EG_EIO when no eventfd can be
 * made. Release it with eg_cancel_release(). */
int eg_cancel_init(eg_cancel *c, const eg_clock *clock);
void eg_cancel_release(eg_cancel *c);

/* Raises the token to level (never lowers it). Async-signal-safe and thread-safe. */
void eg_cancel_request(eg_cancel *c, int level);
int eg_cancel_level(const eg_cancel *c);

/* A stop now for a reason other than a request: every wait ends with code (EG_EGONE:
 * the board was unplugged) instead of EG_ECANCELED. Thread-safe. */
void eg_cancel_abort(eg_cancel *c, int code);

/* The token's clock (the system clock for NULL) and its time now. */
const eg_clock *eg_cancel_clock(const eg_cancel *c);
int64_t eg_cancel_now(const eg_cancel *c);

/* Sets the running step's deadline, ms from now (0: none); what names the step. */
void eg_cancel_set_deadline(eg_cancel *c, const char *what, unsigned ms);

/* EG_ECANCELED when a stop now was asked (or the abort's code), EG_ETIMEDOUT when the step's
 * deadline has passed (each with its message), else 0. */
int eg_cancel_check(eg_cancel *c);

/* How long a wait of ms may last before the step's deadline. */
unsigned eg_cancel_bound(const eg_cancel *c, unsigned ms);

/* Sleeps ms on the token's clock: 0, or what eg_cancel_check() says once the sleep was
 * cut short by a stop or the deadline. */
int eg_cancel_sleep(eg_cancel *c, unsigned ms);

#endif
