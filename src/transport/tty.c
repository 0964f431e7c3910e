/* Terminals through termios: used for pseudo-terminals, which libserialport cannot
 * open because it looks ports up in sysfs. */
#define _DEFAULT_SOURCE
#include "core/error.h"
#include "transport/fdio.h"
#include "transport/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

typedef struct tty_transport {
    eg_transport base;
    int fd;
} tty_transport;

int eg_transport_is_pty(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
        return 0;
    /* Unix98 pty slaves have majors 136-143; legacy BSD pty slaves have major 3. */
    unsigned maj = major(st.st_rdev);
    return (maj >= 136 && maj <= 143) || maj == 3;
}

static int tty_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return eg_fd_read(((tty_transport *)t)->fd, buf, len, timeout_ms, t->cancel);
}

static int tty_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return eg_fd_write(((tty_transport *)t)->fd, buf, len, timeout_ms, t->cancel, 0);
}

static speed_t speed_code(uint32_t baud)
{
    switch (baud) {
    case 9600:
        return B9600;
    case 19200:
        return B19200;
    case 38400:
        return B38400;
    case 57600:
        return B57600;
    case 115200:
        return B115200;
    case 230400:
        return B230400;
    case 460800:
        return B460800;
    case 921600:
        return B921600;
    case 1000000:
        return B1000000;
    case 1500000:
        return B1500000;
    case 2000000:
        return B2000000;
    case 3000000:
        return B3000000;
    default:
        return 0;
    }
}

static int tty_set_baud(eg_transport *t, uint32_t baud)
{
    tty_transport *tt = (tty_transport *)t;
    struct termios tio;
    speed_t sp = speed_code(baud);

    if (sp == 0)
        return eg_error_set(EG_EINVAL, "baud rate %u is not supported here", baud);
    if (tcgetattr(tt->fd, &tio) != 0)
        return eg_error_set(EG_EIO, "cannot read settings: %s", eg_strerror(errno));
    cfsetispeed(&tio, sp);
    cfsetospeed(&tio, sp);
    if (tcsetattr(tt->fd, TCSANOW, &tio) != 0)
        return eg_error_set(EG_EIO, "cannot set baud rate %u: %s", baud, eg_strerror(errno));
    return 0;
}

static int tty_set_lines(eg_transport *t, int dtr, int rts)
{
    return eg_fd_set_lines(((tty_transport *)t)->fd, dtr, rts);
}

static int tty_supports_baud(eg_transport *t, uint32_t baud)
{
    (void)t;
    return speed_code(baud) != 0;
}

static int tty_flush_input(eg_transport *t)
{
    tty_transport *tt = (tty_transport *)t;
    tcflush(tt->fd, TCIFLUSH);
    eg_fd_drain(tt->fd);
    return 0;
}

static void tty_free(eg_transport *t)
{
    tty_transport *tt = (tty_transport *)t;
    if (tt->fd >= 0)
        close(tt->fd);
    free(tt);
}

static const eg_transport_ops tty_ops = {
    .kind = "tty",
    .read = tty_read,
    .write = tty_write,
    .set_baud = tty_set_baud,
    .set_lines = tty_set_lines,
    .supports_baud = tty_supports_baud,
    .flush_input = tty_flush_input,
    .free = tty_free,
};

int eg_transport_open_tty(eg_transport **out, const char *path, uint32_t baud)
{
    tty_transport *tt;
    struct termios tio;
    int bits, rc;

    *out = NULL;
    tt = calloc(1, sizeof(*tt));
    if (!tt)
        return eg_error_set(EG_ENOMEM, "out of memory");
    tt->base.ops = &tty_ops;
    tt->fd = -1;
    snprintf(tt->base.name, sizeof(tt->base.name), "%s", path);
    tt->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (tt->fd < 0) {
        if (errno == EBUSY)
            rc = eg_error_set(EG_EBUSY, "port '%s' is in use by another program", path);
        else
            rc = eg_error_set(errno == ENOENT ? EG_ENOTFOUND : EG_EIO, "cannot open: %s",
                              eg_strerror(errno));
        goto fail;
    }
    if ((rc = eg_fd_lock_exclusive(tt->fd, path)) < 0)
        goto fail;
    if (tcgetattr(tt->fd, &tio) != 0) {
        rc = eg_error_set(EG_EIO, "not a terminal: %s", eg_strerror(errno));
        goto fail;
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    if (tcsetattr(tt->fd, TCSANOW, &tio) != 0) {
        rc = eg_error_set(EG_EIO, "cannot configure: %s", eg_strerror(errno));
        goto fail;
    }
    tt->base.caps = EG_TRANSPORT_CAP_BAUD;
    /* Pseudo-terminals have no modem lines; real terminals do. */
    if (ioctl(tt->fd, TIOCMGET, &bits) == 0) {
        tt->base.caps |= EG_TRANSPORT_CAP_LINES;
        eg_fd_keep_lines_on_close(tt->fd);
    }
    if (baud) {
        rc = eg_transport_set_baud(&tt->base, baud);
        if (rc < 0)
            goto fail;
    }
    *out = &tt->base;
    return 0;
fail:
    tty_free(&tt->base);
    return rc;
}
