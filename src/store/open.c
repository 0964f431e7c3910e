/* Opening the records store: the file, its schema version and migrations, the check
 * that it can be written, and the sweep that ends the attempts of processes that are
 * gone. */
#include "store/priv.h"

#include "core/clock.h"
#include "core/error.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a statement waits for another process's lock before it fails. */
#define EG_STORE_BUSY_MS 10000

int eg_store_db_error(const eg_store *s, const char *what)
{
    int sys = sqlite3_system_errno(s->db);
    int code = sqlite3_extended_errcode(s->db);
    if (sys != 0 && (code & 0xff) != SQLITE_CONSTRAINT)
        return eg_error_set(EG_EIO, "records store '%s': %s: %s (%s)", s->path, what,
                            sqlite3_errmsg(s->db), eg_strerror(sys));
    return eg_error_set(EG_EIO, "records store '%s': %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int eg_store_exec(eg_store *s, const char *sql, const char *what)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return eg_store_db_error(s, what);
    return 0;
}

/* Runs sql and returns its single integer result in *out. */
static int query_int(int64_t *out, eg_store *s, const char *sql, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    *out = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(s, what);
        goto done;
    }
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE)
        rc = eg_store_db_error(s, what);
done:
    sqlite3_finalize(st);
    return rc;
}

/* Runs sql and returns the two integers of its single row. */
static int query_int2(int64_t *a, int64_t *b, eg_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;

    *a = *b = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *a = sqlite3_column_int64(st, 0);
        *b = sqlite3_column_int64(st, 1);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc < 0 ? EG_EIO : 0;
}

/* Puts the store in WAL mode (it stays so). Switching needs the file to itself, which
 * the busy timeout does not wait for: while another process opens the same new store,
 * it is tried again. */
static int set_wal(eg_store *s)
{
    int64_t deadline = eg_clock_ms() + EG_STORE_BUSY_MS;
    sqlite3_stmt *st = NULL;
    int rc = 0;

    for (;;) {
        int step = SQLITE_ERROR;
        if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK)
            step = sqlite3_step(st);
        const char *mode = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
        if (mode && strcmp(mode, "wal") == 0)
            break;
        int code = sqlite3_errcode(s->db) & 0xff;
        if (mode && eg_clock_ms() > deadline) {
            rc = eg_error_set(EG_EIO,
                              "records store '%s': cannot switch to WAL: the journal "
                              "stays '%s'",
                              s->path, mode);
            break;
        }
        if (!mode && ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || eg_clock_ms() > deadline)) {
            rc = eg_store_db_error(s, "cannot switch to WAL");
            break;
        }
        sqlite3_finalize(st);
        st = NULL;
        eg_sleep_ms(10);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The message for a file that SQLite cannot read as a database. */
static int not_readable(eg_store *s)
{
    int code = sqlite3_errcode(s->db);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return eg_error_set(EG_EINVAL, "'%s' is not an SQLite database (%s)", s->path,
                            sqlite3_errmsg(s->db));
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN)
        return eg_error_set(EG_EIO,
                            "records store '%s' is read-only, or its folder is, where its "
                            "journal goes: %s",
                            s->path, sqlite3_errmsg(s->db));
    return eg_store_db_error(s, "cannot read it");
}

int eg_store_migrate(int *out_from, sqlite3 *db, const char *path, const eg_store_migration *m,
                     size_t n)
{
    eg_store tmp = {.path = (char *)path, .db = db};
    int64_t from = 0, tables = 0;
    int last = n ? m[n - 1].version : 0, rc;
    char pragma[64];

    if (out_from)
        *out_from = 0;
    if ((rc = eg_store_exec(&tmp, "BEGIN IMMEDIATE", "cannot start a transaction")) < 0)
        return rc;
    if ((rc = query_int(&from, &tmp, "PRAGMA user_version", "reading its schema version")) < 0)
        goto done;
    if (out_from)
        *out_from = (int)from;
    if (from > last) {
        rc = eg_error_set(EG_EINVAL,
                          "'%s' was written by a newer espgang (schema %lld, this one knows %d)",
                          path, (long long)from, last);
        goto done;
    }
    if (from == 0) {
        if ((rc = query_int(&tables, &tmp, "SELECT count(*) FROM sqlite_master",
                            "reading its tables")) < 0)
            goto done;
        if (tables > 0) {
            rc = eg_error_set(EG_EINVAL,
                              "'%s' is an SQLite database but not an espgang records store "
                              "(it has tables and no schema version)",
                              path);
            goto done;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i].version <= from)
            continue;
        if (sqlite3_exec(db, m[i].sql, NULL, NULL, NULL) != SQLITE_OK) {
            rc = eg_error_set(EG_EIO, "records store '%s': migrating to schema %d (%s): %s", path,
                              m[i].version, m[i].name, sqlite3_errmsg(db));
            goto done;
        }
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m[i].version);
        if ((rc = eg_store_exec(&tmp, pragma, "setting its schema version")) < 0)
            goto done;
    }
    rc = eg_store_exec(&tmp, "COMMIT", "committing the migration");
done:
    if (rc < 0 && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Ends what processes of this host that no longer exist left open: their 'running'
 * attempts become 'interrupted' and their runs end at the last time they recorded. */
static int sweep(eg_store *s)
{
    sqlite3_stmt *pids = NULL, *att = NULL, *run = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT DISTINCT pid FROM runs WHERE host = ?1 AND ended_ms IS NULL", -1,
                           &pids, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "UPDATE attempts SET result = 'interrupted' WHERE result = 'running' "
                           "AND run_id IN (SELECT id FROM runs WHERE host = ?1 AND pid = ?2 "
                           "AND ended_ms IS NULL)",
                           -1, &att, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "UPDATE runs SET ended_ms = max(started_ms, COALESCE((SELECT "
                           "max(COALESCE(a.ended_ms, a.started_ms)) FROM attempts a "
                           "WHERE a.run_id = runs.id), started_ms)) "
                           "WHERE host = ?1 AND pid = ?2 AND ended_ms IS NULL",
                           -1, &run, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(s, "preparing the sweep of interrupted runs");
        goto done;
    }
    if ((rc = eg_store_exec(s, "BEGIN IMMEDIATE", "cannot start a transaction")) < 0)
        goto done;
    sqlite3_bind_text(pids, 1, s->host, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(pids)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(pids, 0);
        if (pid <= 0 || pid > INT32_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge) */
        sqlite3_stmt *both[2] = {att, run};
        for (int i = 0; i < 2; i++) {
            sqlite3_reset(both[i]);
            sqlite3_bind_text(both[i], 1, s->host, -1, SQLITE_STATIC);
            sqlite3_bind_int64(both[i], 2, pid);
            if (sqlite3_step(both[i]) != SQLITE_DONE) {
                rc = eg_store_db_error(s, "marking the attempts of a process that is gone");
                goto done;
            }
        }
    }
    if (step != SQLITE_DONE) {
        rc = eg_store_db_error(s, "reading the runs left open");
        goto done;
    }
    rc = eg_store_exec(s, "COMMIT", "committing the sweep of interrupted runs");
done:
    if (rc < 0 && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_finalize(pids);
    sqlite3_finalize(att);
    sqlite3_finalize(run);
    return rc;
}

static int probe_write(eg_store *s, int last)
{
    int64_t now = 0;
    char pragma[64];
    int rc;

    if ((rc = eg_store_exec(s, "BEGIN IMMEDIATE", "cannot write to it")) < 0)
        return rc;
    if ((rc = query_int(&now, s, "PRAGMA user_version", "reading its schema version")) < 0)
        goto done;
    if (now != last) {
        rc = eg_error_set(EG_EINVAL,
                          "'%s' was written by a newer espgang (schema %lld, this one knows %d)",
                          s->path, (long long)now, last);
        goto done;
    }
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", last);
    if ((rc = eg_store_exec(s, pragma, "cannot write to it")) < 0)
        goto done;
    rc = eg_store_exec(s, "COMMIT", "cannot write to it");
done:
    if (rc < 0 && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Opens path for writing (creating it) or for reading; the checks and migration
 * common to both. */
static int open_db(eg_store **out, const char *path, int write)
{
    eg_store *s = NULL;
    struct stat st;
    int64_t version = 0;
    int rc = 0, from = 0;
    int last = (int)eg_store_n_migrations;

    *out = NULL;
    if (!path || !*path)
        return eg_error_set(EG_EINVAL, "no records store path given");
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return eg_error_set(EG_EINVAL, "records store '%s' is not a regular file", path);
        if (write && access(path, W_OK) != 0)
            return eg_error_set(EG_EIO,
                                "records store '%s' is read-only (%s): records could not be "
                                "written",
                                path, eg_strerror(errno));
    } else if (errno != ENOENT || !write) {
        return eg_error_set(errno == ENOENT ? EG_ENOTFOUND : EG_EIO,
                            "cannot open records store '%s': %s", path, eg_strerror(errno));
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = eg_error_set(EG_ENOMEM, "cannot create a mutex");
        goto done;
    }
    s->mu_ok = 1;
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        rc = eg_error_set(EG_ENOMEM, "cannot create a condition variable");
        goto done;
    }
    s->cv_ok = 1;
    if (pthread_cond_init(&s->scv, NULL) != 0) {
        rc = eg_error_set(EG_ENOMEM, "cannot create a condition variable");
        goto done;
    }
    s->scv_ok = 1;
    if (gethostname(s->host, sizeof(s->host) - 1) != 0)
        snprintf(s->host, sizeof(s->host), "unknown");
    /* The connection is used by one thread at a time (the owner, or the writer while
     * it runs), handed over by pthread_create and pthread_join. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (write ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        rc = s->db ? eg_store_db_error(s, "cannot open it")
                   : eg_error_set(EG_ENOMEM, "out of memory opening '%s'", path);
        goto done;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, EG_STORE_BUSY_MS);

    /* Read before anything is written: a file that is not ours stays as it is. One
     * statement, so that both come from one snapshot while another process may be
     * creating the same store. */
    int64_t tables = 0;
    if ((rc = query_int2(&version, &tables, s,
                         "SELECT (SELECT user_version FROM pragma_user_version), "
                         "(SELECT count(*) FROM sqlite_master)")) < 0) {
        rc = not_readable(s);
        goto done;
    }
    if (version > last) {
        rc = eg_error_set(EG_EINVAL,
                          "'%s' was written by a newer espgang (schema %lld, this one knows %d)",
                          path, (long long)version, last);
        goto done;
    }
    if (version == 0 && tables > 0) {
        /* Someone else's database is refused before it is touched (the migration
         * checks it again under its lock). */
        rc = eg_error_set(EG_EINVAL,
                          "'%s' is an SQLite database but not an espgang records store "
                          "(it has tables and no schema version)",
                          path);
        goto done;
    }
    int readonly = sqlite3_db_readonly(s->db, "main") == 1;
    if (write && readonly) {
        rc = eg_error_set(EG_EIO,
                          "records store '%s' is read-only: records could not be written "
                          "(check its permissions)",
                          path);
        goto done;
    }
    if (!write && version == 0) {
        rc = eg_error_set(EG_EINVAL, "'%s' is not an espgang records store (no schema version)",
                          path);
        goto done;
    }
    if (!write && version < last && readonly) {
        rc = eg_error_set(EG_EIO,
                          "records store '%s' has schema %lld and is read-only: it cannot be "
                          "brought to schema %d",
                          path, (long long)version, last);
        goto done;
    }
    if (write || version < last) {
        if ((rc = set_wal(s)) < 0)
            goto done;
        if ((rc = eg_store_migrate(&from, s->db, path, eg_store_migrations,
                                   eg_store_n_migrations)) < 0)
            goto done;
    }
    /* WAL with a sync at every commit: what is committed survives a power cut; the
     * writer commits in batches, so this costs one sync per batch. */
    if ((rc = eg_store_exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
                            "setting it up")) < 0)
        goto done;
    if (write) {
        /* Write now, so that a full disk or a folder where the journal cannot be made
         * is refused before any board is touched: the schema version, written again
         * under the write lock once it is read again (a newer espgang may have
         * migrated the file since). */
        if ((rc = probe_write(s, last)) < 0)
            goto done;
        if ((rc = sweep(s)) < 0)
            goto done;
    } else {
        /* A reader that can write ends what dead processes left running too, so a
         * report never shows them as running. */
        if (!readonly && (rc = sweep(s)) < 0)
            goto done;
        if ((rc = eg_store_exec(s, "PRAGMA query_only = 1; PRAGMA mmap_size = 17179869184",
                                "setting it up")) < 0)
            goto done;
    }
done:
    if (rc < 0) {
        eg_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int eg_store_open(eg_store **out, const char *path)
{
    return open_db(out, path, 1);
}

int eg_store_open_read(eg_store **out, const char *path)
{
    return open_db(out, path, 0);
}

const char *eg_store_path(const eg_store *s)
{
    return s->path;
}

void eg_store_close(eg_store *s)
{
    if (!s)
        return;
    eg_store_writer_join(s);
    eg_store_writer_free(s);
    eg_store_serial_close(s);
    if (s->db)
        sqlite3_close(s->db);
    if (s->cv_ok)
        pthread_cond_destroy(&s->cv);
    if (s->scv_ok)
        pthread_cond_destroy(&s->scv);
    if (s->mu_ok)
        pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}
