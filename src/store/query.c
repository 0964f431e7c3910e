/* Reading the records back: attempts with their regions, and counts, for a filter. */
#include "store/priv.h"

#include "core/buf.h"
#include "core/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcomes[] = {"written", "skipped", "verified", "failed", "pending"};
static const char *const results[] = {"running", "pass", "fail", "canceled", "interrupted"};

static const char *col_text(sqlite3_stmt *st, int i);

/* The WHERE clause for f over attempts called `a`, with the parameters ?1 (run),
 * ?2 (lot) and ?3 (since). The run and the lot narrow through their indexes. The
 * start time does too (as a set of ids that SQLite sorts, so that the rows still come
 * in id order) when it chooses few attempts; when it chooses many, reading every row
 * in order and comparing is faster than a million lookups, and the index is left
 * out (unary +). */
static void where_clause(char *dst, size_t len, const eg_store_filter *f, int since_index)
{
    int n = snprintf(dst, len, "WHERE 1 = 1");
    if (f && f->run_id > 0)
        n += snprintf(dst + n, len - (size_t)n, " AND a.run_id = ?1");
    if (f && f->lot)
        n += snprintf(dst + n, len - (size_t)n,
                      " AND a.run_id IN (SELECT id FROM runs WHERE lot = ?2)");
    if (f && f->has_since && since_index)
        snprintf(dst + n, len - (size_t)n,
                 " AND a.id IN (SELECT id FROM attempts WHERE started_ms >= ?3)");
    else if (f && f->has_since)
        n += snprintf(dst + n, len - (size_t)n, " AND +a.started_ms >= ?3");
    if (f && f->mac)
        snprintf(dst + n, len - (size_t)n, " AND a.mac = ?4");
}

/* Whether f's start time chooses few enough attempts (a quarter at most) for its
 * index; both counts read an index only. */
static int since_uses_index(eg_store *s, const eg_store_filter *f)
{
    sqlite3_stmt *st = NULL;
    int64_t since = 0, all = 0;

    if (!f || !f->has_since)
        return 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT (SELECT count(*) FROM attempts WHERE started_ms >= ?1), "
                           "(SELECT count(*) FROM attempts)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, f->since_ms);
        if (sqlite3_step(st) == SQLITE_ROW) {
            since = sqlite3_column_int64(st, 0);
            all = sqlite3_column_int64(st, 1);
        }
    }
    sqlite3_finalize(st);
    return since * 4 <= all;
}

static void bind_filter(sqlite3_stmt *st, const eg_store_filter *f)
{
    if (!f)
        return;
    if (f->run_id > 0)
        sqlite3_bind_int64(st, 1, f->run_id);
    if (f->lot)
        sqlite3_bind_text(st, 2, f->lot, -1, SQLITE_STATIC);
    if (f->has_since)
        sqlite3_bind_int64(st, 3, f->since_ms);
    if (f->mac)
        sqlite3_bind_text(st, 4, f->mac, -1, SQLITE_STATIC);
}

static int prepare(sqlite3_stmt **out, eg_store *s, const char *sql, const eg_store_filter *f)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
        return eg_store_db_error(s, "preparing a query");
    bind_filter(*out, f);
    return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int64_t col_int_or(sqlite3_stmt *st, int i, int64_t none)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

/* The stored name's index in names, or -1. */
static int name_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Copies a hex digest column into dst (size len incl. the NUL); "" when NULL. */
static void col_hex(char *dst, size_t len, sqlite3_stmt *st, int i)
{
    const char *v = col_text(st, i);
    size_t n = v ? (size_t)sqlite3_column_bytes(st, i) : 0;
    if (n >= len)
        n = len - 1;
    if (n)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

/* What every report shows first, then the rest (EG_STORE_EACH_BRIEF skips it). */
#define ATTEMPT_COLS                                                                               \
    "a.id, a.run_id, a.seq, a.slot, a.port, a.usb_location, a.kind, a.chip, a.revision, a.mac, "   \
    "a.result, a.failed_step, a.error_code, a.error_message, a.started_ms, a.ended_ms, "           \
    "a.slot_label, a.serial_number, a.log_path, a.boot_result, a.boot_line, a.boot_tail"
#define ATTEMPT_N_COLS 22
#define ATTEMPT_MORE_COLS                                                                          \
    ", a.usb_serial, a.flash_id, a.flash_size, a.security_flags, a.flash_encrypted, "              \
    "a.device_status, a.retries, a.ms_connect, a.ms_identify, a.ms_check, a.ms_erase, "            \
    "a.ms_write, a.ms_verify, a.ms_finish, a.ms_boot"
#define ATTEMPT_N_MORE_COLS (7 + EG_STORE_STEPS)
/* With EG_STORE_EACH_RUNS, after the others. */
#define RUN_COLS ", r.station, r.operator_name, r.lot, r.profile_name"

/* The result stored as text, by its first letter (the CHECK constraint allows only
 * these five); -1 otherwise. */
static int result_of(sqlite3_stmt *st, int col)
{
    const char *v = col_text(st, col);
    int r;
    switch (v ? v[0] : 0) {
    case 'r':
        r = EG_RESULT_RUNNING;
        break;
    case 'p':
        r = EG_RESULT_PASS;
        break;
    case 'f':
        r = EG_RESULT_FAIL;
        break;
    case 'c':
        r = EG_RESULT_CANCELED;
        break;
    case 'i':
        r = EG_RESULT_INTERRUPTED;
        break;
    default:
        return -1;
    }
    return strcmp(v, results[r]) == 0 ? r : -1;
}

static const char *const boot_results[] = {"pass", "fail", "timeout"};

/* Fills rec from the attempt row; the strings stay the statement's. */
static int read_attempt(eg_store_attempt_rec *rec, eg_store *s, sqlite3_stmt *st, int brief,
                        int runs)
{
    eg_store_attempt_start *a = &rec->start;
    eg_store_attempt_end *e = &rec->end;
    eg_store_identity *id = &e->identity;

    memset(rec, 0, sizeof(*rec));
    a->run_id = e->run_id = sqlite3_column_int64(st, 1);
    a->seq = e->seq = (unsigned)sqlite3_column_int64(st, 2);
    a->slot = sqlite3_column_int(st, 3);
    a->port = col_text(st, 4);
    a->usb_location = col_text(st, 5);
    a->kind = col_text(st, 6);
    id->chip = col_text(st, 7);
    e->identified = id->chip != NULL;
    if (e->identified) {
        int64_t rev = sqlite3_column_int64(st, 8);
        id->rev_major = (unsigned)(rev / 100);
        id->rev_minor = (unsigned)(rev % 100);
        col_hex(id->mac, sizeof(id->mac), st, 9);
    }
    int r = result_of(st, 10);
    if (r < 0)
        return eg_error_set(EG_EINVAL, "records store '%s': attempt %lld has result '%s'", s->path,
                            (long long)sqlite3_column_int64(st, 0), col_text(st, 10));
    e->result = (eg_store_result)r;
    e->failed_step = col_text(st, 11);
    e->error_code = sqlite3_column_int(st, 12);
    e->message = col_text(st, 13);
    a->started_ms = sqlite3_column_int64(st, 14);
    e->ended_ms = col_int_or(st, 15, -1);
    e->device_status = -1;
    for (int i = 0; i < EG_STORE_STEPS; i++)
        e->step_ms[i] = -1;
    a->slot_label = col_text(st, 16);
    e->serial_number = col_text(st, 17);
    e->log_path = col_text(st, 18);
    if (sqlite3_column_type(st, 19) != SQLITE_NULL) {
        int b = name_index(col_text(st, 19), boot_results, 3);
        if (b < 0)
            return eg_error_set(EG_EINVAL, "records store '%s': attempt %lld has boot result '%s'",
                                s->path, (long long)sqlite3_column_int64(st, 0), col_text(st, 19));
        e->boot_result = boot_results[b];
    }
    e->boot_line = col_text(st, 20);
    e->boot_tail = col_text(st, 21);
    int c = ATTEMPT_N_COLS;
    if (!brief) {
        a->usb_serial = col_text(st, c);
        if (e->identified) {
            id->flash_id = (uint32_t)sqlite3_column_int64(st, c + 1);
            id->flash_size = (uint32_t)sqlite3_column_int64(st, c + 2);
            id->has_security = sqlite3_column_type(st, c + 3) != SQLITE_NULL;
            id->security_flags = (uint32_t)sqlite3_column_int64(st, c + 3);
            id->flash_encrypted = sqlite3_column_int(st, c + 4);
        }
        e->device_status = (int)col_int_or(st, c + 5, -1);
        e->retries = (unsigned)sqlite3_column_int64(st, c + 6);
        for (int i = 0; i < EG_STORE_STEPS; i++)
            e->step_ms[i] = col_int_or(st, c + 7 + i, -1);
        c += ATTEMPT_N_MORE_COLS;
    }
    if (runs) {
        rec->station = col_text(st, c);
        rec->operator_name = col_text(st, c + 1);
        rec->lot = col_text(st, c + 2);
        rec->profile_name = col_text(st, c + 3);
    }
    return 0;
}

/* The contents rows that regions name, kept by id in a small direct-mapped cache: a
 * run writes the same few contents to every board, so nearly every lookup hits. */
#define CONTENT_SLOTS 256

typedef struct content {
    int64_t id; /* 0: empty */
    uint32_t size;
    char *label; /* NULL when none */
    char sha256[65], md5[33];
} content;

typedef struct content_cache {
    sqlite3_stmt *get;
    content slot[CONTENT_SLOTS];
} content_cache;

static void content_cache_free(content_cache *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->get);
    for (int i = 0; i < CONTENT_SLOTS; i++)
        free(c->slot[i].label);
    free(c);
}

static int content_get(const content **out, content_cache *c, eg_store *s, int64_t id)
{
    content *e = &c->slot[(uint64_t)id % CONTENT_SLOTS];
    int rc = 0, step;

    *out = e;
    if (e->id == id && id != 0)
        return 0;
    free(e->label);
    memset(e, 0, sizeof(*e));
    sqlite3_reset(c->get);
    sqlite3_bind_int64(c->get, 1, id);
    step = sqlite3_step(c->get);
    if (step == SQLITE_DONE)
        return eg_error_set(EG_EINVAL,
                            "records store '%s': a region names contents %lld, which "
                            "do not exist",
                            s->path, (long long)id);
    if (step != SQLITE_ROW)
        return eg_store_db_error(s, "reading region contents");
    const char *label = col_text(c->get, 0);
    if (label && *label && !(e->label = strdup(label)))
        rc = eg_error_set(EG_ENOMEM, "out of memory");
    e->size = (uint32_t)sqlite3_column_int64(c->get, 1);
    col_hex(e->sha256, sizeof(e->sha256), c->get, 2);
    col_hex(e->md5, sizeof(e->md5), c->get, 3);
    e->id = rc == 0 ? id : 0;
    sqlite3_reset(c->get);
    return rc;
}

/* The regions are read beside the attempts by a thread of their own, on a connection
 * of its own, and handed over in batches: a report of a million attempts reads four
 * million rows, and the two scans take about as long as each other.
 *
 * Its snapshot starts after the attempts' one, so it holds every region of every
 * attempt that the attempts' snapshot saw ended (an attempt's regions are written
 * with its end, in one transaction, and never change after). It may also hold
 * regions of attempts that ended in between: those are dropped, as the attempt is
 * 'running' in the attempts' snapshot or not in it at all. */
#define BATCH_ITEMS 8192
#define BATCHES     4

/* A queue of batches between a reader thread and the caller: the reader takes empty
 * batches and puts them back full, the caller takes them full, in order, and gives
 * them back. Every batch type starts with a qnode. */
typedef struct qnode {
    struct qnode *next;
} qnode;

typedef struct bqueue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int mu_ok, cv_ok;
    /* Under mu. */
    qnode *full, *full_tail; /* for the caller, oldest first */
    qnode *empty;            /* for the reader to fill */
    int stop;                /* the caller wants no more */
} bqueue;

static int bq_init(bqueue *q)
{
    if (pthread_mutex_init(&q->mu, NULL) != 0)
        return eg_error_set(EG_ENOMEM, "cannot create a mutex");
    q->mu_ok = 1;
    if (pthread_cond_init(&q->cv, NULL) != 0)
        return eg_error_set(EG_ENOMEM, "cannot create a condition variable");
    q->cv_ok = 1;
    return 0;
}

/* Takes an empty batch (NULL once stopped). */
static qnode *bq_take_empty(bqueue *q)
{
    qnode *b = NULL;
    pthread_mutex_lock(&q->mu);
    while (!q->stop && !q->empty)
        pthread_cond_wait(&q->cv, &q->mu);
    if (!q->stop) {
        b = q->empty;
        q->empty = b->next;
    }
    pthread_mutex_unlock(&q->mu);
    return b;
}

static void bq_put_full(bqueue *q, qnode *b)
{
    pthread_mutex_lock(&q->mu);
    b->next = NULL;
    if (q->full_tail)
        q->full_tail->next = b;
    else
        q->full = b;
    q->full_tail = b;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* The next full batch, waiting for it. */
static qnode *bq_take_full(bqueue *q)
{
    pthread_mutex_lock(&q->mu);
    while (!q->full)
        pthread_cond_wait(&q->cv, &q->mu);
    qnode *b = q->full;
    q->full = b->next;
    if (!q->full)
        q->full_tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return b;
}

static void bq_give_back(bqueue *q, qnode *b)
{
    pthread_mutex_lock(&q->mu);
    b->next = q->empty;
    q->empty = b;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static void bq_stop(bqueue *q)
{
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* Frees every batch the queue holds (the reader has ended) with free_batch. */
static void bq_destroy(bqueue *q, void (*free_batch)(qnode *))
{
    qnode *lists[2] = {q->full, q->empty};
    for (int i = 0; i < 2; i++)
        while (lists[i]) {
            qnode *next = lists[i]->next;
            free_batch(lists[i]);
            lists[i] = next;
        }
    q->full = q->full_tail = q->empty = NULL;
    if (q->cv_ok)
        pthread_cond_destroy(&q->cv);
    if (q->mu_ok)
        pthread_mutex_destroy(&q->mu);
}

typedef struct reg_item {
    int64_t attempt_id;
    size_t label_at; /* in the batch's labels; SIZE_MAX: none */
    eg_store_region g;
} reg_item;

typedef struct reg_batch {
    qnode node;
    size_t n;
    int last; /* no batch comes after this one */
    int rc;   /* the reader's error, with last */
    char msg[512];
    eg_buf labels;
    reg_item item[BATCH_ITEMS];
} reg_batch;

typedef struct reg_reader {
    const char *path;
    char sql[1024];
    const eg_store_filter *f;
    pthread_t thread;
    bqueue q;
} reg_reader;

/* The regions statement's current row into it; the label into labels. */
static int read_region(reg_item *it, eg_buf *labels, content_cache *cc, eg_store *s,
                       sqlite3_stmt *st)
{
    const content *c;
    int rc;

    it->attempt_id = sqlite3_column_int64(st, 0);
    if ((rc = content_get(&c, cc, s, sqlite3_column_int64(st, 2))) < 0)
        return rc;
    eg_store_region *g = &it->g;
    g->offset = (uint32_t)sqlite3_column_int64(st, 1);
    g->size = c->size;
    g->label = NULL;
    it->label_at = SIZE_MAX;
    if (c->label) {
        it->label_at = labels->len;
        if (eg_buf_append(labels, c->label, strlen(c->label) + 1) < 0)
            return eg_error_set(EG_ENOMEM, "out of memory");
    }
    memcpy(g->sha256, c->sha256, sizeof(g->sha256));
    memcpy(g->md5_expected, c->md5, sizeof(g->md5_expected));
    col_hex(g->md5_device, sizeof(g->md5_device), st, 3);
    int o = name_index(col_text(st, 4), outcomes, 5);
    if (o < 0)
        return eg_error_set(EG_EINVAL,
                            "records store '%s': a region of attempt %lld has outcome '%s'",
                            s->path, (long long)it->attempt_id, col_text(st, 4));
    g->outcome = outcomes[o];
    return 0;
}

static void *reader_main(void *arg)
{
    reg_reader *r = arg;
    eg_store rs = {.path = (char *)r->path};
    sqlite3_stmt *st = NULL;
    content_cache *cc = calloc(1, sizeof(*cc));
    reg_batch *b = NULL;
    int rc = 0, step = SQLITE_DONE;

    if (!cc) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if (sqlite3_open_v2(r->path, &rs.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = rs.db ? eg_store_db_error(&rs, "cannot open it to read regions")
                   : eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    sqlite3_busy_timeout(rs.db, 10000);
    if ((rc = eg_store_exec(&rs, "PRAGMA mmap_size = 17179869184", "setting it up")) < 0 ||
        (rc = prepare(&st, &rs, r->sql, r->f)) < 0)
        goto done;
    if (sqlite3_prepare_v2(rs.db,
                           "SELECT label, size, sha256, md5_expected FROM contents WHERE id = ?1",
                           -1, &cc->get, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(&rs, "preparing a query");
        goto done;
    }
    step = sqlite3_step(st);
    while (step == SQLITE_ROW) {
        if (!(b = (reg_batch *)bq_take_empty(&r->q)))
            goto done; /* stopped */
        b->n = 0;
        eg_buf_clear(&b->labels);
        while (step == SQLITE_ROW && b->n < BATCH_ITEMS) {
            if ((rc = read_region(&b->item[b->n], &b->labels, cc, &rs, st)) < 0)
                goto done;
            b->n++;
            step = sqlite3_step(st);
        }
        if (step == SQLITE_ROW) {
            bq_put_full(&r->q, &b->node);
            b = NULL;
        }
    }
    if (step != SQLITE_DONE)
        rc = eg_store_db_error(&rs, "reading regions");
done:
    if (!b && !(b = (reg_batch *)bq_take_empty(&r->q))) {
        /* Stopped: nobody waits for the last batch. */
    } else {
        if (rc < 0)
            b->n = 0;
        b->last = 1;
        b->rc = rc;
        snprintf(b->msg, sizeof(b->msg), "%s", rc < 0 ? eg_error_msg() : "");
        bq_put_full(&r->q, &b->node);
    }
    sqlite3_finalize(st);
    content_cache_free(cc);
    sqlite3_close(rs.db);
    return NULL;
}

static void reg_batch_free(qnode *n)
{
    reg_batch *b = (reg_batch *)n;
    eg_buf_release(&b->labels);
    free(b);
}

/* The attempts are read by a thread of their own too, on the caller's connection
 * (the caller makes the first step, which starts the attempts' snapshot, then hands
 * the connection over until the thread ends), into batches that carry copies of
 * their strings: the caller's thread only merges and calls back. */
#define ATT_ITEMS 1024
#define ATT_STRS  16

typedef struct att_batch {
    qnode node;
    size_t n;
    int last, rc; /* as reg_batch's */
    char msg[512];
    eg_buf text;                    /* the attempts' strings */
    size_t at[ATT_ITEMS][ATT_STRS]; /* each string's place in text; SIZE_MAX: NULL */
    int64_t id[ATT_ITEMS];
    eg_store_attempt_rec rec[ATT_ITEMS];
} att_batch;

typedef struct att_reader {
    eg_store *s;
    sqlite3_stmt *st;
    int step; /* of the statement's row now */
    int brief, runs;
    pthread_t thread;
    bqueue q;
} att_reader;

/* The string fields of a record, in a fixed order. */
static void att_fields(const char **f[ATT_STRS], eg_store_attempt_rec *r)
{
    const char **all[ATT_STRS] = {
        &r->start.port,      &r->start.usb_location, &r->start.usb_serial,
        &r->start.kind,      &r->start.slot_label,   &r->end.identity.chip,
        &r->end.failed_step, &r->end.message,        &r->end.serial_number,
        &r->end.log_path,    &r->end.boot_line,      &r->end.boot_tail,
        &r->station,         &r->operator_name,      &r->lot,
        &r->profile_name};
    memcpy(f, all, sizeof(all));
}

/* The statement's row into the batch's next record, its strings copied. */
static int att_read(att_batch *b, att_reader *r)
{
    eg_store_attempt_rec *rec = &b->rec[b->n];
    const char **f[ATT_STRS];
    int rc = read_attempt(rec, r->s, r->st, r->brief, r->runs);

    if (rc < 0)
        return rc;
    b->id[b->n] = sqlite3_column_int64(r->st, 0);
    att_fields(f, rec);
    for (int k = 0; k < ATT_STRS; k++) {
        b->at[b->n][k] = SIZE_MAX;
        if (!*f[k])
            continue;
        b->at[b->n][k] = b->text.len;
        if (eg_buf_append(&b->text, *f[k], strlen(*f[k]) + 1) < 0)
            return eg_error_set(EG_ENOMEM, "out of memory");
    }
    return 0;
}

/* Points the batch's strings at its text, once it is complete. */
static void att_fix(att_batch *b)
{
    const char **f[ATT_STRS];
    for (size_t i = 0; i < b->n; i++) {
        att_fields(f, &b->rec[i]);
        for (int k = 0; k < ATT_STRS; k++)
            *f[k] = b->at[i][k] == SIZE_MAX ? NULL : (const char *)b->text.data + b->at[i][k];
    }
}

static void *att_main(void *arg)
{
    att_reader *r = arg;
    att_batch *b = NULL;
    int rc = 0, step = r->step;

    while (step == SQLITE_ROW) {
        if (!(b = (att_batch *)bq_take_empty(&r->q)))
            goto done; /* stopped */
        b->n = 0;
        eg_buf_clear(&b->text);
        while (step == SQLITE_ROW && b->n < ATT_ITEMS) {
            if ((rc = att_read(b, r)) < 0)
                goto done;
            b->n++;
            step = sqlite3_step(r->st);
        }
        if (step == SQLITE_ROW) {
            att_fix(b);
            bq_put_full(&r->q, &b->node);
            b = NULL;
        }
    }
    if (step != SQLITE_DONE)
        rc = eg_store_db_error(r->s, "reading attempts");
done:
    if (!b && !(b = (att_batch *)bq_take_empty(&r->q))) {
        /* Stopped: nobody waits for the last batch. */
    } else {
        if (rc < 0)
            b->n = 0;
        att_fix(b);
        b->last = 1;
        b->rc = rc;
        snprintf(b->msg, sizeof(b->msg), "%s", rc < 0 ? eg_error_msg() : "");
        bq_put_full(&r->q, &b->node);
    }
    return NULL;
}

static void att_batch_free(qnode *n)
{
    att_batch *b = (att_batch *)n;
    eg_buf_release(&b->text);
    free(b);
}

/* Makes count empty batches of size bytes for q (freed by bq_destroy). */
static int bq_fill(bqueue *q, int count, size_t size)
{
    for (int i = 0; i < count; i++) {
        qnode *nb = calloc(1, size);
        if (!nb)
            return eg_error_set(EG_ENOMEM, "out of memory");
        nb->next = q->empty;
        q->empty = nb;
    }
    return 0;
}

int eg_store_attempts_each(eg_store *s, const eg_store_filter *f, unsigned flags,
                           eg_store_attempt_fn fn, void *ctx)
{
    char where[256], sql[1024];
    reg_reader *r = calloc(1, sizeof(*r));
    att_reader *ar = calloc(1, sizeof(*ar));
    reg_batch *b = NULL;
    att_batch *ab = NULL;
    eg_store_region *regs = NULL;
    size_t cap = 0, at = 0, ai = 0, *label_at = NULL;
    eg_buf labels = EG_BUF_INIT;
    eg_store_attempt_rec rec;
    int rc = 0, started = 0, att_started = 0;

    if (!r || !ar) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    where_clause(where, sizeof(where), f, since_uses_index(s, f));
    ar->brief = (flags & EG_STORE_EACH_BRIEF) != 0;
    ar->runs = (flags & EG_STORE_EACH_RUNS) != 0;
    snprintf(sql, sizeof(sql), "SELECT " ATTEMPT_COLS "%s%s FROM attempts a %s %s ORDER BY a.id",
             ar->brief ? "" : ATTEMPT_MORE_COLS, ar->runs ? RUN_COLS : "",
             ar->runs ? "LEFT JOIN runs r ON r.id = a.run_id" : "", where);
    if ((rc = prepare(&ar->st, s, sql, f)) < 0)
        goto done;
    /* The first step starts the attempts' snapshot; the reader's starts after it. */
    ar->s = s;
    ar->step = sqlite3_step(ar->st);

    r->path = s->path;
    r->f = f;
    if (f && (f->run_id > 0 || f->lot || f->has_since || f->mac))
        snprintf(r->sql, sizeof(r->sql),
                 "SELECT attempt_id, flash_offset, content_id, md5_device, outcome FROM regions "
                 "WHERE attempt_id IN (SELECT a.id FROM attempts a %s) "
                 "ORDER BY attempt_id, flash_offset",
                 where);
    else
        snprintf(r->sql, sizeof(r->sql),
                 "SELECT attempt_id, flash_offset, content_id, md5_device, outcome FROM regions "
                 "ORDER BY attempt_id, flash_offset");
    int regions = !(flags & EG_STORE_EACH_NO_REGIONS);
    if ((rc = bq_init(&r->q)) < 0 || (rc = bq_init(&ar->q)) < 0 ||
        (regions && (rc = bq_fill(&r->q, BATCHES, sizeof(reg_batch))) < 0) ||
        (rc = bq_fill(&ar->q, BATCHES, sizeof(att_batch))) < 0)
        goto done;
    if (pthread_create(&ar->thread, NULL, att_main, ar) != 0) {
        rc = eg_error_set(EG_ENOMEM, "cannot start a thread to read attempts");
        goto done;
    }
    att_started = 1;
    if (regions) {
        if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
            rc = eg_error_set(EG_ENOMEM, "cannot start a thread to read regions");
            goto done;
        }
        started = 1;
        b = (reg_batch *)bq_take_full(&r->q);
    }
    ab = (att_batch *)bq_take_full(&ar->q);

    for (;;) {
        if (ai == ab->n) {
            if (ab->last) {
                if (ab->rc < 0) {
                    rc = eg_error_set(ab->rc, "%s", ab->msg);
                    goto done;
                }
                break;
            }
            bq_give_back(&ar->q, &ab->node);
            ab = (att_batch *)bq_take_full(&ar->q);
            ai = 0;
            continue;
        }
        rec = ab->rec[ai];
        int64_t id = ab->id[ai++];
        size_t n = 0;
        eg_buf_clear(&labels);
        while (regions) {
            if (at == b->n && !b->last) {
                bq_give_back(&r->q, &b->node);
                b = (reg_batch *)bq_take_full(&r->q);
                at = 0;
            }
            if (at == b->n) {
                if (b->rc < 0) {
                    rc = eg_error_set(b->rc, "%s", b->msg);
                    goto done;
                }
                break; /* no more regions */
            }
            const reg_item *it = &b->item[at];
            if (it->attempt_id > id)
                break;
            at++;
            if (it->attempt_id < id || rec.end.result == EG_RESULT_RUNNING)
                continue; /* not in the attempts' snapshot (see above) */
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                eg_store_region *nr = realloc(regs, ncap * sizeof(*regs));
                size_t *nl = nr ? realloc(label_at, ncap * sizeof(*label_at)) : NULL;
                if (nr)
                    regs = nr;
                if (nl)
                    label_at = nl;
                if (!nr || !nl) {
                    rc = eg_error_set(EG_ENOMEM, "out of memory");
                    goto done;
                }
                cap = ncap;
            }
            /* Labels are copied: the batch may go back to the reader before the
             * attempt's last region is read. */
            regs[n] = it->g;
            label_at[n] = SIZE_MAX;
            if (it->label_at != SIZE_MAX) {
                const char *l = (const char *)b->labels.data + it->label_at;
                label_at[n] = labels.len;
                if (eg_buf_append(&labels, l, strlen(l) + 1) < 0) {
                    rc = eg_error_set(EG_ENOMEM, "out of memory");
                    goto done;
                }
            }
            n++;
        }
        for (size_t i = 0; i < n; i++)
            regs[i].label =
                label_at[i] == SIZE_MAX ? NULL : (const char *)labels.data + label_at[i];
        rec.end.regions = regs;
        rec.end.n_regions = n;
        if ((rc = fn(ctx, &rec)) < 0)
            goto done;
    }
    if (b && b->last && b->rc < 0)
        rc = eg_error_set(b->rc, "%s", b->msg);
done:
    if (started) {
        bq_stop(&r->q);
        pthread_join(r->thread, NULL);
    }
    if (att_started) {
        bq_stop(&ar->q);
        pthread_join(ar->thread, NULL);
    }
    if (b)
        bq_give_back(&r->q, &b->node);
    if (ab)
        bq_give_back(&ar->q, &ab->node);
    if (r)
        bq_destroy(&r->q, reg_batch_free);
    if (ar) {
        bq_destroy(&ar->q, att_batch_free);
        sqlite3_finalize(ar->st);
    }
    free(r);
    free(ar);
    free(regs);
    free(label_at);
    eg_buf_release(&labels);
    return rc;
}

static int cause_cmp(const void *pa, const void *pb)
{
    const eg_store_cause *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int c = strcmp(a->step, b->step);
    if (c)
        return c;
    c = strcmp(eg_error_name(a->error_code), eg_error_name(b->error_code));
    if (c)
        return c;
    return (a->error_code > b->error_code) - (a->error_code < b->error_code);
}

/* Counts count attempts of one result (and, failed, their step and code). */
static int summary_count(eg_store_summary *sum, eg_store_result result, const char *step, int code,
                         int64_t count)
{
    if ((unsigned)result > EG_RESULT_INTERRUPTED)
        return eg_error_set(EG_EINVAL, "records store: result %d is not known", (int)result);
    sum->attempts += count;
    sum->by_result[result] += count;
    if (result != EG_RESULT_FAIL)
        return 0;
    if (!step)
        step = "";
    for (size_t i = 0; i < sum->n_causes; i++) {
        eg_store_cause *c = &sum->causes[i];
        if (c->error_code == code && strcmp(c->step, step) == 0) {
            c->count += count;
            return 0;
        }
    }
    /* Room for 4, 8, 16, ... */
    size_t n = sum->n_causes;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        size_t ncap = n ? n * 2 : 4;
        eg_store_cause *nc = realloc(sum->causes, ncap * sizeof(*nc));
        if (!nc)
            return eg_error_set(EG_ENOMEM, "out of memory");
        sum->causes = nc;
    }
    eg_store_cause *c = &sum->causes[sum->n_causes];
    if (!(c->step = strdup(step)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    c->error_code = code;
    c->count = count;
    sum->n_causes++;
    return 0;
}

int eg_store_summary_add(eg_store_summary *sum, const eg_store_attempt_rec *rec)
{
    return summary_count(sum, rec->end.result, rec->end.failed_step, rec->end.error_code, 1);
}

void eg_store_summary_sort(eg_store_summary *sum)
{
    if (sum->n_causes > 1)
        qsort(sum->causes, sum->n_causes, sizeof(*sum->causes), cause_cmp);
}

int eg_store_summary_get(eg_store_summary *out, eg_store *s, const eg_store_filter *f)
{
    char where[256], sql[512];
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    memset(out, 0, sizeof(*out));
    where_clause(where, sizeof(where), f, since_uses_index(s, f));
    /* All attempts: grouped in the order of the index attempts_outcome. Some of them:
     * counted here as they come, as GROUP BY would sort them first. */
    if (!f || (f->run_id <= 0 && !f->lot && !f->has_since && !f->mac))
        snprintf(sql, sizeof(sql),
                 "SELECT result, result, failed_step, error_code, count(*) FROM attempts "
                 "GROUP BY result, failed_step, error_code");
    else
        snprintf(sql, sizeof(sql),
                 "SELECT a.id, a.result, a.failed_step, a.error_code, 1 FROM attempts a %s", where);
    if ((rc = prepare(&st, s, sql, f)) < 0)
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int r = result_of(st, 1);
        if (r < 0) {
            rc = eg_error_set(EG_EINVAL, "records store '%s': an attempt has result '%s'", s->path,
                              col_text(st, 1));
            goto done;
        }
        if ((rc = summary_count(out, (eg_store_result)r, col_text(st, 2), sqlite3_column_int(st, 3),
                                sqlite3_column_int64(st, 4))) < 0)
            goto done;
    }
    if (step != SQLITE_DONE) {
        rc = eg_store_db_error(s, "counting attempts");
        goto done;
    }
    eg_store_summary_sort(out);
done:
    sqlite3_finalize(st);
    return rc;
}

void eg_store_summary_release(eg_store_summary *sum)
{
    if (!sum)
        return;
    for (size_t i = 0; i < sum->n_causes; i++)
        free(sum->causes[i].step);
    free(sum->causes);
    memset(sum, 0, sizeof(*sum));
}

int eg_store_device_get(eg_store_device *out, eg_store *s, const char *mac)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    memset(out, 0, sizeof(*out));
    if (!mac || (rc = eg_store_check_mac(mac)) < 0)
        return mac ? rc : eg_error_set(EG_EINVAL, "records store: no MAC address given");
    if (sqlite3_prepare_v2(s->db,
                           "SELECT chip, first_seen_ms, last_seen_ms FROM devices WHERE mac = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(s, "reading a device");
        goto done;
    }
    sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const char *chip = col_text(st, 0);
        out->known = 1;
        out->first_seen_ms = sqlite3_column_int64(st, 1);
        out->last_seen_ms = sqlite3_column_int64(st, 2);
        if (chip && !(out->chip = strdup(chip))) {
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto done;
        }
    } else if (step != SQLITE_DONE) {
        rc = eg_store_db_error(s, "reading a device");
        goto done;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT series, serial, seq, allocated_ms FROM serial_numbers "
                           "WHERE mac = ?1 ORDER BY allocated_ms, series",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(s, "reading serial numbers");
        goto done;
    }
    sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        eg_store_serial_rec *n = realloc(out->serials, (out->n_serials + 1) * sizeof(*n));
        if (!n) {
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto done;
        }
        out->serials = n;
        eg_store_serial_rec *r = &n[out->n_serials];
        memset(r, 0, sizeof(*r));
        out->n_serials++;
        r->seq = sqlite3_column_int64(st, 2);
        r->allocated_ms = sqlite3_column_int64(st, 3);
        if (!(r->series = strdup(col_text(st, 0) ? col_text(st, 0) : "")) ||
            !(r->serial = strdup(col_text(st, 1) ? col_text(st, 1) : ""))) {
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (step != SQLITE_DONE)
        rc = eg_store_db_error(s, "reading serial numbers");
done:
    sqlite3_finalize(st);
    return rc;
}

void eg_store_device_release(eg_store_device *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_serials; i++) {
        free(d->serials[i].series);
        free(d->serials[i].serial);
    }
    free(d->serials);
    free(d->chip);
    memset(d, 0, sizeof(*d));
}

int eg_store_regions_each(eg_store *s, int64_t run_id, unsigned seq, eg_store_region_fn fn,
                          void *ctx)
{
    sqlite3_stmt *st = NULL;
    eg_store_region g;
    int rc = 0, step;

    if (sqlite3_prepare_v2(s->db,
                           "SELECT r.flash_offset, c.size, c.label, c.sha256, c.md5_expected, "
                           "r.md5_device, r.outcome FROM attempts a "
                           "JOIN regions r ON r.attempt_id = a.id "
                           "JOIN contents c ON c.id = r.content_id "
                           "WHERE a.run_id = ?1 AND a.seq = ?2 ORDER BY r.flash_offset",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(s, "preparing a query");
        goto done;
    }
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, seq);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&g, 0, sizeof(g));
        g.offset = (uint32_t)sqlite3_column_int64(st, 0);
        g.size = (uint32_t)sqlite3_column_int64(st, 1);
        g.label = col_text(st, 2);
        if (g.label && !*g.label)
            g.label = NULL;
        col_hex(g.sha256, sizeof(g.sha256), st, 3);
        col_hex(g.md5_expected, sizeof(g.md5_expected), st, 4);
        col_hex(g.md5_device, sizeof(g.md5_device), st, 5);
        int o = name_index(col_text(st, 6), outcomes, 5);
        if (o < 0) {
            rc = eg_error_set(EG_EINVAL,
                              "records store '%s': a region of attempt %u of run %lld has "
                              "outcome '%s'",
                              s->path, seq, (long long)run_id, col_text(st, 6));
            goto done;
        }
        g.outcome = outcomes[o];
        if ((rc = fn(ctx, &g)) < 0)
            goto done;
    }
    if (step != SQLITE_DONE)
        rc = eg_store_db_error(s, "reading regions");
done:
    sqlite3_finalize(st);
    return rc;
}
