/* Callbacks through which the library reports what it is doing: log lines and
 * progress. Only the front end (src/cli, tools) prints; everything else calls these. */
#ifndef EG_CORE_EVENTS_H
#define EG_CORE_EVENTS_H

#include <stdint.h>

typedef enum eg_log_level { EG_LOG_DEBUG, EG_LOG_INFO, EG_LOG_WARN } eg_log_level;

typedef struct eg_events {
    /* A finished line of text, no newline. */
    void (*log)(void *ctx, eg_log_level level, const char *msg);
    /* Work on step (e.g. "writing 0x10000") has reached done of total bytes. Called
     * with done == 0 at the start and done == total at the end. */
    void (*progress)(void *ctx, const char *step, uint64_t done, uint64_t total);
    void *ctx;
} eg_events;

void eg_events_log(const eg_events *ev, eg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eg_events_progress(const eg_events *ev, const char *step, uint64_t done, uint64_t total);

#endif
