/* Recording: runs (synchronously) and attempts, through a queue that one writer thread
 * drains into SQLite, a batch per transaction. */
#include "store/priv.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const eg_store_step_names[EG_STORE_STEPS] = {
    "connect", "identify", "check", "erase", "write", "verify", "finish", "boot",
};

static const char *const result_names[] = {"running", "pass", "fail", "canceled", "interrupted"};

static const char *const outcome_names[] = {"written", "skipped", "verified", "failed", "pending"};

static const char *const boot_names[] = {"pass", "fail", "timeout"};

const char *eg_store_result_name(eg_store_result r)
{
    if ((unsigned)r >= sizeof(result_names) / sizeof(result_names[0]))
        return "?";
    return result_names[r];
}

/* The most records the writer puts in one transaction; while a serial number
 * allocation waits for its turn, fewer. */
#define EG_STORE_BATCH      1024
#define EG_STORE_BATCH_TURN 64

/* A queued record: the struct, then the regions, then the strings, in one block. */
typedef enum rec_kind { REC_STARTED, REC_IDENTIFIED, REC_FINISHED } rec_kind;

typedef struct eg_store_rec {
    struct eg_store_rec *next;
    rec_kind kind;
    int64_t run_id;
    unsigned seq;
    int64_t at_ms; /* REC_IDENTIFIED: when it was queued */
    eg_store_attempt_start start;
    eg_store_identity id;
    eg_store_attempt_end end;
} eg_store_rec;

static size_t room(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *put(char **cur, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *at = *cur;
    memcpy(at, s, n);
    *cur += n;
    return at;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The index of a boot result in boot_names (it was checked). */
static int name_index(const char *b)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(b, boot_names[i]) == 0)
            return i;
    return 0;
}

static int is_kind(const char *k)
{
    return k && (strcmp(k, "flash") == 0 || strcmp(k, "verify") == 0);
}

static int name_in(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return 1;
    return 0;
}

int eg_store_check_mac(const char *m)
{
    for (int i = 0; i < 17; i++) {
        int ok =
            i % 3 == 2 ? m[i] == ':' : (m[i] >= '0' && m[i] <= '9') || (m[i] >= 'a' && m[i] <= 'f');
        if (!ok)
            return eg_error_set(EG_EINVAL,
                                "records store: MAC address '%.17s' is not aa:bb:cc:dd:ee:ff", m);
    }
    if (m[17] != '\0')
        return eg_error_set(EG_EINVAL, "records store: MAC address '%.17s...' is too long", m);
    return 0;
}

/* The identity must name the chip and a MAC address (aa:bb:cc:dd:ee:ff). */
static int check_identity(const eg_store_identity *id)
{
    if (!id->chip || !*id->chip)
        return eg_error_set(EG_EINVAL, "records store: an identity without a chip");
    return eg_store_check_mac(id->mac);
}

static int check_hex(const char *h, size_t len, int empty_ok, const char *what)
{
    size_t n = strnlen(h, len + 1);
    if (n == 0 && empty_ok)
        return 0;
    if (n != len)
        return eg_error_set(EG_EINVAL, "records store: %s '%.80s' is not %zu hex digits", what, h,
                            len);
    for (size_t i = 0; i < n; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return eg_error_set(EG_EINVAL, "records store: %s '%.80s' is not lowercase hex", what,
                                h);
    return 0;
}

/* Appends r to the queue, or frees it and returns the writer's error or why the
 * queue is closed. */
static int enqueue(eg_store *s, eg_store_rec *r)
{
    int rc = 0;

    pthread_mutex_lock(&s->mu);
    if (s->werr) {
        rc = eg_error_set(s->werr, "%s", s->werr_msg);
    } else if (!s->accepting) {
        rc = eg_error_set(EG_EINVAL, "records store '%s': the writer is not running", s->path);
    } else {
        r->next = NULL;
        if (s->tail)
            s->tail->next = r;
        else
            s->head = r;
        s->tail = r;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc < 0)
        free(r);
    return rc;
}

int eg_store_attempt_started(eg_store *s, const eg_store_attempt_start *a)
{
    if (!is_kind(a->kind))
        return eg_error_set(EG_EINVAL, "records store: attempt kind '%s' is not flash or verify",
                            a->kind ? a->kind : "(none)");
    if (!a->port || a->slot < 0 || a->run_id <= 0)
        return eg_error_set(EG_EINVAL, "records store: an attempt needs a run, a port and a slot");
    eg_store_rec *r = malloc(sizeof(*r) + room(a->port) + room(a->usb_location) +
                             room(a->usb_serial) + room(a->slot_label));
    if (!r)
        return eg_error_set(EG_ENOMEM, "out of memory");
    memset(r, 0, sizeof(*r));
    char *cur = (char *)(r + 1);
    r->kind = REC_STARTED;
    r->run_id = a->run_id;
    r->seq = a->seq;
    r->start = *a;
    r->start.port = put(&cur, a->port);
    r->start.usb_location = put(&cur, a->usb_location);
    r->start.usb_serial = put(&cur, a->usb_serial);
    r->start.slot_label = put(&cur, a->slot_label);
    r->start.kind = strcmp(a->kind, "flash") == 0 ? "flash" : "verify";
    return enqueue(s, r);
}

int eg_store_attempt_identified(eg_store *s, int64_t run_id, unsigned seq,
                                const eg_store_identity *id)
{
    int rc = check_identity(id);
    if (rc < 0)
        return rc;
    eg_store_rec *r = malloc(sizeof(*r) + room(id->chip));
    if (!r)
        return eg_error_set(EG_ENOMEM, "out of memory");
    memset(r, 0, sizeof(*r));
    char *cur = (char *)(r + 1);
    r->kind = REC_IDENTIFIED;
    r->run_id = run_id;
    r->seq = seq;
    r->at_ms = wall_ms();
    r->id = *id;
    r->id.chip = put(&cur, id->chip);
    return enqueue(s, r);
}

int eg_store_attempt_finished(eg_store *s, const eg_store_attempt_end *e)
{
    size_t size = sizeof(eg_store_rec) + e->n_regions * sizeof(eg_store_region);
    int rc;

    if (e->result == EG_RESULT_RUNNING || (unsigned)e->result > EG_RESULT_INTERRUPTED)
        return eg_error_set(EG_EINVAL, "records store: an attempt cannot end as '%s'",
                            eg_store_result_name(e->result));
    if (e->failed_step && !name_in(e->failed_step, eg_store_step_names, EG_STORE_STEPS))
        return eg_error_set(EG_EINVAL, "records store: '%s' is not a step", e->failed_step);
    if (e->identified && (rc = check_identity(&e->identity)) < 0)
        return rc;
    if (e->boot_result && !name_in(e->boot_result, boot_names, 3))
        return eg_error_set(EG_EINVAL,
                            "records store: boot result '%s' is not pass, fail or timeout",
                            e->boot_result);
    if (e->serial_number && !*e->serial_number)
        return eg_error_set(EG_EINVAL, "records store: an empty serial number");
    if (e->n_regions && !e->regions)
        return eg_error_set(EG_EINVAL, "records store: regions missing");
    for (size_t i = 0; i < e->n_regions; i++) {
        const eg_store_region *g = &e->regions[i];
        if (!name_in(g->outcome, outcome_names, sizeof(outcome_names) / sizeof(outcome_names[0])))
            return eg_error_set(EG_EINVAL,
                                "records store: region outcome '%s' is not one of "
                                "written, skipped, verified, failed, pending",
                                g->outcome ? g->outcome : "(none)");
        if ((rc = check_hex(g->sha256, 64, 0, "SHA-256")) < 0 ||
            (rc = check_hex(g->md5_expected, 32, 0, "MD5")) < 0 ||
            (rc = check_hex(g->md5_device, 32, 1, "MD5")) < 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (e->regions[j].offset == g->offset)
                return eg_error_set(EG_EINVAL, "records store: two regions at 0x%x", g->offset);
        size += room(g->label);
    }
    size += room(e->failed_step) + room(e->message) + room(e->identity.chip) +
            room(e->serial_number) + room(e->log_path) + room(e->boot_line) + room(e->boot_tail);
    eg_store_rec *r = malloc(size);
    if (!r)
        return eg_error_set(EG_ENOMEM, "out of memory");
    memset(r, 0, sizeof(*r));
    eg_store_region *regs = (eg_store_region *)(r + 1);
    char *cur = (char *)(regs + e->n_regions);
    r->kind = REC_FINISHED;
    r->run_id = e->run_id;
    r->seq = e->seq;
    r->end = *e;
    r->end.failed_step = put(&cur, e->failed_step);
    r->end.message = put(&cur, e->message);
    r->end.identity.chip = e->identified ? put(&cur, e->identity.chip) : NULL;
    r->end.serial_number = put(&cur, e->serial_number);
    r->end.log_path = put(&cur, e->log_path);
    r->end.boot_result = e->boot_result ? boot_names[name_index(e->boot_result)] : NULL;
    r->end.boot_line = put(&cur, e->boot_line);
    r->end.boot_tail = put(&cur, e->boot_tail);
    for (size_t i = 0; i < e->n_regions; i++) {
        regs[i] = e->regions[i];
        regs[i].label = put(&cur, e->regions[i].label);
    }
    r->end.regions = regs;
    return enqueue(s, r);
}

int eg_store_run_begin(int64_t *run_id, eg_store *s, const eg_store_run_info *info)
{
    static const char sql[] =
        "INSERT INTO runs (station, operator_name, lot, profile_name, profile_sha256, kind, "
        "version, host, pid, started_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    sqlite3_stmt *st = NULL;
    int rc = 0;

    *run_id = 0;
    if (!is_kind(info->kind))
        return eg_error_set(EG_EINVAL, "records store: run kind '%s' is not flash or verify",
                            info->kind ? info->kind : "(none)");
    if (!info->version)
        return eg_error_set(EG_EINVAL, "records store: a run needs espgang's version");
    if (info->profile_sha256 && (rc = check_hex(info->profile_sha256, 64, 0, "SHA-256")) < 0)
        return rc;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = eg_store_db_error(s, "recording the run");
        goto done;
    }
    const char *text[8] = {info->station,
                           info->operator_name,
                           info->lot,
                           info->profile_name,
                           info->profile_sha256,
                           info->kind,
                           info->version,
                           info->host ? info->host : s->host};
    for (int i = 0; i < 8; i++)
        sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, info->pid ? info->pid : (int64_t)getpid());
    sqlite3_bind_int64(st, 10, info->started_ms);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = eg_store_db_error(s, "recording the run");
        goto done;
    }
    *run_id = sqlite3_last_insert_rowid(s->db);
done:
    sqlite3_finalize(st);
    return rc;
}

/* Binds text, or NULL for a NULL or empty string when empty_null. */
static void bind_text(sqlite3_stmt *st, int i, const char *v, int empty_null)
{
    if (!v || (empty_null && !*v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Steps a bound write statement once; an error names the attempt. */
static int step_write(eg_store *s, sqlite3_stmt *st, const eg_store_rec *r, const char *what)
{
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE || step == SQLITE_ROW)
        return step;
    char msg[160];
    snprintf(msg, sizeof(msg), "cannot write attempt %u of run %lld (%s)", r->seq,
             (long long)r->run_id, what);
    return eg_store_db_error(s, msg);
}

static int write_identity(eg_store *s, const eg_store_rec *r, const eg_store_identity *id,
                          int64_t at_ms)
{
    sqlite3_stmt *dev = s->ups_device, *att = s->upd_ident;
    int rc;

    sqlite3_reset(dev);
    sqlite3_bind_text(dev, 1, id->mac, -1, SQLITE_STATIC);
    sqlite3_bind_text(dev, 2, id->chip, -1, SQLITE_STATIC);
    sqlite3_bind_int64(dev, 3, at_ms);
    if ((rc = step_write(s, dev, r, "device")) < 0)
        return rc;
    sqlite3_reset(att);
    sqlite3_bind_text(att, 1, id->chip, -1, SQLITE_STATIC);
    sqlite3_bind_int64(att, 2, (int64_t)id->rev_major * 100 + id->rev_minor);
    sqlite3_bind_text(att, 3, id->mac, -1, SQLITE_STATIC);
    sqlite3_bind_int64(att, 4, id->flash_id);
    sqlite3_bind_int64(att, 5, id->flash_size);
    if (id->has_security)
        sqlite3_bind_int64(att, 6, id->security_flags);
    else
        sqlite3_bind_null(att, 6);
    sqlite3_bind_int(att, 7, id->flash_encrypted ? 1 : 0);
    sqlite3_bind_int64(att, 8, r->run_id);
    sqlite3_bind_int64(att, 9, r->seq);
    if ((rc = step_write(s, att, r, "identity")) < 0)
        return rc;
    if (sqlite3_changes(s->db) == 0)
        return eg_error_set(EG_EINVAL,
                            "records store '%s': attempt %u of run %lld was identified but never "
                            "started",
                            s->path, r->seq, (long long)r->run_id);
    return 0;
}

/* The contents row of a region's bytes (SHA-256 and label), made when new. The same
 * SHA-256 and label with another size or MD5 is an error, not a second row. */
static int content_of(int64_t *out, eg_store *s, const eg_store_rec *r, const eg_store_region *g)
{
    sqlite3_stmt *sel = s->sel_content, *ins = s->ins_content;
    const char *label = g->label ? g->label : "";
    int rc;

    sqlite3_reset(sel);
    sqlite3_bind_text(sel, 1, g->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(sel, 2, label, -1, SQLITE_STATIC);
    if ((rc = step_write(s, sel, r, "contents")) < 0)
        return rc;
    if (rc == SQLITE_ROW) {
        const char *md5 = (const char *)sqlite3_column_text(sel, 2);
        *out = sqlite3_column_int64(sel, 0);
        if (sqlite3_column_int64(sel, 1) != g->size || !md5 || strcmp(md5, g->md5_expected) != 0)
            return eg_error_set(EG_EINVAL,
                                "records store '%s': attempt %u of run %lld: region '%s' at 0x%x "
                                "has the SHA-256 of stored contents but another size or MD5",
                                s->path, r->seq, (long long)r->run_id, label, g->offset);
        sqlite3_reset(sel);
        return 0;
    }
    sqlite3_reset(ins);
    sqlite3_bind_text(ins, 1, label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 2, g->size);
    sqlite3_bind_text(ins, 3, g->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 4, g->md5_expected, -1, SQLITE_STATIC);
    if ((rc = step_write(s, ins, r, "contents")) < 0)
        return rc;
    *out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int write_rec(eg_store *s, const eg_store_rec *r)
{
    sqlite3_stmt *st;
    int rc;

    switch (r->kind) {
    case REC_STARTED:
        st = s->ins_attempt;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, r->run_id);
        sqlite3_bind_int64(st, 2, r->seq);
        sqlite3_bind_int(st, 3, r->start.slot);
        bind_text(st, 4, r->start.port, 0);
        bind_text(st, 5, r->start.usb_location, 0);
        bind_text(st, 6, r->start.usb_serial, 0);
        bind_text(st, 7, r->start.kind, 0);
        sqlite3_bind_int64(st, 8, r->start.started_ms);
        bind_text(st, 9, r->start.slot_label, 1);
        rc = step_write(s, st, r, "start");
        return rc < 0 ? rc : 0;
    case REC_IDENTIFIED:
        return write_identity(s, r, &r->id, r->at_ms);
    case REC_FINISHED:
        break;
    }
    const eg_store_attempt_end *e = &r->end;
    if (e->identified && (rc = write_identity(s, r, &e->identity, e->ended_ms)) < 0)
        return rc;
    st = s->upd_end;
    sqlite3_reset(st);
    bind_text(st, 1, eg_store_result_name(e->result), 0);
    bind_text(st, 2, e->failed_step, 0);
    if (e->error_code)
        sqlite3_bind_int(st, 3, e->error_code);
    else
        sqlite3_bind_null(st, 3);
    bind_text(st, 4, e->message, 0);
    if (e->device_status >= 0)
        sqlite3_bind_int(st, 5, e->device_status);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6, e->retries);
    for (int i = 0; i < EG_STORE_STEPS; i++) {
        if (e->step_ms[i] >= 0)
            sqlite3_bind_int64(st, 7 + i, e->step_ms[i]);
        else
            sqlite3_bind_null(st, 7 + i);
    }
    sqlite3_bind_int64(st, 7 + EG_STORE_STEPS, e->ended_ms);
    const char *text[5] = {e->serial_number, e->log_path, e->boot_result, e->boot_line,
                           e->boot_tail};
    for (int i = 0; i < 5; i++)
        bind_text(st, 8 + EG_STORE_STEPS + i, text[i], i != 0);
    sqlite3_bind_int64(st, 13 + EG_STORE_STEPS, r->run_id);
    sqlite3_bind_int64(st, 14 + EG_STORE_STEPS, r->seq);
    if ((rc = step_write(s, st, r, "end")) < 0)
        return rc;
    if (rc != SQLITE_ROW)
        return eg_error_set(EG_EINVAL,
                            "records store '%s': attempt %u of run %lld ended but never started "
                            "(or ended before)",
                            s->path, r->seq, (long long)r->run_id);
    int64_t attempt_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    for (size_t i = 0; i < e->n_regions; i++) {
        const eg_store_region *g = &e->regions[i];
        int64_t content_id;
        if ((rc = content_of(&content_id, s, r, g)) < 0)
            return rc;
        sqlite3_stmt *rg = s->ins_region;
        sqlite3_reset(rg);
        sqlite3_bind_int64(rg, 1, attempt_id);
        sqlite3_bind_int64(rg, 2, g->offset);
        sqlite3_bind_int64(rg, 3, content_id);
        bind_text(rg, 4, g->md5_device, 1);
        bind_text(rg, 5, g->outcome, 0);
        if ((rc = step_write(s, rg, r, "region")) < 0)
            return rc;
    }
    return 0;
}

/* Writes the records from r on in one transaction. */
static int write_txn(eg_store *s, eg_store_rec *r, eg_store_rec *end)
{
    int rc = eg_store_exec(s, "BEGIN IMMEDIATE", "cannot start a transaction");
    for (; rc == 0 && r != end; r = r->next)
        rc = write_rec(s, r);
    if (rc == 0)
        rc = eg_store_exec(s, "COMMIT", "cannot commit");
    if (rc < 0 && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Writes a batch in one transaction; when that fails, each record in its own, so that
 * only what cannot be written is lost. Returns the first error (its message in msg)
 * and the count lost. */
static int write_batch(eg_store *s, eg_store_rec *batch, size_t *lost, char *msg, size_t msglen)
{
    int first = 0;

    *lost = 0;
    if (write_txn(s, batch, NULL) == 0)
        return 0;
    for (eg_store_rec *r = batch; r; r = r->next) {
        int rc = write_txn(s, r, r->next);
        if (rc < 0) {
            if (!first) {
                first = rc;
                snprintf(msg, msglen, "%s", eg_error_msg());
            }
            (*lost)++;
        }
    }
    return first;
}

static void free_list(eg_store_rec *r)
{
    while (r) {
        eg_store_rec *next = r->next;
        free(r);
        r = next;
    }
}

static void *writer_main(void *arg)
{
    eg_store *s = arg;
    char msg[sizeof(s->werr_msg)];

    pthread_mutex_lock(&s->mu);
    for (;;) {
        /* A serial number allocation waiting for the file goes first (serial.c). */
        while ((!s->head && !s->stopping) || s->serial_waiting)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->head)
            break;
        /* What is queued goes into one transaction, up to EG_STORE_BATCH records (so
         * the file is held for milliseconds), EG_STORE_BATCH_TURN while a serial number
         * allocation waits its turn; what is left or arrives meanwhile is the next. */
        eg_store_rec *batch = s->head, *last = batch;
        int cap = s->serial_queued ? EG_STORE_BATCH_TURN : EG_STORE_BATCH;
        for (int n = 1; n < cap && last->next; n++)
            last = last->next;
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        s->batches_taken++;
        if (s->serial_queued)
            pthread_cond_broadcast(&s->scv); /* an allocation waiting its turn */
        pthread_mutex_unlock(&s->mu);
        size_t lost = 0;
        int rc = write_batch(s, batch, &lost, msg, sizeof(msg));
        free_list(batch);
        pthread_mutex_lock(&s->mu);
        if (rc < 0) {
            s->lost += lost;
            if (!s->werr) {
                s->werr = rc;
                snprintf(s->werr_msg, sizeof(s->werr_msg), "%s", msg);
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int eg_store_writer_start(eg_store *s)
{
    static const char *const sql[7] = {
        "INSERT INTO attempts (run_id, seq, slot, port, usb_location, usb_serial, kind, "
        "started_ms, slot_label) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        "UPDATE attempts SET chip = ?1, revision = ?2, mac = ?3, flash_id = ?4, "
        "flash_size = ?5, security_flags = ?6, flash_encrypted = ?7 "
        "WHERE run_id = ?8 AND seq = ?9",
        "INSERT INTO devices (mac, chip, first_seen_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?3) "
        "ON CONFLICT (mac) DO UPDATE SET chip = excluded.chip, "
        "first_seen_ms = CASE WHEN excluded.first_seen_ms < devices.first_seen_ms "
        "THEN excluded.first_seen_ms ELSE devices.first_seen_ms END, "
        "last_seen_ms = CASE WHEN excluded.last_seen_ms > devices.last_seen_ms "
        "THEN excluded.last_seen_ms ELSE devices.last_seen_ms END",
        "UPDATE attempts SET result = ?1, failed_step = ?2, error_code = ?3, "
        "error_message = ?4, device_status = ?5, retries = ?6, ms_connect = ?7, "
        "ms_identify = ?8, ms_check = ?9, ms_erase = ?10, ms_write = ?11, ms_verify = ?12, "
        "ms_finish = ?13, ms_boot = ?14, ended_ms = ?15, serial_number = ?16, log_path = ?17, "
        "boot_result = ?18, boot_line = ?19, boot_tail = ?20 WHERE run_id = ?21 AND seq = ?22 "
        "AND result = 'running' RETURNING id",
        "INSERT INTO regions (attempt_id, flash_offset, content_id, md5_device, outcome) "
        "VALUES (?1, ?2, ?3, ?4, ?5)",
        "SELECT id, size, md5_expected FROM contents WHERE sha256 = ?1 AND label = ?2",
        "INSERT INTO contents (label, size, sha256, md5_expected) VALUES (?1, ?2, ?3, ?4)",
    };
    sqlite3_stmt **st[7] = {&s->ins_attempt, &s->upd_ident,   &s->ups_device, &s->upd_end,
                            &s->ins_region,  &s->sel_content, &s->ins_content};
    int rc = 0;

    if (s->thread_on)
        return eg_error_set(EG_EINVAL, "records store '%s': the writer runs already", s->path);
    for (int i = 0; i < 7; i++) {
        if (!*st[i] && sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i],
                                          NULL) != SQLITE_OK) {
            rc = eg_store_db_error(s, "preparing the writer");
            goto done;
        }
    }
    pthread_mutex_lock(&s->mu);
    s->accepting = 1;
    s->stopping = 0;
    s->werr = 0;
    s->werr_msg[0] = '\0';
    s->lost = 0;
    pthread_mutex_unlock(&s->mu);
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        pthread_mutex_lock(&s->mu);
        s->accepting = 0;
        pthread_mutex_unlock(&s->mu);
        rc = eg_error_set(EG_ENOMEM, "records store '%s': cannot start the writer thread", s->path);
        goto done;
    }
    s->thread_on = 1;
done:
    return rc;
}

void eg_store_writer_join(eg_store *s)
{
    if (!s->thread_on)
        return;
    pthread_mutex_lock(&s->mu);
    s->accepting = 0;
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->thread_on = 0;
}

int eg_store_writer_stop(eg_store *s, int64_t run_id, int64_t ended_ms)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, werr;
    size_t lost;

    if (!s->thread_on)
        return eg_error_set(EG_EINVAL, "records store '%s': the writer is not running", s->path);
    eg_store_writer_join(s);
    /* The writer has ended: its error fields are this thread's now. */
    pthread_mutex_lock(&s->mu);
    werr = s->werr;
    lost = s->lost;
    pthread_mutex_unlock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "UPDATE runs SET ended_ms = ?1 WHERE id = ?2", -1, &st, NULL) !=
            SQLITE_OK ||
        (sqlite3_bind_int64(st, 1, ended_ms), sqlite3_bind_int64(st, 2, run_id),
         sqlite3_step(st) != SQLITE_DONE)) {
        rc = eg_store_db_error(s, "recording the end of the run");
    } else if (sqlite3_changes(s->db) == 0) {
        rc = eg_error_set(EG_EINVAL, "records store '%s': there is no run %lld", s->path,
                          (long long)run_id);
    }
    if (werr) /* the writer's error comes first */
        rc = eg_error_set(werr, "%s (%zu record%s not written)", s->werr_msg, lost,
                          lost == 1 ? "" : "s");
    sqlite3_finalize(st);
    return rc;
}

void eg_store_writer_free(eg_store *s)
{
    sqlite3_stmt **st[7] = {&s->ins_attempt, &s->upd_ident,   &s->ups_device, &s->upd_end,
                            &s->ins_region,  &s->sel_content, &s->ins_content};
    for (int i = 0; i < 7; i++) {
        sqlite3_finalize(*st[i]);
        *st[i] = NULL;
    }
    free_list(s->head);
    s->head = s->tail = NULL;
}
