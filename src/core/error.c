#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EG_ERROR_MAX 1024

static _Thread_local char eg_error_buf[EG_ERROR_MAX];

int eg_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(eg_error_buf, sizeof(eg_error_buf), fmt, ap);
    va_end(ap);
    return code;
}

int eg_error_prefix(int code, const char *fmt, ...)
{
    char prefix[EG_ERROR_MAX];
    char old[EG_ERROR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, eg_error_buf, sizeof(old));
    if (old[0] == '\0')
        snprintf(old, sizeof(old), "%s", eg_error_name(code));
    size_t pl = strlen(prefix), ol = strlen(old);
    if (pl > EG_ERROR_MAX - 1)
        pl = EG_ERROR_MAX - 1;
    if (ol > EG_ERROR_MAX - 1 - pl)
        ol = EG_ERROR_MAX - 1 - pl; /* keep the front: the context and the cause's start */
    memcpy(eg_error_buf, prefix, pl);
    memcpy(eg_error_buf + pl, old, ol);
    eg_error_buf[pl + ol] = '\0';
    return code;
}

const char *eg_error_msg(void)
{
    return eg_error_buf;
}

void eg_error_clear(void)
{
    eg_error_buf[0] = '\0';
}

const char *eg_strerror(int errnum)
{
    static _Thread_local char text[128];
    /* The XSI strerror_r (this file is compiled without _GNU_SOURCE). */
    if (strerror_r(errnum, text, sizeof(text)) != 0)
        snprintf(text, sizeof(text), "error %d", errnum);
    return text;
}

const char *eg_error_name(int code)
{
    switch (code) {
    case EG_OK:
        return "ok";
    case EG_EINVAL:
        return "invalid input";
    case EG_ENOMEM:
        return "out of memory";
    case EG_EIO:
        return "i/o error";
    case EG_ETIMEDOUT:
        return "timed out";
    case EG_EPROTO:
        return "protocol error";
    case EG_EDEVICE:
        return "device reported a failure";
    case EG_EUNSUPPORTED:
        return "not supported";
    case EG_ENOTFOUND:
        return "not found";
    case EG_EMISMATCH:
        return "mismatch";
    case EG_ECANCELED:
        return "canceled";
    case EG_EBUSY:
        return "busy";
    case EG_EGONE:
        return "unplugged";
    case EG_EPASSED:
        return "already passed";
    default:
        return "unknown error";
    }
}
