#define _DEFAULT_SOURCE /* flock, readlink, DT_* */
#include "transport/fdio.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/path.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

/* Waits until fd is ready for events, the time runs out (0), or the token ends the
 * wait (its code). 1 when ready. */
static int wait_fd(int fd, short events, unsigned ms, eg_cancel *cancel)
{
    unsigned bounded = eg_cancel_bound(cancel, ms);
    int64_t deadline = eg_clock_ms() + bounded;

    for (;;) {
        struct pollfd pfd[2] = {{.fd = fd, .events = events},
                                {.fd = cancel ? cancel->fd : -1, .events = POLLIN}};
        int rc = eg_cancel_check(cancel);
        if (rc < 0)
            return rc;
        int pr = poll(pfd, 2, (int)eg_clock_left(deadline));
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return eg_error_set(EG_EIO, "poll failed: %s", eg_strerror(errno));
        }
        if (pfd[1].revents)
            return eg_cancel_check(cancel) < 0 ? eg_cancel_check(cancel) : 0;
        if (pr > 0)
            return 1;
        /* The time ran out: the step's deadline, if that is what cut the wait. */
        if (bounded < ms && (rc = eg_cancel_check(cancel)) < 0)
            return rc;
        return 0;
    }
}

int eg_fd_read(int fd, uint8_t *buf, size_t len, unsigned timeout_ms, eg_cancel *cancel)
{
    int64_t deadline = eg_clock_ms() + timeout_ms;

    for (;;) {
        int w = wait_fd(fd, POLLIN, eg_clock_left(deadline), cancel);
        if (w <= 0)
            return w;
        ssize_t n = read(fd, buf, len);
        if (n > 0)
            return (int)n;
        if (n == 0)
            return eg_error_set(EG_EGONE, "the device closed the connection");
        if (errno == EAGAIN || errno == EINTR) {
            if (eg_clock_left(deadline) == 0)
                return 0;
            continue;
        }
        if (errno == EIO || errno == ECONNRESET || errno == ENODEV || errno == ENXIO)
            return eg_error_set(EG_EGONE, "the device went away (unplugged?)");
        return eg_error_set(EG_EIO, "read failed: %s", eg_strerror(errno));
    }
}

int eg_fd_write(int fd, const uint8_t *buf, size_t len, unsigned timeout_ms, eg_cancel *cancel,
                int socket)
{
    int64_t deadline = eg_clock_ms() + timeout_ms;

    while (len > 0) {
        ssize_t n = socket ? send(fd, buf, len, MSG_NOSIGNAL) : write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            if (errno == EIO || errno == EPIPE || errno == ECONNRESET || errno == ENODEV ||
                errno == ENXIO)
                return eg_error_set(EG_EGONE, "the device went away (unplugged?)");
            return eg_error_set(EG_EIO, "write failed: %s", eg_strerror(errno));
        }
        unsigned left = eg_clock_left(deadline);
        if (left == 0)
            return eg_error_set(EG_ETIMEDOUT, "write timed out");
        int w = wait_fd(fd, POLLOUT, left, cancel);
        if (w < 0)
            return w;
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

/* Finds a process other than this one with path open: its pid and name into holder,
 * or "" when none can be seen (another user's processes are hidden). */
static void find_holder(char *holder, size_t len, const char *path)
{
    char real[PATH_MAX], link[PATH_MAX], fdpath[300];
    DIR *proc, *fds;
    struct dirent *p, *f;

    holder[0] = '\0';
    if (eg_path_resolve(real, sizeof(real), path) != 0 || !(proc = opendir("/proc")))
        return;
    while (!holder[0] && (p = readdir(proc))) {
        char *end;
        long pid = strtol(p->d_name, &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid())
            continue;
        snprintf(fdpath, sizeof(fdpath), "/proc/%ld/fd", pid);
        if (!(fds = opendir(fdpath)))
            continue;
        while ((f = readdir(fds))) {
            snprintf(fdpath, sizeof(fdpath), "/proc/%ld/fd/%.200s", pid, f->d_name);
            ssize_t n = readlink(fdpath, link, sizeof(link) - 1);
            if (n <= 0)
                continue;
            link[n] = '\0';
            if (strcmp(link, real) != 0)
                continue;
            char comm[64] = "?";
            snprintf(fdpath, sizeof(fdpath), "/proc/%ld/comm", pid);
            FILE *c = fopen(fdpath, "r");
            if (c) {
                if (fgets(comm, sizeof(comm), c))
                    comm[strcspn(comm, "\n")] = '\0';
                fclose(c);
            }
            snprintf(holder, len, " by %s (pid %ld)", comm, pid);
            break;
        }
        closedir(fds);
    }
    closedir(proc);
}

int eg_fd_lock_exclusive(int fd, const char *path)
{
    char holder[128];

    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            return eg_error_set(EG_EIO, "cannot lock port '%s': %s", path, eg_strerror(errno));
        find_holder(holder, sizeof(holder), path);
        return eg_error_set(EG_EBUSY, "port '%s' is in use%s", path,
                            holder[0] ? holder : " by another program");
    }
    /* Also refuse other openers that do not lock (a terminal program, say); root is
     * not stopped by it, the lock above covers espgang. */
    ioctl(fd, TIOCEXCL);
    return 0;
}
