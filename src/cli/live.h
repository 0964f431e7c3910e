/* How a production run shows on the terminal: a live table redrawn in place (on a
 * terminal), one line per event (otherwise), or one JSON object per event (--json);
 * then the summary. */
#ifndef EG_CLI_LIVE_H
#define EG_CLI_LIVE_H

#include "prod/prod.h"

#include <stdio.h>

typedef enum eg_live_mode { EG_LIVE_TABLE, EG_LIVE_LINES, EG_LIVE_JSON } eg_live_mode;

typedef struct eg_live {
    eg_live_mode mode;
    FILE *out;
    const char *what; /* "flash" or "verify" */
    int drawn;        /* lines of the last frame on the screen */
    int verbose;
    int watch; /* boards come and go (run --watch) */
    eg_buf frame;
} eg_live;

void eg_live_init(eg_live *l, eg_live_mode mode, FILE *out, const char *what, int verbose);
/* The prod events, rendered by l. */
eg_prod_events eg_live_events(eg_live *l);
/* The summary: passed, failed by cause, wall time, boards per hour. */
void eg_live_summary(eg_live *l, const eg_prod_summary *s);
void eg_live_release(eg_live *l);

#endif
