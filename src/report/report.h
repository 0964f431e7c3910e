/* Traceability reports from the records store: every attempt that a filter chooses,
 * with its run, slot, port, board, serial number, result, cause, boot check and
 * regions, and the statistics (yield, failures by cause and by step, per slot, per
 * hour, time per board, boards per hour), as CSV, JSON or one self-contained HTML
 * page; and the history of one device.
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
    EG_REPORT_HTML,
    EG_REPORT_TEXT, /* a device's history only */
} eg_report_format;

/* "csv", "json", "html" or "text"; EG_EINVAL naming them otherwise. */
int eg_report_format_parse(eg_report_format *out, const char *s);

/* A pause without any attempt this long or longer is a break, not work. */
#define EG_REPORT_BREAK_MS (5 * 60 * 1000)

/* A slot's attempts (slots by number; 0 is "no slot"). */
typedef struct eg_report_slot {
    int slot;
    char *label; /* the last label recorded for it; NULL when none */
    int64_t attempts, pass, fail;
} eg_report_slot;

/* Attempts started in one clock hour (local time), or another span of time. */
typedef struct eg_report_bucket {
    int64_t start_ms; /* Unix ms of the local hour's (span's) start */
    int64_t attempts, pass, fail;
} eg_report_bucket;

/* One bar of the time-per-board histogram: from_ms <= duration < to_ms (to_ms -1: no
 * upper end, the last bar holds the slowest 1%). */
typedef struct eg_report_bin {
    int64_t from_ms, to_ms, count;
} eg_report_bin;

typedef struct eg_report_step {
    const char *step; /* "" when a failure named none */
    int64_t count;
} eg_report_step;

/* What a report counts over the attempts it shows (one pass: the numbers describe
 * exactly the attempts listed). Made by eg_report_write; released with
 * eg_report_stats_release (also after an error). */
typedef struct eg_report_stats {
    eg_store_summary sum;  /* counts, yield, failures by cause */
    eg_report_step *steps; /* failures by step, most first (then by step order) */
    size_t n_steps;
    eg_report_slot *slots; /* every slot that has attempts, by number */
    size_t n_slots;
    eg_report_bucket *hours; /* every local hour that has attempts, in order */
    size_t n_hours;
    int64_t first_ms, last_ms; /* first start, last end (or start); -1 when none */
    int64_t runs;              /* distinct runs */
    /* Boards per hour while working: boards (pass + fail) x 1 h / busy_ms, the time
     * boards were being worked on: the attempts' spans from start to end, joined
     * across pauses shorter than EG_REPORT_BREAK_MS (putting boards in and taking
     * them out counts; a break or a night does not dilute the rate). The busiest
     * clock hour. */
    double boards_per_hour; /* -1 when no board passed or failed */
    int64_t busy_ms, peak_hour_boards, peak_hour_ms;
    /* Time per board (pass and fail attempts that ended, started to ended), to 10 ms:
     * the median and 90th percentile are the durations at those ranks, rounded down. */
    int64_t timed, min_ms, median_ms, p90_ms, max_ms;
    int64_t bin_ms; /* the histogram's bar width */
    eg_report_bin *bins;
    size_t n_bins;
    struct eg_report_acc *acc; /* while counting */
} eg_report_stats;

/* Counting by hand, as eg_report_write does: zero the struct, add every attempt, then
 * finish (which makes the hours, histogram and rates). */
int eg_report_stats_add(eg_report_stats *st, const eg_store_attempt_rec *rec);
int eg_report_stats_finish(eg_report_stats *st);
void eg_report_stats_release(eg_report_stats *st);

/* Time buckets of the attempts counted, width bucket_ms (a whole number of minutes;
 * hours and longer start on local hours, days on local midnight), for charts; the
 * caller frees *out. Only after eg_report_stats_finish. */
int eg_report_stats_buckets(eg_report_bucket **out, size_t *n, const eg_report_stats *st,
                            int64_t bucket_ms);

/* The HTML device table shows every attempt up to this many; beyond it, the latest
 * this many that did not pass (the CSV and JSON hold them all). */
#define EG_REPORT_HTML_ROWS 5000

/* Receives the report's bytes in order; returns 0, or a negative code (with a
 * message) that ends the report with it. */
typedef int (*eg_report_sink)(void *ctx, const void *data, size_t len);

/* A sink that appends to the eg_buf ctx. */
int eg_report_sink_buf(void *ctx, const void *data, size_t len);

/* Writes the report of the attempts f chooses (NULL: all) in format fmt to sink.
 * JSON: one document {"filter", "attempts", "summary"} (the summary last: it counts
 * the attempts as they are written). CSV: a header row and one row per attempt,
 * regions folded into the last column (README, "Records and reports"). HTML: one page
 * with everything inline (no scripts, no fonts, nothing fetched). When stats is not
 * NULL it gets the report's statistics (release it with eg_report_stats_release, also
 * after an error). Returns 0, the sink's code, or the store's error. */
int eg_report_write(eg_report_stats *stats, eg_store *s, const eg_store_filter *f,
                    eg_report_format fmt, eg_report_sink sink, void *ctx);

/* Writes the history of the device mac ("24:0a:c4:00:00:01"; f may narrow it
 * further, its mac is ignored) in format fmt (text, CSV or JSON): every attempt with
 * its run's station, lot and profile, slot, result, cause, serial number and
 * checksums, oldest first; JSON and text first say what the store knows of the device
 * (chip, first and last seen, serial numbers). *n_out gets the count of attempts.
 * Returns 0, the sink's code, or the store's error. */
int eg_report_device(int64_t *n_out, eg_store *s, const char *mac, const eg_store_filter *f,
                     eg_report_format fmt, eg_report_sink sink, void *ctx);

/* Reads a MAC address as people write it ("24:0A:C4:00:00:01", "24-0a-c4-00-00-01",
 * "240ac4000001") into out as the store keeps it ("24:0a:c4:00:00:01"). EG_EINVAL
 * naming text otherwise. */
int eg_report_parse_mac(char out[18], const char *text);

/* The yield: pass / (pass + fail), or -1 when neither happened (canceled, interrupted
 * and running attempts say nothing about the boards). */
double eg_report_yield(const eg_store_summary *sum);

/* The statistics as one CSV table for a spreadsheet, a measure per row: a header
 * "measure,step,cause,slot,slot_label,time,from_ms,to_ms,value", a row per count
 * (attempts, running, pass, fail, canceled, interrupted), one for the yield, one
 * "failure" row per cause and "failed_step" per step, slot_* rows per slot, hour_*
 * rows per hour, boards_per_hour*, time_per_board_* and one "time_per_board_bin" row
 * per histogram bar (README, "Records and reports"). Appended to out. */
int eg_report_summary_csv(eg_buf *out, const eg_report_stats *st);

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
