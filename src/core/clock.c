#define _POSIX_C_SOURCE 200809L
#include "core/clock.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

int64_t eg_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t eg_clock_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
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

static int64_t system_now(void *ctx)
{
    (void)ctx;
    return eg_clock_ms();
}

static int system_wait(void *ctx, int fd, unsigned ms)
{
    (void)ctx;
    if (fd < 0) {
        eg_sleep_ms(ms);
        return 0;
    }
    int64_t deadline = eg_clock_ms() + ms;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)eg_clock_left(deadline));
        if (pr > 0)
            return 1;
        if (pr == 0 || errno != EINTR)
            return 0;
    }
}

static const eg_clock system_clock = {system_now, system_wait, NULL};

const eg_clock *eg_clock_system(void)
{
    return &system_clock;
}
