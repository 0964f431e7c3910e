#define _GNU_SOURCE /* posix_openpt, ptsname_r, cfmakeraw, accept4 */
#include "io.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static void port_zero(sim_port *p, sim_port_kind kind)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->listen_fd = -1;
    p->fd = -1;
    p->watch_fd = -1;
}

int sim_port_open_tcp(sim_port *p, uint16_t port)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int one = 1, rc = 0;

    port_zero(p, SIM_PORT_TCP);
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0)
        return eg_error_set(EG_EIO, "cannot create a socket: %s", strerror(errno));
    setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = eg_error_set(EG_EIO, "cannot listen on 127.0.0.1:%u: %s", (unsigned)port,
                          strerror(errno));
        goto done;
    }
    if (listen(p->listen_fd, 4) < 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&sa, &salen) < 0) {
        rc = eg_error_set(EG_EIO, "cannot listen on 127.0.0.1:%u: %s", (unsigned)port,
                          strerror(errno));
        goto done;
    }
    p->tcp_port = ntohs(sa.sin_port);
done:
    if (rc < 0)
        sim_port_close(p);
    return rc;
}

/* Makes the slave raw (no echo, no line editing, no CR/LF mapping). Opening and
 * closing it here also leaves the master in the state it is in after a client closed
 * the slave, so the first client is noticed like every later one. */
static int pty_make_raw(const char *slave)
{
    struct termios t;
    int fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return eg_error_set(EG_EIO, "cannot open '%s': %s", slave, strerror(errno));
    if (tcgetattr(fd, &t) < 0) {
        rc = eg_error_set(EG_EIO, "cannot read the settings of '%s': %s", slave, strerror(errno));
        goto done;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    if (tcsetattr(fd, TCSANOW, &t) < 0)
        rc = eg_error_set(EG_EIO, "cannot set '%s' to raw mode: %s", slave, strerror(errno));
done:
    close(fd);
    return rc;
}

int sim_port_open_pty(sim_port *p, const char *link)
{
    struct stat st;
    int rc = 0, flags;

    port_zero(p, SIM_PORT_PTY);
    p->fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->fd < 0)
        return eg_error_set(EG_EIO, "cannot create a pseudo-terminal: %s", strerror(errno));
    if (grantpt(p->fd) < 0 || unlockpt(p->fd) < 0 ||
        ptsname_r(p->fd, p->slave, sizeof(p->slave)) != 0) {
        rc = eg_error_set(EG_EIO, "cannot set up the pseudo-terminal: %s", strerror(errno));
        goto done;
    }
    flags = fcntl(p->fd, F_GETFL);
    if (flags < 0 || fcntl(p->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        rc = eg_error_set(EG_EIO, "cannot make the pseudo-terminal non-blocking: %s",
                          strerror(errno));
        goto done;
    }
    if ((rc = pty_make_raw(p->slave)) < 0)
        goto done;
    if (lstat(link, &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            rc = eg_error_set(EG_EINVAL, "'%s' exists and is not a symlink", link);
            goto done;
        }
        if (unlink(link) < 0) {
            rc = eg_error_set(EG_EIO, "cannot replace '%s': %s", link, strerror(errno));
            goto done;
        }
    }
    if (symlink(p->slave, link) < 0) {
        rc = eg_error_set(EG_EIO, "cannot create the link '%s': %s", link, strerror(errno));
        goto done;
    }
    p->link = strdup(link);
    if (!p->link) {
        unlink(link);
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    /* Clients opening and closing the slave show as inotify events; without inotify
     * the port falls back to probing for the master's hang-up, which can miss a client
     * that closes and reopens between two probes. */
    p->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (p->watch_fd >= 0 && inotify_add_watch(p->watch_fd, p->slave, IN_OPEN | IN_CLOSE) < 0) {
        close(p->watch_fd);
        p->watch_fd = -1;
    }
done:
    if (rc < 0)
        sim_port_close(p);
    return rc;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void sim_port_close(sim_port *p)
{
    /* the way in goes first: a client that sees the hang-up cannot come back */
    if (p->link) {
        unlink(p->link);
        free(p->link);
        p->link = NULL;
    }
    close_fd(&p->listen_fd);
    close_fd(&p->fd);
    close_fd(&p->watch_fd);
    eg_buf_release(&p->out);
    p->out_off = 0;
    p->connected = 0;
}

void sim_port_address(const sim_port *p, char *dst, size_t dstlen)
{
    if (p->kind == SIM_PORT_TCP)
        snprintf(dst, dstlen, "%s://127.0.0.1:%u", p->telnet ? "rfc2217" : "socket",
                 (unsigned)p->tcp_port);
    else
        snprintf(dst, dstlen, "%s", p->link ? p->link : p->slave);
}

static void out_clear(sim_port *p)
{
    eg_buf_clear(&p->out);
    p->out_off = 0;
    p->out_end = 0;
    p->blocked = 0;
}

int sim_port_accept(sim_port *p, int *replaced)
{
    int fd, one = 1;

    *replaced = 0;
    if (p->kind != SIM_PORT_TCP || p->listen_fd < 0)
        return 0;
    fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return 0; /* EAGAIN, or a connection that died while waiting */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (p->connected) {
        sim_port_drop(p);
        *replaced = 1;
    }
    p->fd = fd;
    p->connected = 1;
    out_clear(p);
    return 1;
}

/* 1 when the master reports that nobody has the slave open. */
static int pty_hung_up(const sim_port *p)
{
    struct pollfd pfd;

    pfd.fd = p->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) < 0 || (pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static int pty_set_open(sim_port *p, int open)
{
    if (open && !p->connected) {
        p->connected = 1;
        out_clear(p);
        return SIM_IO_OPENED;
    }
    if (!open && p->connected) {
        sim_port_drop(p);
        return SIM_IO_CLOSED;
    }
    return SIM_IO_NONE;
}

int sim_port_read_leftover(sim_port *p, uint8_t *buf, size_t cap, size_t *n)
{
    ssize_t got;

    *n = 0;
    if (p->kind != SIM_PORT_PTY || p->fd < 0 || p->connected || !pty_hung_up(p))
        return SIM_IO_NONE;
    got = read(p->fd, buf, cap);
    if (got <= 0)
        return SIM_IO_NONE;
    *n = (size_t)got;
    return SIM_IO_DATA;
}

int sim_port_watch_fd(const sim_port *p)
{
    return p->kind == SIM_PORT_PTY ? p->watch_fd : -1;
}

int sim_port_watch(sim_port *p)
{
    if (p->kind != SIM_PORT_PTY || p->fd < 0)
        return SIM_IO_NONE;
    if (p->watch_fd < 0)
        return p->connected ? SIM_IO_NONE : pty_set_open(p, !pty_hung_up(p));
    for (;;) {
        struct inotify_event e;
        int rc;

        if (p->ev_off >= p->ev_len) {
            ssize_t n = read(p->watch_fd, p->ev, sizeof(p->ev));
            if (n <= 0)
                return SIM_IO_NONE;
            p->ev_len = (size_t)n;
            p->ev_off = 0;
        }
        if (p->ev_len - p->ev_off < sizeof(e)) {
            p->ev_off = p->ev_len;
            continue;
        }
        memcpy(&e, p->ev + p->ev_off, sizeof(e));
        p->ev_off += sizeof(e) + e.len;
        if (e.mask & IN_Q_OVERFLOW) {
            /* events were lost: ask the master instead */
            p->skip_open = p->skip_close = 0;
            p->opens = pty_hung_up(p) ? 0 : 1;
            if ((rc = pty_set_open(p, p->opens > 0)) != SIM_IO_NONE)
                return rc;
        } else if (e.mask & IN_OPEN) {
            if (p->skip_open) {
                p->skip_open--;
                continue;
            }
            if (++p->opens == 1 && (rc = pty_set_open(p, 1)) != SIM_IO_NONE)
                return rc;
        } else if (e.mask & IN_CLOSE) {
            if (p->skip_close) {
                p->skip_close--;
                continue;
            }
            if (p->opens && --p->opens == 0 && (rc = pty_set_open(p, 0)) != SIM_IO_NONE)
                return rc;
        }
    }
}

int sim_port_read(sim_port *p, uint8_t *buf, size_t cap, size_t *n)
{
    ssize_t got;

    *n = 0;
    if (!p->connected || p->fd < 0)
        return SIM_IO_NONE;
    got = read(p->fd, buf, cap);
    if (got > 0) {
        *n = (size_t)got;
        return SIM_IO_DATA;
    }
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return SIM_IO_NONE;
    if (got == 0 && p->kind == SIM_PORT_PTY)
        return SIM_IO_NONE;
    /* With inotify a pty's client leaves through sim_port_watch(), which also sees a
     * client that reopened at once; the master's EIO only says the slave was closed. */
    if (p->kind == SIM_PORT_PTY && p->watch_fd >= 0)
        return SIM_IO_NONE;
    /* TCP: end of stream or a reset; pty: EIO once the slave is closed */
    sim_port_drop(p);
    return SIM_IO_CLOSED;
}

size_t sim_port_pending(const sim_port *p)
{
    return p->out.len - p->out_off;
}

int sim_port_flush(sim_port *p)
{
    p->blocked = 0;
    while (p->connected && p->fd >= 0 && sim_port_pending(p) > 0) {
        const uint8_t *src = p->out.data + p->out_off;
        size_t len = sim_port_pending(p);
        if (p->out_limited) {
            if (p->out_end <= p->out_off)
                break;
            if (len > p->out_end - p->out_off)
                len = p->out_end - p->out_off;
        }
        ssize_t put;

        if (p->kind == SIM_PORT_TCP)
            put = send(p->fd, src, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        else
            put = write(p->fd, src, len);
        if (put < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                p->blocked = 1;
                break;
            }
            sim_port_drop(p);
            return SIM_IO_CLOSED;
        }
        p->out_off += (size_t)put;
        p->sent_total += (uint64_t)put;
    }
    if (p->out_off == p->out.len)
        out_clear(p);
    else if (p->out_off >= 0x10000) {
        memmove(p->out.data, p->out.data + p->out_off, p->out.len - p->out_off);
        p->out.len -= p->out_off;
        p->out_end = p->out_end > p->out_off ? p->out_end - p->out_off : 0;
        p->out_off = 0;
    }
    return SIM_IO_NONE;
}

/* What was written to the master but not read stays queued in the slave after the
 * client closes it, and the next client would read it: empty that queue. */
static void pty_discard_unread(sim_port *p)
{
    int fd = open(p->slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
        if (p->watch_fd >= 0)
            p->skip_open++; /* these are not a client's */
        tcflush(fd, TCIFLUSH);
        close(fd);
        if (p->watch_fd >= 0)
            p->skip_close++;
    }
}

void sim_port_drop(sim_port *p)
{
    if (p->kind == SIM_PORT_TCP)
        close_fd(&p->fd);
    else if (p->connected && p->fd >= 0)
        pty_discard_unread(p);
    p->connected = 0;
    out_clear(p);
}

void sim_port_unplug(sim_port *p)
{
    sim_port_close(p);
    p->gone = 1;
}
