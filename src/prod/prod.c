#define _GNU_SOURCE /* signalfd, eventfd, pthread_attr_setstacksize */
#include "prod/prod.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/path.h"
#include "prod/hotplug.h"
#include "transport/reset.h"
#include "transport/transport.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* A worker needs little stack: its session's buffers are on the heap. */
#define WORKER_STACK (256 * 1024)
/* How far back the speed looks. */
#define SPEED_WINDOW_MS 2000

typedef struct queued {
    struct queued *next;
    eg_prod_event e;
    eg_prod_board board;
    char text[512];
} queued;

struct run;

/* A place for one board at a time: a port given, or a USB location watched. */
typedef struct slot {
    struct run *run;
    pthread_t thread;
    int joinable; /* an attempt's thread to join (the calling thread's view) */
    int busy;     /* an attempt runs (guarded by run->lock) */
    eg_cancel cancel;
    eg_prod_board row; /* guarded by run->lock */
    int64_t speed_t;   /* the write's progress at speed_t, for the speed */
    uint64_t speed_done;
    /* Watching (the calling thread's, and the workers' under run->lock): */
    int present;             /* a board is in the slot */
    int own_usb;             /* on the chip's own USB: it leaves the bus when reset */
    char devnode[256];       /* its terminal now; "" while it is away after a reset */
    int64_t reset_ms;        /* when the worker last reset it (run clock); 0: never */
    int64_t away_ms;         /* when its port left after a reset; 0: not away */
    char pending[256];       /* a terminal that came while an attempt ran: next */
    int unplugged;           /* the running attempt was ended by an unplug */
    const eg_plan *own_plan; /* the attempt's own plan (per-device data), or NULL */
    FILE *log;               /* the attempt's log file (the worker's), or NULL */
    char log_path[PATH_MAX];
    int64_t log_t0;
} slot;

typedef struct run {
    const eg_prod_opts *o;
    pthread_mutex_t lock;
    pthread_cond_t back; /* a slot's port came back after a reset */
    int store_error;     /* a record could not be queued (guarded by lock) */
    char store_message[512];
    slot **s;
    size_t n, cap;
    queued *head, *tail; /* events for the calling thread */
    int wake_fd;
    unsigned next_seq;                          /* attempts started (the calling thread's) */
    unsigned passed, failed, canceled, already; /* attempts ended (under lock) */
    eg_prod_board *ended;                       /* every attempt as it ended */
    size_t n_ended, cap_ended;
    char (*passed_macs)[18]; /* boards that passed in this run (under lock) */
    size_t n_passed_macs, cap_passed_macs;
    int stops;
    int64_t t0;
    unsigned reenum_ms;
} run;

static const char *const state_names[] = {"waiting",  "running",        "PASS", "FAIL",
                                          "canceled", "already passed", "empty"};

const char *eg_board_state_name(eg_board_state s)
{
    return (unsigned)s < 7 ? state_names[s] : "?";
}

static int64_t run_ms(const run *r)
{
    return eg_clock_ms() - r->t0;
}

static void wake(run *r)
{
    uint64_t one = 1;
    ssize_t n = write(r->wake_fd, &one, sizeof(one));
    (void)n;
}

/* Queues an event for the calling thread with a copy of the slot's row (the lock is
 * held), and wakes it. */
static void post(slot *w, eg_prod_event_kind kind, eg_step step, eg_job_state state,
                 eg_log_level level, const char *text)
{
    run *r = w->run;
    queued *q = calloc(1, sizeof(*q));

    if (!q)
        return; /* the table still shows it */
    q->board = w->row;
    q->e.kind = kind;
    q->e.board = &q->board;
    q->e.step = step;
    q->e.state = state;
    q->e.level = level;
    q->e.t_ms = run_ms(r);
    if (text) {
        snprintf(q->text, sizeof(q->text), "%s", text);
        q->e.text = q->text;
    }
    if (r->tail)
        r->tail->next = q;
    else
        r->head = q;
    r->tail = q;
    wake(r);
}

static void identity(eg_store_identity *id, const eg_job_result *res)
{
    memset(id, 0, sizeof(*id));
    id->chip = res->chip ? res->chip->name : NULL;
    id->rev_major = res->rev_major;
    id->rev_minor = res->rev_minor;
    eg_mac_format(id->mac, res->mac);
    id->flash_id = res->flash_id;
    id->flash_size = res->flash_size;
    id->has_security = res->sec.present;
    id->security_flags = res->sec.flags;
    id->flash_encrypted = __builtin_popcount(res->sec.flash_crypt_cnt) % 2;
}

/* Keeps the first record that could not be queued: the run says so at its end. */
static void store_result(run *r, int rc)
{
    if (rc == 0)
        return;
    pthread_mutex_lock(&r->lock);
    if (!r->store_error) {
        r->store_error = rc;
        snprintf(r->store_message, sizeof(r->store_message), "%s", eg_error_msg());
    }
    pthread_mutex_unlock(&r->lock);
}

/* Text into the attempt's log file (a file, never the terminal). */
static void log_text(slot *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_text(slot *w, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    int n;

    if (!w->log)
        return;
    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n > 0)
        fwrite(text, 1, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1, w->log);
}

/* A line in the attempt's log file, stamped with the time since the attempt began. */
static void log_line(slot *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(slot *w, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    int64_t ms;

    if (!w->log)
        return;
    ms = eg_clock_ms() - w->log_t0;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    log_text(w, "%6lld.%03lld  %s\n", (long long)(ms / 1000), (long long)(ms % 1000), text);
}

static const char *const state_words[] = {"start", "done", "failed, tried again", "FAILED"};

static void on_step(void *ctx, eg_step step, eg_job_state state, const eg_job_result *res)
{
    slot *w = ctx;
    run *r = w->run;

    if (state == EG_JOB_STEP_START)
        log_line(w, "%s", eg_step_name(step));
    else if (state == EG_JOB_STEP_DONE)
        log_line(w, "%s done in %lld ms", eg_step_name(step), (long long)res->step_ms[step]);
    else
        log_line(w, "%s %s: %s", eg_step_name(step), state_words[state], res->message);
    if (step == EG_STEP_IDENTIFY && state == EG_JOB_STEP_DONE && res->identified)
        log_line(w,
                 "board: %s revision v%u.%u, MAC %02x:%02x:%02x:%02x:%02x:%02x, flash id "
                 "0x%06x, %u bytes",
                 res->chip->name, res->rev_major, res->rev_minor, res->mac[0], res->mac[1],
                 res->mac[2], res->mac[3], res->mac[4], res->mac[5], res->flash_id,
                 res->flash_size);

    pthread_mutex_lock(&r->lock);
    w->row.step = step;
    w->row.retries = res->retries;
    if (state == EG_JOB_STEP_START) {
        w->row.done = w->row.total = 0;
        w->speed_t = 0;
        w->row.speed = 0;
    }
    if (step == EG_STEP_CONNECT && state == EG_JOB_STEP_DONE)
        w->reset_ms = 0; /* back from the reset that reached the loader, if it left */
    if (step == EG_STEP_IDENTIFY && state == EG_JOB_STEP_DONE && res->identified) {
        w->row.identified = 1;
        snprintf(w->row.chip, sizeof(w->row.chip), "%s", res->chip->name);
        eg_mac_format(w->row.mac, res->mac);
    }
    if (state == EG_JOB_STEP_RETRY || state == EG_JOB_STEP_FAIL)
        snprintf(w->row.message, sizeof(w->row.message), "%s", res->message);
    post(w, EG_PROD_STEP, step, state, EG_LOG_INFO, NULL);
    pthread_mutex_unlock(&r->lock);
    if (step == EG_STEP_IDENTIFY && state == EG_JOB_STEP_DONE && res->identified && r->o->store) {
        eg_store_identity id;
        identity(&id, res);
        store_result(r, eg_store_attempt_identified(r->o->store, r->o->run_id, w->row.seq, &id));
    }
}

static void on_progress(void *ctx, eg_step step, uint64_t done, uint64_t total)
{
    slot *w = ctx;
    int64_t now = eg_clock_ms();

    pthread_mutex_lock(&w->run->lock);
    w->row.step = step;
    w->row.done = done;
    w->row.total = total;
    if (!w->speed_t) {
        w->speed_t = now;
        w->speed_done = done;
    } else if (now - w->speed_t >= 200) {
        double rate = (double)(done - w->speed_done) * 1000.0 / (double)(now - w->speed_t);
        w->row.speed = w->row.speed ? 0.7 * w->row.speed + 0.3 * rate : rate;
        if (now - w->speed_t >= SPEED_WINDOW_MS) {
            w->speed_t = now;
            w->speed_done = done;
        }
    }
    pthread_mutex_unlock(&w->run->lock);
}

static void on_log(void *ctx, eg_log_level level, const char *msg)
{
    slot *w = ctx;
    log_line(w, "  %s%s", level == EG_LOG_WARN ? "warning: " : "", msg);
    if (level == EG_LOG_DEBUG)
        return;
    pthread_mutex_lock(&w->run->lock);
    post(w, EG_PROD_LOG, w->row.step, EG_JOB_STEP_START, level, msg);
    pthread_mutex_unlock(&w->run->lock);
}

int eg_prod_record_end(eg_store *s, int64_t run_id, unsigned seq, const eg_job_result *res,
                       const char *serial_number, const char *log_path)
{
    const eg_plan *plan = res->plan;
    size_t n = plan && res->regions ? plan->n_regions : 0;
    eg_store_attempt_end e;
    eg_store_region *regions = calloc(n ? n : 1, sizeof(*regions));
    int rc;

    if (!regions)
        return eg_error_set(EG_ENOMEM, "out of memory");
    memset(&e, 0, sizeof(e));
    e.run_id = run_id;
    e.seq = seq;
    /* A board left as it was (it passed before) is an attempt called off. */
    e.result = res->rc == 0                                       ? EG_RESULT_PASS
               : res->rc == EG_ECANCELED || res->rc == EG_EPASSED ? EG_RESULT_CANCELED
                                                                  : EG_RESULT_FAIL;
    e.identified = res->identified;
    if (res->identified)
        identity(&e.identity, res);
    if (res->rc < 0) {
        e.failed_step = eg_step_name(res->step);
        e.error_code = res->rc;
        e.message = res->message;
    }
    e.device_status = res->device_status;
    e.retries = res->retries;
    for (int i = 0; i < EG_STORE_STEPS; i++)
        e.step_ms[i] = i < EG_STEP_COUNT ? res->step_ms[i] : -1;
    e.ended_ms = eg_clock_unix_ms();
    e.serial_number = serial_number && *serial_number ? serial_number : NULL;
    e.log_path = log_path && *log_path ? log_path : NULL;
    if (res->boot != EG_BOOT_NONE) {
        e.boot_result = eg_boot_result_name(res->boot);
        e.boot_line = res->boot_line[0] ? res->boot_line : NULL;
        e.boot_tail = res->boot_tail[0] ? res->boot_tail : NULL;
    }
    for (size_t i = 0; i < n && i < res->n_regions; i++) {
        const eg_plan_region *pr = &plan->regions[i];
        eg_store_region *sr = &regions[i];
        sr->offset = pr->addr;
        sr->size = pr->len;
        sr->label = pr->label;
        memcpy(sr->sha256, pr->sha256_hex, sizeof(sr->sha256));
        memcpy(sr->md5_expected, pr->md5_hex, sizeof(sr->md5_expected));
        if (res->regions[i].has_md5)
            eg_hex(sr->md5_device, res->regions[i].md5_device, 16);
        sr->outcome = eg_region_outcome_name(res->regions[i].outcome);
    }
    e.regions = regions;
    e.n_regions = n;
    rc = eg_store_attempt_finished(s, &e);
    free(regions);
    return rc;
}

int eg_prod_record_start(eg_store *s, int64_t run_id, unsigned seq, int slot, const char *label,
                         const char *port, eg_job_kind kind, const char *usb_location,
                         const char *usb_serial)
{
    eg_store_attempt_start a = {run_id,
                                seq,
                                slot,
                                port,
                                usb_location && *usb_location ? usb_location : NULL,
                                usb_serial && *usb_serial ? usb_serial : NULL,
                                kind == EG_JOB_VERIFY ? "verify" : "flash",
                                eg_clock_unix_ms(),
                                label && *label ? label : NULL};
    return eg_store_attempt_started(s, &a);
}

/* ---- a worker: one attempt on one board --------------------------------------------- */

/* Watching: the slot's terminal now. After a reset the worker made, a board on the
 * chip's own USB leaves the bus and comes back (often under another name): wait for
 * it, up to reenum_ms. */
static int port_now(void *ctx, char *name, size_t len)
{
    slot *w = ctx;
    run *r = w->run;
    int rc = 0;
    int64_t until = eg_clock_ms() + r->reenum_ms;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        int recent = w->reset_ms && run_ms(r) - w->reset_ms <= (int64_t)r->reenum_ms;
        /* Its node gone before the hotplug event says so: away too. */
        if (w->devnode[0] && !(recent && access(w->devnode, F_OK) != 0)) {
            snprintf(name, len, "%s", w->devnode);
            break;
        }
        if ((rc = eg_cancel_check(&w->cancel)) < 0)
            break;
        if (eg_clock_ms() >= until) {
            rc = eg_error_set(EG_EGONE,
                              "the board left the bus after its reset and did not come back "
                              "within %u ms",
                              r->reenum_ms);
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->back, &r->lock, &ts);
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

static void resetting(void *ctx)
{
    slot *w = ctx;

    pthread_mutex_lock(&w->run->lock);
    w->reset_ms = run_ms(w->run);
    if (!w->reset_ms)
        w->reset_ms = 1;
    pthread_mutex_unlock(&w->run->lock);
}

/* Whether mac passed this profile before: in this run, or in the store. */
static int passed_before(run *r, const char *mac, int64_t *when_run)
{
    int found = 0;

    *when_run = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n_passed_macs && !found; i++)
        found = strcmp(r->passed_macs[i], mac) == 0;
    pthread_mutex_unlock(&r->lock);
    if (found) {
        *when_run = r->o->run_id;
        return 1;
    }
    if (r->o->store && r->o->profile_sha256 &&
        eg_store_passed_before(r->o->store, mac, r->o->profile_sha256, when_run) == 1)
        return 1;
    return 0;
}

/* What a board's templates are filled with. */
typedef struct device_values {
    const eg_prod_opts *o;
    eg_profile_device dev;
    char mac_hex[13], date[11], seq[24];
} device_values;

static const char *serial_value(void *ctx, const char *name)
{
    const device_values *v = ctx;
    if (strcmp(name, "seq") == 0)
        return v->seq[0] ? v->seq : NULL; /* the series keeps "{seq:06}" */
    if (strcmp(name, "lot") == 0)
        return v->dev.lot;
    if (strcmp(name, "station") == 0)
        return v->dev.station;
    if (strcmp(name, "date") == 0)
        return v->dev.date;
    return NULL;
}

static int render_serial(char *dst, size_t len, int64_t seq, void *ctx)
{
    device_values *v = ctx;
    snprintf(v->seq, sizeof(v->seq), "%lld", (long long)seq);
    return eg_template_render(dst, len, v->o->profile->serial.format, serial_value, v);
}

/* The board's serial number: the one it has in the series, or the next. */
static int board_serial(slot *w, device_values *v, char *serial, size_t len)
{
    const eg_prod_opts *o = w->run->o;
    char series[256];
    int existing, rc;

    if (!o->store)
        return eg_error_set(EG_EINVAL, "serial numbers are given from the records store");
    v->seq[0] = '\0';
    if ((rc = eg_template_render(series, sizeof(series), o->profile->serial.format, serial_value,
                                 v)) < 0 ||
        (rc = eg_store_serial(serial, len, &existing, o->store, series, v->dev.mac,
                              o->profile->serial.start, render_serial, v)) < 0)
        return eg_error_prefix(rc, "serial number: ");
    pthread_mutex_lock(&w->run->lock);
    snprintf(w->row.serial, sizeof(w->row.serial), "%s", serial);
    pthread_mutex_unlock(&w->run->lock);
    return 0;
}

/* Once the board is identified: leaves a board that passed before as it is; gives it
 * its serial number and builds its own plan with its NVS partition. */
static int board_plan(void *ctx, const eg_device *d, const eg_plan **out)
{
    slot *w = ctx;
    run *r = w->run;
    const eg_prod_opts *o = r->o;
    const eg_profile *p = o->profile;
    device_values v = {0};
    char mac[18], serial[64] = "";
    eg_buf img = EG_BUF_INIT;
    eg_plan *own = NULL;
    struct tm tm;
    time_t now;
    int64_t when;
    int rc;

    *out = NULL;
    eg_mac_format(mac, d->mac);
    if (o->kind == EG_JOB_FLASH && !o->reflash && passed_before(r, mac, &when))
        return eg_error_set(EG_EPASSED,
                            "board %s passed this profile before (run %lld): left as it is "
                            "(--reflash writes it again)",
                            mac, (long long)when);
    if (!p || o->kind != EG_JOB_FLASH || (!p->serial.format && !p->nvs.n_keys))
        return 0;
    now = time(NULL);
    localtime_r(&now, &tm);
    strftime(v.date, sizeof(v.date), "%Y-%m-%d", &tm);
    eg_hex(v.mac_hex, d->mac, 6);
    v.o = o;
    v.dev = (eg_profile_device){
        NULL, mac, v.mac_hex, o->lot ? o->lot : "", o->station ? o->station : "", v.date};
    if (p->serial.format && (rc = board_serial(w, &v, serial, sizeof(serial))) < 0)
        return rc;
    v.dev.serial = serial;
    if (!p->nvs.n_keys)
        return 0;
    if ((rc = eg_profile_nvs_image(&img, p, &v.dev)) < 0 ||
        (rc = eg_plan_for_device(&own, o->plan, p->nvs.addr, p->nvs.label, &img)) < 0) {
        eg_buf_release(&img);
        return rc;
    }
    w->own_plan = own;
    *out = own;
    return 0;
}

static eg_board_state board_state(int rc)
{
    return rc == 0              ? EG_BOARD_PASS
           : rc == EG_ECANCELED ? EG_BOARD_CANCELED
           : rc == EG_EPASSED   ? EG_BOARD_ALREADY
                                : EG_BOARD_FAIL;
}

/* The attempt's log file: LOG_DIR/SEQ-slotN.log. */
static void log_open(slot *w, unsigned seq, const char *port)
{
    const eg_prod_opts *o = w->run->o;
    time_t now = time(NULL);
    char when[32];

    w->log = NULL;
    w->log_path[0] = '\0';
    w->log_t0 = eg_clock_ms();
    if (!o->log_dir)
        return;
    snprintf(w->log_path, sizeof(w->log_path), "%s/%04u-slot%d.log", o->log_dir, seq, w->row.slot);
    if (!(w->log = fopen(w->log_path, "we"))) {
        char msg[PATH_MAX + 64];
        snprintf(msg, sizeof(msg), "cannot write the attempt's log '%s': %s", w->log_path,
                 eg_strerror(errno));
        w->log_path[0] = '\0';
        on_log(w, EG_LOG_WARN, msg);
        return;
    }
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
    log_text(w, "espgang %s: attempt %u of run %lld, slot %d%s%s, port %s%s%s, %s\n",
             o->kind == EG_JOB_VERIFY ? "verify" : "flash", seq, (long long)o->run_id, w->row.slot,
             w->row.label[0] ? " " : "", w->row.label, port,
             w->row.usb_location[0] ? " at USB " : "", w->row.usb_location, when);
    log_text(w, "plan '%s': %zu regions\n", o->plan->name ? o->plan->name : "", o->plan->n_regions);
}

static void log_close(slot *w, const eg_job_result *res)
{
    if (!w->log)
        return;
    if (res->plan)
        for (size_t i = 0; i < res->plan->n_regions && i < res->n_regions; i++) {
            const eg_plan_region *pr = &res->plan->regions[i];
            log_line(w, "region 0x%08x %u bytes '%s' sha256 %s: %s", pr->addr, pr->len, pr->label,
                     pr->sha256_hex, eg_region_outcome_name(res->regions[i].outcome));
        }
    if (w->row.serial[0])
        log_line(w, "serial number %s", w->row.serial);
    if (res->rc == 0)
        log_line(w, "PASS");
    else
        log_line(w, "%s at %s (%s): %s", res->rc == EG_EPASSED ? "LEFT AS IT IS" : "FAIL",
                 eg_step_name(res->step), eg_error_name(res->rc), res->message);
    if (res->device_status >= 0)
        log_line(w, "the device's status byte: 0x%02x", (unsigned)res->device_status);
    if (res->boot != EG_BOOT_NONE)
        log_text(w, "boot check: %s%s%s\nconsole (last lines):\n%s", eg_boot_result_name(res->boot),
                 res->boot_line[0] ? ": " : "", res->boot_line, res->boot_tail);
    fclose(w->log);
    w->log = NULL;
}

static void *work(void *arg)
{
    slot *w = arg;
    run *r = w->run;
    const eg_prod_opts *o = r->o;
    eg_job_opts jo = {0};
    eg_job_result res;
    char port[256];
    unsigned seq;

    pthread_mutex_lock(&r->lock);
    snprintf(port, sizeof(port), "%s", w->row.port);
    seq = w->row.seq;
    pthread_mutex_unlock(&r->lock);
    jo.kind = o->kind;
    jo.port = port;
    jo.baud = o->baud;
    jo.connect_attempts = o->connect_attempts;
    jo.no_fast_connect = o->no_fast_connect;
    jo.ev = (eg_job_events){on_step, on_progress, on_log, w};
    jo.cancel = &w->cancel;
    jo.ctx = w;
    jo.replan = board_plan;
    jo.resetting = resetting;
    if (o->watch)
        jo.port_name = port_now;
    log_open(w, seq, port);
    if (o->store)
        store_result(r,
                     eg_prod_record_start(o->store, o->run_id, seq, w->row.slot, w->row.label, port,
                                          o->kind, w->row.usb_location, w->row.usb_serial));
    eg_job_run(&res, o->plan, &jo);
    log_close(w, &res);
    if (o->store)
        store_result(r, eg_prod_record_end(o->store, o->run_id, seq, &res, w->row.serial,
                                           w->log_path[0] ? w->log_path : NULL));
    pthread_mutex_lock(&r->lock);
    w->row.state = board_state(res.rc);
    if (res.identified && !w->row.identified) { /* identified, then refused */
        w->row.identified = 1;
        snprintf(w->row.chip, sizeof(w->row.chip), "%s", res.chip->name);
        eg_mac_format(w->row.mac, res.mac);
    }
    w->row.ended_ms = run_ms(r);
    w->row.retries = res.retries;
    w->row.first_block_ms = res.first_block_ms;
    if (res.rc < 0) {
        w->row.step = res.step;
        snprintf(w->row.message, sizeof(w->row.message), "%s", res.message);
        snprintf(w->row.cause, sizeof(w->row.cause), "%s: %s", eg_step_name(res.step),
                 eg_error_name(res.rc));
    } else {
        w->row.message[0] = '\0';
        w->row.cause[0] = '\0';
    }
    switch (w->row.state) {
    case EG_BOARD_PASS:
        r->passed++;
        if (w->row.identified && r->n_passed_macs < r->cap_passed_macs)
            snprintf(r->passed_macs[r->n_passed_macs++], 18, "%s", w->row.mac);
        break;
    case EG_BOARD_FAIL:
        r->failed++;
        break;
    case EG_BOARD_CANCELED:
        r->canceled++;
        break;
    default:
        r->already++;
    }
    post(w, EG_PROD_DONE, res.step, res.rc < 0 ? EG_JOB_STEP_FAIL : EG_JOB_STEP_DONE, EG_LOG_INFO,
         NULL);
    w->busy = 0;
    pthread_mutex_unlock(&r->lock);
    eg_job_result_release(&res);
    eg_plan_free((eg_plan *)w->own_plan);
    w->own_plan = NULL;
    wake(r);
    return NULL;
}

/* The device a port name designates, as a key: for a terminal of a USB device, its
 * place in sysfs (bus, ports and interface: the same board under two names, even two
 * nodes of one interface); else the real path of the node, or a socket's address. */
static void device_key(char *dst, size_t len, const char *port)
{
    char real[PATH_MAX], sys[PATH_MAX + 32], dev[PATH_MAX];
    const char *names[2] = {port, real};

    if (strstr(port, "://") || eg_path_resolve(real, sizeof(real), port) != 0) {
        snprintf(dst, len, "%s", port);
        return;
    }
    /* The terminal's name as given, then the one its links lead to. */
    for (int i = 0; i < 2; i++) {
        const char *base = strrchr(names[i], '/');
        snprintf(sys, sizeof(sys), "/sys/class/tty/%s/device", base ? base + 1 : names[i]);
        if (eg_path_resolve(dev, sizeof(dev), sys) == 0 && strstr(dev, "/usb")) {
            snprintf(dst, len, "%s", dev);
            return;
        }
    }
    snprintf(dst, len, "%s", real);
}

/* A port's slot in slots: EG_EINVAL naming it when the file has none. */
static int slot_of(const eg_slot **out, const char *port, const char *location,
                   const eg_slots *slots)
{
    if (!(*out = eg_slots_find(slots, location)))
        return eg_error_set(EG_EINVAL, "port '%s' (USB location %s) has no slot in '%s'", port,
                            location[0] ? location : "unknown", slots->path);
    return 0;
}

int eg_prod_check_ports(const char *const *ports, size_t n, const eg_slots *slots)
{
    char a[PATH_MAX], b[PATH_MAX], location[64];
    const eg_slot *slot;
    int rc;

    for (size_t i = 0; slots && i < n; i++) {
        location[0] = '\0';
        if (!strstr(ports[i], "://"))
            eg_usb_location(location, sizeof(location), ports[i]);
        if ((rc = slot_of(&slot, ports[i], location, slots)) < 0)
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        device_key(a, sizeof(a), ports[i]);
        for (size_t k = 0; k < i; k++) {
            device_key(b, sizeof(b), ports[k]);
            if (strcmp(a, b) == 0)
                return eg_error_set(EG_EINVAL,
                                    "ports '%s' and '%s' are the same device (%s): each board "
                                    "once",
                                    ports[k], ports[i], a);
        }
    }
    return 0;
}

static void totals(eg_prod_totals *t, const run *r)
{
    memset(t, 0, sizeof(*t));
    t->boards = r->next_seq;
    t->passed = r->passed;
    t->failed = r->failed;
    t->canceled = r->canceled;
    t->already = r->already;
    for (size_t i = 0; i < r->n; i++)
        t->running += r->s[i]->busy;
    t->elapsed_ms = run_ms(r);
    t->boards_per_hour =
        t->elapsed_ms > 0 ? (double)t->passed * 3600000.0 / (double)t->elapsed_ms : 0;
}

/* Keeps an ended attempt's row for the summary. */
static void keep_ended(run *r, const eg_prod_board *b)
{
    if (r->n_ended == r->cap_ended) {
        size_t cap = r->cap_ended ? 2 * r->cap_ended : 16;
        eg_prod_board *p = realloc(r->ended, cap * sizeof(*p));
        if (!p)
            return; /* the counts still hold it */
        r->ended = p;
        r->cap_ended = cap;
    }
    r->ended[r->n_ended++] = *b;
}

/* Hands the queued events to the caller, oldest first. */
static void deliver(run *r)
{
    queued *q;

    pthread_mutex_lock(&r->lock);
    q = r->head;
    r->head = r->tail = NULL;
    pthread_mutex_unlock(&r->lock);
    while (q) {
        queued *next = q->next;
        if (q->e.kind == EG_PROD_DONE)
            keep_ended(r, &q->board);
        if (r->o->ev.event)
            r->o->ev.event(r->o->ev.ctx, &q->e);
        free(q);
        q = next;
    }
}

static void tick(run *r, eg_prod_board **snap, size_t *cap)
{
    eg_prod_totals t;
    size_t n;

    if (!r->o->ev.tick)
        return;
    pthread_mutex_lock(&r->lock);
    n = r->n;
    if (n > *cap) {
        eg_prod_board *p = realloc(*snap, n * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&r->lock);
            return;
        }
        *snap = p;
        *cap = n;
    }
    for (size_t i = 0; i < n; i++)
        (*snap)[i] = r->s[i]->row;
    totals(&t, r);
    pthread_mutex_unlock(&r->lock);
    r->o->ev.tick(r->o->ev.ctx, *snap, n, &t);
}

/* A slot event (watching) for the front end. The lock is held. */
static void say(slot *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(slot *w, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    post(w, EG_PROD_SLOT, w->row.step, EG_JOB_STEP_START, EG_LOG_INFO, text);
}

/* A new slot (the calling thread's; the lock is held). */
static slot *slot_add(run *r, int number, const char *label, const char *location)
{
    slot *w;

    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        slot **p = realloc(r->s, cap * sizeof(*p));
        if (!p)
            return NULL;
        r->s = p;
        r->cap = cap;
    }
    if (!(w = calloc(1, sizeof(*w))))
        return NULL;
    w->run = r;
    w->cancel.fd = -1;
    w->row.slot = number;
    w->row.state = r->o->watch ? EG_BOARD_EMPTY : EG_BOARD_WAITING;
    snprintf(w->row.label, sizeof(w->row.label), "%s", label ? label : "");
    snprintf(w->row.usb_location, sizeof(w->row.usb_location), "%s", location ? location : "");
    r->s[r->n++] = w;
    return w;
}

/* Starts an attempt on the slot's board at port (the calling thread's). */
static int attempt_start(run *r, slot *w, const char *port_name, pthread_attr_t *attr)
{
    char port[256];
    int rc;

    snprintf(port, sizeof(port), "%s", port_name); /* it may be the row's */
    if ((rc = eg_cancel_init(&w->cancel, NULL)) < 0)
        return rc;
    pthread_mutex_lock(&r->lock);
    if (r->next_seq >= r->cap_passed_macs) {
        size_t cap = r->cap_passed_macs ? 2 * r->cap_passed_macs : 64;
        char(*p)[18] = realloc(r->passed_macs, cap * sizeof(*p));
        if (p) {
            r->passed_macs = p;
            r->cap_passed_macs = cap;
        }
    }
    /* A fresh row; the slot's place stays. */
    eg_prod_board keep = w->row;
    memset(&w->row, 0, sizeof(w->row));
    w->row.slot = keep.slot;
    memcpy(w->row.label, keep.label, sizeof(keep.label));
    memcpy(w->row.usb_location, keep.usb_location, sizeof(keep.usb_location));
    memcpy(w->row.usb_serial, keep.usb_serial, sizeof(keep.usb_serial));
    snprintf(w->row.port, sizeof(w->row.port), "%s", port);
    w->row.attempts = keep.attempts + 1;
    w->row.seq = ++r->next_seq;
    w->row.state = EG_BOARD_RUNNING;
    w->row.started_ms = run_ms(r);
    w->row.first_block_ms = -1;
    w->reset_ms = 0;
    w->away_ms = 0;
    w->unplugged = 0;
    w->busy = 1;
    pthread_mutex_unlock(&r->lock);
    if (pthread_create(&w->thread, attr, work, w) != 0) {
        pthread_mutex_lock(&r->lock);
        w->busy = 0;
        w->row.state = EG_BOARD_CANCELED;
        r->canceled++;
        pthread_mutex_unlock(&r->lock);
        eg_cancel_release(&w->cancel);
        return eg_error_set(EG_EIO, "cannot start a worker for '%s'", port);
    }
    w->joinable = 1;
    return 0;
}

/* Joins the slots' ended attempts (the calling thread's); watching, starts the board
 * that came meanwhile. */
static void reap(run *r, pthread_attr_t *attr)
{
    for (size_t i = 0; i < r->n; i++) {
        slot *w = r->s[i];
        char next[256] = "";
        pthread_mutex_lock(&r->lock);
        int ended = w->joinable && !w->busy;
        if (ended && w->pending[0] && !r->stops) {
            snprintf(next, sizeof(next), "%s", w->pending);
            w->pending[0] = '\0';
        }
        pthread_mutex_unlock(&r->lock);
        if (!ended)
            continue;
        pthread_join(w->thread, NULL);
        w->joinable = 0;
        eg_cancel_release(&w->cancel);
        if (next[0]) {
            snprintf(w->devnode, sizeof(w->devnode), "%s", next);
            attempt_start(r, w, next, attr);
        }
    }
}

static size_t busy_count(run *r)
{
    size_t n = 0;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        n += r->s[i]->busy || r->s[i]->joinable;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* ---- ports given ---------------------------------------------------------------------- */

/* Known facts about each port before it is opened: its USB place, serial number and
 * slot. */
static int ports_slots(run *r)
{
    const eg_prod_opts *o = r->o;
    eg_port_info *ports = NULL;
    size_t n = 0;
    char a[PATH_MAX], b[PATH_MAX];

    eg_port_list(&ports, &n);
    for (size_t i = 0; i < o->n_ports; i++) {
        char location[64] = "";
        const eg_slot *def = NULL;
        slot *w;
        int rc;

        if (!strstr(o->ports[i], "://"))
            eg_usb_location(location, sizeof(location), o->ports[i]);
        if (o->slots && (rc = slot_of(&def, o->ports[i], location, o->slots)) < 0) {
            free(ports);
            return rc;
        }
        if (!(w = slot_add(r, def ? (int)def->number : (int)i + 1, def ? def->label : NULL,
                           location))) {
            free(ports);
            return eg_error_set(EG_ENOMEM, "out of memory");
        }
        snprintf(w->row.port, sizeof(w->row.port), "%s", o->ports[i]);
        if (!location[0])
            continue;
        device_key(a, sizeof(a), o->ports[i]);
        for (size_t k = 0; k < n; k++) {
            device_key(b, sizeof(b), ports[k].name);
            if (strcmp(a, b) == 0)
                snprintf(w->row.usb_serial, sizeof(w->row.usb_serial), "%s", ports[k].serial);
        }
    }
    free(ports);
    return 0;
}

/* ---- watching ------------------------------------------------------------------------- */

typedef struct watch {
    run *r;
    pthread_attr_t *attr;
    int next_number;     /* without a slots file: the next slot's number */
    char (*ignored)[64]; /* locations said to have no slot */
    size_t n_ignored;
} watch;

static slot *slot_at(run *r, const char *location)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->s[i]->row.usb_location, location) == 0)
            return r->s[i];
    return NULL;
}

/* The slot for a board plugged in at location, made at its first board; NULL when the
 * slots file has no slot there (said once). */
static slot *slot_for(watch *wt, const eg_hotplug_event *e)
{
    run *r = wt->r;
    slot *w = slot_at(r, e->location);
    const eg_slot *def = NULL;

    if (w)
        return w;
    if (r->o->slots && !(def = eg_slots_find(r->o->slots, e->location))) {
        for (size_t i = 0; i < wt->n_ignored; i++)
            if (strcmp(wt->ignored[i], e->location) == 0)
                return NULL;
        char(*p)[64] = realloc(wt->ignored, (wt->n_ignored + 1) * sizeof(*p));
        if (p) {
            wt->ignored = p;
            snprintf(p[wt->n_ignored++], 64, "%s", e->location);
        }
        slot tmp = {0};
        tmp.run = r;
        snprintf(tmp.row.port, sizeof(tmp.row.port), "%s", e->devnode);
        snprintf(tmp.row.usb_location, sizeof(tmp.row.usb_location), "%s", e->location);
        tmp.row.state = EG_BOARD_EMPTY;
        pthread_mutex_lock(&r->lock);
        say(&tmp, "%s (USB location %s) has no slot in '%s': left alone", e->devnode, e->location,
            r->o->slots->path);
        pthread_mutex_unlock(&r->lock);
        return NULL;
    }
    pthread_mutex_lock(&r->lock);
    w = slot_add(r, def ? (int)def->number : wt->next_number++, def ? def->label : NULL,
                 e->location);
    pthread_mutex_unlock(&r->lock);
    return w;
}

static int serial_same(const slot *w, const eg_hotplug_event *e)
{
    return !w->row.usb_serial[0] || !e->serial[0] || strcmp(w->row.usb_serial, e->serial) == 0;
}

static void plugged(watch *wt, const eg_hotplug_event *e)
{
    run *r = wt->r;
    slot *w;

    if (!r->o->watch_all && !eg_port_known(e->vid, e->pid))
        return;
    if (!(w = slot_for(wt, e)))
        return;
    pthread_mutex_lock(&r->lock);
    if (w->away_ms && serial_same(w, e)) {
        /* The same board, back after its reset: the attempt goes on. */
        snprintf(w->devnode, sizeof(w->devnode), "%s", e->devnode);
        snprintf(w->row.port, sizeof(w->row.port), "%s", e->devnode);
        w->away_ms = 0;
        w->row.away = 0;
        say(w, "back after its reset as %s", e->devnode);
        pthread_cond_broadcast(&r->back);
        pthread_mutex_unlock(&r->lock);
        return;
    }
    if (w->present && strcmp(w->devnode, e->devnode) == 0 && !w->away_ms) {
        pthread_mutex_unlock(&r->lock); /* seen already (the scan and the event) */
        return;
    }
    if (w->away_ms && w->busy) {
        /* Another board where one was away: that one is gone. */
        w->unplugged = 1;
        eg_cancel_abort(&w->cancel, EG_EGONE);
    }
    w->present = 1;
    w->away_ms = 0;
    w->row.away = 0;
    w->own_usb = e->vid == EG_ESPRESSIF_VID;
    snprintf(w->row.usb_serial, sizeof(w->row.usb_serial), "%s", e->serial);
    if (w->busy || w->joinable) {
        snprintf(w->pending, sizeof(w->pending), "%s", e->devnode);
        pthread_mutex_unlock(&r->lock);
        return;
    }
    int stopping = r->stops > 0;
    say(w, "board plugged in at %s%s", e->devnode,
        stopping ? ": the run is stopping, left alone" : "");
    pthread_mutex_unlock(&r->lock);
    snprintf(w->devnode, sizeof(w->devnode), "%s", e->devnode);
    if (!stopping)
        attempt_start(r, w, e->devnode, wt->attr);
}

static void unplugged(watch *wt, const eg_hotplug_event *e)
{
    run *r = wt->r;
    slot *w = slot_at(r, e->location);

    if (!w)
        return;
    pthread_mutex_lock(&r->lock);
    if (w->pending[0] && strcmp(w->pending, e->devnode) == 0)
        w->pending[0] = '\0';
    if (!w->present || (w->devnode[0] && strcmp(w->devnode, e->devnode) != 0)) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    int64_t now = run_ms(r);
    if (w->own_usb && w->reset_ms && now - w->reset_ms <= (int64_t)r->reenum_ms) {
        /* On the chip's own USB and reset by its worker: it comes back (maybe under
         * another name). A USB-UART bridge stays on the bus through a reset. */
        w->devnode[0] = '\0';
        w->away_ms = now ? now : 1;
        w->row.away = 1;
        say(w, "left the bus after its reset; waiting for it to come back");
    } else {
        w->present = 0;
        w->devnode[0] = '\0';
        if (w->busy) {
            w->unplugged = 1;
            eg_cancel_abort(&w->cancel, EG_EGONE);
            say(w, "unplugged during the %s step", eg_step_name(w->row.step));
        } else {
            w->row.state = EG_BOARD_EMPTY;
            say(w, "unplugged");
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static void on_hotplug(void *ctx, const eg_hotplug_event *e)
{
    if (e->added)
        plugged(ctx, e);
    else
        unplugged(ctx, e);
}

/* Boards away after a reset for longer than reenum_ms are gone. */
static void away_expired(run *r)
{
    int64_t now = run_ms(r);

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++) {
        slot *w = r->s[i];
        if (!w->away_ms || now - w->away_ms <= (int64_t)r->reenum_ms)
            continue;
        w->away_ms = 0;
        w->row.away = 0;
        w->present = 0;
        if (w->busy) {
            w->unplugged = 1;
            eg_cancel_abort(&w->cancel, EG_EGONE);
            say(w, "did not come back within %u ms of its reset: unplugged", r->reenum_ms);
        } else {
            w->row.state = EG_BOARD_EMPTY;
            say(w, "did not come back after its reset: unplugged");
        }
    }
    pthread_mutex_unlock(&r->lock);
}

static int cmp_seq(const void *a, const void *b)
{
    const eg_prod_board *x = a, *y = b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int eg_prod_run(eg_prod_summary *out, const eg_prod_opts *o)
{
    run r;
    sigset_t sigs, old;
    int sig_fd = -1, rc = 0;
    eg_prod_board *snap = NULL;
    size_t snap_cap = 0;
    pthread_attr_t attr;
    eg_hotplug *hp = NULL;
    watch wt;

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    memset(&wt, 0, sizeof(wt));
    r.o = o;
    r.t0 = eg_clock_ms();
    r.reenum_ms = o->reenum_ms ? o->reenum_ms : 5000;
    tzset(); /* once, here: workers' localtime_r() then only read the zone */
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.back, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    wt.r = &r;
    wt.attr = &attr;
    wt.next_number = 1;
    r.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r.wake_fd < 0) {
        rc = eg_error_set(EG_ENOMEM, "cannot set the run up");
        goto done;
    }
    if (o->log_dir && (rc = eg_path_mkdirs(o->log_dir)) < 0)
        goto done;
    if (o->watch) {
        /* Listening before anything is looked at: nothing plugged in meanwhile is missed. */
        if ((rc = eg_hotplug_open(&hp)) < 0)
            goto done;
    } else if ((rc = ports_slots(&r)) < 0) {
        goto done;
    }
    /* Signals go to this thread alone: blocked before any worker exists, so every
     * worker inherits the mask, and read here through a signalfd. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    if (o->take_signals && (sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        /* Without it a stop could never be asked: no run. */
        rc = eg_error_set(EG_EIO, "cannot take signals: %s", eg_strerror(errno));
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        goto done;
    }
    if (o->watch) {
        eg_hotplug_scan(hp, on_hotplug, &wt);
        deliver(&r);
        eg_prod_event e = {EG_PROD_WATCHING, NULL, 0, 0, 0, NULL, 0, run_ms(&r)};
        if (o->ev.event)
            o->ev.event(o->ev.ctx, &e);
    } else {
        for (size_t i = 0; i < r.n; i++) {
            if ((rc = attempt_start(&r, r.s[i], r.s[i]->row.port, &attr)) < 0) {
                for (size_t k = 0; k < i; k++)
                    eg_cancel_request(&r.s[k]->cancel, EG_CANCEL_NOW);
                break;
            }
        }
    }
    if (!o->take_signals)
        pthread_sigmask(SIG_SETMASK, &old, NULL); /* the workers keep it */

    int64_t next_tick = eg_clock_ms();
    while (rc == 0 || busy_count(&r)) {
        struct pollfd p[3] = {
            {r.wake_fd, POLLIN, 0}, {sig_fd, POLLIN, 0}, {hp ? eg_hotplug_fd(hp) : -1, POLLIN, 0}};
        int64_t now = eg_clock_ms();
        int timeout = o->tick_ms ? (int)(next_tick > now ? next_tick - now : 0) : 1000;

        if (o->watch && timeout > 200)
            timeout = 200; /* boards away after a reset are timed */
        poll(p, 3, timeout);
        if (p[0].revents) {
            uint64_t v;
            ssize_t n = read(r.wake_fd, &v, sizeof(v));
            (void)n;
        }
        if (sig_fd >= 0 && p[1].revents) {
            struct signalfd_siginfo si;
            while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                pthread_mutex_lock(&r.lock);
                r.stops = r.stops < 2 ? r.stops + 1 : 2;
                for (size_t i = 0; i < r.n; i++)
                    if (r.s[i]->busy && (!o->watch || r.stops >= 2))
                        eg_cancel_request(&r.s[i]->cancel, r.stops);
                int level = r.stops;
                pthread_mutex_unlock(&r.lock);
                eg_prod_event e = {EG_PROD_STOPPING, NULL, 0, 0, 0, NULL, level, run_ms(&r)};
                if (o->ev.event)
                    o->ev.event(o->ev.ctx, &e);
            }
        }
        if (hp && p[2].revents && !r.stops)
            eg_hotplug_read(hp, on_hotplug, &wt);
        else if (hp && p[2].revents) /* stopping: boards that come are left alone */
            eg_hotplug_read(hp, on_hotplug, &wt);
        if (o->watch)
            away_expired(&r);
        deliver(&r);
        reap(&r, &attr);
        if (o->tick_ms && eg_clock_ms() >= next_tick) {
            tick(&r, &snap, &snap_cap);
            next_tick = eg_clock_ms() + o->tick_ms;
        }
        if (busy_count(&r) == 0 && (!o->watch || r.stops || rc < 0))
            break;
    }
    reap(&r, &attr);
    deliver(&r);
    tick(&r, &snap, &snap_cap);
    totals(&out->totals, &r);
    out->stopped = r.stops;
    out->store_error = r.store_error;
    if (r.store_error && rc == 0)
        eg_error_set(r.store_error, "%s", r.store_message);
    qsort(r.ended, r.n_ended, sizeof(*r.ended), cmp_seq);
    out->boards = r.ended;
    out->n_boards = r.n_ended;
    r.ended = NULL;
    if (o->take_signals) {
        close(sig_fd);
        sig_fd = -1;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
done:
    if (sig_fd >= 0)
        close(sig_fd);
    eg_hotplug_free(hp);
    pthread_attr_destroy(&attr);
    for (size_t i = 0; i < r.n; i++) {
        eg_cancel_release(&r.s[i]->cancel);
        free(r.s[i]);
    }
    free(r.s);
    free(r.ended);
    free(r.passed_macs);
    free(wt.ignored);
    free(snap);
    if (r.wake_fd >= 0)
        close(r.wake_fd);
    pthread_cond_destroy(&r.back);
    pthread_mutex_destroy(&r.lock);
    return rc;
}

void eg_prod_summary_release(eg_prod_summary *s)
{
    if (!s)
        return;
    free(s->boards);
    s->boards = NULL;
    s->n_boards = 0;
}
