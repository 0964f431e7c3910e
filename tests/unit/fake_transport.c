#define _POSIX_C_SOURCE 200809L
#include "fake_transport.h"

#include "core/error.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk {
    struct chunk *next;
    int eio;
    size_t len, pos;
    uint8_t data[];
} chunk;

typedef struct fake {
    eg_transport base;
    chunk *head, *tail;
    eg_buf written;
    fake_responder responder;
    void *ctx;
    int flushes;
    char lines[2048];
    int64_t now, last_change;
    int fail_writes;
    size_t write_budget;
    eg_clock clock;
    eg_cancel cancel;
} fake;

static int64_t fake_clock_now(void *ctx)
{
    return ((fake *)ctx)->now;
}

/* A wait moves the clock by its whole length, unless the cancel token's fd is
 * readable already (a stop was asked): then it ends at once. */
static int fake_clock_wait(void *ctx, int fd, unsigned ms)
{
    fake *f = ctx;
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0)
            return 1;
    }
    f->now += ms;
    return 0;
}

static void push_chunk(fake *f, chunk *c)
{
    c->next = NULL;
    if (f->tail)
        f->tail->next = c;
    else
        f->head = c;
    f->tail = c;
}

void fake_push(eg_transport *t, const void *data, size_t len)
{
    chunk *c = calloc(1, sizeof(*c) + len);
    memcpy(c->data, data, len);
    c->len = len;
    push_chunk((fake *)t, c);
}

void fake_push_eio(eg_transport *t)
{
    chunk *c = calloc(1, sizeof(*c));
    c->eio = 1;
    push_chunk((fake *)t, c);
}

static int f_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    fake *f = (fake *)t;
    chunk *c = f->head;
    if (!c) {
        /* Nothing will ever arrive: the whole timeout passes (on the fake clock), or a
         * stop or the step's deadline ends the wait. */
        int rc = eg_cancel_sleep(t->cancel, timeout_ms);
        return rc < 0 ? rc : 0;
    }
    if (c->eio)
        return eg_error_set(EG_EGONE, "gone");
    size_t n = c->len - c->pos < len ? c->len - c->pos : len;
    memcpy(buf, c->data + c->pos, n);
    c->pos += n;
    if (c->pos == c->len) {
        f->head = c->next;
        if (!f->head)
            f->tail = NULL;
        free(c);
    }
    return (int)n;
}

static int f_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    fake *f = (fake *)t;
    (void)timeout_ms;
    if (f->fail_writes) {
        if (len > f->write_budget) {
            eg_buf_append(&f->written, buf, f->write_budget);
            f->write_budget = 0;
            return eg_error_set(EG_EGONE, "gone");
        }
        f->write_budget -= len;
    }
    eg_buf_append(&f->written, buf, len);
    if (f->responder)
        f->responder(t, buf, len, f->ctx);
    return 0;
}

static int f_set_baud(eg_transport *t, uint32_t baud)
{
    (void)t;
    (void)baud;
    return 0;
}

static void note_line(fake *f, char line, int v)
{
    size_t n = strlen(f->lines);
    if (n && f->now > f->last_change)
        n += (size_t)snprintf(f->lines + n, sizeof(f->lines) - n, "|%lld|",
                              (long long)(f->now - f->last_change));
    if (n + 2 < sizeof(f->lines)) {
        f->lines[n++] = line;
        f->lines[n++] = (char)('0' + v);
        f->lines[n] = '\0';
    }
    f->last_change = f->now;
}

static int f_set_lines(eg_transport *t, int dtr, int rts)
{
    fake *f = (fake *)t;
    if (dtr >= 0)
        note_line(f, 'D', dtr);
    if (rts >= 0)
        note_line(f, 'R', rts);
    return 0;
}

static int f_flush(eg_transport *t)
{
    fake *f = (fake *)t;
    /* Like a real port: what arrived and was not read is gone. */
    while (f->head && !f->head->eio) {
        chunk *n = f->head->next;
        free(f->head);
        f->head = n;
    }
    if (!f->head)
        f->tail = NULL;
    f->flushes++;
    return 0;
}

static void f_free(eg_transport *t)
{
    fake *f = (fake *)t;
    while (f->head) {
        chunk *n = f->head->next;
        free(f->head);
        f->head = n;
    }
    eg_buf_release(&f->written);
    eg_cancel_release(&f->cancel);
    free(f);
}

static const eg_transport_ops fake_ops = {
    .kind = "fake",
    .read = f_read,
    .write = f_write,
    .set_baud = f_set_baud,
    .set_lines = f_set_lines,
    .flush_input = f_flush,
    .free = f_free,
};

eg_transport *fake_transport_new(void)
{
    fake *f = calloc(1, sizeof(*f));
    f->base.ops = &fake_ops;
    memcpy(f->base.name, "fake", 5);
    f->clock = (eg_clock){fake_clock_now, fake_clock_wait, f};
    eg_cancel_init(&f->cancel, &f->clock);
    f->base.cancel = &f->cancel;
    return &f->base;
}

void fake_set_responder(eg_transport *t, fake_responder fn, void *ctx)
{
    ((fake *)t)->responder = fn;
    ((fake *)t)->ctx = ctx;
}

void fake_fail_writes_after(eg_transport *t, size_t bytes)
{
    ((fake *)t)->fail_writes = 1;
    ((fake *)t)->write_budget = bytes;
}

void fake_enable_lines(eg_transport *t)
{
    t->caps |= EG_TRANSPORT_CAP_LINES;
}

const char *fake_lines(eg_transport *t)
{
    return ((fake *)t)->lines;
}

const eg_buf *fake_written(eg_transport *t)
{
    return &((fake *)t)->written;
}

int fake_flushes(eg_transport *t)
{
    return ((fake *)t)->flushes;
}

void fake_use_system_clock(eg_transport *t)
{
    ((fake *)t)->cancel.clock = NULL;
}

int64_t fake_now(eg_transport *t)
{
    return ((fake *)t)->now;
}

eg_cancel *fake_cancel(eg_transport *t)
{
    return &((fake *)t)->cancel;
}
