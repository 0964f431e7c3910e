/* rfc2217://HOST:PORT: a serial port across a network (RFC 2217). Telnet carries the
 * data, with 0xFF bytes doubled, and the COM-PORT-OPTION subnegotiations carry what a
 * raw socket cannot: the baud rate and the DTR and RTS lines, so resets work. */
#define _POSIX_C_SOURCE 200809L
#include "core/clock.h"
#include "core/error.h"
#include "transport/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IAC  255
#define DONT 254
#define DO   253
#define WONT 252
#define WILL 251
#define SB   250
#define SE   240

#define OPT_BINARY   0
#define OPT_SGA      3
#define OPT_COM_PORT 44

#define CPO_SET_BAUDRATE 1
#define CPO_SET_CONTROL  5
#define CPO_PURGE_DATA   12
#define CTL_DTR_ON       8
#define CTL_DTR_OFF      9
#define CTL_RTS_ON       11
#define CTL_RTS_OFF      12

enum { T_DATA, T_IAC, T_OPT, T_SB, T_SB_IAC };

typedef struct rfc2217_transport {
    eg_transport base;
    eg_transport *tcp; /* the socket underneath */
    int state;
    uint8_t verb; /* WILL/WONT/DO/DONT being read */
    /* Options agreed (or asked for) on our side and on the server's; a request for a
     * state already in force gets no answer, or the two sides would answer forever. */
    uint8_t local[256], remote[256];
    uint8_t raw[4096];
} rfc2217_transport;

static int send_bytes(rfc2217_transport *r, const uint8_t *b, size_t n)
{
    return eg_transport_write(r->tcp, b, n, EG_SOCKET_WRITE_MS);
}

/* Answers the server's option negotiation: we do binary, SGA and COM-PORT-OPTION. */
static int negotiate(rfc2217_transport *r, uint8_t verb, uint8_t opt)
{
    int ok = opt == OPT_BINARY || opt == OPT_SGA || opt == OPT_COM_PORT;
    uint8_t reply[3] = {IAC, 0, opt};

    if (verb == DO) {
        if (r->local[opt] == (ok ? 1 : 2))
            return 0;
        r->local[opt] = ok ? 1 : 2;
        reply[1] = ok ? WILL : WONT;
    } else if (verb == WILL) {
        if (r->remote[opt] == (ok ? 1 : 2))
            return 0;
        r->remote[opt] = ok ? 1 : 2;
        reply[1] = ok ? DO : DONT;
    } else {
        return 0; /* WONT / DONT need no answer */
    }
    return send_bytes(r, reply, 3);
}

/* Strips telnet commands from what arrived; returns the data bytes left in buf. */
static int filter(rfc2217_transport *r, const uint8_t *in, size_t n, uint8_t *buf)
{
    size_t o = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        switch (r->state) {
        case T_DATA:
            if (c == IAC)
                r->state = T_IAC;
            else
                buf[o++] = c;
            break;
        case T_IAC:
            if (c == IAC) {
                buf[o++] = IAC; /* an escaped 0xFF */
                r->state = T_DATA;
            } else if (c == WILL || c == WONT || c == DO || c == DONT) {
                r->verb = c;
                r->state = T_OPT;
            } else if (c == SB) {
                r->state = T_SB;
            } else {
                r->state = T_DATA; /* NOP and the like */
            }
            break;
        case T_OPT:
            r->state = T_DATA;
            if ((rc = negotiate(r, r->verb, c)) < 0)
                return rc;
            break;
        case T_SB: /* the server's acknowledgements: nothing to act on */
            if (c == IAC)
                r->state = T_SB_IAC;
            break;
        case T_SB_IAC:
            r->state = c == SE ? T_DATA : T_SB;
            break;
        }
    }
    return (int)o;
}

static int r_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    rfc2217_transport *r = (rfc2217_transport *)t;
    int64_t deadline = eg_clock_ms() + timeout_ms;

    r->tcp->cancel = t->cancel;
    for (;;) {
        size_t want = len < sizeof(r->raw) ? len : sizeof(r->raw);
        int n = eg_transport_read(r->tcp, r->raw, want, eg_clock_left(deadline));
        if (n <= 0)
            return n;
        n = filter(r, r->raw, (size_t)n, buf);
        if (n != 0 || eg_clock_left(deadline) == 0)
            return n; /* data, an error, or the time is up */
    }
}

static int r_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    rfc2217_transport *r = (rfc2217_transport *)t;
    uint8_t out[8192];
    size_t o = 0;
    int rc;

    r->tcp->cancel = t->cancel;
    for (size_t i = 0; i < len; i++) {
        out[o++] = buf[i];
        if (buf[i] == IAC)
            out[o++] = IAC;
        if (o >= sizeof(out) - 2 || i + 1 == len) {
            if ((rc = eg_transport_write(r->tcp, out, o, timeout_ms)) < 0)
                return rc;
            o = 0;
        }
    }
    return 0;
}

static int com_port(rfc2217_transport *r, uint8_t cmd, const uint8_t *v, size_t n)
{
    uint8_t pkt[16] = {IAC, SB, OPT_COM_PORT, cmd};
    size_t o = 4;
    for (size_t i = 0; i < n; i++) {
        pkt[o++] = v[i];
        if (v[i] == IAC)
            pkt[o++] = IAC;
    }
    pkt[o++] = IAC;
    pkt[o++] = SE;
    return send_bytes(r, pkt, o);
}

static int r_set_baud(eg_transport *t, uint32_t baud)
{
    uint8_t v[4] = {(uint8_t)(baud >> 24), (uint8_t)(baud >> 16), (uint8_t)(baud >> 8),
                    (uint8_t)baud};
    return com_port((rfc2217_transport *)t, CPO_SET_BAUDRATE, v, 4);
}

static int r_set_lines(eg_transport *t, int dtr, int rts)
{
    rfc2217_transport *r = (rfc2217_transport *)t;
    int rc = 0;
    uint8_t v;

    if (dtr >= 0) {
        v = dtr ? CTL_DTR_ON : CTL_DTR_OFF;
        rc = com_port(r, CPO_SET_CONTROL, &v, 1);
    }
    if (rc == 0 && rts >= 0) {
        v = rts ? CTL_RTS_ON : CTL_RTS_OFF;
        rc = com_port(r, CPO_SET_CONTROL, &v, 1);
    }
    return rc;
}

static int r_flush_input(eg_transport *t)
{
    rfc2217_transport *r = (rfc2217_transport *)t;
    uint8_t both = 3;
    com_port(r, CPO_PURGE_DATA, &both, 1);
    return eg_transport_flush_input(r->tcp);
}

static void r_free(eg_transport *t)
{
    rfc2217_transport *r = (rfc2217_transport *)t;
    eg_transport_free(r->tcp);
    free(r);
}

static const eg_transport_ops rfc2217_ops = {
    .kind = "rfc2217",
    .read = r_read,
    .write = r_write,
    .set_baud = r_set_baud,
    .set_lines = r_set_lines,
    .flush_input = r_flush_input,
    .free = r_free,
};

int eg_transport_open_rfc2217(eg_transport **out, const char *hostport, uint32_t baud,
                              eg_cancel *cancel)
{
    static const uint8_t hello[] = {IAC, WILL, OPT_COM_PORT, IAC, WILL, OPT_BINARY,
                                    IAC, DO,   OPT_BINARY,   IAC, DO,   OPT_SGA};
    rfc2217_transport *r;
    int rc;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return eg_error_set(EG_ENOMEM, "out of memory");
    r->base.ops = &rfc2217_ops;
    snprintf(r->base.name, sizeof(r->base.name), "rfc2217://%.200s", hostport);
    r->base.cancel = cancel;
    rc = eg_transport_open_socket(&r->tcp, hostport, cancel);
    if (rc < 0)
        goto fail;
    r->base.caps = EG_TRANSPORT_CAP_LINES | EG_TRANSPORT_CAP_BAUD;
    r->local[OPT_COM_PORT] = r->local[OPT_BINARY] = 1;
    r->remote[OPT_BINARY] = r->remote[OPT_SGA] = 1;
    if ((rc = send_bytes(r, hello, sizeof(hello))) < 0)
        goto fail;
    r->base.baud = baud ? baud : 115200;
    if ((rc = r_set_baud(&r->base, r->base.baud)) < 0)
        goto fail;
    *out = &r->base;
    return 0;
fail:
    r_free(&r->base);
    return rc;
}
