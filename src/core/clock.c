#define _POSIX_C_SOURCE 200809L
#include "core/clock.h"

#include <errno.h>
#include <time.h>

int64_t eg_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void eg_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

unsigned eg_clock_left(int64_t deadline)
{
    int64_t left = deadline - eg_clock_ms();
    return left > 0 ? (unsigned)left : 0;
}
