/* Error codes and the thread-local error message.
 *
 * Every function that can fail returns int: 0 on success or a negative EG_E* code.
 * The layer that finds the failure sets a one-line lowercase message with
 * eg_error_set(); outer layers may add context in front with eg_error_prefix() but
 * never replace the message or change the code. */
#ifndef EG_CORE_ERROR_H
#define EG_CORE_ERROR_H

#include <stddef.h>

enum {
    EG_OK = 0,
    EG_EINVAL = -1,       /* bad argument or input from the user or a file */
    EG_ENOMEM = -2,       /* out of memory */
    EG_EIO = -3,          /* operating-system I/O failure (open, read, write) */
    EG_ETIMEDOUT = -4,    /* the device did not answer in time */
    EG_EPROTO = -5,       /* the device answered with something that breaks the protocol */
    EG_EDEVICE = -6,      /* the device answered with a failure status */
    EG_EUNSUPPORTED = -7, /* the device or chip does not support the operation */
    EG_ENOTFOUND = -8,    /* a named thing (port, file, chip) does not exist */
    EG_EMISMATCH = -9,    /* something differs from what was expected (chip, checksum) */
    EG_ECANCELED = -10,   /* stopped on request */
    EG_EBUSY = -11,       /* the port (or file) is held by someone else */
    EG_EGONE = -12,       /* the device went away (unplugged, connection closed) */
    EG_EPASSED = -13,     /* the board passed this profile before: left as it is */
};

/* Sets the calling thread's error message (printf-style) and returns code, so a
 * failing function can `return eg_error_set(EG_EINVAL, "...")`. */
int eg_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Puts context in front of the current message ("port '/dev/ttyUSB0': ") and returns
 * code unchanged. */
int eg_error_prefix(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's last message; "" when none was set. Valid until the next
 * eg_error_* call on this thread. */
const char *eg_error_msg(void);

void eg_error_clear(void);

/* The text of an errno value, thread-safe (strerror is not); valid until the next call
 * on this thread. */
const char *eg_strerror(int errnum);

/* A short name for a code ("timed out"), never NULL. */
const char *eg_error_name(int code);

#endif
