#include "device/console.h"

#include <stdio.h>
#include <string.h>

void eg_console_init(eg_console *c, eg_transport *t)
{
    memset(c, 0, sizeof(*c));
    c->t = t;
}

void eg_console_feed(eg_console *c, const uint8_t *data, size_t len)
{
    size_t keep = c->len - c->at;

    if (len > sizeof(c->buf)) {
        data += len - sizeof(c->buf);
        len = sizeof(c->buf);
    }
    if (keep + len > sizeof(c->buf))
        keep = sizeof(c->buf) - len;
    memmove(c->buf, c->buf + c->len - keep, keep);
    memcpy(c->buf + keep, data, len);
    c->at = 0;
    c->len = keep + len;
}

const char *eg_console_partial(eg_console *c)
{
    c->part[c->n] = '\0';
    return c->part;
}

/* Takes one byte into the line; 1 when it ended the line. */
static int take(eg_console *c, uint8_t b)
{
    if (c->esc == 1) {
        c->esc = b == '[' ? 2 : 0;
        return 0;
    }
    if (c->esc == 2) {
        if (b >= 0x40 && b <= 0x7E)
            c->esc = 0; /* the sequence's final byte */
        return 0;
    }
    if (b == 0x1B) {
        c->esc = 1;
        return 0;
    }
    if (b == '\n')
        return 1;
    if (b == '\r')
        return 0;
    c->part[c->n++] = b == '\t' || (b >= 0x20 && b < 0x7F) ? (char)b : '.';
    return c->n == sizeof(c->part) - 1;
}

int eg_console_line(eg_console *c, char *line, size_t len, unsigned timeout_ms)
{
    for (;;) {
        while (c->at < c->len) {
            if (take(c, c->buf[c->at++])) {
                c->part[c->n] = '\0';
                snprintf(line, len, "%s", c->part);
                c->n = 0;
                return 1;
            }
        }
        int n = eg_transport_read(c->t, c->buf, sizeof(c->buf), timeout_ms);
        if (n <= 0)
            return n;
        c->at = 0;
        c->len = (size_t)n;
    }
}
