#define _GNU_SOURCE /* eventfd */
#include "core/cancel.h"

#include "core/error.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

int eg_cancel_init(eg_cancel *c, const eg_clock *clock)
{
    c->clock = clock;
    c->level = EG_CANCEL_NONE;
    c->why = 0;
    c->deadline = 0;
    c->what = NULL;
    c->deadline_ms = 0;
    c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->fd < 0)
        return eg_error_set(EG_EIO, "cannot make a cancel token: %s", eg_strerror(errno));
    return 0;
}

void eg_cancel_release(eg_cancel *c)
{
    if (c && c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

void eg_cancel_request(eg_cancel *c, int level)
{
    if (!c)
        return;
    int old = __atomic_load_n(&c->level, __ATOMIC_SEQ_CST);
    while (old < level && !__atomic_compare_exchange_n(&c->level, &old, level, 0, __ATOMIC_SEQ_CST,
                                                       __ATOMIC_SEQ_CST)) {
    }
    if (level >= EG_CANCEL_NOW && c->fd >= 0) {
        uint64_t one = 1;
        ssize_t n = write(c->fd, &one, sizeof(one));
        (void)n; /* a full counter is readable already */
    }
}

void eg_cancel_abort(eg_cancel *c, int code)
{
    if (!c)
        return;
    int none = 0;
    __atomic_compare_exchange_n(&c->why, &none, code, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    eg_cancel_request(c, EG_CANCEL_NOW);
}

int eg_cancel_level(const eg_cancel *c)
{
    return c ? __atomic_load_n(&c->level, __ATOMIC_SEQ_CST) : EG_CANCEL_NONE;
}

const eg_clock *eg_cancel_clock(const eg_cancel *c)
{
    return c && c->clock ? c->clock : eg_clock_system();
}

int64_t eg_cancel_now(const eg_cancel *c)
{
    const eg_clock *k = eg_cancel_clock(c);
    return k->now_ms(k->ctx);
}

void eg_cancel_set_deadline(eg_cancel *c, const char *what, unsigned ms)
{
    if (!c)
        return;
    c->what = what;
    c->deadline_ms = ms;
    c->deadline = ms ? eg_cancel_now(c) + ms : 0;
}

int eg_cancel_check(eg_cancel *c)
{
    if (!c)
        return 0;
    if (eg_cancel_level(c) >= EG_CANCEL_NOW) {
        int why = __atomic_load_n(&c->why, __ATOMIC_SEQ_CST);
        if (why == EG_EGONE)
            return eg_error_set(EG_EGONE, "the board was unplugged (its USB device went away)");
        if (why < 0)
            return eg_error_set(why, "stopped: %s", eg_error_name(why));
        return eg_error_set(EG_ECANCELED, "canceled");
    }
    if (c->deadline && eg_cancel_now(c) >= c->deadline)
        return eg_error_set(EG_ETIMEDOUT, "the %s step ran past its deadline of %u ms",
                            c->what ? c->what : "current", c->deadline_ms);
    return 0;
}

unsigned eg_cancel_bound(const eg_cancel *c, unsigned ms)
{
    if (!c || !c->deadline)
        return ms;
    int64_t left = c->deadline - eg_cancel_now(c);
    if (left <= 0)
        return 0;
    return (uint64_t)left < ms ? (unsigned)left : ms;
}

int eg_cancel_sleep(eg_cancel *c, unsigned ms)
{
    const eg_clock *k = eg_cancel_clock(c);
    int rc = eg_cancel_check(c);
    unsigned bounded;

    if (rc < 0)
        return rc;
    bounded = eg_cancel_bound(c, ms);
    k->wait(k->ctx, c ? c->fd : -1, bounded);
    if (bounded < ms || eg_cancel_level(c) >= EG_CANCEL_NOW)
        return eg_cancel_check(c);
    return 0;
}
