/* report: the traceability report of a records store, as CSV, JSON or an HTML page,
 * with the yield, failures and statistics; or the history of one device. */
#include "cli/cmds.h"

#include "core/error.h"
#include "core/num.h"
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where the report goes: standard output, or a temporary file next to -o's that is
 * renamed over it once complete. */
typedef struct sink_file {
    FILE *f;
    const char *name; /* for messages */
} sink_file;

static int file_sink(void *ctx, const void *data, size_t len)
{
    sink_file *s = ctx;
    if (fwrite(data, 1, len, s->f) != len)
        return eg_error_set(EG_EIO, "cannot write '%s': %s", s->name, eg_strerror(errno));
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one report run does, whichever sink it writes to. */
typedef struct report_job {
    eg_report_stats *stats;
    eg_store *s;
    const eg_store_filter *f;
    eg_report_format fmt;
    const char *mac; /* a device's history, or NULL */
    int64_t n;       /* the device's attempts */
} report_job;

static int run_job(report_job *j, eg_report_sink sink, void *ctx)
{
    if (!j->mac)
        return eg_report_write(j->stats, j->s, j->f, j->fmt, sink, ctx);
    int rc = eg_report_device(&j->n, j->s, j->mac, j->f, j->fmt, sink, ctx);
    if (rc == 0 && j->n == 0)
        rc = eg_error_set(EG_ENOTFOUND, "records store '%s' has no attempts of device %s%s",
                          eg_store_path(j->s), j->mac,
                          j->f->run_id > 0 || j->f->lot || j->f->has_since ? " (filtered)" : "");
    return rc;
}

/* Writes the report into path atomically: a temporary file next to it, renamed over
 * it once complete (a device without attempts leaves path as it was). */
static int write_file(report_job *j, const char *path)
{
    eg_atomic_file af;
    sink_file sf = {NULL, path};
    int rc = eg_atomic_file_open(&af, path);

    if (rc < 0)
        return rc;
    int copy = dup(af.fd);
    if (copy < 0 || !(sf.f = fdopen(copy, "w"))) {
        rc = eg_error_set(EG_EIO, "cannot write '%s': %s", path, eg_strerror(errno));
        if (copy >= 0)
            close(copy);
        goto done;
    }
    if ((rc = run_job(j, file_sink, &sf)) < 0)
        goto done;
    if (fflush(sf.f) != 0)
        rc = eg_error_set(EG_EIO, "cannot write '%s': %s", path, eg_strerror(errno));
done:
    if (sf.f && fclose(sf.f) != 0 && rc == 0)
        rc = eg_error_set(EG_EIO, "cannot write '%s': %s", path, eg_strerror(errno));
    /* Not synced to the disk: readers see the old file or the whole new one (the
     * rename), and a report lost to a power cut is written again from the store. */
    if (rc < 0) {
        eg_atomic_file_abort(&af);
        return rc;
    }
    return eg_atomic_file_commit(&af, 0);
}

int cmd_report(const eg_command *cmd, eg_args *a)
{
    static const char *const format_names[] = {"CSV", "JSON", "HTML", "text"};
    const char *db = a->val[OPT_DB] ? a->val[OPT_DB] : "espgang.db";
    const char *out_path = a->val[OPT_OUTPUT], *summary_path = a->val[OPT_SUMMARY];
    eg_store_filter filter = {0};
    eg_report_format fmt = EG_REPORT_TEXT;
    eg_report_stats stats;
    eg_store *s = NULL;
    eg_buf text = EG_BUF_INIT;
    char mac[18] = "";
    int exit_code = EG_EXIT_FAIL;

    memset(&stats, 0, sizeof(stats));
    if (a->val[OPT_DEVICE] && eg_report_parse_mac(mac, a->val[OPT_DEVICE]) < 0)
        return eg_cli_usage(cmd, "%s: --device: %s", cmd->name, eg_error_msg());
    if (!a->val[OPT_FORMAT] && !mac[0])
        return eg_cli_usage(cmd, "%s: give --format csv, json or html", cmd->name);
    if (a->val[OPT_FORMAT] && eg_report_format_parse(&fmt, a->val[OPT_FORMAT]) < 0)
        return eg_cli_usage(cmd, "%s: %s", cmd->name, eg_error_msg());
    if (!mac[0] && fmt == EG_REPORT_TEXT)
        return eg_cli_usage(cmd, "%s: --format text is for a device's history (--device MAC)",
                            cmd->name);
    if (mac[0] && fmt == EG_REPORT_HTML)
        return eg_cli_usage(cmd, "%s: a device's history is text, csv or json", cmd->name);
    if (mac[0] && summary_path)
        return eg_cli_usage(cmd, "%s: --summary is for reports of attempts, not --device",
                            cmd->name);
    if (a->val[OPT_RUN]) {
        uint64_t run;
        if (eg_num_parse(&run, a->val[OPT_RUN], INT64_MAX) < 0 || run == 0)
            return eg_cli_usage(cmd, "%s: --run '%s' is not a run number", cmd->name,
                                a->val[OPT_RUN]);
        filter.run_id = (int64_t)run;
    }
    if (a->val[OPT_LOT]) {
        if (!*a->val[OPT_LOT])
            return eg_cli_usage(cmd, "%s: --lot needs a lot name", cmd->name);
        filter.lot = a->val[OPT_LOT];
    }
    if (a->val[OPT_SINCE]) {
        if (eg_report_parse_since(&filter.since_ms, a->val[OPT_SINCE], now_ms()) < 0)
            return eg_cli_usage(cmd, "%s: %s", cmd->name, eg_error_msg());
        filter.has_since = 1;
    }
    if ((out_path && !*out_path) || (summary_path && !*summary_path))
        return eg_cli_usage(cmd, "%s: -o and --summary need a file name", cmd->name);
    if (out_path && summary_path && strcmp(out_path, summary_path) == 0)
        return eg_cli_usage(cmd, "%s: -o and --summary name the same file", cmd->name);

    if (eg_store_open_read(&s, db) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    report_job job = {&stats, s, &filter, fmt, mac[0] ? mac : NULL, 0};
    if (out_path) {
        if (write_file(&job, out_path) < 0) {
            eg_cli_fail("%s", eg_error_msg());
            goto done;
        }
    } else {
        sink_file sf = {stdout, "standard output"};
        eg_error_clear();
        if (run_job(&job, file_sink, &sf) < 0 || fflush(stdout) != 0) {
            eg_cli_fail("%s", eg_error_msg()[0] ? eg_error_msg() : "writing to standard output");
            goto done;
        }
    }
    if (mac[0]) {
        if (out_path)
            fprintf(stderr, "Wrote the history of %s (%lld attempt%s) to '%s' as %s\n", mac,
                    (long long)job.n, job.n == 1 ? "" : "s", out_path, format_names[fmt]);
        exit_code = EG_EXIT_OK;
        goto done;
    }
    /* The counts for a person on standard error; --summary FILE as CSV for a
     * spreadsheet. */
    if (eg_report_summary_text(&text, &stats.sum) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    fwrite(text.data, 1, text.len, stderr);
    if (summary_path) {
        eg_buf_clear(&text);
        if (eg_report_summary_csv(&text, &stats) < 0 ||
            eg_file_write_atomic(summary_path, text.data, text.len) < 0) {
            eg_cli_fail("%s", eg_error_msg());
            goto done;
        }
    }
    if (out_path)
        fprintf(stderr, "Wrote the report of '%s' to '%s' as %s\n", db, out_path,
                format_names[fmt]);
    exit_code = EG_EXIT_OK;
done:
    eg_buf_release(&text);
    eg_report_stats_release(&stats);
    eg_store_close(s);
    return exit_code;
}
