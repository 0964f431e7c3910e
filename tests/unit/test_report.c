/* Reports from a real store: CSV read back by an RFC 4180 reader and JSON by jansson,
 * every field compared with what was recorded (messages with commas, quotes, line
 * breaks, control bytes and bytes that are not UTF-8), the filters, the summary, the
 * --since parser and local times. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "store_helpers.h"

#include "report/report.h"

#include <jansson.h>

/* The attempts recorded by fill(); run_of[i], seq i. */
#define N_ATTEMPTS 9

static const char *const messages[N_ATTEMPTS] = {
    NULL,
    "port '/dev/ttyUSB1': writing flash at 0x00010000: timed out, \"no answer\"",
    "line one\nline two, with a comma\r\nand \"quotes\" and a \\ backslash",
    NULL,
    "tab\there, bell\a, utf-8 caf\xc3\xa9, bad byte \xff end",
    NULL,
    NULL,
    "connect: no answer to SYNC after 7 attempts",
    NULL,
};

typedef struct fixture {
    tdir dir; /* first: tdir_teardown frees it */
    char path[128];
    int64_t run[3];
    int64_t run_of[N_ATTEMPTS];
} fixture;

static eg_store_result result_of(unsigned i)
{
    static const eg_store_result r[N_ATTEMPTS] = {
        EG_RESULT_PASS,     EG_RESULT_FAIL, EG_RESULT_FAIL, EG_RESULT_PASS,    EG_RESULT_FAIL,
        EG_RESULT_CANCELED, EG_RESULT_PASS, EG_RESULT_FAIL, EG_RESULT_RUNNING,
    };
    return r[i];
}

static const char *step_of(unsigned i)
{
    return i == 7 ? "connect" : i == 4 ? "verify" : "write";
}

static int code_of(unsigned i)
{
    return i == 7 ? EG_ETIMEDOUT : i == 4 ? EG_EMISMATCH : i == 2 ? EG_EIO : EG_ETIMEDOUT;
}

static int64_t started_of(unsigned i)
{
    return 1764576000000 + (int64_t)i * 3600000; /* 2025-12-01T08:00Z + i hours */
}

/* Three runs (lots A, A, B) and N_ATTEMPTS attempts with every kind of result. */
static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    eg_store *s = NULL;
    void *d = NULL;

    if (!fx || tdir_setup(&d) < 0)
        return -1;
    memcpy(&fx->dir, d, sizeof(tdir));
    free(d);
    snprintf(fx->path, sizeof(fx->path), "%s/r.db", fx->dir.path);
    setenv("TZ", "UTC0", 1);
    tzset();
    if (eg_store_open(&s, fx->path) < 0)
        return -1;
    const char *lots[3] = {"A", "A", "B, \"the\" lot"};
    for (int r = 0; r < 3; r++) {
        eg_store_run_info info = fake_run(lots[r], started_of(0));
        if (eg_store_run_begin(&fx->run[r], s, &info) < 0)
            return -1;
    }
    if (eg_store_writer_start(s) < 0)
        return -1;
    for (unsigned i = 0; i < N_ATTEMPTS; i++) {
        int64_t run = fx->run[i < 4 ? 0 : i < 6 ? 1 : 2];
        char port[32];
        fx->run_of[i] = run;
        snprintf(port, sizeof(port), i == 3 ? "rfc2217://host:40%02u" : "/dev/ttyUSB%u", i);
        eg_store_attempt_start a = {run,
                                    i,
                                    (int)i % 4,
                                    port,
                                    i % 2 ? "1-1.2" : NULL,
                                    "SER",
                                    i == 6 ? "verify" : "flash",
                                    started_of(i),
                                    i == 1 ? "left, \"pogo\" <1>" : NULL};
        if (eg_store_attempt_started(s, &a) < 0)
            return -1;
        if (result_of(i) == EG_RESULT_RUNNING)
            continue;
        eg_store_region g[3];
        unsigned nreg = i % 3 + (i == 5 ? 0 : 1);
        for (unsigned k = 0; k < nreg; k++)
            fake_region(&g[k], i, k);
        if (i == 4) {
            g[0].label = "odd:label;with%,\"all\"\n";
            fake_hex(g[0].md5_device, 32, 999);
            g[0].outcome = "failed";
        }
        if (i == 6)
            g[0].md5_device[0] = '\0';
        eg_store_attempt_end e = {0};
        e.run_id = run;
        e.seq = i;
        e.result = result_of(i);
        e.identified = i != 7;
        e.identity.chip = i == 3 ? "ESP32-S3" : "ESP32-C3";
        e.identity.rev_major = i == 3 ? 1 : 0;
        e.identity.rev_minor = i == 3 ? 2 : 4;
        fake_mac(e.identity.mac, 0x100 + i);
        e.failed_step = e.result == EG_RESULT_FAIL ? step_of(i) : NULL;
        e.error_code = e.result == EG_RESULT_FAIL ? code_of(i) : 0;
        e.message = messages[i];
        e.device_status = -1;
        for (int k = 0; k < EG_STORE_STEPS; k++)
            e.step_ms[k] = -1;
        e.ended_ms = started_of(i) + 1000 + i;
        e.regions = g;
        e.n_regions = nreg;
        if (eg_store_attempt_finished(s, &e) < 0)
            return -1;
    }
    if (eg_store_writer_stop(s, fx->run[2], started_of(9)) < 0)
        return -1;
    eg_store_close(s);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tdir *d = malloc(sizeof(*d));
    memcpy(d, &fx->dir, sizeof(*d));
    free(fx);
    void *p = d;
    return tdir_teardown(&p);
}

/* Writes the report of f into out (NUL-terminated). */
static void report(eg_buf *out, fixture *fx, const eg_store_filter *f, eg_report_format fmt,
                   eg_store_summary *sum)
{
    eg_store *s = NULL;
    assert_int_equal(eg_store_open_read(&s, fx->path), 0);
    int rc = eg_report_write(sum, s, f, fmt, eg_report_sink_buf, out);
    if (rc < 0)
        fail_msg("report: %s", eg_error_msg());
    assert_int_equal(eg_buf_push(out, 0), 0);
    out->len--;
    eg_store_close(s);
}

/* An RFC 4180 reader: rows of fields, quotes undone. */
typedef struct csv {
    char *field[64][32];
    int nfield[64];
    int nrow;
} csv;

static void csv_parse(csv *c, const char *p)
{
    memset(c, 0, sizeof(*c));
    eg_buf f = EG_BUF_INIT;
    int row = 0, col = 0;
    while (*p) {
        int quoted = *p == '"';
        eg_buf_clear(&f);
        if (quoted) {
            p++;
            for (;;) {
                assert_true(*p != '\0'); /* an open quote runs to the end */
                if (*p == '"' && p[1] == '"') {
                    eg_buf_push(&f, '"');
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    eg_buf_push(&f, (uint8_t)*p++);
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\n') {
                assert_true(*p != '"' && *p != '\r');
                eg_buf_push(&f, (uint8_t)*p++);
            }
        }
        eg_buf_push(&f, 0);
        assert_true(row < 64 && col < 32);
        c->field[row][col++] = strdup((char *)f.data);
        if (*p == ',') {
            p++;
        } else {
            assert_int_equal(*p, '\n');
            p++;
            c->nfield[row++] = col;
            col = 0;
        }
    }
    assert_int_equal(col, 0); /* the last row ends with a line break */
    c->nrow = row;
    eg_buf_release(&f);
}

static void csv_free(csv *c)
{
    for (int r = 0; r < c->nrow; r++)
        for (int k = 0; k < c->nfield[r]; k++)
            free(c->field[r][k]);
}

static const char *csv_header = "run,seq,slot,port,usb_location,kind,chip,revision,mac,result,"
                                "failed_step,error,message,started,ended,duration_ms,regions";

/* The local time of ms as the report writes it, in UTC (the tests run with TZ=UTC0). */
static void utc_time(char *dst, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(dst, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* The regions column that attempt i must have. */
static void want_regions(char *dst, size_t len, unsigned i)
{
    unsigned nreg = i % 3 + (i == 5 ? 0 : 1), n = 0;
    dst[0] = '\0';
    if (result_of(i) == EG_RESULT_RUNNING)
        return;
    for (unsigned k = 0; k < nreg; k++) {
        eg_store_region g;
        fake_region(&g, i, k);
        const char *label = g.label;
        if (i == 4 && k == 0) {
            label = "odd%3Alabel%3Bwith%25%2C%22all%22%0A";
            fake_hex(g.md5_device, 32, 999);
            g.outcome = "failed";
        }
        if (i == 6 && k == 0)
            g.md5_device[0] = '\0';
        n += (unsigned)snprintf(dst + n, len - n, "%s0x%x:%s:%s:%s:%s:%s", k ? ";" : "", g.offset,
                                label, g.outcome, g.sha256, g.md5_expected, g.md5_device);
    }
}

static void test_csv(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT;
    eg_store_summary sum;
    csv c;
    char want[2048], num[64];

    report(&out, fx, NULL, EG_REPORT_CSV, &sum);
    csv_parse(&c, (const char *)out.data);
    assert_int_equal(c.nrow, N_ATTEMPTS + 1);
    /* The header, as the README documents it. */
    want[0] = '\0';
    for (int k = 0; k < c.nfield[0]; k++) {
        strcat(want, k ? "," : "");
        strcat(want, c.field[0][k]);
    }
    assert_string_equal(want, csv_header);
    for (unsigned i = 0; i < N_ATTEMPTS; i++) {
        char **f = c.field[i + 1];
        eg_store_result r = result_of(i);
        assert_int_equal(c.nfield[i + 1], 17);
        snprintf(num, sizeof(num), "%lld", (long long)fx->run_of[i]);
        assert_string_equal(f[0], num);
        snprintf(num, sizeof(num), "%u", i);
        assert_string_equal(f[1], num);
        if (i % 4)
            snprintf(num, sizeof(num), "%u", i % 4);
        else
            num[0] = '\0';
        assert_string_equal(f[2], num);
        snprintf(want, sizeof(want), i == 3 ? "rfc2217://host:40%02u" : "/dev/ttyUSB%u", i);
        assert_string_equal(f[3], want);
        assert_string_equal(f[4], i % 2 ? "1-1.2" : "");
        assert_string_equal(f[5], i == 6 ? "verify" : "flash");
        int identified = r != EG_RESULT_RUNNING && i != 7;
        assert_string_equal(f[6], !identified ? "" : i == 3 ? "ESP32-S3" : "ESP32-C3");
        assert_string_equal(f[7], !identified ? "" : i == 3 ? "v1.2" : "v0.4");
        fake_mac(want, 0x100 + i);
        assert_string_equal(f[8], identified ? want : "");
        assert_string_equal(f[9], eg_store_result_name(r));
        assert_string_equal(f[10], r == EG_RESULT_FAIL ? step_of(i) : "");
        assert_string_equal(f[11], r == EG_RESULT_FAIL ? eg_error_name(code_of(i)) : "");
        assert_string_equal(f[12], messages[i] ? messages[i] : "");
        utc_time(want, started_of(i));
        assert_string_equal(f[13], want);
        if (r == EG_RESULT_RUNNING) {
            assert_string_equal(f[14], "");
            assert_string_equal(f[15], "");
        } else {
            utc_time(want, started_of(i) + 1000 + i);
            assert_string_equal(f[14], want);
            snprintf(num, sizeof(num), "%u", 1000 + i);
            assert_string_equal(f[15], num);
        }
        want_regions(want, sizeof(want), i);
        assert_string_equal(f[16], want);
    }
    /* The summary came with it. */
    assert_int_equal(sum.attempts, N_ATTEMPTS);
    assert_int_equal(sum.by_result[EG_RESULT_PASS], 3);
    assert_int_equal(sum.by_result[EG_RESULT_FAIL], 4);
    assert_int_equal(sum.by_result[EG_RESULT_CANCELED], 1);
    assert_int_equal(sum.by_result[EG_RESULT_RUNNING], 1);
    assert_int_equal(sum.n_causes, 4);
    eg_store_summary_release(&sum);
    csv_free(&c);
    eg_buf_release(&out);
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        fail_msg("no key '%s'", key);
    return json_is_null(v) ? NULL : json_string_value(v);
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got ? got : "(null)", want);
}

static void test_json(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT;
    json_error_t err;
    char want[512];

    report(&out, fx, NULL, EG_REPORT_JSON, NULL);
    json_t *doc = json_loadb((const char *)out.data, out.len, 0, &err);
    if (!doc)
        fail_msg("not JSON: %s at line %d", err.text, err.line);
    assert_int_equal(json_object_size(doc), 3);
    json_t *filter = json_object_get(doc, "filter");
    assert_true(json_is_null(json_object_get(filter, "run")) &&
                json_is_null(json_object_get(filter, "lot")) &&
                json_is_null(json_object_get(filter, "since")));

    json_t *sum = json_object_get(doc, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "attempts")), N_ATTEMPTS);
    assert_int_equal(json_integer_value(json_object_get(sum, "pass")), 3);
    assert_int_equal(json_integer_value(json_object_get(sum, "fail")), 4);
    assert_int_equal(json_integer_value(json_object_get(sum, "canceled")), 1);
    assert_int_equal(json_integer_value(json_object_get(sum, "interrupted")), 0);
    assert_int_equal(json_integer_value(json_object_get(sum, "running")), 1);
    assert_float_equal(json_number_value(json_object_get(sum, "yield")), 3.0 / 7.0, 1e-6);
    json_t *causes = json_object_get(sum, "failures_by_cause");
    assert_int_equal(json_array_size(causes), 4);
    /* One each: sorted by step then code when the counts tie. */
    const char *want_causes[4] = {"connect: timed out", "verify: mismatch", "write: i/o error",
                                  "write: timed out"};
    for (size_t k = 0; k < 4; k++) {
        json_t *c = json_array_get(causes, k);
        assert_string_equal(jstr(c, "cause"), want_causes[k]);
        assert_int_equal(json_integer_value(json_object_get(c, "count")), 1);
        assert_true(strncmp(want_causes[k], jstr(c, "step"), strlen(jstr(c, "step"))) == 0);
    }

    json_t *atts = json_object_get(doc, "attempts");
    assert_int_equal(json_array_size(atts), N_ATTEMPTS);
    for (unsigned i = 0; i < N_ATTEMPTS; i++) {
        json_t *a = json_array_get(atts, i);
        eg_store_result r = result_of(i);
        int identified = r != EG_RESULT_RUNNING && i != 7;
        assert_int_equal(json_object_size(a), 17);
        assert_int_equal(json_integer_value(json_object_get(a, "run")), fx->run_of[i]);
        assert_int_equal(json_integer_value(json_object_get(a, "seq")), i);
        if (i % 4)
            assert_int_equal(json_integer_value(json_object_get(a, "slot")), i % 4);
        else
            assert_true(json_is_null(json_object_get(a, "slot")));
        snprintf(want, sizeof(want), i == 3 ? "rfc2217://host:40%02u" : "/dev/ttyUSB%u", i);
        assert_string_equal(jstr(a, "port"), want);
        assert_str_or_null(jstr(a, "usb_location"), i % 2 ? "1-1.2" : NULL);
        assert_string_equal(jstr(a, "kind"), i == 6 ? "verify" : "flash");
        assert_str_or_null(jstr(a, "chip"), !identified ? NULL : i == 3 ? "ESP32-S3" : "ESP32-C3");
        assert_str_or_null(jstr(a, "revision"), !identified ? NULL : i == 3 ? "v1.2" : "v0.4");
        fake_mac(want, 0x100 + i);
        assert_str_or_null(jstr(a, "mac"), identified ? want : NULL);
        assert_string_equal(jstr(a, "result"), eg_store_result_name(r));
        assert_str_or_null(jstr(a, "failed_step"), r == EG_RESULT_FAIL ? step_of(i) : NULL);
        assert_str_or_null(jstr(a, "error"),
                           r == EG_RESULT_FAIL ? eg_error_name(code_of(i)) : NULL);
        if (i == 4) /* the control byte escaped, the byte that is not UTF-8 replaced */
            assert_string_equal(jstr(a, "message"), "tab\there, bell\a, utf-8 caf\xc3\xa9, bad "
                                                    "byte \xef\xbf\xbd end");
        else
            assert_str_or_null(jstr(a, "message"), messages[i]);
        utc_time(want, started_of(i));
        assert_string_equal(jstr(a, "started"), want);
        json_t *regs = json_object_get(a, "regions");
        if (r == EG_RESULT_RUNNING) {
            assert_null(jstr(a, "ended"));
            assert_true(json_is_null(json_object_get(a, "duration_ms")));
            assert_int_equal(json_array_size(regs), 0);
            continue;
        }
        utc_time(want, started_of(i) + 1000 + i);
        assert_string_equal(jstr(a, "ended"), want);
        assert_int_equal(json_integer_value(json_object_get(a, "duration_ms")), 1000 + i);
        unsigned nreg = i % 3 + (i == 5 ? 0 : 1);
        assert_int_equal(json_array_size(regs), nreg);
        for (unsigned k = 0; k < nreg; k++) {
            json_t *g = json_array_get(regs, k);
            eg_store_region w;
            fake_region(&w, i, k);
            if (i == 4 && k == 0) {
                w.label = "odd:label;with%,\"all\"\n";
                fake_hex(w.md5_device, 32, 999);
                w.outcome = "failed";
            }
            assert_int_equal(json_object_size(g), 7);
            assert_int_equal(json_integer_value(json_object_get(g, "offset")), w.offset);
            assert_int_equal(json_integer_value(json_object_get(g, "size")), w.size);
            assert_string_equal(jstr(g, "label"), w.label);
            assert_string_equal(jstr(g, "sha256"), w.sha256);
            assert_string_equal(jstr(g, "md5_expected"), w.md5_expected);
            assert_str_or_null(jstr(g, "md5_device"), i == 6 && k == 0 ? NULL : w.md5_device);
            assert_string_equal(jstr(g, "outcome"), w.outcome);
        }
    }
    json_decref(doc);
    eg_buf_release(&out);
}

/* The seqs a report holds, in order (JSON). */
static int report_seqs(unsigned *seqs, fixture *fx, const eg_store_filter *f, json_t **filter)
{
    eg_buf out = EG_BUF_INIT;
    json_error_t err;
    report(&out, fx, f, EG_REPORT_JSON, NULL);
    json_t *doc = json_loadb((const char *)out.data, out.len, 0, &err);
    assert_non_null(doc);
    json_t *atts = json_object_get(doc, "attempts");
    int n = (int)json_array_size(atts);
    for (int i = 0; i < n; i++)
        seqs[i] =
            (unsigned)json_integer_value(json_object_get(json_array_get(atts, (size_t)i), "seq"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(doc, "summary"), "attempts")), n);
    *filter = json_incref(json_object_get(doc, "filter"));
    json_decref(doc);
    eg_buf_release(&out);
    return n;
}

static void test_filters(void **state)
{
    fixture *fx = *state;
    unsigned seqs[N_ATTEMPTS];
    json_t *filter;
    eg_store_filter f = {0};
    int64_t since;

    f.run_id = fx->run[1];
    assert_int_equal(report_seqs(seqs, fx, &f, &filter), 2);
    assert_true(seqs[0] == 4 && seqs[1] == 5);
    assert_int_equal(json_integer_value(json_object_get(filter, "run")), fx->run[1]);
    json_decref(filter);

    f = (eg_store_filter){.lot = "A"};
    assert_int_equal(report_seqs(seqs, fx, &f, &filter), 6);
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(seqs[i], i);
    assert_string_equal(json_string_value(json_object_get(filter, "lot")), "A");
    json_decref(filter);

    f = (eg_store_filter){.lot = "B, \"the\" lot"};
    assert_int_equal(report_seqs(seqs, fx, &f, &filter), 3);
    assert_string_equal(json_string_value(json_object_get(filter, "lot")), "B, \"the\" lot");
    json_decref(filter);

    /* --since 2025-12-01T13:00 (UTC here): attempts 5 to 8. */
    assert_int_equal(eg_report_parse_since(&since, "2025-12-01T13:00", 0), 0);
    f = (eg_store_filter){.has_since = 1, .since_ms = since};
    assert_int_equal(report_seqs(seqs, fx, &f, &filter), 4);
    assert_int_equal(seqs[0], 5);
    assert_string_equal(json_string_value(json_object_get(filter, "since")),
                        "2025-12-01T13:00:00.000+00:00");
    json_decref(filter);

    /* --since 3h before attempt 8 started: 5 (exactly 3 h), 6, 7, 8. */
    assert_int_equal(eg_report_parse_since(&since, "3h", started_of(8)), 0);
    f = (eg_store_filter){.has_since = 1, .since_ms = since, .lot = "A"};
    assert_int_equal(report_seqs(seqs, fx, &f, &filter), 1);
    assert_int_equal(seqs[0], 5);
    json_decref(filter);

    /* CSV with the same filter. */
    eg_buf out = EG_BUF_INIT;
    csv c;
    f = (eg_store_filter){.run_id = fx->run[2]};
    report(&out, fx, &f, EG_REPORT_CSV, NULL);
    csv_parse(&c, (const char *)out.data);
    assert_int_equal(c.nrow, 4);
    assert_string_equal(c.field[1][1], "6");
    assert_string_equal(c.field[3][1], "8");
    csv_free(&c);
    eg_buf_release(&out);

    /* Nothing chosen: a header alone, an empty list with a summary of zeros. */
    f = (eg_store_filter){.run_id = 9999};
    report(&out, fx, &f, EG_REPORT_CSV, NULL);
    assert_string_equal((const char *)out.data, "run,seq,slot,port,usb_location,kind,chip,revision,"
                                                "mac,result,failed_step,error,message,started,"
                                                "ended,duration_ms,regions\n");
    eg_buf_clear(&out);
    report(&out, fx, &f, EG_REPORT_JSON, NULL);
    json_t *doc = json_loads((const char *)out.data, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "attempts")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(doc, "summary"), "yield")));
    json_decref(doc);
    eg_buf_release(&out);
}

static void test_summary_outputs(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT, text = EG_BUF_INIT;
    eg_store_summary sum;

    report(&out, fx, NULL, EG_REPORT_CSV, &sum);
    assert_int_equal(eg_report_summary_csv(&text, &sum), 0);
    eg_buf_push(&text, 0);
    assert_string_equal((const char *)text.data, "measure,step,cause,value\n"
                                                 "attempts,,,9\n"
                                                 "running,,,1\n"
                                                 "pass,,,3\n"
                                                 "fail,,,4\n"
                                                 "canceled,,,1\n"
                                                 "interrupted,,,0\n"
                                                 "yield,,,0.428571\n"
                                                 "failure,connect,timed out,1\n"
                                                 "failure,verify,mismatch,1\n"
                                                 "failure,write,i/o error,1\n"
                                                 "failure,write,timed out,1\n");
    eg_buf_clear(&text);
    assert_int_equal(eg_report_summary_text(&text, &sum), 0);
    eg_buf_push(&text, 0);
    assert_non_null(strstr((const char *)text.data, "9 attempts: 3 pass, 4 fail, 1 canceled, 0 "
                                                    "interrupted, 1 running\n"
                                                    "yield: 42.86%"));
    assert_non_null(strstr((const char *)text.data, "       1  write: i/o error\n"));
    eg_store_summary_release(&sum);
    assert_true(eg_report_yield(&sum) < 0);
    eg_buf_release(&text);
    eg_buf_release(&out);
}

static int failing_sink(void *ctx, const void *data, size_t len)
{
    int *calls = ctx;
    (void)data;
    (void)len;
    ++*calls;
    return eg_error_set(EG_EIO, "cannot write 'x': no space left on device");
}

static void test_sink_error(void **state)
{
    fixture *fx = *state;
    eg_store *s = NULL;
    int calls = 0;

    assert_int_equal(eg_store_open_read(&s, fx->path), 0);
    assert_int_equal(eg_report_write(NULL, s, NULL, EG_REPORT_JSON, failing_sink, &calls), EG_EIO);
    assert_string_equal(eg_error_msg(), "cannot write 'x': no space left on device");
    assert_int_equal(calls, 1);
    eg_store_close(s);
}

/* Fails on its third call, counting the bytes it took before. */
typedef struct counting_sink {
    int calls;
    size_t bytes;
    eg_buf copy;
} counting_sink;

static int fail_third(void *ctx, const void *data, size_t len)
{
    counting_sink *c = ctx;
    if (++c->calls == 3)
        return eg_error_set(EG_EIO, "cannot write 'big.json': no space left on device");
    c->bytes += len;
    return eg_buf_append(&c->copy, data, len);
}

/* A report of megabytes goes to the sink in many pieces, in order, from its writer
 * thread; a sink that fails stops it with the sink's error and is not called again. */
static void test_big_report_and_failing_sink(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "big.db");
    eg_store *s = NULL;
    int64_t run;
    eg_buf whole = EG_BUF_INIT;

    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("BIG", 1764576000000);
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    assert_int_equal(eg_store_writer_start(s), 0);
    for (unsigned i = 0; i < 4000; i++) {
        eg_store_attempt_start a = {
            run, i, 1, "/dev/ttyUSB0", NULL, NULL, "flash", 1764576000000 + i, NULL};
        eg_store_region g[3];
        for (unsigned k = 0; k < 3; k++)
            fake_region(&g[k], i, k);
        eg_store_attempt_end e = {.run_id = run,
                                  .seq = i,
                                  .result = EG_RESULT_PASS,
                                  .device_status = -1,
                                  .ended_ms = 1764576001000 + i,
                                  .regions = g,
                                  .n_regions = 3};
        assert_int_equal(eg_store_attempt_started(s, &a), 0);
        assert_int_equal(eg_store_attempt_finished(s, &e), 0);
    }
    assert_int_equal(eg_store_writer_stop(s, run, 1764579000000), 0);

    assert_int_equal(eg_report_write(NULL, s, NULL, EG_REPORT_JSON, eg_report_sink_buf, &whole), 0);
    assert_true(whole.len > 4 * 512 * 1024);
    json_t *doc = json_loadb((const char *)whole.data, whole.len, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "attempts")), 4000);
    json_decref(doc);

    counting_sink c = {0, 0, EG_BUF_INIT};
    assert_int_equal(eg_report_write(NULL, s, NULL, EG_REPORT_JSON, fail_third, &c), EG_EIO);
    assert_string_equal(eg_error_msg(), "cannot write 'big.json': no space left on device");
    assert_int_equal(c.calls, 3);
    /* What it took before is the report's beginning, byte for byte. */
    assert_true(c.bytes > 0 && c.bytes < whole.len);
    assert_memory_equal(c.copy.data, whole.data, c.bytes);
    eg_buf_release(&c.copy);
    eg_buf_release(&whole);
    eg_store_close(s);
}

static void since_ok(const char *text, int64_t now, int64_t want)
{
    int64_t v = -1;
    if (eg_report_parse_since(&v, text, now) != 0)
        fail_msg("'%s' refused: %s", text, eg_error_msg());
    if (v != want)
        fail_msg("'%s': %lld, want %lld", text, (long long)v, (long long)want);
}

static void since_bad(const char *text)
{
    int64_t v = 5;
    assert_int_equal(eg_report_parse_since(&v, text, 1000000), EG_EINVAL);
    assert_int_equal(v, 0);
    if (text && *text && !strstr(eg_error_msg(), text))
        fail_msg("'%s': message '%s' does not name it", text, eg_error_msg());
}

static void test_since(void **state)
{
    int64_t now = 1764576000000; /* 2025-12-01T08:00:00Z */
    (void)state;
    setenv("TZ", "UTC0", 1);
    tzset();
    since_ok("2025-12-01", now, 1764547200000);
    since_ok("2025-12-01T08:00", now, now);
    since_ok("2025-12-01 08:00:30", now, now + 30000);
    since_ok("2025-12-01t08:00Z", now, now);
    since_ok("2025-12-01T09:30+01:30", now, now);
    since_ok("2025-12-01T06:00-02:00", now, now);
    since_ok("2024-02-29", now, 1709164800000);
    since_ok("8h", now, now - 8 * 3600000);
    since_ok("30m", now, now - 30 * 60000);
    since_ok("45s", now, now - 45000);
    since_ok("2d", now, now - 2 * 86400000);
    since_ok("1h30m", now, now - 90 * 60000);
    since_ok("0s", now, now);
    /* Local time follows TZ, with its summer time. */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    since_ok("2025-12-01T09:00", now, now);
    since_ok("2025-07-01T10:00", now, 1751356800000);
    since_ok("2025-07-01T08:00Z", now, 1751356800000);
    setenv("TZ", "UTC0", 1);
    tzset();

    since_bad(NULL);
    since_bad("");
    since_bad("8");
    since_bad("8x");
    since_bad("h");
    since_bad("-8h");
    since_bad("8h ");
    since_bad("yesterday");
    since_bad("2025-13-01");
    since_bad("2025-02-29");
    since_bad("2025-04-31");
    since_bad("2025-12-01T24:00");
    since_bad("2025-12-01T08:60");
    since_bad("2025-12-01T08");
    since_bad("2025-12-1");
    since_bad("25-12-01");
    since_bad("2025-12-01T08:00+1");
    since_bad("2025-12-01T08:00:00.5");
    since_bad("2025-12-01junk");
}

static void test_times(void **state)
{
    char t[40];
    (void)state;
    setenv("TZ", "UTC0", 1);
    tzset();
    eg_report_format_time(t, sizeof(t), 1764576000123);
    assert_string_equal(t, "2025-12-01T08:00:00.123+00:00");
    eg_report_format_time(t, sizeof(t), 0);
    assert_string_equal(t, "1970-01-01T00:00:00.000+00:00");
    eg_report_format_time(t, sizeof(t), 951782400999); /* 2000-02-29, a leap day */
    assert_string_equal(t, "2000-02-29T00:00:00.999+00:00");
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    eg_report_format_time(t, sizeof(t), 1764576000123);
    assert_string_equal(t, "2025-12-01T09:00:00.123+01:00");
    eg_report_format_time(t, sizeof(t), 1751356800000);
    assert_string_equal(t, "2025-07-01T10:00:00.000+02:00");
    setenv("TZ", "NST+3:30", 1); /* half-hour offsets west of UTC */
    tzset();
    eg_report_format_time(t, sizeof(t), 1764576000000);
    assert_string_equal(t, "2025-12-01T04:30:00.000-03:30");
    setenv("TZ", "UTC0", 1);
    tzset();
}

static void test_format_parse(void **state)
{
    eg_report_format f;
    (void)state;
    assert_int_equal(eg_report_format_parse(&f, "csv"), 0);
    assert_int_equal(f, EG_REPORT_CSV);
    assert_int_equal(eg_report_format_parse(&f, "json"), 0);
    assert_int_equal(f, EG_REPORT_JSON);
    assert_int_equal(eg_report_format_parse(&f, "JSON"), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "report format 'JSON' is not csv or json");
    assert_int_equal(eg_report_format_parse(&f, "xml"), EG_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_report_and_failing_sink, tdir_setup,
                                        tdir_teardown),
        cmocka_unit_test(test_since),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_format_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
