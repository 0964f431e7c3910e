/* CSV and JSON reports, streamed through 512 KiB buffers into the caller's sink. The
 * numbers, times and strings are formatted by hand: a report of a million attempts
 * formats tens of millions of fields, and snprintf alone would take seconds. */
#include "report/priv.h"

#include "core/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OUT_CAP (512 * 1024)

/* A region's contents rendered as JSON (size, label, sha256, md5_expected): the
 * attempts of a run write the same contents to every board, so the text is made once
 * and copied (FRAG_SLOTS regions per attempt are remembered, by position). */
#define FRAG_SLOTS 8
#define FRAG_LABEL 64

typedef struct frag {
    int used;
    uint32_t size;
    int has_label;
    char label[FRAG_LABEL];
    char sha256[65], md5[33];
    int md5_plain; /* md5 is 32 lowercase hex digits: it needs no escaping */
    size_t len;
    char text[512];
} frag;

/* What formatting a time remembers from the last one: the UTC offset of a quarter hour
 * (offsets change only at quarter hours) and the text of a local day. */
typedef struct tcache {
    int64_t slot; /* the quarter hour (Unix time / 900) of off; INT64_MIN: none */
    int64_t off;  /* seconds east of UTC */
    char off_text[7];
    int64_t day; /* the local day (days since 1970) of day_text; INT64_MIN: none */
    char day_text[12];
} tcache;

/* The report's output: the buffer being filled, and a thread that hands full buffers
 * to the sink meanwhile (writing a gigabyte into a file costs the kernel a good part of
 * a second that the formatting need not wait for). */
#define OUT_BUFS 2

typedef struct out {
    eg_report_sink sink;
    void *ctx;
    int rc;     /* the sink's first error; nothing more is written after it */
    size_t len; /* bytes in buf */
    char *buf;  /* bufs[cur] */
    int cur;
    char *bufs[OUT_BUFS];
    int io_on; /* the thread runs; else the sink is called here */
    pthread_t io;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Under mu. */
    size_t pending[OUT_BUFS]; /* bytes of a buffer waiting for the sink; 0: free */
    int io_next;              /* the buffer the thread writes next */
    int io_stop;
    int io_rc;
    char io_msg[512];
    tcache tc;
    frag frag[FRAG_SLOTS];
    int runs; /* attempts carry their run's station, lot and profile (a device's history) */
} out;

static void tcache_init(tcache *c);

/* Takes the thread's error as this thread's (under mu). */
static void out_take_error(out *o)
{
    if (o->io_rc && !o->rc) {
        o->rc = o->io_rc;
        eg_error_set(o->io_rc, "%s", o->io_msg);
    }
}

static void *io_main(void *arg)
{
    out *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (!o->pending[o->io_next] && !o->io_stop)
            pthread_cond_wait(&o->cv, &o->mu);
        size_t n = o->pending[o->io_next];
        if (!n)
            break;
        const char *b = o->bufs[o->io_next];
        int failed = o->io_rc < 0;
        pthread_mutex_unlock(&o->mu);
        int rc = failed ? 0 : o->sink(o->ctx, b, n);
        pthread_mutex_lock(&o->mu);
        if (rc < 0 && !o->io_rc) {
            o->io_rc = rc;
            snprintf(o->io_msg, sizeof(o->io_msg), "%s", eg_error_msg());
        }
        o->pending[o->io_next] = 0;
        o->io_next = (o->io_next + 1) % OUT_BUFS;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* Waits until the thread has written everything handed to it; its error into o->rc. */
static void out_wait_idle(out *o)
{
    if (!o->io_on)
        return;
    pthread_mutex_lock(&o->mu);
    for (int i = 0; i < OUT_BUFS; i++)
        while (o->pending[i])
            pthread_cond_wait(&o->cv, &o->mu);
    out_take_error(o);
    pthread_mutex_unlock(&o->mu);
}

static void out_flush(out *o)
{
    if (!o->len)
        return;
    if (!o->io_on) {
        if (o->rc == 0)
            o->rc = o->sink(o->ctx, o->buf, o->len);
        o->len = 0;
        return;
    }
    pthread_mutex_lock(&o->mu);
    o->pending[o->cur] = o->len;
    pthread_cond_broadcast(&o->cv);
    o->cur = (o->cur + 1) % OUT_BUFS;
    while (o->pending[o->cur])
        pthread_cond_wait(&o->cv, &o->mu);
    out_take_error(o);
    pthread_mutex_unlock(&o->mu);
    o->buf = o->bufs[o->cur];
    o->len = 0;
}

static void out_big(out *o, const void *p, size_t n)
{
    out_flush(o);
    if (n > OUT_CAP) {
        out_wait_idle(o); /* in order: what was handed over goes first */
        if (o->rc == 0)
            o->rc = o->sink(o->ctx, p, n);
        return;
    }
    memcpy(o->buf, p, n);
    o->len = n;
}

/* Makes o ready: its buffers, and the thread when it can start. */
static int out_open(out *o, eg_report_sink sink, void *ctx)
{
    o->sink = sink;
    o->ctx = ctx;
    tcache_init(&o->tc);
    for (int i = 0; i < OUT_BUFS; i++)
        if (!(o->bufs[i] = malloc(OUT_CAP)))
            return eg_error_set(EG_ENOMEM, "out of memory");
    o->buf = o->bufs[0];
    if (pthread_mutex_init(&o->mu, NULL) != 0)
        return 0;
    if (pthread_cond_init(&o->cv, NULL) != 0) {
        pthread_mutex_destroy(&o->mu);
        return 0;
    }
    o->io_on = pthread_create(&o->io, NULL, io_main, o) == 0;
    if (!o->io_on) {
        pthread_cond_destroy(&o->cv);
        pthread_mutex_destroy(&o->mu);
    }
    return 0;
}

/* Writes what is left (unless failed) and ends the thread; returns o->rc, with the
 * sink's message when the sink failed. */
static int out_close(out *o, int failed)
{
    if (!failed)
        out_flush(o);
    if (o->io_on) {
        pthread_mutex_lock(&o->mu);
        o->io_stop = 1;
        pthread_cond_broadcast(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->io, NULL);
        out_take_error(o);
        pthread_cond_destroy(&o->cv);
        pthread_mutex_destroy(&o->mu);
        o->io_on = 0;
    }
    for (int i = 0; i < OUT_BUFS; i++)
        free(o->bufs[i]);
    return o->rc;
}

static inline void out_bytes(out *o, const void *p, size_t n)
{
    if (o->len + n > OUT_CAP) {
        out_big(o, p, n);
        return;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

/* A string literal, its length known when compiling. */
#define OUT_LIT(o, lit) out_bytes(o, lit, sizeof(lit) - 1)

static void out_str(out *o, const char *s)
{
    out_bytes(o, s, strlen(s));
}

static inline void out_char(out *o, char c)
{
    if (o->len == OUT_CAP)
        out_flush(o);
    o->buf[o->len++] = c;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static void out_i64(out *o, int64_t v)
{
    char tmp[24], *p = tmp;
    if (v < 0) {
        *p++ = '-';
        p = put_u64(p, (uint64_t)0 - (uint64_t)v);
    } else {
        p = put_u64(p, (uint64_t)v);
    }
    out_bytes(o, tmp, (size_t)(p - tmp));
}

static void out_hex(out *o, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[12];
    int n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    out_bytes(o, "0x", 2);
    while (n)
        out_char(o, tmp[--n]);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t eg_report_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t eg_report_utc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return 0;
    int64_t local =
        days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) *
            86400 +
        tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return local - t;
}

static void tcache_init(tcache *c)
{
    c->slot = INT64_MIN;
    c->day = INT64_MIN;
}

static void two(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

/* Formats ms as local time with its offset, "2026-12-01T08:00:00.123+01:00" (29
 * bytes, no NUL), into dst. */
static size_t format_time(char *dst, int64_t ms, tcache *c)
{
    int64_t t = eg_report_floor_div(ms, 1000), slot = eg_report_floor_div(t, 900);
    if (slot != c->slot) {
        c->off = eg_report_utc_offset(t);
        c->slot = slot;
        int64_t a = c->off < 0 ? -c->off : c->off;
        c->off_text[0] = c->off < 0 ? '-' : '+';
        two(c->off_text + 1, (unsigned)(a / 3600 % 100));
        c->off_text[3] = ':';
        two(c->off_text + 4, (unsigned)(a / 60 % 60));
    }
    int64_t local = t + c->off, day = eg_report_floor_div(local, 86400);
    if (day != c->day) {
        int64_t y;
        unsigned mo, d;
        civil_from_days(day, &y, &mo, &d);
        if (y < 0 || y > 9999)
            y = 0;
        two(c->day_text, (unsigned)(y / 100));
        two(c->day_text + 2, (unsigned)(y % 100));
        c->day_text[4] = '-';
        two(c->day_text + 5, mo);
        c->day_text[7] = '-';
        two(c->day_text + 8, d);
        c->day_text[10] = 'T';
        c->day = day;
    }
    unsigned secs = (unsigned)(local - day * 86400), milli = (unsigned)(ms - t * 1000);
    memcpy(dst, c->day_text, 11);
    two(dst + 11, secs / 3600);
    dst[13] = ':';
    two(dst + 14, secs / 60 % 60);
    dst[16] = ':';
    two(dst + 17, secs % 60);
    dst[19] = '.';
    dst[20] = (char)('0' + milli / 100);
    two(dst + 21, milli % 100);
    memcpy(dst + 23, c->off_text, 6);
    return 29;
}

void eg_report_format_time(char *dst, size_t len, int64_t ms)
{
    char tmp[40];
    tcache c;
    tcache_init(&c);
    tmp[format_time(tmp, ms, &c)] = '\0';
    snprintf(dst, len, "%s", tmp);
}

static void out_time(out *o, int64_t ms)
{
    char tmp[40];
    out_bytes(o, tmp, format_time(tmp, ms, &o->tc));
}

size_t eg_report_utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F))
            return 0; /* overlong, or a surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
            return 0;
        return 4;
    }
    return 0;
}

/* Bytes a JSON string cannot hold as they are: controls, '"', '\\' and everything
 * from 0x80 (checked as UTF-8). */
// clang-format off
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char json_special[256] = {
    R16(1), R16(1),                                 /* 0x00-0x1f: controls */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20-0x2f: '"' */
    R16(0), R16(0),                                 /* 0x30-0x4f */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50-0x5f: '\\' */
    R16(0), R16(0),                                 /* 0x60-0x7f */
    R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), /* 0x80-0xff */
};
// clang-format on

/* A JSON string, or null for NULL. */
static void json_str(out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (!s) {
        OUT_LIT(o, "null");
        return;
    }
    const unsigned char *p = (const unsigned char *)s, *run = p;
    out_char(o, '"');
    for (;;) {
        while (!json_special[*p])
            p++;
        unsigned c = *p;
        size_t n;
        if (c == 0)
            break;
        if (c >= 0x80 && (n = eg_report_utf8_len(p)) != 0) {
            p += n;
            continue;
        }
        out_bytes(o, run, (size_t)(p - run));
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            out_bytes(o, e, 2);
        } else if (c == '\n') {
            OUT_LIT(o, "\\n");
        } else if (c == '\r') {
            OUT_LIT(o, "\\r");
        } else if (c == '\t') {
            OUT_LIT(o, "\\t");
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            out_bytes(o, e, 6);
        } else {
            OUT_LIT(o, "\\ufffd"); /* a byte that is not UTF-8 */
        }
        p++;
        run = p;
    }
    out_bytes(o, run, (size_t)(p - run));
    out_char(o, '"');
}

/* A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, with
 * quotes doubled; empty for NULL. */
/* Bytes that end a plain CSV field's scan: the NUL, and what makes it quoted. */
static const unsigned char csv_special[256] = {
    [0] = 1, [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};

/* Bytes of a region label that the regions column %-escapes. */
static const unsigned char label_special[256] = {
    [':'] = 1, [';'] = 1, ['%'] = 1, [','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};

static void csv_str(out *o, const char *s)
{
    if (!s)
        return;
    const char *p = s;
    while (!csv_special[(unsigned char)*p])
        p++;
    if (!*p) {
        out_bytes(o, s, (size_t)(p - s));
        return;
    }
    out_char(o, '"');
    for (const char *run = s, *q;; run = q + 1) {
        q = strchr(run, '"');
        if (!q) {
            out_str(o, run);
            break;
        }
        out_bytes(o, run, (size_t)(q - run) + 1);
        out_char(o, '"');
    }
    out_char(o, '"');
}

int eg_report_format_parse(eg_report_format *out, const char *s)
{
    static const char *const names[] = {"csv", "json", "html", "text"};
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (eg_report_format)i;
            return 0;
        }
    *out = EG_REPORT_CSV;
    return eg_error_set(EG_EINVAL, "report format '%s' is not csv, json, html or text", s ? s : "");
}

int eg_report_sink_buf(void *ctx, const void *data, size_t len)
{
    if (eg_buf_append(ctx, data, len) < 0)
        return eg_error_set(EG_ENOMEM, "out of memory");
    return 0;
}

double eg_report_yield(const eg_store_summary *sum)
{
    int64_t pass = sum->by_result[EG_RESULT_PASS], fail = sum->by_result[EG_RESULT_FAIL];
    return pass + fail ? (double)pass / (double)(pass + fail) : -1;
}

/* The revision as board-info prints it, "v0.4". */
static void out_revision(out *o, const eg_store_identity *id)
{
    char tmp[32], *p = tmp;
    *p++ = 'v';
    p = put_u64(p, id->rev_major);
    *p++ = '.';
    p = put_u64(p, id->rev_minor);
    out_bytes(o, tmp, (size_t)(p - tmp));
}

static int csv_attempt(void *ctx, const eg_store_attempt_rec *r)
{
    out *o = ctx;
    const eg_store_attempt_start *a = &r->start;
    const eg_store_attempt_end *e = &r->end;

    out_i64(o, a->run_id);
    out_char(o, ',');
    out_i64(o, a->seq);
    out_char(o, ',');
    if (o->runs) {
        csv_str(o, r->station);
        out_char(o, ',');
        csv_str(o, r->lot);
        out_char(o, ',');
        csv_str(o, r->profile_name);
        out_char(o, ',');
    }
    if (a->slot > 0)
        out_i64(o, a->slot);
    out_char(o, ',');
    csv_str(o, a->slot_label);
    out_char(o, ',');
    csv_str(o, a->port);
    out_char(o, ',');
    csv_str(o, a->usb_location);
    out_char(o, ',');
    csv_str(o, a->kind);
    out_char(o, ',');
    if (e->identified) {
        csv_str(o, e->identity.chip);
        out_char(o, ',');
        out_revision(o, &e->identity);
        out_char(o, ',');
        csv_str(o, e->identity.mac);
    } else {
        out_bytes(o, ",,", 2);
    }
    out_char(o, ',');
    csv_str(o, e->serial_number);
    out_char(o, ',');
    out_str(o, eg_store_result_name(e->result));
    out_char(o, ',');
    csv_str(o, e->failed_step);
    out_char(o, ',');
    csv_str(o, e->error_code ? eg_error_name(e->error_code) : NULL);
    out_char(o, ',');
    csv_str(o, e->message);
    out_char(o, ',');
    out_time(o, a->started_ms);
    out_char(o, ',');
    if (e->ended_ms >= 0)
        out_time(o, e->ended_ms);
    out_char(o, ',');
    if (e->ended_ms >= 0)
        out_i64(o, e->ended_ms - a->started_ms);
    out_char(o, ',');
    if (e->boot_result)
        out_str(o, e->boot_result);
    out_char(o, ',');
    csv_str(o, e->boot_line);
    out_char(o, ',');
    csv_str(o, e->boot_tail);
    out_char(o, ',');
    csv_str(o, e->log_path);
    out_char(o, ',');
    /* OFFSET:LABEL:OUTCOME:SHA256:MD5_EXPECTED:MD5_DEVICE;... (no CSV quoting needed:
     * the label's ':', ';', '%', ',', '"' and line breaks are %-escaped). */
    for (size_t i = 0; i < e->n_regions; i++) {
        const eg_store_region *g = &e->regions[i];
        if (i)
            out_char(o, ';');
        out_hex(o, g->offset);
        out_char(o, ':');
        for (const char *l = g->label, *run = l; l; l++) {
            if (!*l || label_special[(unsigned char)*l]) {
                out_bytes(o, run, (size_t)(l - run));
                if (!*l)
                    break;
                char esc[3] = {'%', "0123456789ABCDEF"[(unsigned char)*l >> 4],
                               "0123456789ABCDEF"[*l & 15]};
                out_bytes(o, esc, 3);
                run = l + 1;
            }
        }
        out_char(o, ':');
        out_str(o, g->outcome);
        out_char(o, ':');
        out_str(o, g->sha256);
        out_char(o, ':');
        out_str(o, g->md5_expected);
        out_char(o, ':');
        out_str(o, g->md5_device);
    }
    out_char(o, '\n');
    return o->rc;
}

static int plain_hex(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return 0;
    return h[n] == '\0';
}

static void json_contents_fields(out *o, const eg_store_region *g)
{
    OUT_LIT(o, ",\"size\":");
    out_i64(o, g->size);
    OUT_LIT(o, ",\"label\":");
    json_str(o, g->label);
    OUT_LIT(o, ",\"sha256\":");
    json_str(o, g->sha256);
    OUT_LIT(o, ",\"md5_expected\":");
    json_str(o, g->md5_expected);
}

/* Writes region i's contents fields, from the remembered text when it is the same
 * contents as last time; returns that text's slot (NULL when not remembered). */
static const frag *json_contents(out *o, const eg_store_region *g, size_t i)
{
    frag *f = &o->frag[i % FRAG_SLOTS];
    size_t llen = g->label ? strlen(g->label) : 0;

    if (f->used && f->size == g->size && f->has_label == (g->label != NULL) &&
        (!g->label || strcmp(f->label, g->label) == 0) &&
        memcmp(f->sha256, g->sha256, sizeof(f->sha256)) == 0 &&
        memcmp(f->md5, g->md5_expected, sizeof(f->md5)) == 0) {
        out_bytes(o, f->text, f->len);
        return f;
    }
    f->used = 0;
    if (llen >= FRAG_LABEL || o->rc) {
        json_contents_fields(o, g);
        return NULL;
    }
    /* Rendered in place, then remembered: it must not straddle a flush. */
    if (o->len + sizeof(f->text) > OUT_CAP)
        out_flush(o);
    size_t start = o->len;
    json_contents_fields(o, g);
    f->len = o->len - start;
    if (f->len > sizeof(f->text) || o->len < start)
        return NULL;
    memcpy(f->text, o->buf + start, f->len);
    f->size = g->size;
    f->has_label = g->label != NULL;
    memcpy(f->label, g->label ? g->label : "", llen + 1);
    memcpy(f->sha256, g->sha256, sizeof(f->sha256));
    memcpy(f->md5, g->md5_expected, sizeof(f->md5));
    f->md5_plain = plain_hex(f->md5, 32);
    f->used = 1;
    return f;
}

static int json_attempt(void *ctx, const eg_store_attempt_rec *r)
{
    out *o = ctx;
    const eg_store_attempt_start *a = &r->start;
    const eg_store_attempt_end *e = &r->end;

    out_bytes(o, "{\"run\":", 7);
    out_i64(o, a->run_id);
    OUT_LIT(o, ",\"seq\":");
    out_i64(o, a->seq);
    if (o->runs) {
        OUT_LIT(o, ",\"station\":");
        json_str(o, r->station);
        OUT_LIT(o, ",\"lot\":");
        json_str(o, r->lot);
        OUT_LIT(o, ",\"profile\":");
        json_str(o, r->profile_name);
    }
    OUT_LIT(o, ",\"slot\":");
    if (a->slot > 0)
        out_i64(o, a->slot);
    else
        OUT_LIT(o, "null");
    OUT_LIT(o, ",\"slot_label\":");
    json_str(o, a->slot_label);
    OUT_LIT(o, ",\"port\":");
    json_str(o, a->port);
    OUT_LIT(o, ",\"usb_location\":");
    json_str(o, a->usb_location);
    OUT_LIT(o, ",\"kind\":");
    json_str(o, a->kind);
    OUT_LIT(o, ",\"chip\":");
    json_str(o, e->identified ? e->identity.chip : NULL);
    OUT_LIT(o, ",\"revision\":");
    if (e->identified) {
        out_char(o, '"');
        out_revision(o, &e->identity);
        out_char(o, '"');
    } else {
        OUT_LIT(o, "null");
    }
    OUT_LIT(o, ",\"mac\":");
    json_str(o, e->identified ? e->identity.mac : NULL);
    OUT_LIT(o, ",\"serial_number\":");
    json_str(o, e->serial_number);
    OUT_LIT(o, ",\"result\":\"");
    out_str(o, eg_store_result_name(e->result)); /* a name from the store's table */
    out_char(o, '"');
    OUT_LIT(o, ",\"failed_step\":");
    json_str(o, e->failed_step);
    OUT_LIT(o, ",\"error\":");
    json_str(o, e->error_code ? eg_error_name(e->error_code) : NULL);
    OUT_LIT(o, ",\"message\":");
    json_str(o, e->message);
    OUT_LIT(o, ",\"started\":\"");
    out_time(o, a->started_ms);
    OUT_LIT(o, "\",\"ended\":");
    if (e->ended_ms >= 0) {
        out_char(o, '"');
        out_time(o, e->ended_ms);
        out_char(o, '"');
        OUT_LIT(o, ",\"duration_ms\":");
        out_i64(o, e->ended_ms - a->started_ms);
    } else {
        OUT_LIT(o, "null,\"duration_ms\":null");
    }
    OUT_LIT(o, ",\"boot_result\":");
    json_str(o, e->boot_result);
    OUT_LIT(o, ",\"boot_line\":");
    json_str(o, e->boot_line);
    OUT_LIT(o, ",\"boot_tail\":");
    json_str(o, e->boot_tail);
    OUT_LIT(o, ",\"log_path\":");
    json_str(o, e->log_path);
    OUT_LIT(o, ",\"regions\":[");
    for (size_t i = 0; i < e->n_regions; i++) {
        const eg_store_region *g = &e->regions[i];
        out_str(o, i ? ",{\"offset\":" : "{\"offset\":");
        out_i64(o, g->offset);
        const frag *f = json_contents(o, g, i);
        OUT_LIT(o, ",\"md5_device\":");
        if (!g->md5_device[0])
            OUT_LIT(o, "null");
        else if (f && f->md5_plain && memcmp(g->md5_device, f->md5, 33) == 0)
            out_bytes(o, f->text + f->len - 34, 34); /* the same quoted digest */
        else
            json_str(o, g->md5_device);
        OUT_LIT(o, ",\"outcome\":");
        json_str(o, g->outcome);
        out_char(o, '}');
    }
    OUT_LIT(o, "]}");
    return o->rc;
}

/* A yield (or any ratio) as JSON: %.6g, or null when there is none. */
static void json_ratio(out *o, int64_t num, int64_t den)
{
    char tmp[32];
    if (den <= 0) {
        OUT_LIT(o, "null");
        return;
    }
    snprintf(tmp, sizeof(tmp), "%.6g", (double)num / (double)den);
    out_str(o, tmp);
}

static void json_time_or_null(out *o, int64_t ms, int has)
{
    if (!has) {
        OUT_LIT(o, "null");
        return;
    }
    out_char(o, '"');
    out_time(o, ms);
    out_char(o, '"');
}

static void json_summary(out *o, const eg_report_stats *st)
{
    static const char *const keys[] = {"running", "pass", "fail", "canceled", "interrupted"};
    const eg_store_summary *sum = &st->sum;
    OUT_LIT(o, "{\"attempts\":");
    out_i64(o, sum->attempts);
    for (int i = 0; i <= EG_RESULT_INTERRUPTED; i++) {
        OUT_LIT(o, ",\"");
        out_str(o, keys[i]);
        OUT_LIT(o, "\":");
        out_i64(o, sum->by_result[i]);
    }
    OUT_LIT(o, ",\"yield\":");
    json_ratio(o, sum->by_result[EG_RESULT_PASS],
               sum->by_result[EG_RESULT_PASS] + sum->by_result[EG_RESULT_FAIL]);
    OUT_LIT(o, ",\"runs\":");
    out_i64(o, st->runs);
    OUT_LIT(o, ",\"from\":");
    json_time_or_null(o, st->first_ms, st->first_ms >= 0);
    OUT_LIT(o, ",\"to\":");
    json_time_or_null(o, st->last_ms, st->last_ms >= 0);
    OUT_LIT(o, ",\"failures_by_cause\":[");
    for (size_t i = 0; i < sum->n_causes; i++) {
        const eg_store_cause *c = &sum->causes[i];
        char cause[256];
        snprintf(cause, sizeof(cause), "%s%s%s", c->step, c->step[0] ? ": " : "",
                 eg_error_name(c->error_code));
        out_str(o, i ? ",{\"step\":" : "{\"step\":");
        json_str(o, c->step[0] ? c->step : NULL);
        OUT_LIT(o, ",\"cause\":");
        json_str(o, cause);
        OUT_LIT(o, ",\"count\":");
        out_i64(o, c->count);
        out_char(o, '}');
    }
    OUT_LIT(o, "],\n\"failures_by_step\":[");
    for (size_t i = 0; i < st->n_steps; i++) {
        out_str(o, i ? ",{\"step\":" : "{\"step\":");
        json_str(o, st->steps[i].step[0] ? st->steps[i].step : NULL);
        OUT_LIT(o, ",\"count\":");
        out_i64(o, st->steps[i].count);
        out_char(o, '}');
    }
    OUT_LIT(o, "],\n\"slots\":[");
    for (size_t i = 0; i < st->n_slots; i++) {
        const eg_report_slot *sl = &st->slots[i];
        out_str(o, i ? ",\n{\"slot\":" : "\n{\"slot\":");
        if (sl->slot > 0)
            out_i64(o, sl->slot);
        else
            OUT_LIT(o, "null");
        OUT_LIT(o, ",\"label\":");
        json_str(o, sl->label);
        OUT_LIT(o, ",\"attempts\":");
        out_i64(o, sl->attempts);
        OUT_LIT(o, ",\"pass\":");
        out_i64(o, sl->pass);
        OUT_LIT(o, ",\"fail\":");
        out_i64(o, sl->fail);
        OUT_LIT(o, ",\"yield\":");
        json_ratio(o, sl->pass, sl->pass + sl->fail);
        out_char(o, '}');
    }
    OUT_LIT(o, "],\n\"hours\":[");
    for (size_t i = 0; i < st->n_hours; i++) {
        const eg_report_bucket *b = &st->hours[i];
        out_str(o, i ? ",\n{\"hour\":" : "\n{\"hour\":");
        json_time_or_null(o, b->start_ms, 1);
        OUT_LIT(o, ",\"attempts\":");
        out_i64(o, b->attempts);
        OUT_LIT(o, ",\"pass\":");
        out_i64(o, b->pass);
        OUT_LIT(o, ",\"fail\":");
        out_i64(o, b->fail);
        OUT_LIT(o, ",\"yield\":");
        json_ratio(o, b->pass, b->pass + b->fail);
        out_char(o, '}');
    }
    OUT_LIT(o, "],\n\"boards_per_hour\":{\"rate\":");
    if (st->boards_per_hour < 0) {
        OUT_LIT(o, "null");
    } else {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%.1f", st->boards_per_hour);
        out_str(o, tmp);
    }
    OUT_LIT(o, ",\"busy_ms\":");
    out_i64(o, st->busy_ms);
    OUT_LIT(o, ",\"peak\":");
    out_i64(o, st->peak_hour_boards);
    OUT_LIT(o, ",\"peak_hour\":");
    json_time_or_null(o, st->peak_hour_ms, st->peak_hour_boards > 0);
    OUT_LIT(o, "},\n\"time_per_board\":{\"boards\":");
    out_i64(o, st->timed);
    const char *keys2[4] = {"min_ms", "median_ms", "p90_ms", "max_ms"};
    int64_t vals[4] = {st->min_ms, st->median_ms, st->p90_ms, st->max_ms};
    for (int i = 0; i < 4; i++) {
        OUT_LIT(o, ",\"");
        out_str(o, keys2[i]);
        OUT_LIT(o, "\":");
        if (st->timed)
            out_i64(o, vals[i]);
        else
            OUT_LIT(o, "null");
    }
    OUT_LIT(o, ",\"bin_ms\":");
    if (st->timed)
        out_i64(o, st->bin_ms);
    else
        OUT_LIT(o, "null");
    OUT_LIT(o, ",\"histogram\":[");
    for (size_t i = 0; i < st->n_bins; i++) {
        out_str(o, i ? ",{\"from_ms\":" : "{\"from_ms\":");
        out_i64(o, st->bins[i].from_ms);
        OUT_LIT(o, ",\"to_ms\":");
        if (st->bins[i].to_ms >= 0)
            out_i64(o, st->bins[i].to_ms);
        else
            OUT_LIT(o, "null");
        OUT_LIT(o, ",\"count\":");
        out_i64(o, st->bins[i].count);
        out_char(o, '}');
    }
    OUT_LIT(o, "]}}");
}

static void json_filter(out *o, const eg_store_filter *f)
{
    OUT_LIT(o, "{\"run\":");
    if (f && f->run_id > 0)
        out_i64(o, f->run_id);
    else
        OUT_LIT(o, "null");
    OUT_LIT(o, ",\"lot\":");
    json_str(o, f ? f->lot : NULL);
    OUT_LIT(o, ",\"since\":");
    if (f && f->has_since) {
        out_char(o, '"');
        out_time(o, f->since_ms);
        out_char(o, '"');
    } else {
        OUT_LIT(o, "null");
    }
    out_char(o, '}');
}

/* Attempts written and counted as they go. */
typedef struct each_ctx {
    out *o;
    eg_report_stats *st; /* NULL: not counted */
    int json;
    int64_t n;
} each_ctx;

static int each_attempt(void *ctx, const eg_store_attempt_rec *r)
{
    each_ctx *c = ctx;
    int rc;
    if (c->st && (rc = eg_report_stats_add(c->st, r)) < 0)
        return rc;
    if (!c->json) {
        c->n++;
        return csv_attempt(c->o, r);
    }
    out_str(c->o, c->n++ ? ",\n" : "\n");
    return json_attempt(c->o, r);
}

static void csv_header(out *o)
{
    OUT_LIT(o, "run,seq,");
    if (o->runs)
        OUT_LIT(o, "station,lot,profile,");
    OUT_LIT(o, "slot,slot_label,port,usb_location,kind,chip,revision,mac,serial_number,result,"
               "failed_step,error,message,started,ended,duration_ms,boot_result,boot_line,"
               "boot_tail,log_path,regions\n");
}

/* Ends a report: keeps the store's or the sink's message when one failed. */
static int finish_out(out *o, int rc)
{
    if (rc < 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", eg_error_msg());
        out_close(o, 1);
        eg_error_set(rc, "%s", msg);
    } else {
        rc = out_close(o, 0);
    }
    free(o);
    return rc;
}

int eg_report_write(eg_report_stats *stats, eg_store *s, const eg_store_filter *f,
                    eg_report_format fmt, eg_report_sink sink, void *ctx)
{
    eg_report_stats own;
    out *o = NULL;
    int rc = 0;

    if (!stats)
        stats = &own;
    memset(stats, 0, sizeof(*stats));
    if (fmt == EG_REPORT_HTML) {
        rc = eg_report_html(stats, s, f, sink, ctx);
        goto done;
    }
    if (fmt != EG_REPORT_CSV && fmt != EG_REPORT_JSON) {
        rc = eg_error_set(EG_EINVAL, "a report of attempts is csv, json or html");
        goto done;
    }
    if (!(o = calloc(1, sizeof(*o)))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    each_ctx c = {o, stats, fmt == EG_REPORT_JSON, 0};
    if ((rc = out_open(o, sink, ctx)) < 0)
        goto out_done;
    if (fmt == EG_REPORT_CSV) {
        csv_header(o);
        if ((rc = eg_store_attempts_each(s, f, EG_STORE_EACH_BRIEF, each_attempt, &c)) < 0 ||
            (rc = eg_report_stats_finish(stats)) < 0)
            goto out_done;
    } else {
        OUT_LIT(o, "{\"filter\":");
        json_filter(o, f);
        OUT_LIT(o, ",\n\"attempts\":[");
        if ((rc = eg_store_attempts_each(s, f, EG_STORE_EACH_BRIEF, each_attempt, &c)) < 0 ||
            (rc = eg_report_stats_finish(stats)) < 0)
            goto out_done;
        OUT_LIT(o, "\n],\n\"summary\":");
        json_summary(o, stats);
        OUT_LIT(o, "}\n");
    }
out_done:
    rc = finish_out(o, rc);
done:
    if (stats == &own)
        eg_report_stats_release(&own);
    return rc;
}

static int buf_str(eg_buf *b, const char *s)
{
    return eg_buf_append(b, s, strlen(s));
}

/* Appends a CSV field (RFC 4180 quoting), then a comma. */
static int buf_csv(eg_buf *b, const char *v)
{
    int rc = 0;
    if (v && strpbrk(v, ",\"\r\n")) {
        rc |= eg_buf_push(b, '"');
        for (const char *p = v; *p; p++) {
            if (*p == '"')
                rc |= eg_buf_push(b, '"');
            rc |= eg_buf_push(b, (uint8_t)*p);
        }
        rc |= eg_buf_push(b, '"');
    } else if (v) {
        rc |= buf_str(b, v);
    }
    return rc | eg_buf_push(b, ',');
}

/* One row of the statistics table; NULL or "" fields are empty; value is text. */
typedef struct srow {
    const char *measure, *step, *cause;
    int slot; /* 0: none */
    const char *label;
    int64_t time_ms;        /* -1: none */
    int64_t from_ms, to_ms; /* -1: none */
} srow;

static int buf_row(eg_buf *b, const srow *r, const char *value)
{
    char num[32], t[40];
    int rc = buf_csv(b, r->measure) | buf_csv(b, r->step) | buf_csv(b, r->cause);
    snprintf(num, sizeof(num), "%d", r->slot);
    rc |= buf_csv(b, r->slot > 0 ? num : NULL) | buf_csv(b, r->label);
    if (r->time_ms >= 0)
        eg_report_format_time(t, sizeof(t), r->time_ms);
    rc |= buf_csv(b, r->time_ms >= 0 ? t : NULL);
    snprintf(num, sizeof(num), "%lld", (long long)r->from_ms);
    rc |= buf_csv(b, r->from_ms >= 0 ? num : NULL);
    snprintf(num, sizeof(num), "%lld", (long long)r->to_ms);
    rc |= buf_csv(b, r->to_ms >= 0 ? num : NULL);
    if (value)
        rc |= buf_str(b, value);
    return rc | eg_buf_push(b, '\n');
}

static int buf_row_i(eg_buf *b, const srow *r, int64_t v)
{
    char num[32];
    snprintf(num, sizeof(num), "%lld", (long long)v);
    return buf_row(b, r, num);
}

static int buf_row_ratio(eg_buf *b, const srow *r, int64_t num, int64_t den)
{
    char tmp[32];
    if (den > 0)
        snprintf(tmp, sizeof(tmp), "%.6g", (double)num / (double)den);
    return buf_row(b, r, den > 0 ? tmp : NULL);
}

int eg_report_summary_csv(eg_buf *b, const eg_report_stats *st)
{
    static const char *const names[] = {"running", "pass", "fail", "canceled", "interrupted"};
    const eg_store_summary *sum = &st->sum;
    int rc = buf_str(b, "measure,step,cause,slot,slot_label,time,from_ms,to_ms,value\n");
    srow r = {.time_ms = -1, .from_ms = -1, .to_ms = -1};

    r.measure = "attempts";
    rc |= buf_row_i(b, &r, sum->attempts);
    for (int i = 0; i <= EG_RESULT_INTERRUPTED; i++) {
        r.measure = names[i];
        rc |= buf_row_i(b, &r, sum->by_result[i]);
    }
    r.measure = "yield";
    rc |= buf_row_ratio(b, &r, sum->by_result[EG_RESULT_PASS],
                        sum->by_result[EG_RESULT_PASS] + sum->by_result[EG_RESULT_FAIL]);
    r.measure = "runs";
    rc |= buf_row_i(b, &r, st->runs);
    for (size_t i = 0; i < sum->n_causes; i++) {
        const eg_store_cause *c = &sum->causes[i];
        srow f = r;
        f.measure = "failure";
        f.step = c->step;
        f.cause = eg_error_name(c->error_code);
        rc |= buf_row_i(b, &f, c->count);
    }
    for (size_t i = 0; i < st->n_steps; i++) {
        srow f = r;
        f.measure = "failed_step";
        f.step = st->steps[i].step;
        rc |= buf_row_i(b, &f, st->steps[i].count);
    }
    for (size_t i = 0; i < st->n_slots; i++) {
        const eg_report_slot *sl = &st->slots[i];
        srow f = r;
        f.slot = sl->slot;
        f.label = sl->label;
        f.measure = "slot_attempts";
        rc |= buf_row_i(b, &f, sl->attempts);
        f.measure = "slot_pass";
        rc |= buf_row_i(b, &f, sl->pass);
        f.measure = "slot_fail";
        rc |= buf_row_i(b, &f, sl->fail);
        f.measure = "slot_yield";
        rc |= buf_row_ratio(b, &f, sl->pass, sl->pass + sl->fail);
    }
    for (size_t i = 0; i < st->n_hours; i++) {
        const eg_report_bucket *h = &st->hours[i];
        srow f = r;
        f.time_ms = h->start_ms;
        f.measure = "hour_attempts";
        rc |= buf_row_i(b, &f, h->attempts);
        f.measure = "hour_pass";
        rc |= buf_row_i(b, &f, h->pass);
        f.measure = "hour_fail";
        rc |= buf_row_i(b, &f, h->fail);
        f.measure = "hour_yield";
        rc |= buf_row_ratio(b, &f, h->pass, h->pass + h->fail);
    }
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "%.1f", st->boards_per_hour);
    r.measure = "boards_per_hour";
    rc |= buf_row(b, &r, st->boards_per_hour >= 0 ? tmp : NULL);
    r.measure = "busy_ms";
    rc |= buf_row_i(b, &r, st->busy_ms);
    if (st->peak_hour_boards > 0) {
        srow f = r;
        f.measure = "peak_hour_boards";
        f.time_ms = st->peak_hour_ms;
        rc |= buf_row_i(b, &f, st->peak_hour_boards);
    }
    r.measure = "time_per_board_boards";
    rc |= buf_row_i(b, &r, st->timed);
    if (st->timed) {
        const char *m[4] = {"time_per_board_min_ms", "time_per_board_median_ms",
                            "time_per_board_p90_ms", "time_per_board_max_ms"};
        int64_t v[4] = {st->min_ms, st->median_ms, st->p90_ms, st->max_ms};
        for (int i = 0; i < 4; i++) {
            r.measure = m[i];
            rc |= buf_row_i(b, &r, v[i]);
        }
    }
    for (size_t i = 0; i < st->n_bins; i++) {
        srow f = r;
        f.measure = "time_per_board_bin";
        f.from_ms = st->bins[i].from_ms;
        f.to_ms = st->bins[i].to_ms;
        rc |= buf_row_i(b, &f, st->bins[i].count);
    }
    return rc < 0 ? eg_error_set(EG_ENOMEM, "out of memory") : 0;
}

int eg_report_summary_text(eg_buf *b, const eg_store_summary *sum)
{
    char line[512];
    double y = eg_report_yield(sum);
    int rc;

    snprintf(line, sizeof(line),
             "%lld attempts: %lld pass, %lld fail, %lld canceled, %lld interrupted, %lld "
             "running\n",
             (long long)sum->attempts, (long long)sum->by_result[EG_RESULT_PASS],
             (long long)sum->by_result[EG_RESULT_FAIL],
             (long long)sum->by_result[EG_RESULT_CANCELED],
             (long long)sum->by_result[EG_RESULT_INTERRUPTED],
             (long long)sum->by_result[EG_RESULT_RUNNING]);
    rc = buf_str(b, line);
    if (y < 0)
        snprintf(line, sizeof(line), "yield: none (no attempt passed or failed)\n");
    else
        snprintf(line, sizeof(line), "yield: %.2f%% (pass / (pass + fail))\n", y * 100);
    rc |= buf_str(b, line);
    if (sum->n_causes)
        rc |= buf_str(b, "failures by cause:\n");
    for (size_t i = 0; i < sum->n_causes; i++) {
        const eg_store_cause *c = &sum->causes[i];
        snprintf(line, sizeof(line), "  %8lld  %s%s%s\n", (long long)c->count, c->step,
                 c->step[0] ? ": " : "", eg_error_name(c->error_code));
        rc |= buf_str(b, line);
    }
    return rc < 0 ? eg_error_set(EG_ENOMEM, "out of memory") : 0;
}

/* Reads exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        *v = *v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return 0;
}

static int parse_duration(int64_t *out, const char *text)
{
    const char *p = text;
    int64_t total = 0;

    while (*p) {
        int64_t n = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9' && n < 100000000)
            n = n * 10 + (*p++ - '0');
        if (p == start || (*p >= '0' && *p <= '9'))
            return -1;
        switch (*p++) {
        case 'd':
            n *= 86400;
            break;
        case 'h':
            n *= 3600;
            break;
        case 'm':
            n *= 60;
            break;
        case 's':
            break;
        default:
            return -1;
        }
        total += n * 1000;
    }
    *out = total;
    return p == text ? -1 : 0;
}

int eg_report_parse_since(int64_t *out, const char *text, int64_t now_ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    int64_t dur;

    *out = 0;
    if (!text || !*text)
        return eg_error_set(EG_EINVAL, "--since: give a date (2026-12-01, 2026-12-01T08:00) or a "
                                       "duration (8h, 30m)");
    if (text[0] >= '0' && text[0] <= '9' && !strchr(text, '-') && !strchr(text, ':')) {
        if (parse_duration(&dur, text) < 0)
            return eg_error_set(EG_EINVAL,
                                "--since '%s' is not a duration (8h, 30m, 2d, 1h30m, 45s) or a "
                                "date (2026-12-01)",
                                text);
        *out = now_ms - dur;
        return 0;
    }
    if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
        digits(&p, 2, &d) < 0)
        goto bad;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
            goto bad;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &sec) < 0)
                goto bad;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) || h > 23 ||
        mi > 59 || sec > 59)
        return eg_error_set(EG_EINVAL, "--since '%s' is not a valid date and time", text);
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (digits(&p, 2, &oh) < 0 || *p++ != ':' || digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
            goto bad;
        secs -= sign * (oh * 3600 + om * 60);
    } else if (*p == '\0') {
        /* Local time: what mktime makes of it (DST decided by the date). */
        struct tm tm = {0};
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            return eg_error_set(EG_EINVAL, "--since '%s' is not a time this machine knows", text);
        secs = (int64_t)t;
    }
    if (*p != '\0')
        goto bad;
    *out = secs * 1000;
    return 0;
bad:
    return eg_error_set(EG_EINVAL,
                        "--since '%s' is not a date (2026-12-01, 2026-12-01T08:00, "
                        "2026-12-01T08:00:00Z) or a duration (8h, 30m)",
                        text);
}

int eg_report_parse_mac(char out[18], const char *text)
{
    char hex[12];
    size_t n = 0;

    out[0] = '\0';
    for (const char *p = text; p && *p; p++) {
        char c = *p;
        /* A separator only between two pairs of digits. */
        if ((c == ':' || c == '-') && n % 2 == 0 && n > 0 && n < 12 && p[-1] != ':' &&
            p[-1] != '-' && p[1])
            continue;
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) || n == 12)
            goto bad;
        hex[n++] = c;
    }
    if (n != 12)
        goto bad;
    for (int i = 0; i < 6; i++) {
        out[i * 3] = hex[i * 2];
        out[i * 3 + 1] = hex[i * 2 + 1];
        out[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
    return 0;
bad:
    return eg_error_set(EG_EINVAL,
                        "'%s' is not a MAC address (24:0a:c4:00:00:01, 24-0A-C4-00-00-01 or "
                        "240ac4000001)",
                        text ? text : "");
}

/* A device's history as text: a line per attempt and one per region beneath it. */
typedef struct text_ctx {
    out *o;
    int64_t n;
} text_ctx;

static int text_attempt(void *ctx, const eg_store_attempt_rec *r)
{
    text_ctx *t = ctx;
    out *o = t->o;
    const eg_store_attempt_start *a = &r->start;
    const eg_store_attempt_end *e = &r->end;

    t->n++;
    out_char(o, '\n');
    out_time(o, a->started_ms);
    OUT_LIT(o, "  run ");
    out_i64(o, a->run_id);
    OUT_LIT(o, " #");
    out_i64(o, a->seq);
    const char *what[3] = {r->station, r->lot, r->profile_name};
    const char *names[3] = {"station ", "lot ", "profile "};
    for (int i = 0; i < 3; i++)
        if (what[i]) {
            OUT_LIT(o, ", ");
            out_str(o, names[i]);
            out_str(o, what[i]);
        }
    OUT_LIT(o, "\n  ");
    if (a->slot > 0) {
        OUT_LIT(o, "slot ");
        out_i64(o, a->slot);
        if (a->slot_label) {
            OUT_LIT(o, " (");
            out_str(o, a->slot_label);
            out_char(o, ')');
        }
        OUT_LIT(o, ", ");
    }
    out_str(o, a->port);
    OUT_LIT(o, ", ");
    out_str(o, a->kind);
    OUT_LIT(o, ": ");
    out_str(o, eg_store_result_name(e->result));
    if (e->failed_step || e->error_code) {
        OUT_LIT(o, ", ");
        if (e->failed_step) {
            out_str(o, e->failed_step);
            OUT_LIT(o, ": ");
        }
        out_str(o, eg_error_name(e->error_code));
    }
    if (e->ended_ms >= 0) {
        OUT_LIT(o, " in ");
        out_i64(o, (e->ended_ms - a->started_ms) / 1000);
        out_char(o, '.');
        out_char(o, (char)('0' + (e->ended_ms - a->started_ms) % 1000 / 100));
        out_char(o, 's');
    }
    out_char(o, '\n');
    if (e->message) {
        OUT_LIT(o, "  message: ");
        for (const char *p = e->message; *p; p++)
            out_char(o, *p == '\n' || *p == '\r' ? ' ' : *p);
        out_char(o, '\n');
    }
    if (e->identified) {
        OUT_LIT(o, "  chip: ");
        out_str(o, e->identity.chip);
        OUT_LIT(o, " ");
        out_revision(o, &e->identity);
        out_char(o, '\n');
    }
    if (e->serial_number) {
        OUT_LIT(o, "  serial number: ");
        out_str(o, e->serial_number);
        out_char(o, '\n');
    }
    if (e->boot_result) {
        OUT_LIT(o, "  boot check: ");
        out_str(o, e->boot_result);
        if (e->boot_line) {
            OUT_LIT(o, " (");
            out_str(o, e->boot_line);
            out_char(o, ')');
        }
        out_char(o, '\n');
    }
    if (e->log_path) {
        OUT_LIT(o, "  log: ");
        out_str(o, e->log_path);
        out_char(o, '\n');
    }
    for (size_t i = 0; i < e->n_regions; i++) {
        const eg_store_region *g = &e->regions[i];
        OUT_LIT(o, "  ");
        out_hex(o, g->offset);
        out_char(o, ' ');
        out_str(o, g->label ? g->label : "-");
        out_char(o, ' ');
        out_str(o, g->outcome);
        OUT_LIT(o, " sha256 ");
        out_str(o, g->sha256);
        OUT_LIT(o, " md5 ");
        out_str(o, g->md5_expected);
        if (g->md5_device[0] && strcmp(g->md5_device, g->md5_expected) == 0) {
            OUT_LIT(o, " (the device's the same)");
        } else if (g->md5_device[0]) {
            OUT_LIT(o, " device: ");
            out_str(o, g->md5_device);
        }
        out_char(o, '\n');
    }
    return o->rc;
}

int eg_report_device(int64_t *n_out, eg_store *s, const char *mac, const eg_store_filter *f,
                     eg_report_format fmt, eg_report_sink sink, void *ctx)
{
    eg_store_filter df = {0};
    eg_store_device dev;
    out *o = NULL;
    int rc = 0;

    *n_out = 0;
    memset(&dev, 0, sizeof(dev));
    if (fmt == EG_REPORT_HTML)
        return eg_error_set(EG_EINVAL, "a device's history is text, csv or json");
    if (f)
        df = *f;
    df.mac = mac;
    if ((rc = eg_store_device_get(&dev, s, mac)) < 0)
        goto done;
    if (!(o = calloc(1, sizeof(*o)))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    o->runs = 1;
    if ((rc = out_open(o, sink, ctx)) < 0)
        goto out_done;
    if (fmt == EG_REPORT_TEXT) {
        text_ctx t = {o, 0};
        OUT_LIT(o, "device ");
        out_str(o, mac);
        if (dev.known) {
            OUT_LIT(o, " (");
            out_str(o, dev.chip ? dev.chip : "?");
            OUT_LIT(o, "), seen ");
            out_time(o, dev.first_seen_ms);
            OUT_LIT(o, " to ");
            out_time(o, dev.last_seen_ms);
        } else {
            OUT_LIT(o, ": never identified in an attempt");
        }
        out_char(o, '\n');
        for (size_t i = 0; i < dev.n_serials; i++) {
            OUT_LIT(o, "serial number ");
            out_str(o, dev.serials[i].serial);
            OUT_LIT(o, " (series ");
            out_str(o, dev.serials[i].series);
            OUT_LIT(o, ", given ");
            out_time(o, dev.serials[i].allocated_ms);
            OUT_LIT(o, ")\n");
        }
        if ((rc = eg_store_attempts_each(s, &df, EG_STORE_EACH_BRIEF | EG_STORE_EACH_RUNS,
                                         text_attempt, &t)) < 0)
            goto out_done;
        *n_out = t.n;
        if (!t.n)
            OUT_LIT(o, "no attempts\n");
    } else {
        each_ctx c = {o, NULL, fmt == EG_REPORT_JSON, 0};
        if (fmt == EG_REPORT_CSV) {
            csv_header(o);
        } else {
            OUT_LIT(o, "{\"device\":{\"mac\":");
            json_str(o, mac);
            OUT_LIT(o, ",\"chip\":");
            json_str(o, dev.chip);
            OUT_LIT(o, ",\"first_seen\":");
            json_time_or_null(o, dev.first_seen_ms, dev.known);
            OUT_LIT(o, ",\"last_seen\":");
            json_time_or_null(o, dev.last_seen_ms, dev.known);
            OUT_LIT(o, ",\"serial_numbers\":[");
            for (size_t i = 0; i < dev.n_serials; i++) {
                out_str(o, i ? ",{\"series\":" : "{\"series\":");
                json_str(o, dev.serials[i].series);
                OUT_LIT(o, ",\"serial\":");
                json_str(o, dev.serials[i].serial);
                OUT_LIT(o, ",\"seq\":");
                out_i64(o, dev.serials[i].seq);
                OUT_LIT(o, ",\"given\":");
                json_time_or_null(o, dev.serials[i].allocated_ms, 1);
                out_char(o, '}');
            }
            OUT_LIT(o, "]},\n\"attempts\":[");
        }
        if ((rc = eg_store_attempts_each(s, &df, EG_STORE_EACH_BRIEF | EG_STORE_EACH_RUNS,
                                         each_attempt, &c)) < 0)
            goto out_done;
        *n_out = c.n;
        if (fmt == EG_REPORT_JSON)
            OUT_LIT(o, "\n]}\n");
    }
out_done:
    rc = finish_out(o, rc);
done:
    eg_store_device_release(&dev);
    return rc;
}
