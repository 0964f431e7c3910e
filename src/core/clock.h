/* Time: a monotonic clock in milliseconds, and the injectable clock the engine waits
 * on, so tests can script time instead of sleeping. */
#ifndef EG_CORE_CLOCK_H
#define EG_CORE_CLOCK_H

#include <stdint.h>

/* A clock: the time now and a wait that a file descriptor can end early. The system
 * clock is the default; tests give one whose waits only move its time forward. */
typedef struct eg_clock {
    int64_t (*now_ms)(void *ctx);
    /* Waits up to ms, or until fd (when >= 0) is readable: 1 when fd became readable,
     * 0 when the time ran out. */
    int (*wait)(void *ctx, int fd, unsigned ms);
    void *ctx;
} eg_clock;

/* The system's monotonic clock (poll() for waits). */
const eg_clock *eg_clock_system(void);

/* Milliseconds on a monotonic clock with an arbitrary origin (the system clock). */
int64_t eg_clock_ms(void);

/* Sleeps at least ms milliseconds on the system clock (restarting after signals). */
void eg_sleep_ms(unsigned ms);

/* Milliseconds left until deadline (an eg_clock_ms() value); 0 when past. */
unsigned eg_clock_left(int64_t deadline);

/* Unix time in milliseconds (for records, not for measuring). */
int64_t eg_clock_unix_ms(void);

#endif
