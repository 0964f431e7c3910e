/* Traceability reports from the records store: every attempt that a filter chooses,
 * with its run, slot, port, board, result, cause and regions, and the yield and
 * failures by cause, as CSV or JSON.
 *
 * Reports stream: they hand their bytes to a sink as they go (512 KiB at a time), so a
 * million attempts never sit in memory. JSON strings are written by hand for the same
 * reason (jansson builds whole trees): they are escaped as RFC 8259 asks, and bytes
 * that are not UTF-8 become U+FFFD. Times are local time with the UTC offset and
 * milliseconds, "2026-12-01T08:00:00.123+01:00". */
#ifndef EG_REPORT_REPORT_H
#define EG_REPORT_REPORT_H

#include "core/buf.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum eg_report_format {
    EG_REPORT_CSV,
    EG_REPORT_JSON,
} eg_report_format;

/* "csv" or "json"; EG_EINVAL naming both otherwise. */
int eg_report_format_parse(eg_report_format *out, const char *s);

/* Receives the report's bytes in order; returns 0, or a negative code (with a
 * message) that ends the report with it. */
typedef int (*eg_report_sink)(void *ctx, const void *data, size_t len);

/* A sink that appends to the eg_buf ctx. */
int eg_report_sink_buf(void *ctx, const void *data, size_t len);

/* Writes the report of the attempts f chooses (NULL: all) in format fmt to sink.
 * JSON: one document {"filter", "summary", "attempts"}. CSV: a header row and one row
 * per attempt, regions folded into the last column (README, "Reports"). When sum is
 * not NULL it gets the report's counts (release it with eg_store_summary_release, also
 * after an error). Returns 0, the sink's code, or the store's error. */
int eg_report_write(eg_store_summary *sum, eg_store *s, const eg_store_filter *f,
                    eg_report_format fmt, eg_report_sink sink, void *ctx);

/* The yield: pass / (pass + fail), or -1 when neither happened (canceled, interrupted
 * and running attempts say nothing about the boards). */
double eg_report_yield(const eg_store_summary *sum);

/* The summary as CSV for a spreadsheet: a header "measure,step,cause,value", a row per
 * count (attempts, running, pass, fail, canceled, interrupted), one for the yield, and
 * one "failure" row per cause. Appended to out. */
int eg_report_summary_csv(eg_buf *out, const eg_store_summary *sum);

/* The summary in a few lines for a person: counts, yield and failures by cause
 * ("write: timed out"). Appended to out. */
int eg_report_summary_text(eg_buf *out, const eg_store_summary *sum);

/* Parses --since: an ISO 8601 date or date and time in local time ("2026-12-01",
 * "2026-12-01T08:00", "2026-12-01 08:00:30"; "Z" or "+01:00" at the end give the
 * offset), or a duration back from now_ms ("8h", "30m", "2d", "1h30m", "45s").
 * *out is Unix time in milliseconds. EG_EINVAL with a message naming text. */
int eg_report_parse_since(int64_t *out, const char *text, int64_t now_ms);

/* Formats Unix milliseconds as local ISO 8601 with milliseconds and offset into dst
 * (at least 32 bytes). */
void eg_report_format_time(char *dst, size_t len, int64_t ms);

#endif
