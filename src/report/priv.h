/* Inside the reports: what report.c, stats.c and html.c share. */
#ifndef EG_REPORT_PRIV_H
#define EG_REPORT_PRIV_H

#include "report/report.h"

#include <stddef.h>
#include <stdint.h>

/* The local UTC offset in seconds at Unix time t (seconds). */
int64_t eg_report_utc_offset(int64_t t);

/* Length of the valid UTF-8 sequence at p (2 to 4 bytes), or 0. */
size_t eg_report_utf8_len(const unsigned char *p);

/* a / b rounded towards minus infinity. */
int64_t eg_report_floor_div(int64_t a, int64_t b);

/* Writes the HTML report (html.c): the page is made in memory (its device table is
 * bounded by EG_REPORT_HTML_ROWS) and handed to sink at the end. */
int eg_report_html(eg_report_stats *st, eg_store *s, const eg_store_filter *f, eg_report_sink sink,
                   void *ctx);

#endif
