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
#include <stdatomic.h>
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
    eg_store_attempt_start a = {run,    seq,     (int)(seq % 8) + 1,  port, "1-1.4",
                                "SER1", "flash", 1700000000000 + seq, NULL};
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

/* Migrations of a later espgang, after this one's last. */
#define NEXT (EG_STORE_SCHEMA_VERSION + 1)
static const eg_store_migration test_next = {
    NEXT, "9998-note.sql",
    "ALTER TABLE runs ADD COLUMN note TEXT; UPDATE runs SET note = 'from before';"};
static const eg_store_migration test_next_bad = {
    NEXT + 1, "9999-broken.sql", "CREATE TABLE half_done (a INTEGER); SELEC nonsense;"};

static void test_migrate_older(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "old.db");
    eg_store_migration list[EG_STORE_SCHEMA_VERSION + 2];
    eg_store *s = NULL;
    sqlite3 *db = NULL;
    int64_t run;
    int from = -1;
    char want[128];

    for (int i = 0; i < EG_STORE_SCHEMA_VERSION; i++)
        list[i] = eg_store_migrations[i];
    list[NEXT - 1] = test_next;
    list[NEXT] = test_next_bad;
    /* A file of this version with a run in it, as this espgang writes it. */
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("LOT-1", 1700000000000);
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    eg_store_close(s);

    /* A later espgang's next migration moves it forward and keeps the run. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(eg_store_migrate(&from, db, path, list, NEXT), 0);
    assert_int_equal(from, EG_STORE_SCHEMA_VERSION);
    sqlite3_close(db);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), NEXT);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM runs WHERE note = 'from before' AND "
                                   "lot = 'LOT-1'"),
                     1);

    /* A migration that fails leaves the file as it was: no half table. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(eg_store_migrate(&from, db, path, list, NEXT + 1), EG_EIO);
    assert_msg_has("(9999-broken.sql)");
    assert_msg_has(path);
    sqlite3_close(db);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), NEXT);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"),
                     0);
    assert_string_equal(integrity(path), "ok");

    /* This espgang does not know the later version: the file is newer now. */
    assert_int_equal(eg_store_open(&s, path), EG_EINVAL);
    assert_null(s);
    snprintf(want, sizeof(want), "was written by a newer espgang (schema %d, this one knows %d)",
             NEXT, EG_STORE_SCHEMA_VERSION);
    assert_msg_has(want);
}

/* Reads every attempt of a store into a fixed list (copies of what the tests look at). */
typedef struct seen {
    int n;
    unsigned seq[8];
    int slot[8];
    char slot_label[8][32], serial[8][32], log[8][64], boot[8][16], boot_line[8][64],
        boot_tail[8][128], mac[8][18], result[8][16], step[8][16];
    int64_t ms[8][EG_STORE_STEPS];
    size_t n_regions[8];
} seen;

static void copy_or(char *dst, size_t len, const char *v)
{
    snprintf(dst, len, "%s", v ? v : "(null)");
}

static int seen_fn(void *ctx, const eg_store_attempt_rec *r)
{
    seen *c = ctx;
    if (c->n >= 8)
        return EG_EINVAL;
    int i = c->n++;
    c->seq[i] = r->start.seq;
    c->slot[i] = r->start.slot;
    copy_or(c->slot_label[i], sizeof(c->slot_label[i]), r->start.slot_label);
    copy_or(c->serial[i], sizeof(c->serial[i]), r->end.serial_number);
    copy_or(c->log[i], sizeof(c->log[i]), r->end.log_path);
    copy_or(c->boot[i], sizeof(c->boot[i]), r->end.boot_result);
    copy_or(c->boot_line[i], sizeof(c->boot_line[i]), r->end.boot_line);
    copy_or(c->boot_tail[i], sizeof(c->boot_tail[i]), r->end.boot_tail);
    copy_or(c->mac[i], sizeof(c->mac[i]), r->end.identified ? r->end.identity.mac : NULL);
    copy_or(c->result[i], sizeof(c->result[i]), eg_store_result_name(r->end.result));
    copy_or(c->step[i], sizeof(c->step[i]), r->end.failed_step);
    memcpy(c->ms[i], r->end.step_ms, sizeof(c->ms[i]));
    c->n_regions[i] = r->end.n_regions;
    return 0;
}

/* A store of schema 1 with records, as the espgang before this one left it: opening
 * it brings it to this schema and keeps every record; the new columns read as
 * unknown, and new records go in beside the old ones. */
static void test_migrate_v1_records(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "v1.db");
    sqlite3 *db = NULL;
    eg_store *s = NULL;
    seen c;
    int from = -1;
    char sha[65], md5[33], sql[1024];

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(eg_store_migrate(&from, db, path, eg_store_migrations, 1), 0);
    assert_int_equal(from, 0);
    sqlite3_close(db);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), 1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM pragma_table_info('attempts') WHERE "
                                   "name = 'serial_number'"),
                     0);
    fake_hex(sha, 64, 1);
    fake_hex(md5, 32, 2);
    snprintf(sql, sizeof(sql),
             "INSERT INTO runs (id, lot, kind, version, host, pid, started_ms, ended_ms) VALUES "
             "(1, 'OLD', 'flash', '0.1.0', 'h', 1, 1700000000000, 1700000100000);"
             "INSERT INTO devices VALUES ('24:0a:c4:00:00:01', 'ESP32', 1700000000000, "
             "1700000000000);"
             "INSERT INTO attempts (id, run_id, seq, slot, port, kind, chip, revision, mac, "
             "result, ms_connect, ms_finish, started_ms, ended_ms) VALUES "
             "(1, 1, 1, 3, '/dev/ttyUSB2', 'flash', 'ESP32', 300, '24:0a:c4:00:00:01', 'pass', "
             "120, 7, 1700000000000, 1700000003000),"
             "(2, 1, 2, 4, '/dev/ttyUSB3', 'flash', NULL, NULL, NULL, 'fail', NULL, NULL, "
             "1700000000100, 1700000001000);"
             "UPDATE attempts SET failed_step = 'connect', error_code = -4 WHERE id = 2;"
             "INSERT INTO contents VALUES (1, 'app', 4096, '%s', '%s');"
             "INSERT INTO regions VALUES (1, 65536, 1, '%s', 'written');",
             sha, md5, md5);
    assert_int_equal(sql_exec(path, sql), 0);

    assert_int_equal(eg_store_open(&s, path), 0);
    assert_int_equal(sql_int(path, "PRAGMA user_version"), EG_STORE_SCHEMA_VERSION);
    memset(&c, 0, sizeof(c));
    assert_int_equal(eg_store_attempts_each(s, NULL, 0, seen_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.slot[0], 3);
    assert_string_equal(c.mac[0], "24:0a:c4:00:00:01");
    assert_string_equal(c.result[1], "fail");
    assert_string_equal(c.step[1], "connect");
    assert_int_equal(c.n_regions[0], 1);
    assert_int_equal(c.ms[0][0], 120);
    assert_int_equal(c.ms[0][6], 7);
    for (int i = 0; i < 2; i++) {
        assert_string_equal(c.slot_label[i], "(null)");
        assert_string_equal(c.serial[i], "(null)");
        assert_string_equal(c.log[i], "(null)");
        assert_string_equal(c.boot[i], "(null)");
        assert_int_equal(c.ms[i][7], -1); /* no boot step then */
    }
    /* New records beside the old ones. */
    int64_t run;
    eg_store_run_info info = fake_run("NEW", 1700000200000);
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    assert_int_equal(eg_store_writer_start(s), 0);
    assert_int_equal(start(s, run, 1), 0);
    assert_int_equal(finish(s, run, 1, 2), 0);
    assert_int_equal(eg_store_writer_stop(s, run, 1700000300000), 0);
    eg_store_close(s);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts"), 3);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM regions"), 3);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM serial_numbers"), 0);
    assert_string_equal(integrity(path), "ok");
    assert_int_equal(sql_int(path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
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
    eg_store_attempt_start a = {run, 1, 1, "/dev/ttyUSB0", NULL, NULL, "program", 1, NULL};
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

/* Regions one by one (copies of what the tests look at); stop: cancel after one. */
typedef struct regions_seen {
    unsigned n;
    int stop;
    uint32_t offset[8], size[8];
    char label[8][32], sha256[8][65], outcome[8][16];
} regions_seen;

static int region_fn(void *ctx, const eg_store_region *g)
{
    regions_seen *r = ctx;
    if (r->n >= 8)
        return EG_EINVAL;
    r->offset[r->n] = g->offset;
    r->size[r->n] = g->size;
    copy_or(r->label[r->n], sizeof(r->label[0]), g->label);
    memcpy(r->sha256[r->n], g->sha256, sizeof(g->sha256));
    copy_or(r->outcome[r->n], sizeof(r->outcome[0]), g->outcome);
    r->n++;
    return r->stop ? EG_ECANCELED : 0;
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

    /* One attempt's regions, in offset order, as attempts_each gives them. */
    regions_seen rs = {0};
    assert_int_equal(eg_store_regions_each(s, r2, 11, region_fn, &rs), 0);
    assert_int_equal(rs.n, 2);
    for (unsigned i = 0; i < 2; i++) {
        eg_store_region w;
        fake_region(&w, 11, i);
        assert_int_equal(rs.offset[i], w.offset);
        assert_int_equal(rs.size[i], w.size);
        assert_string_equal(rs.label[i], w.label);
        assert_string_equal(rs.sha256[i], w.sha256);
        assert_string_equal(rs.outcome[i], w.outcome);
    }
    memset(&rs, 0, sizeof(rs));
    assert_int_equal(eg_store_regions_each(s, r2, 999, region_fn, &rs), 0);
    assert_int_equal(rs.n, 0);
    rs.stop = 1;
    assert_int_equal(eg_store_regions_each(s, r2, 11, region_fn, &rs), EG_ECANCELED);
    assert_int_equal(rs.n, 1);
    eg_store_close(s);
    eg_store_close(NULL);
}

/* What a factory attempt adds: the slot's name, serial number, log file, boot check
 * and the boot step's time, written and read back; bad values refused. */
static void test_factory_fields(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "factory.db");
    eg_store *s = NULL;
    int64_t run;
    seen c;

    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("L42", 1700000000000);
    assert_int_equal(eg_store_run_begin(&run, s, &info), 0);
    assert_int_equal(eg_store_writer_start(s), 0);
    const char *boots[3] = {"pass", "fail", "timeout"};
    for (unsigned seq = 0; seq < 4; seq++) {
        eg_store_attempt_start a = {run,
                                    seq,
                                    7,
                                    "/dev/ttyACM0",
                                    "1-2.3",
                                    NULL,
                                    "flash",
                                    1700000000000 + seq,
                                    seq == 3 ? NULL : "left pogo"};
        assert_int_equal(eg_store_attempt_started(s, &a), 0);
        eg_store_attempt_end e = {0};
        char serial[32], log[64];
        e.run_id = run;
        e.seq = seq;
        e.result = seq == 0 ? EG_RESULT_PASS : EG_RESULT_FAIL;
        e.identified = 1;
        e.identity.chip = "ESP32-S3";
        fake_mac(e.identity.mac, 40 + seq);
        e.device_status = -1;
        for (int i = 0; i < EG_STORE_STEPS; i++)
            e.step_ms[i] = 100 * i + (int64_t)seq;
        if (seq > 0) {
            e.failed_step = "boot";
            e.error_code = seq == 2 ? EG_ETIMEDOUT : EG_EMISMATCH;
            e.message = "boot check: panic";
        }
        e.ended_ms = 1700000005000 + seq;
        snprintf(serial, sizeof(serial), "WX-L42-%06u", seq + 1);
        snprintf(log, sizeof(log), "logs/%lld/%u.log", (long long)run, seq);
        e.serial_number = seq == 3 ? NULL : serial;
        e.log_path = seq == 3 ? NULL : log;
        e.boot_result = seq == 3 ? NULL : boots[seq % 3];
        e.boot_line = seq == 3 ? NULL : seq == 1 ? "Guru Meditation Error: Core 0 panic'ed" : "";
        e.boot_tail = seq == 3 ? NULL : "rst:0x1 (POWERON)\nboot:0x8\nI (312) app: ready\n";
        assert_int_equal(eg_store_attempt_finished(s, &e), 0);
    }
    /* Refused before anything is queued: an unknown boot result, an empty serial. */
    eg_store_attempt_end bad = {0};
    bad.run_id = run;
    bad.seq = 0;
    bad.result = EG_RESULT_PASS;
    bad.boot_result = "ok";
    bad.device_status = -1;
    assert_int_equal(eg_store_attempt_finished(s, &bad), EG_EINVAL);
    assert_msg_has("boot result 'ok' is not pass, fail or timeout");
    bad.boot_result = NULL;
    bad.serial_number = "";
    assert_int_equal(eg_store_attempt_finished(s, &bad), EG_EINVAL);
    assert_msg_has("an empty serial number");
    bad.serial_number = NULL;
    bad.failed_step = "reboot";
    assert_int_equal(eg_store_attempt_finished(s, &bad), EG_EINVAL);
    assert_msg_has("'reboot' is not a step");
    assert_int_equal(eg_store_writer_stop(s, run, 1700000009000), 0);

    assert_string_equal(eg_store_step_names[EG_STORE_STEPS - 1], "boot");
    for (int brief = 0; brief < 2; brief++) {
        memset(&c, 0, sizeof(c));
        assert_int_equal(
            eg_store_attempts_each(s, NULL, brief ? EG_STORE_EACH_BRIEF : 0, seen_fn, &c), 0);
        assert_int_equal(c.n, 4);
        assert_string_equal(c.slot_label[0], "left pogo");
        assert_string_equal(c.slot_label[3], "(null)");
        assert_string_equal(c.serial[2], "WX-L42-000003");
        assert_string_equal(c.serial[3], "(null)");
        char want[64];
        snprintf(want, sizeof(want), "logs/%lld/1.log", (long long)run);
        assert_string_equal(c.log[1], want);
        assert_string_equal(c.boot[0], "pass");
        assert_string_equal(c.boot[1], "fail");
        assert_string_equal(c.boot[2], "timeout");
        assert_string_equal(c.boot[3], "(null)");
        assert_string_equal(c.boot_line[1], "Guru Meditation Error: Core 0 panic'ed");
        assert_string_equal(c.boot_line[0], "(null)"); /* "" is stored as none */
        assert_string_equal(c.boot_tail[2], "rst:0x1 (POWERON)\nboot:0x8\nI (312) app: ready\n");
        assert_string_equal(c.step[1], "boot");
        assert_int_equal(c.ms[2][7], brief ? -1 : 702);
    }
    /* Without regions; and one attempt's regions on their own. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(eg_store_attempts_each(s, NULL, EG_STORE_EACH_NO_REGIONS, seen_fn, &c), 0);
    assert_int_equal(c.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(c.n_regions[i], 0);
    assert_string_equal(c.serial[1], "WX-L42-000002");
    eg_store_close(s);
    assert_int_equal(sql_int(path, "SELECT ms_boot FROM attempts WHERE seq = 3"), 703);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE boot_result IS NULL"), 1);
    /* The schema refuses a boot result of its own accord too. */
    assert_int_equal(sql_exec(path, "UPDATE attempts SET boot_result = 'maybe' WHERE seq = 0"), -1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts WHERE boot_result = 'pass'"), 1);
}

/* Serial numbers rendered "<prefix><seq:06>" (ctx: the prefix). */
static int render_serial(char *dst, size_t len, int64_t seq, void *ctx)
{
    int n = snprintf(dst, len, "%s%06lld", (const char *)ctx, (long long)seq);
    if (n < 0 || (size_t)n >= len)
        return eg_error_set(EG_EINVAL, "serial number too long");
    return 0;
}

/* A render that says no. */
static int render_fails(char *dst, size_t len, int64_t seq, void *ctx)
{
    (void)dst;
    (void)len;
    (void)ctx;
    return eg_error_set(EG_EINVAL, "template field {lot} has no value for number %lld",
                        (long long)seq);
}

/* A render that ignores the number: every device the same serial. */
static int render_fixed(char *dst, size_t len, int64_t seq, void *ctx)
{
    (void)seq;
    snprintf(dst, len, "%s", (const char *)ctx);
    return 0;
}

#define SERIAL_MACS    1000 /* the brief's figure */
#define SERIAL_THREADS 8
#define SERIAL_START   1001
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SERIAL_WORST_MS 30000
#else
#define SERIAL_WORST_MS 3000
#endif

typedef struct serial_worker {
    eg_store *s;
    unsigned id;
    int rc;
    char msg[256];
    char got[SERIAL_MACS][24]; /* what this thread was given per MAC ("" when not asked) */
    int fresh;                 /* numbers this thread allocated */
    int64_t worst_ms, total_ms;
    int calls;
} serial_worker;

static void *serial_work(void *arg)
{
    serial_worker *w = arg;
    uint32_t x = 7919u * (w->id + 1);
    /* 400 allocations over MACs chosen at random (repeats within and across threads),
     * then a sweep over this thread's share so every MAC is asked at least once. */
    for (unsigned k = 0; k < 400 + SERIAL_MACS / SERIAL_THREADS && w->rc == 0; k++) {
        x = x * 1103515245u + 12345;
        unsigned m = k < 400 ? (x >> 8) % SERIAL_MACS : (k - 400) * SERIAL_THREADS + w->id;
        char mac[18], out[24];
        int existing = -1;
        fake_mac(mac, m);
        int64_t t0 = wall_now_ms();
        int rc = eg_store_serial(out, sizeof(out), &existing, w->s, "WX-L42-{seq:06}", mac,
                                 SERIAL_START, render_serial, "WX-L42-");
        int64_t took = wall_now_ms() - t0;
        if (took > w->worst_ms)
            w->worst_ms = took;
        w->total_ms += took;
        w->calls++;
        if (rc < 0) {
            w->rc = rc;
            snprintf(w->msg, sizeof(w->msg), "%s", eg_error_msg());
            break;
        }
        if (w->got[m][0] && strcmp(w->got[m], out) != 0) {
            w->rc = -100;
            snprintf(w->msg, sizeof(w->msg), "MAC %u: %s, then %s", m, w->got[m], out);
        }
        if (w->got[m][0] && !existing) {
            w->rc = -101;
            snprintf(w->msg, sizeof(w->msg), "MAC %u allocated twice", m);
        }
        snprintf(w->got[m], sizeof(w->got[m]), "%s", out);
        w->fresh += !existing;
    }
    return NULL;
}

/* Queues attempts while serial numbers are allocated (20,000 at most): the writer holds
 * the file often. */
typedef struct writer_load {
    eg_store *s;
    int64_t run;
    atomic_int stop;
    unsigned n;
} writer_load;

static void *writer_load_main(void *arg)
{
    writer_load *l = arg;
    while (!atomic_load(&l->stop) && l->n < 20000) {
        if (start(l->s, l->run, l->n) < 0 || finish(l->s, l->run, l->n, 3) < 0)
            break;
        l->n++;
        if (l->n % 64 == 0)
            sleep_ms(1);
    }
    return NULL;
}

static void test_serial_threads(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "serial.db");
    serial_worker *w = calloc(SERIAL_THREADS, sizeof(*w));
    pthread_t th[SERIAL_THREADS], load_th;
    eg_store *s = NULL;
    writer_load load = {0};

    assert_non_null(w);
    assert_int_equal(eg_store_open(&s, path), 0);
    eg_store_run_info info = fake_run("L42", 1700000000000);
    assert_int_equal(eg_store_run_begin(&load.run, s, &info), 0);
    assert_int_equal(eg_store_writer_start(s), 0);
    load.s = s;
    assert_int_equal(pthread_create(&load_th, NULL, writer_load_main, &load), 0);
    for (unsigned i = 0; i < SERIAL_THREADS; i++) {
        w[i].s = s;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, serial_work, &w[i]), 0);
    }
    int fresh = 0, calls = 0;
    int64_t worst = 0, total = 0;
    for (unsigned i = 0; i < SERIAL_THREADS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc)
            fail_msg("thread %u: %s", i, w[i].msg);
        fresh += w[i].fresh;
        calls += w[i].calls;
        total += w[i].total_ms;
        if (w[i].worst_ms > worst)
            worst = w[i].worst_ms;
    }
    atomic_store(&load.stop, 1);
    pthread_join(load_th, NULL);
    assert_int_equal(eg_store_writer_stop(s, load.run, 1700000009000), 0);
    eg_store_close(s);

    /* Every MAC one number, every number one MAC, numbers dense from the start. */
    assert_int_equal(fresh, SERIAL_MACS);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM serial_numbers"), SERIAL_MACS);
    assert_int_equal(sql_int(path, "SELECT count(DISTINCT mac) FROM serial_numbers"), SERIAL_MACS);
    assert_int_equal(sql_int(path, "SELECT count(DISTINCT serial) FROM serial_numbers"),
                     SERIAL_MACS);
    assert_int_equal(sql_int(path, "SELECT min(seq) FROM serial_numbers"), SERIAL_START);
    assert_int_equal(sql_int(path, "SELECT max(seq) FROM serial_numbers"),
                     SERIAL_START + SERIAL_MACS - 1);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM serial_numbers WHERE serial != "
                                   "'WX-L42-' || substr('000000' || seq, -6)"),
                     0);
    /* What each thread was told is what the store holds. */
    for (unsigned i = 0; i < SERIAL_THREADS; i++)
        for (unsigned m = 0; m < SERIAL_MACS; m++) {
            if (!w[i].got[m][0])
                continue;
            char mac[18], sql[256];
            fake_mac(mac, m);
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM serial_numbers WHERE mac = '%s' AND serial = '%s'", mac,
                     w[i].got[m]);
            if (sql_int(path, sql) != 1)
                fail_msg("thread %u was told %s for %s", i, w[i].got[m], mac);
        }
    /* The writer went on meanwhile, and no allocation waited long for it. */
    assert_true(load.n > 0);
    assert_int_equal(sql_int(path, "SELECT count(*) FROM attempts"), load.n);
    /* Milliseconds as a rule (figures printed below); seconds would be a stall (ten
     * times that under a sanitizer, which slows the writer's every batch). */
    if (worst > SERIAL_WORST_MS)
        fail_msg("an allocation took %lld ms", (long long)worst);
    print_message("serial numbers: %d calls (%d allocations) from %d threads beside %u "
                  "attempts: %.2f ms a call on average, the slowest %lld ms\n",
                  calls, fresh, SERIAL_THREADS, load.n, (double)total / calls, (long long)worst);
    assert_string_equal(integrity(path), "ok");
    free(w);
}

/* One of two processes allocating for the same MACs at once. */
static void child_serials(const char *path, unsigned first, const char *out_path)
{
    eg_store *s = NULL;
    FILE *f = fopen(out_path, "w");
    if (!f || eg_store_open(&s, path) < 0)
        _exit(5);
    for (unsigned m = first; m < first + 300; m++) {
        char mac[18], out[24];
        int existing;
        fake_mac(mac, m);
        if (eg_store_serial(out, sizeof(out), &existing, s, "S-{seq}", mac, 1, render_serial,
                            "S-") < 0) {
            fprintf(stderr, "child: %s\n", eg_error_msg());
            _exit(6);
        }
        fprintf(f, "%s %s\n", mac, out);
    }
    eg_store_close(s);
    _exit(fclose(f) == 0 ? 0 : 7);
}

static void test_serial_two_processes(void **state)
{
    tdir *d = *state;
    char path[128], outs[2][128];
    eg_store *s = NULL;
    pid_t pid[2];

    snprintf(path, sizeof(path), "%s", in_dir(d, "serial2.db"));
    assert_int_equal(eg_store_open(&s, path), 0); /* made before, as a station does */
    eg_store_close(s);
    for (int i = 0; i < 2; i++) {
        snprintf(outs[i], sizeof(outs[i]), "%s", in_dir(d, i ? "out1.txt" : "out0.txt"));
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0)
            child_serials(path, i ? 150 : 0, outs[i]); /* MACs 150-299 both */
    }
    for (int i = 0; i < 2; i++) {
        int status;
        assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("process %d failed (status 0x%x)", i, status);
    }
    assert_int_equal(sql_int(path, "SELECT count(*) FROM serial_numbers"), 450);
    assert_int_equal(sql_int(path, "SELECT count(DISTINCT mac) FROM serial_numbers"), 450);
    assert_int_equal(sql_int(path, "SELECT max(seq) - min(seq) + 1 FROM serial_numbers"), 450);
    assert_int_equal(sql_int(path, "SELECT min(seq) FROM serial_numbers"), 1);
    /* Both processes were told the same number for the MACs they share. */
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(outs[i], "r");
        char mac[18], serial[24], sql[256];
        int n = 0;
        assert_non_null(f);
        while (fscanf(f, "%17s %23s", mac, serial) == 2) {
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM serial_numbers WHERE mac = '%s' AND serial = '%s'", mac,
                     serial);
            if (sql_int(path, sql) != 1)
                fail_msg("process %d was told %s for %s", i, serial, mac);
            n++;
        }
        fclose(f);
        assert_int_equal(n, 300);
    }
}

static void test_serial_again_and_bad(void **state)
{
    tdir *d = *state;
    const char *path = in_dir(d, "serial3.db");
    eg_store *s = NULL;
    char out[32], first[32], tiny[8];
    int existing = -1;
    const char *mac = "24:0a:c4:00:00:01", *mac2 = "24:0a:c4:00:00:02";

    assert_int_equal(eg_store_open(&s, path), 0);
    /* Without the writer too; the first of a series is its start. */
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "A-{seq}", mac, 42, render_serial, "A-"),
        0);
    assert_string_equal(out, "A-000042");
    assert_int_equal(existing, 0);
    snprintf(first, sizeof(first), "%s", out);
    /* The same MAC again: the same number, said to exist; nothing new stored. */
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "A-{seq}", mac, 42, render_serial, "A-"),
        0);
    assert_string_equal(out, first);
    assert_int_equal(existing, 1);
    /* Another series is counted apart. */
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "B-{seq}", mac, 1, render_serial, "B-"), 0);
    assert_string_equal(out, "B-000001");
    /* Another MAC: the next number (start no longer matters). */
    assert_int_equal(
        eg_store_serial(out, sizeof(out), NULL, s, "A-{seq}", mac2, 7, render_serial, "A-"), 0);
    assert_string_equal(out, "A-000043");

    /* A render that fails: its message, prefixed; nothing stored. */
    const char *mac3 = "24:0a:c4:00:00:03";
    existing = -1;
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "A-{seq}", mac3, 1, render_fails, NULL),
        EG_EINVAL);
    assert_msg_has("serial number 44 of series 'A-{seq}': template field {lot} has no value");
    assert_string_equal(out, "");
    assert_int_equal(existing, 0);
    /* A render that collides with a number given before: named, nothing stored. */
    assert_int_equal(eg_store_serial(out, sizeof(out), &existing, s, "C-{seq}", mac3, 1,
                                     render_fixed, "A-000042"),
                     EG_EINVAL);
    assert_msg_has("serial number 'A-000042' (number 1 of series 'C-{seq}') is already given: "
                   "it is number 42 of series 'A-{seq}', device 24:0a:c4:00:00:01");
    assert_string_equal(out, "");
    /* A render that gives nothing. */
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "D", mac3, 1, render_fixed, ""), EG_EINVAL);
    assert_msg_has("serial number 1 of series 'D' rendered as nothing");
    assert_int_equal(sql_int(path, "SELECT count(*) FROM serial_numbers"), 3);
    /* The failures took no number: the next is still 44. */
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "A-{seq}", mac3, 1, render_serial, "A-"),
        0);
    assert_string_equal(out, "A-000044");

    /* Bad arguments. */
    assert_int_equal(eg_store_serial(out, sizeof(out), &existing, s, "A", "24:0A:C4:00:00:01", 1,
                                     render_serial, "A-"),
                     EG_EINVAL);
    assert_msg_has("MAC address '24:0A:C4:00:00:01' is not aa:bb:cc:dd:ee:ff");
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "", mac, 1, render_serial, "A-"),
        EG_EINVAL);
    assert_msg_has("needs a series");
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "A", mac, -1, render_serial, "A-"),
        EG_EINVAL);
    assert_msg_has("cannot start at -1");
    assert_int_equal(eg_store_serial(out, sizeof(out), &existing, s, "A", mac, 1, NULL, NULL),
                     EG_EINVAL);
    /* A stored serial longer than the room given. */
    assert_int_equal(
        eg_store_serial(tiny, sizeof(tiny), &existing, s, "A-{seq}", mac, 1, render_serial, "A-"),
        EG_EINVAL);
    assert_msg_has("is longer than the 8 bytes given for it");
    assert_string_equal(tiny, "");
    eg_store_close(s);

    /* Kept across opens; the file is whole. */
    assert_int_equal(eg_store_open(&s, path), 0);
    assert_int_equal(
        eg_store_serial(out, sizeof(out), &existing, s, "A-{seq}", mac2, 1, render_serial, "A-"),
        0);
    assert_string_equal(out, "A-000043");
    assert_int_equal(existing, 1);
    eg_store_device dev;
    assert_int_equal(eg_store_device_get(&dev, s, mac), 0);
    assert_int_equal(dev.known, 0); /* given numbers, never recorded in an attempt */
    assert_int_equal(dev.n_serials, 2);
    assert_string_equal(dev.serials[0].serial, "A-000042");
    assert_string_equal(dev.serials[1].series, "B-{seq}");
    eg_store_device_release(&dev);
    assert_int_equal(eg_store_device_get(&dev, s, "nonsense"), EG_EINVAL);
    eg_store_device_release(&dev);
    eg_store_device_release(NULL);
    eg_store_close(s);
    assert_string_equal(integrity(path), "ok");
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
        cmocka_unit_test_setup_teardown(test_migrate_v1_records, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_factory_fields, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_serial_threads, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_serial_two_processes, tdir_setup, tdir_teardown),
        cmocka_unit_test_setup_teardown(test_serial_again_and_bad, tdir_setup, tdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
