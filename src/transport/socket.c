/* socket://HOST:PORT: a raw TCP byte stream (no modem lines, no baud rate). */
#define _POSIX_C_SOURCE 200809L
#include "core/clock.h"
#include "core/error.h"
#include "transport/fdio.h"
#include "transport/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EG_SOCKET_CONNECT_MS 5000

typedef struct socket_transport {
    eg_transport base;
    int fd;
} socket_transport;

static int sock_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return eg_fd_read(((socket_transport *)t)->fd, buf, len, timeout_ms, t->cancel);
}

static int sock_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return eg_fd_write(((socket_transport *)t)->fd, buf, len, timeout_ms, t->cancel, 1);
}

static int sock_set_baud(eg_transport *t, uint32_t baud)
{
    (void)t;
    (void)baud;
    return 0;
}

static int sock_set_lines(eg_transport *t, int dtr, int rts)
{
    (void)t;
    (void)dtr;
    (void)rts;
    return eg_error_set(EG_EUNSUPPORTED, "a TCP socket has no DTR/RTS lines");
}

static int sock_flush_input(eg_transport *t)
{
    eg_fd_drain(((socket_transport *)t)->fd);
    return 0;
}

static void sock_free(eg_transport *t)
{
    socket_transport *st = (socket_transport *)t;
    if (st->fd >= 0)
        close(st->fd);
    free(st);
}

static const eg_transport_ops socket_ops = {
    .kind = "socket",
    .read = sock_read,
    .write = sock_write,
    .set_baud = sock_set_baud,
    .set_lines = sock_set_lines,
    .flush_input = sock_flush_input,
    .free = sock_free,
};

/* Connects fd to ai within the deadline; 0 or an errno value (ECANCELED when the
 * token stopped it). */
static int connect_bounded(int fd, const struct addrinfo *ai, int64_t deadline, eg_cancel *cancel)
{
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return errno;
    struct pollfd pfd[2] = {{.fd = fd, .events = POLLOUT},
                            {.fd = cancel ? cancel->fd : -1, .events = POLLIN}};
    int pr = poll(pfd, 2, (int)eg_cancel_bound(cancel, eg_clock_left(deadline)));
    if (pfd[1].revents)
        return ECANCELED;
    if (pr <= 0)
        return pr == 0 ? ETIMEDOUT : errno;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    return soerr;
}

int eg_transport_open_socket(eg_transport **out, const char *hostport, eg_cancel *cancel)
{
    char host[200], name[256];
    const char *colon;
    struct addrinfo hints = {0}, *res = NULL;
    socket_transport *st = NULL;
    int rc, err = 0;

    *out = NULL;
    snprintf(name, sizeof(name), "socket://%.200s", hostport);
    colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || !colon[1] || (size_t)(colon - hostport) >= sizeof(host))
        return eg_error_set(EG_EINVAL, "expected socket://HOST:PORT");
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0)
        return eg_error_set(EG_ENOTFOUND, "cannot resolve: %s", gai_strerror(rc));
    st = calloc(1, sizeof(*st));
    if (!st) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    st->base.ops = &socket_ops;
    st->fd = -1;
    memcpy(st->base.name, name, sizeof(name));
    int64_t deadline = eg_clock_ms() + EG_SOCKET_CONNECT_MS;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        err = connect_bounded(fd, ai, deadline, cancel);
        if (err == 0) {
            st->fd = fd;
            break;
        }
        close(fd);
    }
    if (st->fd < 0) {
        if ((rc = eg_cancel_check(cancel)) < 0)
            ; /* a stop, or the step's deadline: its message says so */
        else
            rc = eg_error_set(err == ECONNREFUSED ? EG_ENOTFOUND : EG_EIO, "cannot connect: %s",
                              eg_strerror(err));
        goto done;
    }
    int one = 1;
    setsockopt(st->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    st->base.caps = 0;
    st->base.cancel = cancel;
    *out = &st->base;
    st = NULL;
    rc = 0;
done:
    if (st)
        sock_free(&st->base);
    freeaddrinfo(res);
    return rc;
}
