#include "core/events.h"

#include <stdarg.h>
#include <stdio.h>

void eg_events_log(const eg_events *ev, eg_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (!ev || !ev->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ev->log(ev->ctx, level, line);
}

void eg_events_progress(const eg_events *ev, const char *step, uint64_t done, uint64_t total)
{
    if (ev && ev->progress)
        ev->progress(ev->ctx, step, done, total);
}
