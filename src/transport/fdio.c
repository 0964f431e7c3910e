#define _POSIX_C_SOURCE 200809L
#include "transport/fdio.h"

#include "core/clock.h"
#include "core/error.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int eg_fd_read(int fd, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    int64_t deadline = eg_clock_ms() + timeout_ms;

    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)eg_clock_left(deadline));
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return eg_error_set(EG_EIO, "poll failed: %s", eg_strerror(errno));
        }
        if (pr == 0)
            return 0;
        ssize_t n = read(fd, buf, len);
        if (n > 0)
            return (int)n;
        if (n == 0)
            return eg_error_set(EG_EIO, "the device closed the connection");
        if (errno == EAGAIN || errno == EINTR) {
            if (eg_clock_left(deadline) == 0)
                return 0;
            continue;
        }
        if (errno == EIO)
            return eg_error_set(EG_EIO, "the device went away (unplugged?)");
        return eg_error_set(EG_EIO, "read failed: %s", eg_strerror(errno));
    }
}

int eg_fd_write(int fd, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    int64_t deadline = eg_clock_ms() + timeout_ms;

    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            if (errno == EIO || errno == EPIPE || errno == ECONNRESET)
                return eg_error_set(EG_EIO, "the device went away (unplugged?)");
            return eg_error_set(EG_EIO, "write failed: %s", eg_strerror(errno));
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        unsigned left = eg_clock_left(deadline);
        if (left == 0)
            return eg_error_set(EG_ETIMEDOUT, "write timed out");
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
            return eg_error_set(EG_EIO, "poll failed: %s", eg_strerror(errno));
    }
    return 0;
}

int eg_fd_set_lines(int fd, int dtr, int rts)
{
    int bits;

    if (ioctl(fd, TIOCMGET, &bits) != 0)
        return eg_error_set(EG_EIO, "cannot read modem lines: %s", eg_strerror(errno));
    if (dtr >= 0)
        bits = dtr ? (bits | TIOCM_DTR) : (bits & ~TIOCM_DTR);
    if (rts >= 0)
        bits = rts ? (bits | TIOCM_RTS) : (bits & ~TIOCM_RTS);
    if (ioctl(fd, TIOCMSET, &bits) != 0)
        return eg_error_set(EG_EIO, "cannot set DTR/RTS: %s", eg_strerror(errno));
    return 0;
}

int eg_fd_keep_lines_on_close(int fd)
{
    struct termios tio;

    if (tcgetattr(fd, &tio) != 0)
        return eg_error_set(EG_EIO, "cannot read settings: %s", eg_strerror(errno));
    tio.c_cflag &= ~(tcflag_t)HUPCL;
    if (tcsetattr(fd, TCSANOW, &tio) != 0)
        return eg_error_set(EG_EIO, "cannot change settings: %s", eg_strerror(errno));
    return 0;
}

void eg_fd_drain(int fd)
{
    uint8_t junk[4096];
    for (int i = 0; i < 1024; i++) {
        ssize_t n = read(fd, junk, sizeof(junk));
        if (n <= 0)
            break;
    }
}
