#include "transport/transport.h"

#include "core/error.h"

#include <string.h>

int eg_transport_open(eg_transport **out, const char *name, uint32_t baud, eg_cancel *cancel)
{
    int rc;

    *out = NULL;
    if (!name || !*name)
        return eg_error_set(EG_EINVAL, "no port given (use --port or ESPGANG_PORT)");
    if (strncmp(name, "socket://", 9) == 0) {
        rc = eg_transport_open_socket(out, name + 9, cancel);
        /* The far end runs at some rate; the rate we asked for is our best guess. */
        if (rc == 0)
            (*out)->baud = baud;
        return rc;
    }
    if (strncmp(name, "rfc2217://", 10) == 0)
        return eg_transport_open_rfc2217(out, name + 10, baud, cancel);
    if (strstr(name, "://"))
        return eg_error_set(EG_EINVAL, "unknown scheme (socket:// and rfc2217:// are known)");
    if (eg_transport_is_pty(name))
        rc = eg_transport_open_tty(out, name, baud);
    else
        rc = eg_transport_open_serial(out, name, baud);
    if (rc == 0)
        (*out)->cancel = cancel;
    return rc;
}

void eg_transport_free(eg_transport *t)
{
    if (t)
        t->ops->free(t);
}

int eg_transport_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return t->ops->read(t, buf, len, timeout_ms);
}

int eg_transport_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return t->ops->write(t, buf, len, timeout_ms);
}

int eg_transport_set_baud(eg_transport *t, uint32_t baud)
{
    int rc = t->ops->set_baud(t, baud);
    if (rc == 0)
        t->baud = baud;
    return rc;
}

int eg_transport_set_lines(eg_transport *t, int dtr, int rts)
{
    if (!(t->caps & EG_TRANSPORT_CAP_LINES))
        return 0;
    return t->ops->set_lines(t, dtr, rts);
}

int eg_transport_flush_input(eg_transport *t)
{
    return t->ops->flush_input(t);
}
