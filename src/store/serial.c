/* Serial numbers: one per device (by MAC) and series, allocated in one IMMEDIATE
 * transaction on a connection of their own, so that a worker thread gets its number
 * while the writer thread runs, and two processes on one file never hand out the same
 * number. */
#include "store/priv.h"

#include "core/clock.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

/* Another connection holding the file is tried again every millisecond, for 10 s. */
#define SERIAL_BUSY_TRIES 10000

static int busy_wait(void *ctx, int count)
{
    (void)ctx;
    if (count >= SERIAL_BUSY_TRIES)
        return 0;
    eg_sleep_ms(1);
    return 1;
}

/* The connection, opened at the first allocation (by the allocation being served). */
static int serial_db(eg_store *s)
{
    eg_store tmp = {.path = s->path};

    if (s->sdb)
        return 0;
    if (sqlite3_open_v2(s->path, &tmp.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        int rc = tmp.db ? eg_store_db_error(&tmp, "opening it for serial numbers")
                        : eg_error_set(EG_ENOMEM, "out of memory");
        sqlite3_close(tmp.db);
        return rc;
    }
    sqlite3_extended_result_codes(tmp.db, 1);
    sqlite3_busy_handler(tmp.db, busy_wait, NULL);
    if (sqlite3_exec(tmp.db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = eg_store_db_error(&tmp, "opening it for serial numbers");
        sqlite3_close(tmp.db);
        return rc;
    }
    s->sdb = tmp.db;
    return 0;
}

void eg_store_serial_close(eg_store *s)
{
    if (s->sdb)
        sqlite3_close(s->sdb);
    s->sdb = NULL;
}

/* Runs sql with ?1 and ?2 bound to a and b (b may be NULL: unbound). *row is 1 and
 * *st holds the row when there is one (the caller finalizes *st). */
static int query(sqlite3_stmt **st, int *row, eg_store *s, const char *sql, const char *a,
                 const char *b, const char *what)
{
    eg_store tmp = {.path = s->path, .db = s->sdb};

    *row = 0;
    if (sqlite3_prepare_v2(s->sdb, sql, -1, st, NULL) != SQLITE_OK)
        return eg_store_db_error(&tmp, what);
    sqlite3_bind_text(*st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(*st, 2, b, -1, SQLITE_STATIC);
    int step = sqlite3_step(*st);
    if (step == SQLITE_ROW)
        *row = 1;
    else if (step != SQLITE_DONE)
        return eg_store_db_error(&tmp, what);
    return 0;
}

/* The serial the device has in the series, into out; *found 0 when none. */
static int serial_of(int *found, char *out, size_t out_len, eg_store *s, const char *series,
                     const char *mac)
{
    sqlite3_stmt *st = NULL;
    int rc =
        query(&st, found, s, "SELECT serial FROM serial_numbers WHERE series = ?1 AND mac = ?2",
              series, mac, "reading serial numbers");
    if (rc == 0 && *found) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        size_t n = v ? (size_t)sqlite3_column_bytes(st, 0) : 0;
        if (n + 1 > out_len)
            rc = eg_error_set(EG_EINVAL,
                              "records store '%s': the serial number of %s in series '%s' "
                              "('%s') is longer than the %zu bytes given for it",
                              s->path, mac, series, v ? v : "", out_len);
        else
            memcpy(out, v ? v : "", n + 1);
    }
    sqlite3_finalize(st);
    return rc;
}

/* In the write transaction: a new number for mac, rendered, checked and stored. */
static int allocate(char *out, size_t out_len, eg_store *s, const char *series, const char *mac,
                    int64_t start, eg_store_serial_render render, void *ctx)
{
    eg_store tmp = {.path = s->path, .db = s->sdb};
    sqlite3_stmt *st = NULL;
    int64_t seq = start;
    int rc, row;

    if ((rc = query(&st, &row, s, "SELECT max(seq) FROM serial_numbers WHERE series = ?1", series,
                    NULL, "reading serial numbers")) < 0)
        goto done;
    if (row && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t last = sqlite3_column_int64(st, 0);
        if (last == INT64_MAX) {
            rc = eg_error_set(EG_EINVAL, "records store '%s': series '%s' has no numbers left",
                              s->path, series);
            goto done;
        }
        seq = last + 1;
    }
    sqlite3_finalize(st);
    st = NULL;

    out[0] = '\0';
    eg_error_clear(); /* a render that fails without a message gets its code's name */
    if ((rc = render(out, out_len, seq, ctx)) < 0) {
        eg_error_prefix(rc, "serial number %lld of series '%s': ", (long long)seq, series);
        goto done;
    }
    if (!memchr(out, '\0', out_len) || !out[0]) {
        rc = eg_error_set(EG_EINVAL, "serial number %lld of series '%s' rendered as nothing",
                          (long long)seq, series);
        goto done;
    }
    /* A serial that another number already has (another series rendering the same
     * text, or a format that ignores the sequence number) is refused by name. */
    if ((rc = query(&st, &row, s, "SELECT series, seq, mac FROM serial_numbers WHERE serial = ?1",
                    out, NULL, "reading serial numbers")) < 0)
        goto done;
    if (row) {
        rc = eg_error_set(EG_EINVAL,
                          "serial number '%s' (number %lld of series '%s') is already given: "
                          "it is number %lld of series '%s', device %s",
                          out, (long long)seq, series, (long long)sqlite3_column_int64(st, 1),
                          (const char *)sqlite3_column_text(st, 0),
                          (const char *)sqlite3_column_text(st, 2));
        goto done;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->sdb,
                           "INSERT INTO serial_numbers (series, seq, serial, mac, allocated_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(&tmp, "storing a serial number");
        goto done;
    }
    sqlite3_bind_text(st, 1, series, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, out, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, mac, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, eg_clock_unix_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = eg_store_db_error(&tmp, "storing a serial number");
done:
    sqlite3_finalize(st);
    return rc;
}

int eg_store_serial(char *out, size_t out_len, int *existing, eg_store *s, const char *series,
                    const char *mac, int64_t start, eg_store_serial_render render, void *ctx)
{
    eg_store tmp = {.path = s->path};
    int rc = 0, found = 0, waiting = 0;

    if (existing)
        *existing = 0;
    if (!out || out_len < 2)
        return eg_error_set(EG_EINVAL, "records store: no room for a serial number");
    out[0] = '\0';
    if (!series || !*series)
        return eg_error_set(EG_EINVAL, "records store: a serial number needs a series");
    if (!render)
        return eg_error_set(EG_EINVAL, "records store: a serial number needs a way to render it");
    if (start < 0)
        return eg_error_set(EG_EINVAL, "records store: serial numbers cannot start at %lld",
                            (long long)start);
    if (!mac || (rc = eg_store_check_mac(mac)) < 0)
        return mac ? rc : eg_error_set(EG_EINVAL, "records store: a serial number needs a MAC");

    /* One allocation at a time, in the order they came (a ticket: a mutex would let
     * one thread take it again and again while another waits). */
    pthread_mutex_lock(&s->mu);
    unsigned long ticket = s->serial_next++;
    while (s->serial_serving != ticket)
        pthread_cond_wait(&s->scv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if ((rc = serial_db(s)) < 0)
        goto done;
    tmp.db = s->sdb;
    /* A device flashed again reads its number without taking the write lock. */
    if ((rc = serial_of(&found, out, out_len, s, series, mac)) < 0 || found)
        goto done;
    /* Turns: when records are queued and the writer has taken no batch since the last
     * allocation, it takes one first (allocations one after another must not starve
     * it). Then the writer starts no batch while this waits for the file and writes. */
    pthread_mutex_lock(&s->mu);
    s->serial_queued++;
    while (s->head && (s->accepting || s->stopping) && s->batches_taken == s->serial_turn)
        pthread_cond_wait(&s->scv, &s->mu);
    s->serial_queued--;
    s->serial_waiting++;
    pthread_mutex_unlock(&s->mu);
    waiting = 1;
    if ((rc = eg_store_exec(&tmp, "BEGIN IMMEDIATE", "allocating a serial number")) < 0)
        goto done;
    /* Another process may have given this device its number meanwhile. */
    if ((rc = serial_of(&found, out, out_len, s, series, mac)) == 0 && !found)
        rc = allocate(out, out_len, s, series, mac, start, render, ctx);
    if (rc == 0)
        rc = eg_store_exec(&tmp, "COMMIT", "storing a serial number");
done:
    if (s->sdb && !sqlite3_get_autocommit(s->sdb))
        sqlite3_exec(s->sdb, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    if (waiting) {
        s->serial_waiting--;
        s->serial_turn = s->batches_taken;
    }
    s->serial_serving++;
    pthread_cond_broadcast(&s->scv); /* the next allocation */
    pthread_cond_signal(&s->cv);     /* the writer, if it waited for this one */
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        out[0] = '\0';
        found = 0;
    }
    if (existing)
        *existing = found;
    return rc;
}
