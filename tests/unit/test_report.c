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
        char serial[32], log[64];
        snprintf(serial, sizeof(serial), "SN-%03u", i);
        snprintf(log, sizeof(log), "logs/%lld/%u <a>.log", (long long)run, i);
        e.serial_number = e.identified ? serial : NULL;
        e.log_path = i % 2 ? log : NULL;
        e.boot_result = i == 0 || i == 3 ? "pass" : NULL;
        e.boot_line = i == 0 || i == 3 ? "I (312) app: ready, \"ok\"" : NULL;
        e.boot_tail = i == 3 ? "rst:0x1\nI (312) app: ready, \"ok\"\n" : NULL;
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
                   eg_report_stats *st)
{
    eg_store *s = NULL;
    assert_int_equal(eg_store_open_read(&s, fx->path), 0);
    int rc = eg_report_write(st, s, f, fmt, eg_report_sink_buf, out);
    if (rc < 0)
        fail_msg("report: %s", eg_error_msg());
    assert_int_equal(eg_buf_push(out, 0), 0);
    out->len--;
    eg_store_close(s);
}

/* An RFC 4180 reader: rows of fields, quotes undone. */
typedef struct csv {
    char *field[128][32];
    int nfield[128];
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
        assert_true(row < 128 && col < 32);
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

static const char *csv_header =
    "run,seq,slot,slot_label,port,usb_location,kind,chip,revision,mac,serial_number,result,"
    "failed_step,error,message,started,ended,duration_ms,boot_result,boot_line,boot_tail,log_path,"
    "regions";

/* The index of the column named name in the header row (fails when absent). */
static int col(const csv *c, const char *name)
{
    for (int k = 0; k < c->nfield[0]; k++)
        if (strcmp(c->field[0][k], name) == 0)
            return k;
    fail_msg("no column '%s'", name);
    return -1;
}

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
    eg_report_stats st;
    csv c;
    char want[2048], num[64];

    report(&out, fx, NULL, EG_REPORT_CSV, &st);
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
        assert_int_equal(c.nfield[i + 1], 23);
        snprintf(num, sizeof(num), "%lld", (long long)fx->run_of[i]);
        assert_string_equal(f[col(&c, "run")], num);
        snprintf(num, sizeof(num), "%u", i);
        assert_string_equal(f[col(&c, "seq")], num);
        if (i % 4)
            snprintf(num, sizeof(num), "%u", i % 4);
        else
            num[0] = '\0';
        assert_string_equal(f[col(&c, "slot")], num);
        assert_string_equal(f[col(&c, "slot_label")], i == 1 ? "left, \"pogo\" <1>" : "");
        snprintf(want, sizeof(want), i == 3 ? "rfc2217://host:40%02u" : "/dev/ttyUSB%u", i);
        assert_string_equal(f[col(&c, "port")], want);
        assert_string_equal(f[col(&c, "usb_location")], i % 2 ? "1-1.2" : "");
        assert_string_equal(f[col(&c, "kind")], i == 6 ? "verify" : "flash");
        int identified = r != EG_RESULT_RUNNING && i != 7;
        assert_string_equal(f[col(&c, "chip")], !identified ? ""
                                                : i == 3    ? "ESP32-S3"
                                                            : "ESP32-C3");
        assert_string_equal(f[col(&c, "revision")], !identified ? "" : i == 3 ? "v1.2" : "v0.4");
        fake_mac(want, 0x100 + i);
        assert_string_equal(f[col(&c, "mac")], identified ? want : "");
        snprintf(want, sizeof(want), "SN-%03u", i);
        assert_string_equal(f[col(&c, "serial_number")], identified ? want : "");
        assert_string_equal(f[col(&c, "result")], eg_store_result_name(r));
        assert_string_equal(f[col(&c, "failed_step")], r == EG_RESULT_FAIL ? step_of(i) : "");
        assert_string_equal(f[col(&c, "error")],
                            r == EG_RESULT_FAIL ? eg_error_name(code_of(i)) : "");
        assert_string_equal(f[col(&c, "message")], messages[i] ? messages[i] : "");
        utc_time(want, started_of(i));
        assert_string_equal(f[col(&c, "started")], want);
        if (r == EG_RESULT_RUNNING) {
            assert_string_equal(f[col(&c, "ended")], "");
            assert_string_equal(f[col(&c, "duration_ms")], "");
        } else {
            utc_time(want, started_of(i) + 1000 + i);
            assert_string_equal(f[col(&c, "ended")], want);
            snprintf(num, sizeof(num), "%u", 1000 + i);
            assert_string_equal(f[col(&c, "duration_ms")], num);
        }
        int boot = i == 0 || i == 3;
        assert_string_equal(f[col(&c, "boot_result")], boot ? "pass" : "");
        assert_string_equal(f[col(&c, "boot_line")], boot ? "I (312) app: ready, \"ok\"" : "");
        assert_string_equal(f[col(&c, "boot_tail")],
                            i == 3 ? "rst:0x1\nI (312) app: ready, \"ok\"\n" : "");
        snprintf(want, sizeof(want), "logs/%lld/%u <a>.log", (long long)fx->run_of[i], i);
        assert_string_equal(f[col(&c, "log_path")], i % 2 && r != EG_RESULT_RUNNING ? want : "");
        want_regions(want, sizeof(want), i);
        assert_string_equal(f[col(&c, "regions")], want);
    }
    /* The summary came with it. */
    assert_int_equal(st.sum.attempts, N_ATTEMPTS);
    assert_int_equal(st.sum.by_result[EG_RESULT_PASS], 3);
    assert_int_equal(st.sum.by_result[EG_RESULT_FAIL], 4);
    assert_int_equal(st.sum.by_result[EG_RESULT_CANCELED], 1);
    assert_int_equal(st.sum.by_result[EG_RESULT_RUNNING], 1);
    assert_int_equal(st.sum.n_causes, 4);
    eg_report_stats_release(&st);
    eg_report_stats_release(NULL);
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
        assert_int_equal(json_object_size(a), 23);
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
        snprintf(want, sizeof(want), "SN-%03u", i);
        assert_str_or_null(jstr(a, "serial_number"), identified ? want : NULL);
        assert_str_or_null(jstr(a, "slot_label"), i == 1 ? "left, \"pogo\" <1>" : NULL);
        int boot = i == 0 || i == 3;
        assert_str_or_null(jstr(a, "boot_result"), boot ? "pass" : NULL);
        assert_str_or_null(jstr(a, "boot_line"), boot ? "I (312) app: ready, \"ok\"" : NULL);
        assert_str_or_null(jstr(a, "boot_tail"),
                           i == 3 ? "rst:0x1\nI (312) app: ready, \"ok\"\n" : NULL);
        snprintf(want, sizeof(want), "logs/%lld/%u <a>.log", (long long)fx->run_of[i], i);
        assert_str_or_null(jstr(a, "log_path"), i % 2 && r != EG_RESULT_RUNNING ? want : NULL);
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
    assert_string_equal((const char *)out.data, "run,seq,slot,slot_label,port,usb_location,kind,"
                                                "chip,revision,mac,serial_number,result,"
                                                "failed_step,error,message,started,ended,"
                                                "duration_ms,boot_result,boot_line,boot_tail,"
                                                "log_path,regions\n");
    eg_buf_clear(&out);
    report(&out, fx, &f, EG_REPORT_JSON, NULL);
    json_t *doc = json_loads((const char *)out.data, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "attempts")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(doc, "summary"), "yield")));
    json_decref(doc);
    eg_buf_release(&out);
}

static void assert_has(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("'%s' lacks '%s'", text, part);
}

static void test_summary_outputs(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT, text = EG_BUF_INIT;
    eg_report_stats st;

    report(&out, fx, NULL, EG_REPORT_CSV, &st);
    assert_int_equal(eg_report_summary_csv(&text, &st), 0);
    eg_buf_push(&text, 0);
    const char *t = (const char *)text.data;
    /* One table: a measure per row, the same columns in every row. */
    csv c;
    csv_parse(&c, t);
    assert_int_equal(c.nrow, 77);
    for (int r = 0; r < c.nrow; r++)
        assert_int_equal(c.nfield[r], 9);
    csv_free(&c);
    assert_has(t, "measure,step,cause,slot,slot_label,time,from_ms,to_ms,value\n"
                  "attempts,,,,,,,,9\nrunning,,,,,,,,1\npass,,,,,,,,3\nfail,,,,,,,,4\n"
                  "canceled,,,,,,,,1\ninterrupted,,,,,,,,0\nyield,,,,,,,,0.428571\n"
                  "runs,,,,,,,,3\n");
    assert_has(t, "failure,connect,timed out,,,,,,1\nfailure,verify,mismatch,,,,,,1\n"
                  "failure,write,i/o error,,,,,,1\nfailure,write,timed out,,,,,,1\n");
    /* Steps: most first, then in the order they run. */
    assert_has(t, "failed_step,write,,,,,,,2\nfailed_step,connect,,,,,,,1\n"
                  "failed_step,verify,,,,,,,1\n");
    /* Slot 0 is "no slot"; slot 1's label quoted as CSV does. */
    assert_has(t, "slot_attempts,,,,,,,,3\nslot_pass,,,,,,,,1\nslot_fail,,,,,,,,1\n"
                  "slot_yield,,,,,,,,0.5\n");
    assert_has(t, "slot_attempts,,,1,\"left, \"\"pogo\"\" <1>\",,,,2\n");
    assert_has(t, "slot_yield,,,1,\"left, \"\"pogo\"\" <1>\",,,,0\n");
    assert_has(t, "slot_yield,,,2,,,,,0.5\n");
    /* An hour each. */
    assert_has(t, "hour_attempts,,,,,2025-12-01T08:00:00.000+00:00,,,1\n"
                  "hour_pass,,,,,2025-12-01T08:00:00.000+00:00,,,1\n"
                  "hour_fail,,,,,2025-12-01T08:00:00.000+00:00,,,0\n"
                  "hour_yield,,,,,2025-12-01T08:00:00.000+00:00,,,1\n");
    assert_has(t, "hour_yield,,,,,2025-12-01T13:00:00.000+00:00,,,\n"); /* canceled */
    /* Boards of 1.000 to 1.007 s, an hour apart: 7 boards in 8.028 s of work. */
    assert_has(t, "boards_per_hour,,,,,,,,3139.0\nbusy_ms,,,,,,,,8028\n"
                  "peak_hour_boards,,,,,2025-12-01T08:00:00.000+00:00,,,1\n"
                  "time_per_board_boards,,,,,,,,7\ntime_per_board_min_ms,,,,,,,,1000\n"
                  "time_per_board_median_ms,,,,,,,,1000\ntime_per_board_p90_ms,,,,,,,,1000\n"
                  "time_per_board_max_ms,,,,,,,,1000\n"
                  "time_per_board_bin,,,,,,1000,1010,7\n");
    eg_buf_clear(&text);
    assert_int_equal(eg_report_summary_text(&text, &st.sum), 0);
    eg_buf_push(&text, 0);
    assert_non_null(strstr((const char *)text.data, "9 attempts: 3 pass, 4 fail, 1 canceled, 0 "
                                                    "interrupted, 1 running\n"
                                                    "yield: 42.86%"));
    assert_non_null(strstr((const char *)text.data, "       1  write: i/o error\n"));
    eg_report_stats_release(&st);
    assert_true(eg_report_yield(&st.sum) < 0);
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
    assert_int_equal(eg_report_format_parse(&f, "html"), 0);
    assert_int_equal(f, EG_REPORT_HTML);
    assert_int_equal(eg_report_format_parse(&f, "text"), 0);
    assert_int_equal(f, EG_REPORT_TEXT);
    assert_int_equal(eg_report_format_parse(&f, "JSON"), EG_EINVAL);
    assert_string_equal(eg_error_msg(), "report format 'JSON' is not csv, json, html or text");
    assert_int_equal(eg_report_format_parse(&f, "xml"), EG_EINVAL);
    assert_int_equal(eg_report_format_parse(&f, NULL), EG_EINVAL);
}

static void test_parse_mac(void **state)
{
    char mac[18];
    (void)state;
    const char *good[] = {"24:0a:c4:00:00:01", "24:0A:C4:00:00:01", "24-0a-c4-00-00-01",
                          "240AC4000001"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(eg_report_parse_mac(mac, good[i]), 0);
        assert_string_equal(mac, "24:0a:c4:00:00:01");
    }
    const char *bad[] = {"",
                         "24:0a:c4:00:00",
                         "24:0a:c4:00:00:01:02",
                         "24:0a:c4:00:00:0g",
                         ":240ac4000001",
                         "240ac4000001:",
                         "24::0a:c4:00:00:01",
                         "24 0a c4 00 00 01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(eg_report_parse_mac(mac, bad[i]), EG_EINVAL);
        assert_string_equal(mac, "");
        assert_non_null(strstr(eg_error_msg(), "is not a MAC address"));
    }
    assert_int_equal(eg_report_parse_mac(mac, NULL), EG_EINVAL);
}

/* The statistics in JSON's summary, which comes after the attempts it counts. */
static void test_json_statistics(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT;

    report(&out, fx, NULL, EG_REPORT_JSON, NULL);
    const char *t = (const char *)out.data;
    assert_true(strstr(t, "\"attempts\":[") < strstr(t, "\"summary\":"));
    json_t *doc = json_loads(t, 0, NULL);
    assert_non_null(doc);
    json_t *sum = json_object_get(doc, "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "runs")), 3);
    /* From the first start to the last end, or start (attempt 8 is running). */
    assert_string_equal(jstr(sum, "from"), "2025-12-01T08:00:00.000+00:00");
    assert_string_equal(jstr(sum, "to"), "2025-12-01T16:00:00.000+00:00");
    json_t *steps = json_object_get(sum, "failures_by_step");
    assert_int_equal(json_array_size(steps), 3);
    assert_string_equal(jstr(json_array_get(steps, 0), "step"), "write");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 0), "count")), 2);
    json_t *slots = json_object_get(sum, "slots");
    assert_int_equal(json_array_size(slots), 4);
    json_t *s0 = json_array_get(slots, 0), *s1 = json_array_get(slots, 1);
    assert_true(json_is_null(json_object_get(s0, "slot")));
    assert_int_equal(json_integer_value(json_object_get(s0, "attempts")), 3);
    assert_float_equal(json_number_value(json_object_get(s0, "yield")), 0.5, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(s1, "slot")), 1);
    assert_string_equal(jstr(s1, "label"), "left, \"pogo\" <1>");
    assert_int_equal(json_integer_value(json_object_get(s1, "fail")), 1);
    json_t *hours = json_object_get(sum, "hours");
    assert_int_equal(json_array_size(hours), N_ATTEMPTS);
    for (unsigned i = 0; i < N_ATTEMPTS; i++) {
        char want[64];
        json_t *h = json_array_get(hours, i);
        utc_time(want, started_of(i));
        assert_string_equal(jstr(h, "hour"), want);
        assert_int_equal(json_integer_value(json_object_get(h, "attempts")), 1);
        assert_int_equal(json_integer_value(json_object_get(h, "pass")),
                         result_of(i) == EG_RESULT_PASS);
    }
    json_t *bph = json_object_get(sum, "boards_per_hour");
    assert_float_equal(json_number_value(json_object_get(bph, "rate")), 3139.0, 0.05);
    assert_int_equal(json_integer_value(json_object_get(bph, "busy_ms")), 8028);
    assert_int_equal(json_integer_value(json_object_get(bph, "peak")), 1);
    json_t *tpb = json_object_get(sum, "time_per_board");
    assert_int_equal(json_integer_value(json_object_get(tpb, "boards")), 7);
    assert_int_equal(json_integer_value(json_object_get(tpb, "median_ms")), 1000);
    assert_int_equal(json_integer_value(json_object_get(tpb, "bin_ms")), 10);
    json_t *hist = json_object_get(tpb, "histogram");
    assert_int_equal(json_array_size(hist), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(hist, 0), "count")), 7);
    json_decref(doc);
    eg_buf_release(&out);
}

/* Durations spread over the histogram's steps: 1,000 boards of 30.00 to 39.99 s, one of
 * 10 minutes and one of 2 days; the median and percentile counted exactly. */
static void test_time_statistics(void **state)
{
    eg_report_stats st;
    eg_store_attempt_rec rec;
    (void)state;

    memset(&st, 0, sizeof(st));
    memset(&rec, 0, sizeof(rec));
    for (int i = 0; i < 1002; i++) {
        rec.start.run_id = 1;
        rec.start.slot = i % 3 + 1;
        rec.start.started_ms = 1764576000000 + (int64_t)i * 60000;
        int64_t d = i < 1000    ? 30000 + (int64_t)(i * 7919 % 1000) * 10
                    : i == 1000 ? 600000
                                : 172800000;
        rec.end.result = i % 10 == 3 ? EG_RESULT_FAIL : EG_RESULT_PASS;
        rec.end.failed_step = rec.end.result == EG_RESULT_FAIL ? "write" : NULL;
        rec.end.ended_ms = rec.start.started_ms + d;
        assert_int_equal(eg_report_stats_add(&st, &rec), 0);
    }
    assert_int_equal(eg_report_stats_finish(&st), 0);
    assert_int_equal(st.timed, 1002);
    assert_int_equal(st.min_ms, 30000);
    /* Rank 501 of the sorted durations: 30.00 s + 500 x 10 ms. */
    assert_int_equal(st.median_ms, 35000);
    assert_int_equal(st.p90_ms, 39010); /* rank 902 */
    assert_int_equal(st.max_ms, 172800000);
    /* Bars up to the 99th percentile, the slowest in an open last bar. */
    assert_int_equal(st.bin_ms, 500);
    assert_int_equal(st.bins[0].from_ms, 30000);
    assert_int_equal(st.bins[st.n_bins - 1].to_ms, -1);
    int64_t total = 0;
    for (size_t i = 0; i < st.n_bins; i++)
        total += st.bins[i].count;
    assert_int_equal(total, 1002);
    assert_int_equal(st.bins[st.n_bins - 1].count, 2); /* 10 minutes and 2 days */
    assert_int_equal(st.n_slots, 3);
    assert_int_equal(st.slots[0].attempts + st.slots[1].attempts + st.slots[2].attempts, 1002);
    assert_int_equal(st.runs, 1);
    /* Attempts a minute apart, each longer than that: one stretch of work. */
    assert_int_equal(st.busy_ms, 1001 * 60000 + 172800000);
    /* Chart buckets: whole minutes only; contiguous from the first. */
    eg_report_bucket *b = NULL;
    size_t n = 0;
    assert_int_equal(eg_report_stats_buckets(&b, &n, &st, 90000), EG_EINVAL);
    assert_int_equal(eg_report_stats_buckets(&b, &n, &st, 3600000), 0);
    assert_int_equal(n, 17); /* 1,002 minutes from 08:00 */
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(b[i].start_ms, 1764576000000 + (int64_t)i * 3600000);
        sum += b[i].attempts;
    }
    assert_int_equal(sum, 1002);
    assert_int_equal(b[0].attempts, 60);
    free(b);
    eg_report_stats_release(&st);
}

/* A device's history: text, CSV and JSON, with its runs; a device never seen. */
static void test_device(void **state)
{
    fixture *fx = *state;
    eg_store *s = NULL;
    eg_buf out = EG_BUF_INIT;
    int64_t n = -1;
    char mac[18];

    assert_int_equal(eg_store_open(&s, fx->path), 0);
    fake_mac(mac, 0x100 + 3);
    /* The device of attempt 3 was given a serial number too. */
    assert_int_equal(sql_exec(fx->path, "INSERT INTO serial_numbers VALUES ('SN-{seq}', 3, "
                                        "'SN-003', '24:0a:c4:00:01:03', 1764590000000)"),
                     0);
    assert_int_equal(eg_report_device(&n, s, mac, NULL, EG_REPORT_TEXT, eg_report_sink_buf, &out),
                     0);
    assert_int_equal(n, 1);
    eg_buf_push(&out, 0);
    const char *t = (const char *)out.data;
    assert_has(t, "device 24:0a:c4:00:01:03 (ESP32-S3), seen 2025-12-01T11:00:01.003+00:00 to "
                  "2025-12-01T11:00:01.003+00:00\n"
                  "serial number SN-003 (series SN-{seq}, given 2025-12-01T11:53:20.000+00:00)\n");
    assert_has(t, "\n2025-12-01T11:00:00.000+00:00  run ");
    assert_has(t, ", station station-1, lot A, profile demo\n  slot 3, rfc2217://host:4003, "
                  "flash: pass in 1.0s\n");
    assert_has(t, "  serial number: SN-003\n  boot check: pass (I (312) app: ready, \"ok\")\n"
                  "  log: logs/");
    assert_has(t, " bootloader written sha256 ");
    eg_buf_clear(&out);
    assert_int_equal(eg_report_device(&n, s, mac, NULL, EG_REPORT_JSON, eg_report_sink_buf, &out),
                     0);
    json_t *doc = json_loadb((const char *)out.data, out.len, 0, NULL);
    assert_non_null(doc);
    json_t *dev = json_object_get(doc, "device");
    assert_string_equal(jstr(dev, "mac"), mac);
    assert_string_equal(jstr(dev, "chip"), "ESP32-S3");
    assert_string_equal(jstr(json_array_get(json_object_get(dev, "serial_numbers"), 0), "serial"),
                        "SN-003");
    json_t *a = json_array_get(json_object_get(doc, "attempts"), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "attempts")), 1);
    assert_string_equal(jstr(a, "station"), "station-1");
    assert_string_equal(jstr(a, "lot"), "A");
    assert_string_equal(jstr(a, "profile"), "demo");
    assert_string_equal(jstr(a, "serial_number"), "SN-003");
    json_decref(doc);
    eg_buf_clear(&out);
    assert_int_equal(eg_report_device(&n, s, mac, NULL, EG_REPORT_CSV, eg_report_sink_buf, &out),
                     0);
    eg_buf_push(&out, 0);
    csv c;
    csv_parse(&c, (const char *)out.data);
    assert_int_equal(c.nrow, 2);
    assert_string_equal(c.field[0][2], "station");
    assert_string_equal(c.field[1][col(&c, "lot")], "A");
    assert_string_equal(c.field[1][col(&c, "serial_number")], "SN-003");
    csv_free(&c);
    /* Filters narrow it further. */
    eg_store_filter f = {.run_id = fx->run[2]};
    eg_buf_clear(&out);
    assert_int_equal(eg_report_device(&n, s, mac, &f, EG_REPORT_CSV, eg_report_sink_buf, &out), 0);
    assert_int_equal(n, 0);
    /* A device never seen: nothing, and said so in the text. */
    eg_buf_clear(&out);
    assert_int_equal(eg_report_device(&n, s, "02:00:00:00:00:00", NULL, EG_REPORT_TEXT,
                                      eg_report_sink_buf, &out),
                     0);
    assert_int_equal(n, 0);
    eg_buf_push(&out, 0);
    assert_string_equal((const char *)out.data,
                        "device 02:00:00:00:00:00: never identified in an attempt\nno attempts\n");
    /* Refused: a MAC as people write it (the CLI reads those), a page. */
    assert_int_equal(eg_report_device(&n, s, "24:0A:C4:00:01:03", NULL, EG_REPORT_TEXT,
                                      eg_report_sink_buf, &out),
                     EG_EINVAL);
    assert_int_equal(eg_report_device(&n, s, mac, NULL, EG_REPORT_HTML, eg_report_sink_buf, &out),
                     EG_EINVAL);
    eg_store_close(s);
    eg_buf_release(&out);
}

/* The page: self-contained, with what the store holds escaped (a label, a message and
 * a log path with markup in them), the counts in it; an empty store makes a page too. */
static void test_html(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT;
    eg_report_stats st;

    report(&out, fx, NULL, EG_REPORT_HTML, &st);
    const char *t = (const char *)out.data;
    assert_true(strncmp(t, "<!DOCTYPE html>", 15) == 0);
    assert_null(strstr(t, "<script"));
    assert_null(strstr(t, "http://"));
    assert_null(strstr(t, "https://"));
    assert_has(t, "default-src 'none'");
    /* Escaped where the store's text goes. */
    assert_null(strstr(t, "<1>"));
    assert_has(t, "left, &quot;pogo&quot; &lt;1&gt;");
    assert_has(t, "title=\"port &#39;/dev/ttyUSB1&#39;: writing flash at 0x00010000: timed out, "
                  "&quot;no answer&quot;\"");
    assert_has(t, "href=\"logs/");
    assert_has(t, "%20%3Ca%3E.log\">log</a>");
    /* The bad byte of attempt 4's message became U+FFFD; the tab a character reference. */
    assert_has(t, "tab&#9;here, bell\xef\xbf\xbd, utf-8 caf\xc3\xa9, bad byte \xef\xbf\xbd end");
    assert_has(t, "data-k=\"yield\" data-v=\"0.428571\"");
    assert_has(t, ">42.9%<");
    assert_int_equal(st.sum.attempts, N_ATTEMPTS);
    /* Every attempt has its row. */
    int rows = 0;
    for (const char *p = t; (p = strstr(p, "<tr class=\"dev ")); p++)
        rows++;
    assert_int_equal(rows, N_ATTEMPTS);
    eg_report_stats_release(&st);
    eg_buf_release(&out);

    /* Nothing chosen: a page that says so. */
    eg_store_filter f = {.run_id = 9999};
    report(&out, fx, &f, EG_REPORT_HTML, NULL);
    t = (const char *)out.data;
    assert_has(t, "No board passed or failed.");
    assert_has(t, "data-k=\"yield\" data-v=\"none\"");
    assert_has(t, ">run 9999<");
    eg_buf_release(&out);
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
        cmocka_unit_test(test_parse_mac),
        cmocka_unit_test_setup_teardown(test_json_statistics, setup, teardown),
        cmocka_unit_test(test_time_statistics),
        cmocka_unit_test_setup_teardown(test_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
