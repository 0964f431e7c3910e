/* The HTML report: one self-contained page for the wall of a production floor. Inline
 * CSS and inline SVG only (a Content-Security-Policy that forbids loading anything
 * says so to the browser too): headline numbers, yield and boards over time, failures
 * by cause and by step, the fixture's slots as a grid, the time per board, and the
 * device table.
 *
 * The page is made in memory and handed to the sink at the end: the statistics come
 * before the table, and both are counted in one pass over the attempts. The table
 * holds every attempt up to EG_REPORT_HTML_ROWS; past that, the latest that many that
 * did not pass (a page of a million rows helps nobody; the CSV has them all). Every
 * number a test or a script may want to read back is also in a data-* attribute. */
#include "report/priv.h"

#include "core/clock.h"
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The page being made; the first failure to grow it is kept in rc. */
typedef struct page {
    eg_buf b;
    int rc;
} page;

__attribute__((format(printf, 2, 3))) static void pf(page *p, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; tries < 2 && p->rc == 0; tries++) {
        size_t room = p->b.cap - p->b.len;
        va_start(ap, fmt);
        int n = vsnprintf(room ? (char *)p->b.data + p->b.len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            p->rc = eg_error_set(EG_EINVAL, "report: cannot format the page");
            return;
        }
        if ((size_t)n < room) {
            p->b.len += (size_t)n;
            return;
        }
        if (eg_buf_reserve(&p->b, (size_t)n + 1 + 4096) < 0)
            p->rc = eg_error_set(EG_ENOMEM, "out of memory");
    }
}

static void put(page *p, const char *s)
{
    if (p->rc == 0 && eg_buf_append(&p->b, s, strlen(s)) < 0)
        p->rc = eg_error_set(EG_ENOMEM, "out of memory");
}

/* Text for HTML (element content or a quoted attribute): & < > " ' escaped, bytes
 * that are not UTF-8 and control characters other than tab and line breaks shown as
 * U+FFFD. */
static void esc(page *p, const char *s)
{
    const unsigned char *c = (const unsigned char *)(s ? s : "");
    while (*c && p->rc == 0) {
        const unsigned char *run = c;
        while (*c >= 0x20 && *c < 0x7f && !strchr("&<>\"'", *c))
            c++;
        if (c > run && eg_buf_append(&p->b, run, (size_t)(c - run)) < 0)
            p->rc = eg_error_set(EG_ENOMEM, "out of memory");
        if (!*c)
            break;
        size_t n;
        if (*c >= 0x80 && (n = eg_report_utf8_len(c)) != 0) {
            if (eg_buf_append(&p->b, c, n) < 0)
                p->rc = eg_error_set(EG_ENOMEM, "out of memory");
            c += n;
            continue;
        }
        switch (*c) {
        case '&':
            put(p, "&amp;");
            break;
        case '<':
            put(p, "&lt;");
            break;
        case '>':
            put(p, "&gt;");
            break;
        case '"':
            put(p, "&quot;");
            break;
        case '\'':
            put(p, "&#39;");
            break;
        case '\t':
        case '\n':
        case '\r':
            pf(p, "&#%d;", *c);
            break;
        default:
            put(p, "\xef\xbf\xbd");
        }
        c++;
    }
}

/* A link target: an absolute path as a file: URL, a relative one as it is (it then
 * resolves next to the report, as the logs/ folder does when the report is written
 * where the station runs); bytes outside a URL's safe set %-escaped. */
static void url(page *p, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    if (path[0] == '/')
        put(p, "file://");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("/-._~", *c))
            pf(p, "%c", *c);
        else
            pf(p, "%%%c%c", hex[*c >> 4], hex[*c & 15]);
    }
}

/* 1234567 as "1,234,567". */
static void fmt_int(char *dst, size_t len, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)(v < 0 ? -v : v)), o = 0;
    if (v < 0 && (size_t)o + 1 < len)
        dst[o++] = '-';
    for (int i = 0; i < n && (size_t)o + 1 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0 && (size_t)o + 2 < len)
            dst[o++] = ',';
        dst[o++] = tmp[i];
    }
    dst[o] = '\0';
}

/* An axis label: 950, 12k, 1.5k, 3.2M. */
static void fmt_compact(char *dst, size_t len, int64_t v)
{
    if (v < 1000)
        snprintf(dst, len, "%lld", (long long)v);
    else if (v < 1000000)
        snprintf(dst, len, v % 1000 ? "%.1fk" : "%.0fk", (double)v / 1000.0);
    else
        snprintf(dst, len, v % 1000000 ? "%.1fM" : "%.0fM", (double)v / 1000000.0);
}

/* A yield as "93.8": one decimal, never 100.0 while something failed, nor 0.0 while
 * something passed. */
static void fmt_yield(char *dst, size_t len, int64_t pass, int64_t fail)
{
    double y = 100.0 * (double)pass / (double)(pass + fail);
    if (fail && y > 99.9)
        y = 99.9;
    if (pass && y < 0.1)
        y = 0.1;
    snprintf(dst, len, "%.1f", y);
}

/* A duration as "42.1 s", "3 min 05 s" or "1 h 02 min". */
static void fmt_dur(char *dst, size_t len, int64_t ms)
{
    if (ms < 60000)
        snprintf(dst, len, "%.1f s", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(dst, len, "%lld min %02lld s", (long long)(ms / 60000),
                 (long long)(ms / 1000 % 60));
    else
        snprintf(dst, len, "%lld h %02lld min", (long long)(ms / 3600000),
                 (long long)(ms / 60000 % 60));
}

/* Local time "2026-12-01 08:00" (minutes) or "08:00:03" (seconds, when day is 0). */
static void fmt_local(char *dst, size_t len, int64_t ms, int with_day)
{
    char iso[40];
    eg_report_format_time(iso, sizeof(iso), ms);
    if (with_day)
        snprintf(dst, len, "%.10s %.5s", iso, iso + 11);
    else
        snprintf(dst, len, "%.8s", iso + 11);
}

/* The tone of a yield: good, fair or bad (95 % and 85 % apart). */
static const char *tone(int64_t pass, int64_t fail)
{
    if (pass + fail == 0)
        return "none";
    double y = (double)pass / (double)(pass + fail);
    return y >= 0.95 ? "good" : y >= 0.85 ? "fair" : "bad";
}

/* ---- the device table, made while the attempts go by ---- */

/* A row of the table, rendered as the attempt goes by but for its checksums (the pass
 * reads no regions: they are a third of a report's work, and the table shows 5,000
 * attempts at most), which go in at split when the page is made. */
typedef struct kept_row {
    eg_buf html;
    size_t split;
    int64_t run_id;
    unsigned seq;
} kept_row;

typedef struct rows {
    kept_row *all; /* every attempt, while there are at most EG_REPORT_HTML_ROWS */
    size_t n_all;  /* rendered into all */
    kept_row *bad; /* a ring of the latest attempts that did not pass */
    size_t n_bad;  /* counted (the ring holds the last EG_REPORT_HTML_ROWS) */
} rows;

typedef struct html_ctx {
    eg_report_stats *st;
    rows r;
    page row;     /* one row being made */
    size_t split; /* where its checksums go */
} html_ctx;

/* A region's checksums in the table: its label and SHA-256's start, a tick when the
 * device's MD5 matched, a cross when it did not or the region failed; the digests in
 * full on hover. */
static int sum_html(void *ctx, const eg_store_region *g)
{
    page *p = ctx;
    int ok = g->md5_device[0] && strcmp(g->md5_device, g->md5_expected) == 0;
    int bad = strcmp(g->outcome, "failed") == 0 ||
              (g->md5_device[0] && strcmp(g->md5_device, g->md5_expected) != 0);
    pf(p, "<span class=\"sum%s\" title=\"0x%x %s&#10;sha256 %s&#10;md5 %s&#10;device md5 %s\">",
       bad ? " mis" : "", g->offset, g->outcome, g->sha256, g->md5_expected,
       g->md5_device[0] ? g->md5_device : "(not asked)");
    esc(p, g->label ? g->label : "region");
    pf(p, " <code>%.8s</code>%s</span>", g->sha256,
       bad  ? " \xe2\x9c\x97"
       : ok ? " \xe2\x9c\x93"
            : "");
    return p->rc;
}

/* The row of r, but for its checksums: *split is where they go. */
static void row_html(page *p, size_t *split, const eg_store_attempt_rec *r)
{
    const eg_store_attempt_start *a = &r->start;
    const eg_store_attempt_end *e = &r->end;
    const char *res = eg_store_result_name(e->result);
    char when[24], day[40];

    eg_report_format_time(day, sizeof(day), a->started_ms);
    fmt_local(when, sizeof(when), a->started_ms, 1);
    pf(p, "<tr class=\"dev %s\" data-mac=\"", res);
    esc(p, e->identified ? e->identity.mac : "");
    put(p, "\" data-serial=\"");
    esc(p, e->serial_number);
    pf(p, "\" data-slot=\"%d\" data-result=\"%s\" data-boot=\"%s\"><td title=\"%s\">%s</td>",
       a->slot, res, e->boot_result ? e->boot_result : "", day, when);
    pf(p, "<td class=\"num\">%lld</td><td class=\"mono\">", (long long)a->run_id);
    esc(p, e->identified ? e->identity.mac : "\xe2\x80\x94");
    put(p, "</td><td class=\"mono\">");
    esc(p, e->serial_number ? e->serial_number : "");
    put(p, "</td><td>");
    if (a->slot > 0)
        pf(p, "<b>%d</b> ", a->slot);
    esc(p, a->slot_label);
    pf(p, "</td><td><span class=\"badge %s\">%s</span></td><td", res, res);
    if (e->message) {
        put(p, " title=\"");
        esc(p, e->message);
        put(p, "\"");
    }
    put(p, ">");
    if (e->failed_step) {
        esc(p, e->failed_step);
        put(p, ": ");
    }
    if (e->error_code)
        esc(p, eg_error_name(e->error_code));
    put(p, "</td><td");
    if (e->boot_line) {
        put(p, " title=\"");
        esc(p, e->boot_line);
        put(p, "\"");
    }
    put(p, ">");
    if (e->boot_result)
        pf(p, "<span class=\"boot %s\">%s</span>", e->boot_result, e->boot_result);
    put(p, "</td><td class=\"sums\">");
    *split = p->b.len;
    put(p, "</td><td>");
    if (e->log_path) {
        put(p, "<a href=\"");
        url(p, e->log_path);
        put(p, "\">log</a>");
    }
    put(p, "</td></tr>\n");
}

static int keep_row(kept_row *dst, const html_ctx *h, const eg_store_attempt_rec *r)
{
    eg_buf_clear(&dst->html);
    if (eg_buf_append(&dst->html, h->row.b.data, h->row.b.len) < 0)
        return eg_error_set(EG_ENOMEM, "out of memory");
    dst->split = h->split;
    dst->run_id = r->start.run_id;
    dst->seq = r->start.seq;
    return 0;
}

static int html_each(void *ctx, const eg_store_attempt_rec *r)
{
    html_ctx *h = ctx;
    int rc, keep_all = h->st->sum.attempts < EG_REPORT_HTML_ROWS;
    int bad = r->end.result != EG_RESULT_PASS;

    if ((rc = eg_report_stats_add(h->st, r)) < 0)
        return rc;
    if (!keep_all && !bad)
        return 0;
    eg_buf_clear(&h->row.b);
    row_html(&h->row, &h->split, r);
    if (h->row.rc < 0)
        return h->row.rc;
    if (keep_all && (rc = keep_row(&h->r.all[h->r.n_all++], h, r)) < 0)
        return rc;
    if (bad && (rc = keep_row(&h->r.bad[h->r.n_bad++ % EG_REPORT_HTML_ROWS], h, r)) < 0)
        return rc;
    return 0;
}

/* ---- the page ---- */

static const char css[] =
    ":root{--good:#1b873f;--fair:#c77700;--bad:#c62828;--none:#8a8f98;--ink:#1d232b;"
    "--mute:#5c6470;--line:#dde1e6;--card:#fff;--bg:#f2f4f7}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.4 system-ui,"
    "'Segoe UI','DejaVu Sans',sans-serif;-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}"
    "header{background:#17212b;color:#fff;padding:18px 28px;display:flex;flex-wrap:wrap;"
    "align-items:baseline;gap:8px 28px}"
    "header h1{margin:0;font-size:26px;font-weight:700}"
    "header .scope{font-size:18px;color:#cfd8e3}"
    "header .meta{margin-left:auto;font-size:13px;color:#9fb0c3;text-align:right}"
    "main{padding:20px 28px 40px}"
    ".tiles{display:grid;grid-template-columns:minmax(0,1.6fr) repeat(5,minmax(0,1fr));gap:14px;"
    "margin-bottom:18px}"
    ".tile{background:var(--card);border-radius:10px;padding:14px 18px;"
    "box-shadow:0 1px 2px rgba(0,0,0,.08);border-top:6px solid var(--none)}"
    ".tile .k{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--mute)}"
    ".tile .v{font-size:44px;font-weight:800;line-height:1.1;white-space:nowrap}"
    ".tile .v.vmid{font-size:34px;line-height:1.42}.tile .v.vlong{font-size:26px;line-height:1.86}"
    ".tile .s{font-size:13px;color:var(--mute)}"
    ".tile.yield .v{font-size:64px}"
    ".tile.good{border-color:var(--good)}.tile.good .v{color:var(--good)}"
    ".tile.fair{border-color:var(--fair)}.tile.fair .v{color:var(--fair)}"
    ".tile.bad{border-color:var(--bad)}.tile.bad .v{color:var(--bad)}"
    ".tile.plain{border-color:#3a6ea5}"
    ".alert{background:#fff4f4;border:2px solid var(--bad);border-radius:10px;"
    "padding:10px 18px;margin-bottom:18px;font-size:17px}"
    ".alert b{color:var(--bad)}.alert ul{margin:4px 0;padding-left:22px}"
    ".grid2{display:grid;grid-template-columns:1fr 1fr;gap:14px;margin-bottom:14px}"
    ".grid3{display:grid;grid-template-columns:1fr 1fr 1.3fr;gap:14px;margin:14px 0}"
    "section{background:var(--card);border-radius:10px;padding:14px 18px;"
    "box-shadow:0 1px 2px rgba(0,0,0,.08);break-inside:avoid}"
    "section h2{margin:0 0 8px;font-size:17px}"
    "section h2 small{font-weight:400;color:var(--mute);font-size:13px;margin-left:6px}"
    "svg{display:block;width:100%;height:auto}"
    "svg text{font:12px system-ui,'DejaVu Sans',sans-serif;fill:var(--mute)}"
    "svg .grid{stroke:var(--line);stroke-width:1}"
    "svg .good{fill:var(--good)}svg .fair{fill:var(--fair)}svg .bad{fill:var(--bad)}"
    "svg .pass{fill:var(--good)}svg .fail{fill:var(--bad)}svg .bar{fill:#3a6ea5}"
    "svg .avg{stroke:var(--ink);stroke-width:1.5;stroke-dasharray:5 4}"
    "svg .mark{stroke:var(--ink);stroke-width:2}"
    ".hbars{width:100%;border-collapse:collapse}"
    ".hbars td{padding:3px 4px;vertical-align:middle;font-size:14px}"
    ".hbars td.n{text-align:right;font-weight:700;width:4em}"
    ".hbars td.w{width:45%}"
    ".hbars .b{height:14px;background:var(--bad);border-radius:3px;min-width:2px}"
    ".empty{color:var(--mute);font-style:italic}"
    ".slots{display:grid;grid-template-columns:repeat(var(--cols),minmax(0,1fr));gap:8px}"
    ".slot{border-radius:8px;padding:6px 8px;color:#fff;background:var(--none);"
    "min-height:78px;position:relative}"
    ".slot.good{background:var(--good)}.slot.fair{background:var(--fair)}"
    ".slot.bad{background:var(--bad)}"
    ".slot.suspect{outline:4px solid #111;outline-offset:-4px}"
    ".slot .top{display:flex;justify-content:space-between;align-items:baseline}"
    ".slot .no{font-size:24px;font-weight:800;line-height:1}"
    ".slot .lb{font-size:12px;opacity:.92;white-space:nowrap;overflow:hidden;"
    "text-overflow:ellipsis}"
    ".slot .ct{font-size:13px;margin-top:4px}"
    ".slot .y{font-weight:700;font-size:14px}"
    ".legend{font-size:12px;color:var(--mute);margin-top:8px}"
    ".legend i{display:inline-block;width:11px;height:11px;border-radius:2px;"
    "margin:0 4px -1px 10px}"
    "table.devices{width:100%;border-collapse:collapse;font-size:13px}"
    "table.devices th{text-align:left;background:#e9edf2;padding:6px;position:sticky;top:0}"
    "table.devices td{padding:4px 6px;border-bottom:1px solid var(--line);"
    "vertical-align:top}"
    "table.devices tr.fail td,table.devices tr.interrupted td{background:#fff5f5}"
    ".num{text-align:right}.mono,code{font-family:'DejaVu Sans Mono',monospace;"
    "font-size:12px}"
    ".badge,.boot{display:inline-block;border-radius:4px;padding:1px 7px;font-weight:700;"
    "font-size:12px;color:#fff;background:var(--none);text-transform:uppercase}"
    ".badge.pass,.boot.pass{background:var(--good)}"
    ".badge.fail,.boot.fail{background:var(--bad)}.boot.timeout{background:var(--fair)}"
    ".sum{display:inline-block;margin-right:8px;white-space:nowrap}"
    ".sum.mis{color:var(--bad);font-weight:700}"
    ".note{color:var(--mute);font-size:13px;margin:4px 0 8px}"
    "footer{color:var(--mute);font-size:12px;padding:0 28px 24px}"
    "@media (max-width:1100px){.tiles{grid-template-columns:repeat(3,1fr)}"
    ".slots{grid-template-columns:repeat(auto-fill,minmax(112px,1fr))}"
    ".grid2,.grid3{grid-template-columns:1fr}}"
    "@media print{body{background:#fff;font-size:11px}@page{size:A4 landscape;margin:10mm}"
    "header{padding:8px 12px}main{padding:8px 0}"
    ".tile,section{box-shadow:none;border:1px solid var(--line)}"
    "table.devices th{position:static}thead{display:table-header-group}"
    "tr{break-inside:avoid}.devices-section{break-before:page}"
    ".tiles{grid-template-columns:minmax(0,1.6fr) repeat(5,minmax(0,1fr));gap:8px}"
    ".grid2{grid-template-columns:1fr 1fr;gap:8px}.grid3{grid-template-columns:1fr 1fr 1.3fr;"
    "gap:8px}.tile .v{font-size:30px}.tile.yield .v{font-size:40px}"
    ".tile .v.vmid{font-size:24px}.tile .v.vlong{font-size:18px}"
    ".devices-section{break-inside:auto}table.devices{font-size:8px}"
    "table.devices td,table.devices th{white-space:nowrap;padding:2px 3px}"
    ".mono,code{font-size:8px}.badge,.boot{font-size:7px;padding:0 4px}}";

/* A chart's frame: width W, height H, plot area from left L to W - R, top T to H - B. */
#define CW 640
#define CH 240
#define CL 48
#define CR 12
#define CT 10
#define CB 34
#define HW 460 /* the histogram's width: it has a narrower column */

/* A bar's width in a slot of width bw: three quarters of it, 48 at most. */
static double bar_w(double bw)
{
    return bw * 0.76 < 48 ? bw * 0.76 : 48;
}

/* Buckets that suit the span: at most 36 of them. */
static int64_t bucket_ms(const eg_report_stats *st)
{
    static const int minutes[] = {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 10080};
    int64_t span = st->last_ms - st->first_ms;
    for (size_t i = 0; i < sizeof(minutes) / sizeof(minutes[0]); i++)
        if (span / ((int64_t)minutes[i] * 60000) + 2 <= 36)
            return (int64_t)minutes[i] * 60000;
    return (int64_t)10080 * 60000;
}

static void bucket_name(char *dst, size_t len, int64_t w)
{
    if (w == 3600000)
        snprintf(dst, len, "hour");
    else if (w < 3600000)
        snprintf(dst, len, w == 60000 ? "minute" : "%lld minutes", (long long)(w / 60000));
    else if (w < 86400000)
        snprintf(dst, len, "%lld hours", (long long)(w / 3600000));
    else
        snprintf(dst, len, "%s", w == 86400000 ? "day" : "week");
}

/* The x-axis labels of n buckets from b (every k-th, so they do not overlap). */
static void x_labels(page *p, const eg_report_bucket *b, size_t n, double bw, int64_t w)
{
    size_t every = n / 8 + 1;
    int with_day = w >= 86400000 || b[n - 1].start_ms - b[0].start_ms >= 86400000;
    for (size_t i = 0; i < n; i += every) {
        char t[24];
        fmt_local(t, sizeof(t), b[i].start_ms, with_day);
        pf(p, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
           CL + bw * ((double)i + 0.5), CH - CB + 16, with_day ? t : t);
    }
}

/* How many intervals an axis up to top (from nice_top) gets: whole numbers each. */
static int ticks(int64_t top)
{
    if (top <= 5)
        return (int)top;
    while (top >= 10 && top % 10 == 0)
        top /= 10;
    return top == 2 ? 4 : 5;
}

/* A round top for an axis: 1, 2 or 5 times a power of ten, at least v. */
static int64_t nice_top(int64_t v)
{
    int64_t m = 1;
    while (m * 10 <= v)
        m *= 10;
    if (v <= m)
        return m;
    if (v <= 2 * m)
        return 2 * m;
    if (v <= 5 * m)
        return 5 * m;
    return 10 * m;
}

static void chart_yield(page *p, const eg_report_stats *st, const eg_report_bucket *b, size_t n,
                        int64_t w)
{
    int64_t pass = st->sum.by_result[EG_RESULT_PASS], fail = st->sum.by_result[EG_RESULT_FAIL];
    double lo = 100;
    char name[32];

    bucket_name(name, sizeof(name), w);
    for (size_t i = 0; i < n; i++)
        if (b[i].pass + b[i].fail) {
            double y = 100.0 * (double)b[i].pass / (double)(b[i].pass + b[i].fail);
            if (y < lo)
                lo = y;
        }
    /* The axis starts low enough to show the worst bucket, in steps of 10 %. */
    int floor10 = (int)(lo / 10) * 10;
    if (floor10 > 80)
        floor10 = 80;
    if (floor10 < 0)
        floor10 = 0;
    pf(p, "<section><h2>Yield over time<small>per %s, pass / (pass + fail)</small></h2>", name);
    if (!n || pass + fail == 0) {
        put(p, "<p class=\"empty\">No board passed or failed.</p></section>");
        return;
    }
    double pw = CW - CL - CR, ph = CH - CT - CB, bw = pw / (double)n;
    pf(p, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"yield over time\">", CW, CH);
    for (int g = floor10; g <= 100; g += floor10 >= 60 ? 5 : 10) {
        double y = CT + ph * (100.0 - g) / (100.0 - floor10);
        pf(p,
           "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
           "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>",
           CL, CW - CR, y, y, CL - 6, y + 4, g);
    }
    for (size_t i = 0; i < n; i++) {
        int64_t t = b[i].pass + b[i].fail;
        if (!t)
            continue;
        double yv = 100.0 * (double)b[i].pass / (double)t;
        double h = ph * (yv - floor10) / (100.0 - floor10);
        if (h < 2)
            h = 2;
        char ys[16];
        fmt_yield(ys, sizeof(ys), b[i].pass, b[i].fail);
        pf(p,
           "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
           "<title>%s%%: %lld of %lld</title></rect>",
           tone(b[i].pass, b[i].fail), CL + bw * (double)i + (bw - bar_w(bw)) / 2, CT + ph - h,
           bar_w(bw), h, ys, (long long)b[i].pass, (long long)t);
    }
    double avg = 100.0 * (double)pass / (double)(pass + fail);
    double ya = CT + ph * (100.0 - avg) / (100.0 - floor10);
    pf(p, "<line class=\"avg\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", CL, CW - CR, ya, ya);
    x_labels(p, b, n, bw, w);
    put(p, "</svg><div class=\"legend\">bars: <i style=\"background:var(--good)\"></i>&#8805; 95%"
           "<i style=\"background:var(--fair)\"></i>&#8805; 85%"
           "<i style=\"background:var(--bad)\"></i>below &#8212; dashed line: the whole "
           "report</div></section>");
}

static void chart_boards(page *p, const eg_report_stats *st, const eg_report_bucket *b, size_t n,
                         int64_t w)
{
    char name[32], rate[32];
    int64_t top = 1;

    bucket_name(name, sizeof(name), w);
    for (size_t i = 0; i < n; i++)
        if (b[i].pass + b[i].fail > top)
            top = b[i].pass + b[i].fail;
    top = nice_top(top);
    fmt_int(rate, sizeof(rate), st->peak_hour_boards);
    pf(p,
       "<section><h2>Boards per %s<small>passed and failed; the busiest clock hour had %s"
       "</small></h2>",
       name, rate);
    if (!n || st->sum.by_result[EG_RESULT_PASS] + st->sum.by_result[EG_RESULT_FAIL] == 0) {
        put(p, "<p class=\"empty\">No board passed or failed.</p></section>");
        return;
    }
    double pw = CW - CL - CR, ph = CH - CT - CB, bw = pw / (double)n;
    pf(p, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"boards per %s\">", CW, CH, name);
    int nt = ticks(top);
    for (int g = 0; g <= nt; g++) {
        double y = CT + ph * (nt - g) / (double)nt;
        char v[32];
        fmt_compact(v, sizeof(v), top * g / nt);
        pf(p,
           "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
           "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
           CL, CW - CR, y, y, CL - 6, y + 4, v);
    }
    for (size_t i = 0; i < n; i++) {
        double hp = ph * (double)b[i].pass / (double)top, hf = ph * (double)b[i].fail / (double)top;
        double x = CL + bw * (double)i + (bw - bar_w(bw)) / 2;
        if (b[i].pass)
            pf(p,
               "<rect class=\"pass\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
               "<title>%lld passed</title></rect>",
               x, CT + ph - hp, bar_w(bw), hp, (long long)b[i].pass);
        if (b[i].fail)
            pf(p,
               "<rect class=\"fail\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
               "<title>%lld failed</title></rect>",
               x, CT + ph - hp - hf, bar_w(bw), hf, (long long)b[i].fail);
    }
    x_labels(p, b, n, bw, w);
    put(p, "</svg><div class=\"legend\"><i style=\"background:var(--good)\"></i>passed"
           "<i style=\"background:var(--bad)\"></i>failed</div></section>");
}

static void chart_histogram(page *p, const eg_report_stats *st)
{
    char med[32], p90[32];
    int64_t top = 1;

    put(p, "<section><h2>Time per board");
    if (!st->timed) {
        put(p, "</h2><p class=\"empty\">No board passed or failed.</p></section>");
        return;
    }
    fmt_dur(med, sizeof(med), st->median_ms);
    fmt_dur(p90, sizeof(p90), st->p90_ms);
    pf(p, "<small>median %s, 90%% within %s</small></h2>", med, p90);
    for (size_t i = 0; i < st->n_bins; i++)
        if (st->bins[i].count > top)
            top = st->bins[i].count;
    top = nice_top(top);
    double pw = HW - CL - CR, ph = CH - CT - CB, bw = pw / (double)st->n_bins;
    pf(p, "<svg viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"time per board\">", HW, CH);
    int nt = ticks(top);
    for (int g = 0; g <= nt; g++) {
        double y = CT + ph * (nt - g) / (double)nt;
        char v[32];
        fmt_compact(v, sizeof(v), top * g / nt);
        pf(p,
           "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
           "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
           CL, HW - CR, y, y, CL - 6, y + 4, v);
    }
    size_t every = st->n_bins / 5 + 1;
    for (size_t i = 0; i < st->n_bins; i++) {
        const eg_report_bin *bin = &st->bins[i];
        double h = ph * (double)bin->count / (double)top;
        char from[32], to[32];
        fmt_dur(from, sizeof(from), bin->from_ms);
        fmt_dur(to, sizeof(to), bin->to_ms);
        pf(p,
           "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
           "<title>%s%s%s: %lld</title></rect>",
           CL + bw * (double)i + 1, CT + ph - h, bw - 2, h, bin->to_ms < 0 ? "from " : from,
           bin->to_ms < 0 ? from : " to ", bin->to_ms < 0 ? "" : to, (long long)bin->count);
        if (i % every == 0)
            pf(p, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s%s</text>",
               CL + bw * (double)i + bw / 2, CH - CB + 16, bin->to_ms < 0 ? "&#8805;" : "", from);
    }
    if (st->bin_ms > 0 && st->n_bins) {
        double x = CL + bw * (double)(st->median_ms - st->bins[0].from_ms) / (double)st->bin_ms;
        if (x <= HW - CR)
            pf(p,
               "<line class=\"mark\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>"
               "<text x=\"%.1f\" y=\"%d\" text-anchor=\"start\">median</text>",
               x, x, CT, CH - CB, x + 4, CT + 12);
    }
    put(p, "</svg><div class=\"legend\">boards by how long they took, started to ended"
           "</div></section>");
}

/* A list of horizontal bars: name, bar, count. */
static void hbars_start(page *p, const char *title, const char *sub)
{
    pf(p, "<section><h2>%s<small>%s</small></h2>", title, sub);
}

static void hbar(page *p, const char *kind, const char *key, int64_t count, int64_t top)
{
    char n[32];
    fmt_int(n, sizeof(n), count);
    pf(p, "<tr data-%s=\"", kind);
    esc(p, key);
    pf(p, "\" data-count=\"%lld\"><td>", (long long)count);
    esc(p, key);
    pf(p,
       "</td><td class=\"w\"><div class=\"b\" style=\"width:%.1f%%\"></div></td>"
       "<td class=\"n\">%s</td></tr>",
       100.0 * (double)count / (double)(top ? top : 1), n);
}

static void failures(page *p, const eg_report_stats *st)
{
    const eg_store_summary *sum = &st->sum;
    char sub[64];
    int64_t fail = sum->by_result[EG_RESULT_FAIL];
    size_t shown = sum->n_causes < 12 ? sum->n_causes : 12;

    fmt_int(sub, sizeof(sub), fail);
    strncat(sub, fail == 1 ? " failed board" : " failed boards", sizeof(sub) - strlen(sub) - 1);
    hbars_start(p, "Failures by cause", sub);
    if (!sum->n_causes) {
        put(p, "<p class=\"empty\">No failures.</p></section>");
    } else {
        put(p, "<table class=\"hbars\" id=\"causes\">");
        for (size_t i = 0; i < shown; i++) {
            const eg_store_cause *c = &sum->causes[i];
            char cause[256];
            snprintf(cause, sizeof(cause), "%s%s%s", c->step, c->step[0] ? ": " : "",
                     eg_error_name(c->error_code));
            hbar(p, "cause", cause, c->count, sum->causes[0].count);
        }
        put(p, "</table>");
        if (shown < sum->n_causes)
            pf(p, "<p class=\"note\">and %zu rarer causes (in the CSV and JSON reports)</p>",
               sum->n_causes - shown);
        put(p, "</section>");
    }
    hbars_start(p, "Failures by step", "where the failed boards stopped");
    if (!st->n_steps) {
        put(p, "<p class=\"empty\">No failures.</p></section>");
        return;
    }
    put(p, "<table class=\"hbars\" id=\"steps\">");
    for (size_t i = 0; i < st->n_steps; i++)
        hbar(p, "step", st->steps[i].step[0] ? st->steps[i].step : "(none)", st->steps[i].count,
             st->steps[0].count);
    put(p, "</table></section>");
}

/* A slot that fails far more than the rest: a bad pogo pin, cable or hub port. */
static int suspect(const eg_report_stats *st, const eg_report_slot *sl)
{
    int64_t pass = st->sum.by_result[EG_RESULT_PASS], fail = st->sum.by_result[EG_RESULT_FAIL];
    int64_t op = pass - sl->pass, of = fail - sl->fail;
    if (sl->fail < 3 || sl->pass + sl->fail == 0)
        return 0;
    double rate = (double)sl->fail / (double)(sl->pass + sl->fail);
    double others = op + of ? (double)of / (double)(op + of) : 0;
    return rate >= 0.2 && rate >= 2 * others + 0.1;
}

static void slots(page *p, const eg_report_stats *st)
{
    pf(p, "<section><h2>Fixture slots<small>%zu slot%s by number, with their yield</small></h2>",
       st->n_slots, st->n_slots == 1 ? "" : "s");
    if (!st->n_slots) {
        put(p, "<p class=\"empty\">No attempts.</p></section>");
        return;
    }
    /* Rows of a fixture's usual width (8 or 16) on a wide screen. */
    size_t cols = st->n_slots <= 16 ? st->n_slots : 16;
    pf(p, "<div class=\"slots\" id=\"slots\" style=\"--cols:%zu\">", cols < 8 ? 8 : cols);
    for (size_t i = 0; i < st->n_slots; i++) {
        const eg_report_slot *sl = &st->slots[i];
        char ys[32] = "&#8212;";
        int64_t t = sl->pass + sl->fail;
        if (t) { /* whole percent (a slot's few boards need no more), never 100 with a fail */
            int64_t pc = (200 * sl->pass + t) / (2 * t);
            pc = sl->fail && pc == 100 ? 99 : sl->pass && pc == 0 ? 1 : pc;
            snprintf(ys, sizeof(ys), "%lld", (long long)pc);
        }
        /* One bad slot must stand out: red only for a slot far worse than the rest. */
        const char *cls = !t                ? "none"
                          : suspect(st, sl) ? "bad suspect"
                          : sl->fail        ? "fair"
                                            : "good";
        pf(p, "<div class=\"slot %s\" data-slot=\"%d\" data-label=\"", cls, sl->slot);
        esc(p, sl->label);
        pf(p, "\" data-attempts=\"%lld\" data-pass=\"%lld\" data-fail=\"%lld\">",
           (long long)sl->attempts, (long long)sl->pass, (long long)sl->fail);
        if (sl->slot > 0)
            pf(p, "<div class=\"top\"><span class=\"no\">%d</span>", sl->slot);
        else
            put(p, "<div class=\"top\"><span class=\"no\">&#8212;</span>");
        pf(p, "<span class=\"y\">%s%s</span></div><div class=\"lb\">", ys,
           sl->pass + sl->fail ? "%" : "");
        esc(p, sl->label ? sl->label : sl->slot > 0 ? "" : "no slot");
        char np[32], nf[32];
        fmt_int(np, sizeof(np), sl->pass);
        fmt_int(nf, sizeof(nf), sl->fail);
        pf(p,
           "&#8203;</div><div class=\"ct\"><span class=\"cp\">%s</span> pass &#183; "
           "<span class=\"cf\">%s</span> fail</div></div>",
           np, nf);
    }
    put(p, "</div><div class=\"legend\"><i style=\"background:var(--good)\"></i>no failures"
           "<i style=\"background:var(--fair)\"></i>some failures"
           "<i style=\"background:var(--bad)\"></i>far worse than the other slots"
           "<i style=\"background:var(--none)\"></i>no board passed or failed</div></section>");
}

static void tile(page *p, const char *key, const char *cls, const char *name, const char *data,
                 const char *value, const char *sub)
{
    size_t n = strlen(value);
    pf(p,
       "<div class=\"tile %s\" data-k=\"%s\" data-v=\"%s\"><div class=\"k\">%s</div>"
       "<div class=\"v%s\">%s</div><div class=\"s\">%s</div></div>",
       cls, key, data, name,
       n > 9   ? " vlong"
       : n > 6 ? " vmid"
               : "",
       value, sub);
}

static void tiles(page *p, const eg_report_stats *st)
{
    const eg_store_summary *sum = &st->sum;
    int64_t pass = sum->by_result[EG_RESULT_PASS], fail = sum->by_result[EG_RESULT_FAIL];
    int64_t other = sum->attempts - pass - fail;
    char v[64], d[64], sub[160], a[32], b[32];

    put(p, "<div class=\"tiles\">");
    if (pass + fail) {
        fmt_yield(v, sizeof(v), pass, fail);
        snprintf(d, sizeof(d), "%.6g", (double)pass / (double)(pass + fail));
        strncat(v, "%", sizeof(v) - strlen(v) - 1);
        fmt_int(a, sizeof(a), pass);
        fmt_int(b, sizeof(b), pass + fail);
        snprintf(sub, sizeof(sub), "%s of %s boards passed", a, b);
    } else {
        snprintf(v, sizeof(v), "&#8212;");
        snprintf(d, sizeof(d), "none");
        snprintf(sub, sizeof(sub), "no board passed or failed");
    }
    char ycls[16];
    snprintf(ycls, sizeof(ycls), "yield %s", tone(pass, fail));
    tile(p, "yield", ycls, "Yield", d, v, sub);
    fmt_int(v, sizeof(v), pass);
    snprintf(d, sizeof(d), "%lld", (long long)pass);
    tile(p, "pass", "good", "Passed", d, v, "boards");
    fmt_int(v, sizeof(v), fail);
    snprintf(d, sizeof(d), "%lld", (long long)fail);
    tile(p, "fail", fail ? "bad" : "good", "Failed", d, v, "boards");
    if (st->boards_per_hour >= 0) {
        fmt_int(v, sizeof(v), (int64_t)(st->boards_per_hour + 0.5));
        snprintf(d, sizeof(d), "%.1f", st->boards_per_hour);
        fmt_dur(a, sizeof(a), st->busy_ms);
        snprintf(sub, sizeof(sub), "while working (%s)", a);
    } else {
        snprintf(v, sizeof(v), "&#8212;");
        snprintf(d, sizeof(d), "none");
        snprintf(sub, sizeof(sub), "no board passed or failed");
    }
    tile(p, "boards_per_hour", "plain", "Boards per hour", d, v, sub);
    if (st->timed) {
        fmt_dur(v, sizeof(v), st->median_ms);
        snprintf(d, sizeof(d), "%lld", (long long)st->median_ms);
        fmt_dur(a, sizeof(a), st->p90_ms);
        snprintf(sub, sizeof(sub), "median; 90%% within %s", a);
    } else {
        snprintf(v, sizeof(v), "&#8212;");
        snprintf(d, sizeof(d), "none");
        snprintf(sub, sizeof(sub), "no board finished");
    }
    tile(p, "median_ms", "plain", "Time per board", d, v, sub);
    fmt_int(v, sizeof(v), sum->attempts);
    snprintf(d, sizeof(d), "%lld", (long long)sum->attempts);
    if (other)
        snprintf(sub, sizeof(sub), "%lld canceled, %lld interrupted, %lld running",
                 (long long)sum->by_result[EG_RESULT_CANCELED],
                 (long long)sum->by_result[EG_RESULT_INTERRUPTED],
                 (long long)sum->by_result[EG_RESULT_RUNNING]);
    else
        snprintf(sub, sizeof(sub), "in %lld run%s", (long long)st->runs, st->runs == 1 ? "" : "s");
    tile(p, "attempts", "plain", "Attempts", d, v, sub);
    put(p, "</div>");
}

/* What needs someone's attention first: slots far worse than the rest, the top cause. */
static void attention(page *p, const eg_report_stats *st)
{
    int any = 0;
    for (size_t i = 0; i < st->n_slots; i++) {
        const eg_report_slot *sl = &st->slots[i];
        if (!suspect(st, sl))
            continue;
        if (!any++)
            put(p, "<div class=\"alert\" id=\"attention\"><b>Check the fixture:</b><ul>");
        pf(p, "<li data-slot=\"%d\">slot <b>%d</b>", sl->slot, sl->slot);
        if (sl->label) {
            put(p, " (");
            esc(p, sl->label);
            put(p, ")");
        }
        pf(p, " failed %lld of %lld boards", (long long)sl->fail, (long long)(sl->pass + sl->fail));
        put(p, " &#8212; its pins, cable or hub port</li>");
    }
    if (any)
        put(p, "</ul></div>");
}

static void scope(page *p, const eg_store_filter *f)
{
    int any = 0;
    if (f && f->run_id > 0) {
        pf(p, "run %lld", (long long)f->run_id);
        any = 1;
    }
    if (f && f->lot) {
        pf(p, "%slot ", any ? ", " : "");
        esc(p, f->lot);
        any = 1;
    }
    if (f && f->has_since) {
        char t[24];
        fmt_local(t, sizeof(t), f->since_ms, 1);
        pf(p, "%ssince %s", any ? ", " : "", t);
        any = 1;
    }
    if (!any)
        put(p, "all records");
}

/* Appends a kept row with its checksums, read now. */
static void put_row(page *p, eg_store *s, const kept_row *row)
{
    if (p->rc == 0 && eg_buf_append(&p->b, row->html.data, row->split) < 0)
        p->rc = eg_error_set(EG_ENOMEM, "out of memory");
    if (p->rc == 0) {
        int rc = eg_store_regions_each(s, row->run_id, row->seq, sum_html, p);
        if (rc < 0 && p->rc == 0)
            p->rc = rc;
    }
    if (p->rc == 0 &&
        eg_buf_append(&p->b, row->html.data + row->split, row->html.len - row->split) < 0)
        p->rc = eg_error_set(EG_ENOMEM, "out of memory");
}

static void device_table(page *p, eg_store *s, const eg_report_stats *st, const rows *r)
{
    int64_t total = st->sum.attempts;
    char a[32], b[32];

    put(p, "<section class=\"devices-section\"><h2>Devices");
    if (total <= EG_REPORT_HTML_ROWS) {
        fmt_int(a, sizeof(a), total);
        pf(p, "<small>every attempt (%s), in the order they started</small></h2>", a);
    } else {
        size_t shown = r->n_bad < EG_REPORT_HTML_ROWS ? r->n_bad : EG_REPORT_HTML_ROWS;
        fmt_int(a, sizeof(a), (int64_t)shown);
        fmt_int(b, sizeof(b), total);
        pf(p,
           "<small>the latest %s attempts that did not pass, of %s attempts</small></h2>"
           "<p class=\"note\" id=\"rows-note\">A page of every attempt would be too long "
           "to use: every attempt is in <code>espgang report --format csv</code> (or "
           "json), and one device's history in <code>espgang report --device MAC</code>."
           "</p>",
           a, b);
    }
    put(p, "<table class=\"devices\" id=\"devices\"><thead><tr><th>Started</th><th>Run</th>"
           "<th>MAC</th><th>Serial number</th><th>Slot</th><th>Result</th>"
           "<th>Failed step: cause</th><th>Boot</th><th>Checksums (SHA-256)</th><th>Log</th>"
           "</tr></thead><tbody>\n");
    if (total <= EG_REPORT_HTML_ROWS) {
        for (size_t i = 0; i < r->n_all; i++)
            put_row(p, s, &r->all[i]);
    } else {
        size_t n = r->n_bad < EG_REPORT_HTML_ROWS ? r->n_bad : EG_REPORT_HTML_ROWS;
        size_t first = r->n_bad - n;
        for (size_t i = first; i < r->n_bad; i++)
            put_row(p, s, &r->bad[i % EG_REPORT_HTML_ROWS]);
    }
    put(p, "</tbody></table></section>");
}

static void make_page(page *p, const eg_report_stats *st, eg_store *s, const eg_store_filter *f,
                      const rows *r)
{
    eg_report_bucket *b = NULL;
    size_t n = 0;
    char now[40], from[24], to[24];
    int64_t w = bucket_ms(st);

    if (st->sum.attempts && eg_report_stats_buckets(&b, &n, st, w) < 0) {
        p->rc = EG_ENOMEM;
        return;
    }
    eg_report_format_time(now, sizeof(now), eg_clock_unix_ms());
    put(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'; img-src data:\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>Production report: ");
    scope(p, f);
    pf(p,
       "</title><style>%s</style></head><body><header><h1>Production report</h1>"
       "<span class=\"scope\" id=\"scope\">",
       css);
    scope(p, f);
    if (st->first_ms >= 0) {
        fmt_local(from, sizeof(from), st->first_ms, 1);
        fmt_local(to, sizeof(to), st->last_ms, 1);
        pf(p, " &#183; %s to %s", from, strncmp(from, to, 10) == 0 ? to + 11 : to);
    }
    put(p, "</span><span class=\"meta\">made ");
    pf(p, "%.10s %.5s", now, now + 11);
    put(p, "<br>from ");
    esc(p, eg_store_path(s));
    put(p, "</span></header><main>");
    tiles(p, st);
    attention(p, st);
    put(p, "<div class=\"grid2\">");
    chart_yield(p, st, b, n, w);
    chart_boards(p, st, b, n, w);
    put(p, "</div>");
    slots(p, st);
    put(p, "<div class=\"grid3\">");
    failures(p, st);
    chart_histogram(p, st);
    put(p, "</div>");
    device_table(p, s, st, r);
    put(p, "</main><footer>espgang production report: yield is pass / (pass + fail); "
           "canceled, interrupted and running attempts say nothing about the boards. Times are "
           "local. Every attempt, with all checksums, is in the CSV and JSON reports.</footer>"
           "</body></html>\n");
    free(b);
}

int eg_report_html(eg_report_stats *st, eg_store *s, const eg_store_filter *f, eg_report_sink sink,
                   void *ctx)
{
    html_ctx h;
    page p = {EG_BUF_INIT, 0};
    int rc;

    memset(&h, 0, sizeof(h));
    h.st = st;
    h.r.all = calloc(EG_REPORT_HTML_ROWS, sizeof(kept_row));
    h.r.bad = calloc(EG_REPORT_HTML_ROWS, sizeof(kept_row));
    if (!h.r.all || !h.r.bad) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = eg_store_attempts_each(s, f, EG_STORE_EACH_BRIEF | EG_STORE_EACH_NO_REGIONS,
                                     html_each, &h)) < 0 ||
        (rc = eg_report_stats_finish(st)) < 0)
        goto done;
    make_page(&p, st, s, f, &h.r);
    if ((rc = p.rc) < 0)
        goto done;
    /* Handed over in pieces, as the other formats are. */
    for (size_t at = 0; at < p.b.len && rc == 0; at += 512 * 1024) {
        size_t n = p.b.len - at < 512 * 1024 ? p.b.len - at : 512 * 1024;
        rc = sink(ctx, p.b.data + at, n);
    }
done:
    for (size_t i = 0; h.r.all && i < EG_REPORT_HTML_ROWS; i++)
        eg_buf_release(&h.r.all[i].html);
    for (size_t i = 0; h.r.bad && i < EG_REPORT_HTML_ROWS; i++)
        eg_buf_release(&h.r.bad[i].html);
    free(h.r.all);
    free(h.r.bad);
    eg_buf_release(&h.row.b);
    eg_buf_release(&p.b);
    return rc;
}
