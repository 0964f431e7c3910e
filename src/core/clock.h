/* Monotonic time in milliseconds and sleeping. */
#ifndef EG_CORE_CLOCK_H
#define EG_CORE_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock with an arbitrary origin. */
int64_t eg_clock_ms(void);

/* Sleeps at least ms milliseconds (restarting after signals). */
void eg_sleep_ms(unsigned ms);

/* Milliseconds left until deadline (an eg_clock_ms() value); 0 when past. */
unsigned eg_clock_left(int64_t deadline);

#endif
