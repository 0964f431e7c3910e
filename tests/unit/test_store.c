/* The records store on real SQLite files: schema and migrations, files it must refuse
 * (newer, not a database, someone else's, read-only, full disk), the writer thread
 * under load and its errors, a crash and the sweep that follows, and reading back. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "store_helpers.h"

#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void assert_msg_has(const char *part)
{
    if (!strstr(eg_error_msg(), part))
        fail_msg("message '%s' lacks '%s'", eg_error_msg(), part);
}

/* Starts attempt seq of run on slot (seq % 8) + 1. */
static int start(eg_store *s, int64_t run, unsigned seq)
{
    char port[32];
    snprintf(port, sizeof(port), "/dev/ttyUSB%u", seq % 8);
    eg_store_attempt_start a = {run,    seq,     (int)(seq % 8) + 1, port, "1-1.4",
                                "SER1", "flash", 1700000000000 + seq};
    return eg_store_attempt_started(s, &a);
}

/* Ends attempt seq with n fake regions: pass, or fail at write when seq % 5 == 4. */
static int finish(eg_store *s, int64_t run, unsigned seq, unsigned n)
{
    eg_store_region r[4];
    for (unsigned i = 0; i < n; i++)
        fake_region(&r[i], seq, i);
    eg_store_attempt_end e = {0};
    e.run_id = run;
    e.seq = seq;
    e.result = seq % 5 == 4 ? EG_RESULT_FAIL : EG_RESULT_PASS;
    e.identified = 1;
    e.identity.chip = "ESP32-C3";
    e.identity.rev_major = 0;
    e.identity.rev_minor = 4;
    fake_mac(e.identity.mac, seq);
    e.identity.flash_id = 0x164020;
    e.identity.flash_size = 4u << 20;
    e.failed_step = seq % 5 == 4 ? "write" : NULL;
    e.error_code = seq % 5 == 4 ? EG_ETIMEDOUT : 0;
    e.message = seq % 5 == 4 ? "writing flash: timed out" : NULL;
    e.device_status = -1;
    e.retries = seq % 3;
    for (int i = 0; i < EG_STORE_STEPS; i++)
        e.step_ms[i] = i == 3 ? -1 : 10 * i + 1;
    e.ended_ms = 1700000000000 + seq + 2000;
    e.regions = r;
    e.n_regions = n;
    return eg_store_attempt_finished(s, &e);
}

static void test_create(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "new.db");
    eg_store *s = NULL;

    assert_int_equal(eg_store_open(&s, path), 0);
    assert_non_null(s);
    assert_string_equal(eg_store_path(s), path);
    eg_store_close(s);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), EG_STORE_SCHEMA_VERSION);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                   "name IN ('runs', 'devices', 'attempts', 'contents', "
                                   "'regions')"),
                     5);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                                   "name IN ('runs_lot', 'runs_open', 'attempts_started', "
                                   "'attempts_mac', 'attempts_running', 'attempts_outcome')"),
                     6);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM region_details"), 0);
    assert_string_equal(integrity(path), "ok");
    /* WAL stays the journal of the file. */
    assert_int_equal(sql_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    /* Opening again changes nothing. */
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_close(s);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), EG_STORE_SCHEMA_VERSION);
    /* Every migration compiled in, numbered from 1 without gaps. */
    assert_int_equal(eg_store_n_migrations, EG_STORE_SCHEMA_VERSION);
    for (size_t i = 0; i < eg_store_n_migrations; i++)
        assert_int_equal(eg_store_migrations[i].version, (int)i + 1);
    assert_string_equal(eg_store_migrations[0].name, "db/schema.sql");
}

static void test_open_empty_file(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "empty.db");
    eg_store *s = NULL;
    FILE *f = fopen(path, "w");

    /* A file of 0 bytes is a database of version 0 with nothing in it. */
    assert_non_null(f);
    fclose(f);
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_close(s);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), EG_STORE_SCHEMA_VERSION);
    assert_string_equal(integrity(path), "ok");
}

static const eg_store_migration test_v2 = {
    2, "0002-note.sql", "ALTER TABLE runs ADD COLUMN note TEXT; UPDATE runs SET note = 'from v1';"};
static const eg_store_migration test_v3_bad = {
    3, "0003-broken.sql", "CREATE TABLE half_done (a INTEGER); SELEC nonsense;"};

static void test_migrate_older(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "old.db");
    eg_store_migration list[3] = {eg_store_migrations[0], test_v2, test_v3_bad};
    eg_store *s = NULL;
    sqlite3 *db = NULL;
    int64_t run;
    int from = -1;

    /* A version-1 file with a run in it, as this espgang writes it. */
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("LOT-1", 1700000000000);
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    eg_store_close(s);

    /* A later espgang's migration 2 moves it forward and keeps the run. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(eg_store_migrate(&from, db, path, list, 2), 0);
    assert_int_equal(from, 1);
    sqlite3_close(db);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), 2);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM runs WHERE note = 'from v1' AND lot = "
                                   "'LOT-1'"),
                     1);

    /* A migration that fails leaves the file as it was: version 2, no half table. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(eg_store_migrate(&from, db, path, list, 3), EG_EIO);
    assert_msg_has("migrating to schema 3 (0003-broken.sql)");
    assert_msg_has(path);
    sqlite3_close(db);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), 2);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"),
                     0);
    assert_string_equal(integrity(path), "ok");

    /* This espgang knows version 1 only: the file is newer now. */
    assert_int_equal(eg_store_open(&s, path), EG_EINVAL);
    assert_null(s);
    assert_msg_has("was written by a newer espgang (schema 2, this one knows 1)");
}

static void test_newer_refused(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "newer.db");
    char want[256];
    eg_store *s = (eg_store *)&want; /* must come back NULL */

    assert_int_equal(sql_exec(path, "CREATE TABLE future (x); PRAGMA user_version = 99;"), 0);
    assert_int_equal(eg_store_open(&s, path), EG_EINVAL);
    assert_null(s);
    snprintf(want, sizeof(want),
             "'%s' was written by a newer espgang (schema 99, this one knows %d)", path,
             EG_STORE_SCHEMA_VERSION);
    assert_string_equal(eg_error_msg(), want);
    assert_int_equal(eg_store_open_read(&s, path), EG_EINVAL);
    assert_string_equal(eg_error_msg(), want);
    /* Untouched: still version 99, no table of ours, not switched to WAL. */
    assert_int_equal(sql_int(path, "PRAGMA user_version"), 99);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master"), 1);
    assert_int_equal(sql_int(path, "SELECT journal_mode = 'delete' FROM pragma_journal_mode"), 1);
}

static void test_not_a_database(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "text.db");
    const char text[] = "station,lot\nA,1\nthis file is a CSV export, not a database at all, "
                        "and it is long enough to have a header's worth of bytes in it\n";
    eg_store *s = NULL;
    char back[sizeof(text)] = {0};
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(eg_store_open(&s, path), EG_EINVAL);
    assert_null(s);
    assert_msg_has("is not an SQLite database");
    assert_msg_has(path);
    assert_int_equal(eg_store_open_read(&s, path), EG_EINVAL);
    assert_msg_has("is not an SQLite database");
    /* The file is as it was, and no journal was left beside it. */
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(back, 1, sizeof(back), f), strlen(text));
    fclose(f);
    assert_string_equal(back, text);
    assert_int_equal(access(in_dir(d, "text.db-wal"), F_OK), -1);

    /* Someone else's SQLite database (tables, version 0) is not ours either. */
    path = in_dir(d, "theirs.db");
    assert_int_equal(sql_exec(path, "CREATE TABLE contacts (name TEXT); "
                                    "INSERT INTO contacts VALUES ('x');"),
                     0);
    assert_int_equal(eg_store_open(&s, path), EG_EINVAL);
    assert_msg_has("is an SQLite database but not an espgang records store");
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master"), 1);
    assert_int_equal(sql_int(path, "SELECT journal_mode = 'delete' FROM pragma_journal_mode"), 1);

    /* A folder, and a missing file for reading. */
    assert_int_equal(eg_store_open(&s, d->path), EG_EINVAL);
    assert_msg_has("is not a regular file");
    assert_int_equal(eg_store_open_read(&s, in_dir(d, "missing.db")), EG_ENOTFOUND);
    assert_msg_has("missing.db");
    assert_int_equal(access(in_dir(d, "missing.db"), F_OK), -1);
}

/* What a child process found when it opened a store. */
typedef struct child_result {
    int rc;
    char msg[512];
} child_result;

typedef void (*child_fn)(child_result *out, void *arg);

/* Runs fn in a child process (as user nobody when we are root, so that file
 * permissions apply) and returns what it wrote. */
static child_result in_child(child_fn fn, void *arg, int as_nobody)
{
    child_result r = {-12345, "child died"};
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_result c = {0, ""};
        close(fds[0]);
        if (as_nobody && geteuid() == 0) {
            struct passwd *pw = getpwnam("nobody");
            if (!pw || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
                _exit(3);
        }
        fn(&c, arg);
        if (write(fds[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
            _exit(4);
        _exit(0);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], &r, sizeof(r));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != (ssize_t)sizeof(r))
        fail_msg("the child wrote nothing (status 0x%x)", status);
    return r;
}

static void child_open(child_result *out, void *arg)
{
    eg_store *s = NULL;
    out->rc = eg_store_open(&s, arg);
    snprintf(out->msg, sizeof(out->msg), "%s", eg_error_msg());
    if (out->rc == 0 && s == NULL)
        out->rc = 1;
    eg_store_close(s);
}

static void test_read_only_refused(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "ro.db");
    char file[128], newfile[128], ro_dir[128], in_ro[128];
    eg_store *s = NULL;

    snprintf(file, sizeof(file), "%s", path);
    assert_int_equal(eg_store_open(&s, file), 0);
    eg_store_close(s);
    /* nobody must reach the folder. */
    assert_int_equal(chmod(d->path, 0755), 0);

    /* A read-only file. */
    assert_int_equal(chmod(file, 0444), 0);
    child_result r = in_child(child_open, file, 1);
    assert_true(r.rc < 0);
    if (!strstr(r.msg, file) || !strstr(r.msg, "read-only"))
        fail_msg("message '%s'", r.msg);
    assert_int_equal(chmod(file, 0644), 0);

    /* A read-only folder: a new file cannot be made, nor an existing one's journal. */
    snprintf(ro_dir, sizeof(ro_dir), "%s/ro", d->path);
    assert_int_equal(mkdir(ro_dir, 0755), 0);
    snprintf(in_ro, sizeof(in_ro), "%s/ro/existing.db", d->path);
    assert_int_equal(eg_store_open(&s, in_ro), 0);
    eg_store_close(s);
    assert_int_equal(chmod(in_ro, 0666), 0);
    assert_int_equal(chmod(ro_dir, 0555), 0);
    snprintf(newfile, sizeof(newfile), "%s/ro/new.db", d->path);
    r = in_child(child_open, newfile, 1);
    assert_true(r.rc < 0);
    if (!strstr(r.msg, newfile))
        fail_msg("message '%s'", r.msg);
    r = in_child(child_open, in_ro, 1);
    assert_true(r.rc < 0);
    if (!strstr(r.msg, in_ro))
        fail_msg("message '%s'", r.msg);
    assert_int_equal(chmod(ro_dir, 0755), 0);
    assert_int_equal(access(newfile, F_OK), -1);
    assert_string_equal(integrity(in_ro), "ok");

    /* For reading, a read-only file is fine. */
    assert_int_equal(chmod(file, 0444), 0);
    assert_int_equal(eg_store_open_read(&s, file), 0);
    eg_store_close(s);
    assert_int_equal(chmod(file, 0644), 0);
}

/* Opens with the size of any file written capped (RLIMIT_FSIZE): the disk is full. */
static void child_open_full(child_result *out, void *arg)
{
    struct rlimit lim = {0, 0};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0) {
        out->rc = 99;
        return;
    }
    child_open(out, arg);
}

static void test_full_disk_refused(void **state)
{
    tdir *d = *state;
    char path[128], fresh[128];
    eg_store *s = NULL;
    int64_t run;

    snprintf(path, sizeof(path), "%s", in_dir(d, "full.db"));
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("LOT-F", 1700000000000);
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    eg_store_close(s);

    child_result r = in_child(child_open_full, path, 0);
    assert_true(r.rc < 0);
    if (!strstr(r.msg, path))
        fail_msg("message '%s'", r.msg);
    /* The store is as it was. */
    assert_string_equal(integrity(path), "ok");
    assert_int_equal(sql_int(path, "SELECT count(*) FROM runs"), 1);

    /* Nor can a new one be made. */
    snprintf(fresh, sizeof(fresh), "%s", in_dir(d, "fresh.db"));
    r = in_child(child_open_full, fresh, 0);
    assert_true(r.rc < 0);
    if (!strstr(r.msg, fresh))
        fail_msg("message '%s'", r.msg);
}

/* The disk fills while boards run: the writer's error comes back from the next queue
 * call and from eg_store_writer_stop, with the count of what was not written. */
static void child_fill_midway(child_result *out, void *arg)
{
    eg_store *s = NULL;
    int64_t run;
    struct stat st;
    char wal[160];

    out->rc = 98;
    eg_store_run_info info = fake_run("LOT-M", 1700000000000);
    if (eg_store_open(&s, arg) < 0 || eg_store_run_begin(&run, s, &info) < 0 ||
        eg_store_writer_start(s) < 0)
        return;
    snprintf(wal, sizeof(wal), "%s-wal", (const char *)arg);
    if (stat(wal, &st) != 0)
        return;
    struct rlimit lim = {(rlim_t)st.st_size, (rlim_t)st.st_size};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        return;
    int queue_rc = 0;
    unsigned seq = 0;
    /* Queue until a call reports the writer's error (at most 10 s). */
    for (int64_t until = wall_now_ms() + 10000; queue_rc == 0 && wall_now_ms() < until; seq++) {
        queue_rc = start(s, run, seq);
        if (queue_rc == 0)
            queue_rc = finish(s, run, seq, 3);
        if (seq % 50 == 49)
            sleep_ms(2);
    }
    int stop_rc = eg_store_writer_stop(s, run, 1700000009000);
    snprintf(out->msg, sizeof(out->msg), "%s", eg_error_msg());
    out->rc = queue_rc < 0 && stop_rc < 0 ? -1 : 97;
    eg_store_close(s);
}

static void test_writer_error_kept(void **state)
{
    tdir *d = *state;
    char path[128];

    snprintf(path, sizeof(path), "%s", in_dir(d, "midway.db"));
    child_result r = in_child(child_fill_midway, path, 0);
    assert_int_equal(r.rc, -1);
    if (!strstr(r.msg, path) || !strstr(r.msg, "not written"))
        fail_msg("message '%s'", r.msg);
    /* What was committed is intact. */
    assert_string_equal(integrity(path), "ok");
}

typedef struct load_arg {
    eg_store *s;
    int64_t run;
    unsigned first, count;
    int rc;
} load_arg;

static void *load_worker(void *p)
{
    load_arg *a = p;
    for (unsigned i = 0; i < a->count && a->rc == 0; i++) {
        unsigned seq = a->first + i;
        eg_store_identity id = {0};
        id.chip = "ESP32-C3";
        id.rev_major = 0;
        id.rev_minor = 4;
        fake_mac(id.mac, seq);
        a->rc = start(a->s, a->run, seq);
        if (a->rc == 0)
            a->rc = eg_store_attempt_identified(a->s, a->run, seq, &id);
        if (a->rc == 0)
            a->rc = finish(a->s, a->run, seq, 1 + seq % 4);
    }
    return NULL;
}

typedef struct check_ctx {
    unsigned n;
    unsigned char *seen;
    unsigned bad;
} check_ctx;

/* Every attempt as finish() recorded it. */
static int check_attempt(void *p, const eg_store_attempt_rec *r)
{
    check_ctx *c = p;
    unsigned seq = r->start.seq;
    char mac[18], port[32];
    const eg_store_attempt_end *e = &r->end;
    int ok = 1;

    c->n++;
    if (seq >= 10000 || c->seen[seq]++) {
        c->bad++;
        return 0;
    }
    fake_mac(mac, seq);
    snprintf(port, sizeof(port), "/dev/ttyUSB%u", seq % 8);
    ok &= strcmp(r->start.port, port) == 0 && r->start.slot == (int)(seq % 8) + 1;
    ok &= strcmp(r->start.usb_location, "1-1.4") == 0 && strcmp(r->start.usb_serial, "SER1") == 0;
    ok &= strcmp(r->start.kind, "flash") == 0 && r->start.started_ms == 1700000000000 + seq;
    ok &= e->identified && strcmp(e->identity.chip, "ESP32-C3") == 0 &&
          strcmp(e->identity.mac, mac) == 0 && e->identity.rev_minor == 4 &&
          e->identity.flash_id == 0x164020 && e->identity.flash_size == 4u << 20 &&
          !e->identity.has_security;
    ok &= e->result == (seq % 5 == 4 ? EG_RESULT_FAIL : EG_RESULT_PASS);
    ok &= seq % 5 == 4 ? e->failed_step && strcmp(e->failed_step, "write") == 0 &&
                             e->error_code == EG_ETIMEDOUT &&
                             strcmp(e->message, "writing flash: timed out") == 0
                       : !e->failed_step && e->error_code == 0 && !e->message;
    ok &= e->device_status == -1 && e->retries == seq % 3 && e->ended_ms == 1700000002000 + seq;
    for (int i = 0; i < EG_STORE_STEPS; i++)
        ok &= e->step_ms[i] == (i == 3 ? -1 : 10 * i + 1);
    ok &= e->n_regions == 1 + seq % 4;
    for (size_t i = 0; ok && i < e->n_regions; i++) {
        eg_store_region want;
        fake_region(&want, seq, (unsigned)i);
        const eg_store_region *g = &e->regions[i];
        ok &= g->offset == want.offset && g->size == want.size &&
              strcmp(g->label, want.label) == 0 && strcmp(g->sha256, want.sha256) == 0 &&
              strcmp(g->md5_expected, want.md5_expected) == 0 &&
              strcmp(g->md5_device, want.md5_device) == 0 && strcmp(g->outcome, want.outcome) == 0;
    }
    if (!ok) {
        if (c->bad++ < 5)
            fprintf(stderr, "attempt %u differs from what was recorded\n", seq);
    }
    return 0;
}

static void test_writer_load(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "load.db");
    eg_store *s = NULL;
    load_arg args[8];
    pthread_t th[8];
    int64_t run;

    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("LOT-L", 1700000000000);
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    assert_int_equal(eg_store_writer_start(s), 0);
    assert_int_equal(eg_store_writer_start(s), EG_EINVAL);
    for (int i = 0; i < 8; i++) {
        args[i] = (load_arg){s, run, (unsigned)i * 1250, 1250, 0};
        assert_int_equal(pthread_create(&th[i], NULL, load_worker, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 8; i++)
        if (args[i].rc != 0)
            fail_msg("worker %d: %d %s", i, args[i].rc, eg_error_msg());
    assert_int_equal(eg_store_writer_stop(s, run, 1700000100000), 0);
    /* Stopped: queueing is refused, not lost silently. */
    assert_int_equal(start(s, run, 20000), EG_EINVAL);
    assert_msg_has("the writer is not running");

    check_ctx c = {0, calloc(10000, 1), 0};
    assert_int_equal(eg_store_attempts_each(s, NULL, 0, check_attempt, &c), 0);
    assert_int_equal(c.n, 10000);
    assert_int_equal(c.bad, 0);
    free(c.seen);
    eg_store_close(s);

    assert_int_equal(sql_int(path, "SELECT count(*) FROM regions"), 25000);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM contents"), 4);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM devices"), 10000);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts a JOIN devices v ON v.mac = "
                                   "a.mac AND v.chip = 'ESP32-C3'"),
                     10000);
    assert_int_equal(sql_int(path, "SELECT ended_ms FROM runs"), 1700000100000);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE revision = 4"), 10000);
    assert_string_equal(integrity(path), "ok");
    assert_int_equal(sql_int(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

/* One of two processes recording into the same file at once. */
static void child_record(const char *path, const char *lot)
{
    eg_store *s = NULL;
    int64_t run;
    eg_store_run_info info = fake_run(lot, 1700000000000);
    if (eg_store_open(&s, path) < 0 || eg_store_run_begin(&run, s, &info) < 0 ||
        eg_store_writer_start(s) < 0) {
        fprintf(stderr, "child: %s\n", eg_error_msg());
        _exit(5);
    }
    for (unsigned seq = 0; seq < 500; seq++)
        if (start(s, run, seq) < 0 || finish(s, run, seq, 2) < 0)
            _exit(6);
    if (eg_store_writer_stop(s, run, 1700000009000) < 0) {
        fprintf(stderr, "child: %s\n", eg_error_msg());
        _exit(7);
    }
    eg_store_close(s);
    _exit(0);
}

static void test_two_processes(void **state)
{
    tdir *d = *state;
    char path[128];
    pid_t pid[2];

    snprintf(path, sizeof(path), "%s", in_dir(d, "shared.db"));
    for (int i = 0; i < 2; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0)
            child_record(path, i ? "LOT-2" : "LOT-1");
    }
    for (int i = 0; i < 2; i++) {
        int status;
        assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("process %d failed (status 0x%x)", i, status);
    }
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts"), 1000);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM runs WHERE ended_ms = 1700000009000"), 2);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM regions"), 1000 * 2);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM contents"), 2);
    assert_string_equal(integrity(path), "ok");
}

/* A production process that dies: 20 attempts started, 5 finished, then _exit()
 * after 100 ms, without stopping the writer. */
static void child_crash(child_result *out, void *arg)
{
    eg_store *s = NULL;
    int64_t run;
    (void)out;
    eg_store_run_info info = fake_run("LOT-C", 1700000000000);
    if (eg_store_open(&s, arg) < 0 || eg_store_run_begin(&run, s, &info) < 0 ||
        eg_store_writer_start(s) < 0)
        _exit(5);
    for (unsigned seq = 0; seq < 20; seq++)
        if (start(s, run, seq) < 0 || (seq < 5 && finish(s, run, seq, 2) < 0))
            _exit(6);
    sleep_ms(100);
    _exit(0);
}

static void test_crash_interrupted(void **state)
{
    tdir *d = *state;
    char path[128];
    eg_store *s = NULL;

    snprintf(path, sizeof(path), "%s", in_dir(d, "crash.db"));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_crash(NULL, path);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Left as the process died: every start on disk, still running. */
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts"), 20);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'running'"), 15);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM runs WHERE ended_ms IS NULL"), 1);

    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'interrupted'"),
                     15);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'running'"), 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'pass'"), 4);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'fail'"), 1);
    /* The run ends at the last time it recorded: the last finished attempt's end. */
    assert_int_equal(sql_int(path, "SELECT ended_ms FROM runs"), 1700000002004);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM regions"), 10);
    assert_string_equal(integrity(path), "ok");
}

static void test_live_left_alone(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "live.db");
    eg_store *s = NULL;
    int64_t mine, other_host, live_child, dead_child;
    char host[256] = "";
    int status;

    gethostname(host, sizeof(host) - 1);
    pid_t live = fork();
    assert_true(live >= 0);
    if (live == 0) {
        pause();
        _exit(0);
    }
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, &status, 0), dead);

    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("LOT-A", 1700000000000);
    assert_int_equal(eg_store_run_begin(&mine, s, &info), 0);
    info.host = "another-station";
    info.pid = dead;
    assert_int_equal(eg_store_run_begin(&other_host, s, &info), 0);
    info.host = NULL;
    info.pid = live;
    assert_int_equal(eg_store_run_begin(&live_child, s, &info), 0);
    info.host = host;
    info.pid = dead;
    assert_int_equal(eg_store_run_begin(&dead_child, s, &info), 0);
    assert_int_equal(eg_store_writer_start(s), 0);
    int64_t runs[4] = {mine, other_host, live_child, dead_child};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(start(s, runs[i], 1), 0);
        assert_int_equal(start(s, runs[i], 2), 0);
        assert_int_equal(finish(s, runs[i], 2, 1), 0);
    }
    eg_store_close(s); /* writes what is queued; the runs stay open */
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'running'"), 4);

    /* Only the dead process of this host is swept. */
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_close(s);
    char sql[160];
    for (int i = 0; i < 4; i++) {
        snprintf(sql, sizeof(sql), "SELECT result FROM attempts WHERE run_id = %lld AND seq = 1",
                 (long long)runs[i]);
        sqlite3 *db;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(st, 0),
                            i == 3 ? "interrupted" : "running");
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    assert_int_equal(sql_int(path, "SELECT count(*) FROM runs WHERE ended_ms IS NULL"), 3);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'pass'"), 4);

    /* Once the live child is gone, its attempts go too. */
    kill(live, SIGKILL);
    assert_int_equal(waitpid(live, &status, 0), live);
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_close(s);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM attempts WHERE run_id = %lld AND result = "
             "'interrupted'",
             (long long)live_child);
    assert_int_equal(sql_int(path, sql), 1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE result = 'running'"), 2);
    assert_string_equal(integrity(path), "ok");
}

static void test_bad_records(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "bad.db");
    eg_store *s = NULL;
    int64_t run;
    eg_store_region g;

    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run(NULL, 1700000000000);
    info.kind = "erase";
    assert_int_equal(eg_store_run_begin(&run, s, &info), EG_EINVAL);
    assert_msg_has("run kind 'erase'");
    info.kind = "verify";
    info.profile_sha256 = "abc";
    assert_int_equal(eg_store_run_begin(&run, s, &info), EG_EINVAL);
    assert_msg_has("SHA-256 'abc'");
    info.profile_sha256 = NULL;
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    /* Before the writer runs, nothing is queued. */
    assert_int_equal(start(s, run, 1), EG_EINVAL);
    assert_msg_has("the writer is not running");
    assert_int_equal(eg_store_writer_stop(s, run, 0), EG_EINVAL);

    assert_int_equal(eg_store_writer_start(s), 0);
    eg_store_attempt_start a = {run, 1, 1, "/dev/ttyUSB0", NULL, NULL, "program", 1};
    assert_int_equal(eg_store_attempt_started(s, &a), EG_EINVAL);
    assert_msg_has("attempt kind 'program'");
    eg_store_identity id = {.chip = "ESP32", .mac = "24:0A:C4:00:00:01"};
    assert_int_equal(eg_store_attempt_identified(s, run, 1, &id), EG_EINVAL);
    assert_msg_has("MAC address '24:0A:C4:00:00:01'");
    eg_store_attempt_end e = {.run_id = run, .seq = 1, .result = EG_RESULT_RUNNING};
    assert_int_equal(eg_store_attempt_finished(s, &e), EG_EINVAL);
    assert_msg_has("cannot end as 'running'");
    e.result = EG_RESULT_FAIL;
    e.failed_step = "flashing";
    assert_int_equal(eg_store_attempt_finished(s, &e), EG_EINVAL);
    assert_msg_has("'flashing' is not a step");
    e.failed_step = "write";
    fake_region(&g, 1, 0);
    g.outcome = "done";
    e.regions = &g;
    e.n_regions = 1;
    assert_int_equal(eg_store_attempt_finished(s, &e), EG_EINVAL);
    assert_msg_has("region outcome 'done'");
    fake_region(&g, 1, 0);
    g.md5_device[3] = 'X';
    assert_int_equal(eg_store_attempt_finished(s, &e), EG_EINVAL);
    assert_msg_has("is not lowercase hex");

    /* A good attempt, then one that ends without having started: the writer's error
     * comes back from the next call and from stop, and the good one is kept. */
    assert_int_equal(start(s, run, 1), 0);
    assert_int_equal(finish(s, run, 1, 2), 0);
    assert_int_equal(finish(s, run, 77, 1), 0);
    int rc = 0;
    for (int i = 0; i < 500 && rc == 0; i++) {
        sleep_ms(10);
        rc = start(s, run, 100 + (unsigned)i);
    }
    assert_int_equal(rc, EG_EINVAL);
    assert_msg_has("attempt 77 of run");
    assert_msg_has("never started");
    assert_int_equal(eg_store_writer_stop(s, run, 1700000005000), EG_EINVAL);
    assert_msg_has("attempt 77 of run");
    assert_msg_has("1 record not written");
    eg_store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE seq = 1 AND result = "
                                   "'pass'"),
                     1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM regions"), 2);
    assert_int_equal(sql_int(path, "SELECT ended_ms FROM runs"), 1700000005000);
}

typedef struct collect {
    int64_t run[64];
    unsigned seq[64];
    int n;
} collect;

static int collect_fn(void *p, const eg_store_attempt_rec *r)
{
    collect *c = p;
    if (c->n < 64) {
        c->run[c->n] = r->start.run_id;
        c->seq[c->n] = r->start.seq;
    }
    c->n++;
    return 0;
}

static int stop_at_3(void *p, const eg_store_attempt_rec *r)
{
    int *n = p;
    (void)r;
    return ++*n == 3 ? EG_ECANCELED : 0;
}

static void test_filters_and_summary(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "filter.db");
    eg_store *s = NULL;
    int64_t r1, r2, r3;

    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("LOT-A", 1700000000000);
    assert_int_equal(eg_store_run_begin(&r1, s, &info), 0);
    assert_int_equal(eg_store_run_begin(&r2, s, &info), 0);
    info.lot = "LOT-B";
    assert_int_equal(eg_store_run_begin(&r3, s, &info), 0);
    assert_int_equal(eg_store_writer_start(s), 0);
    /* Run 1: seq 0..4 (4 fails); run 2: seq 10..12; run 3: seq 20..29, one left running. */
    for (unsigned q = 0; q < 5; q++)
        assert_true(start(s, r1, q) == 0 && finish(s, r1, q, 1) == 0);
    for (unsigned q = 10; q < 13; q++)
        assert_true(start(s, r2, q) == 0 && finish(s, r2, q, 2) == 0);
    for (unsigned q = 20; q < 30; q++)
        assert_true(start(s, r3, q) == 0 && (q == 29 || finish(s, r3, q, 3) == 0));
    assert_int_equal(eg_store_writer_stop(s, r3, 1700000009000), 0);

    collect c = {0};
    eg_store_filter f = {0};
    assert_int_equal(eg_store_attempts_each(s, NULL, 0, collect_fn, &c), 0);
    assert_int_equal(c.n, 18);
    memset(&c, 0, sizeof(c));
    f.run_id = r2;
    assert_int_equal(eg_store_attempts_each(s, &f, 0, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    for (int i = 0; i < 3; i++)
        assert_true(c.run[i] == r2 && c.seq[i] == 10u + (unsigned)i);
    memset(&c, 0, sizeof(c));
    f = (eg_store_filter){.lot = "LOT-A"};
    assert_int_equal(eg_store_attempts_each(s, &f, 0, collect_fn, &c), 0);
    assert_int_equal(c.n, 8);
    memset(&c, 0, sizeof(c));
    f = (eg_store_filter){.has_since = 1, .since_ms = 1700000000000 + 12};
    assert_int_equal(eg_store_attempts_each(s, &f, 0, collect_fn, &c), 0);
    assert_int_equal(c.n, 11); /* seq 12 and 20..29 */
    assert_int_equal(c.seq[0], 12);
    /* Few attempts (a quarter at most) go through the start time's index. */
    memset(&c, 0, sizeof(c));
    f = (eg_store_filter){.has_since = 1, .since_ms = 1700000000000 + 28};
    assert_int_equal(eg_store_attempts_each(s, &f, 0, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_true(c.seq[0] == 28 && c.seq[1] == 29);
    memset(&c, 0, sizeof(c));
    f = (eg_store_filter){.has_since = 1, .since_ms = 1700000000000 + 12};
    f.lot = "LOT-A";
    assert_int_equal(eg_store_attempts_each(s, &f, 0, collect_fn, &c), 0);
    assert_int_equal(c.n, 1);
    memset(&c, 0, sizeof(c));
    f = (eg_store_filter){.lot = "LOT-Z"};
    assert_int_equal(eg_store_attempts_each(s, &f, 0, collect_fn, &c), 0);
    assert_int_equal(c.n, 0);
    int n = 0;
    assert_int_equal(eg_store_attempts_each(s, NULL, 0, stop_at_3, &n), EG_ECANCELED);
    assert_int_equal(n, 3);

    eg_store_summary sum;
    assert_int_equal(eg_store_summary_get(&sum, s, NULL), 0);
    assert_int_equal(sum.attempts, 18);
    assert_int_equal(sum.by_result[EG_RESULT_RUNNING], 1);
    /* Fails: seq 4 (run 1), 24 (run 3); 29 is running. */
    assert_int_equal(sum.by_result[EG_RESULT_FAIL], 2);
    assert_int_equal(sum.by_result[EG_RESULT_PASS], 15);
    assert_int_equal(sum.n_causes, 1);
    assert_string_equal(sum.causes[0].step, "write");
    assert_int_equal(sum.causes[0].error_code, EG_ETIMEDOUT);
    assert_int_equal(sum.causes[0].count, 2);
    eg_store_summary_release(&sum);
    f = (eg_store_filter){.has_since = 1, .since_ms = 1700000000000 + 24};
    assert_int_equal(eg_store_summary_get(&sum, s, &f), 0);
    assert_int_equal(sum.attempts, 6);
    assert_int_equal(sum.by_result[EG_RESULT_FAIL], 1);
    eg_store_summary_release(&sum);
    f = (eg_store_filter){.has_since = 1, .since_ms = 1700000000000 + 28};
    assert_int_equal(eg_store_summary_get(&sum, s, &f), 0);
    assert_int_equal(sum.attempts, 2);
    assert_int_equal(sum.by_result[EG_RESULT_RUNNING], 1);
    eg_store_summary_release(&sum);
    f = (eg_store_filter){.run_id = r2};
    assert_int_equal(eg_store_summary_get(&sum, s, &f), 0);
    assert_int_equal(sum.attempts, 3);
    assert_int_equal(sum.n_causes, 0);
    eg_store_summary_release(&sum);
    eg_store_summary_release(NULL);
    eg_store_close(s);
    eg_store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_open_empty_file, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_older, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_newer_refused, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refused, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_refused, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_writer_error_kept, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_writer_load, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_crash_interrupted, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_live_left_alone, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_bad_records, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_summary, tdir_setup, tdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
