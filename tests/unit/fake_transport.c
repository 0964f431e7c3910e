#include "fake_transport.h"

#include "core/clock.h"
#include "core/error.h"

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
    char lines[1024];
    int64_t last_change;
} fake;

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
        /* Nothing will ever arrive: behave like a silent line. */
        eg_sleep_ms(timeout_ms < 20 ? timeout_ms : 20);
        return 0;
    }
    if (c->eio)
        return eg_error_set(EG_EIO, "port '%s': the device went away (unplugged?)", t->name);
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
    int64_t now = eg_clock_ms();
    if (n && now - f->last_change >= 20 && n + 1 < sizeof(f->lines))
        f->lines[n++] = '|'; /* a pause of 20 ms or more since the last change */
    if (n + 2 < sizeof(f->lines)) {
        f->lines[n++] = line;
        f->lines[n++] = (char)('0' + v);
        f->lines[n] = '\0';
    }
    f->last_change = now;
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
    return &f->base;
}

void fake_set_responder(eg_transport *t, fake_responder fn, void *ctx)
{
    ((fake *)t)->responder = fn;
    ((fake *)t)->ctx = ctx;
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
