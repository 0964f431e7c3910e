#define _GNU_SOURCE /* signalfd, eventfd, pthread_attr_setstacksize */
#include "prod/prod.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "transport/transport.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
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

typedef struct worker {
    struct run *run;
    pthread_t thread;
    int started;
    eg_cancel cancel;
    eg_prod_board row; /* guarded by run->lock */
    int64_t speed_t;   /* the write's progress at speed_t, for the speed */
    uint64_t speed_done;
} worker;

typedef struct run {
    const eg_prod_opts *o;
    pthread_mutex_t lock;
    int store_error; /* a record could not be queued (guarded by lock) */
    char store_message[512];
    worker *w;
    size_t n;
    queued *head, *tail; /* events for the calling thread */
    int wake_fd;
    size_t finished;
    int64_t t0;
} run;

static const char *const state_names[] = {"waiting", "running", "PASS", "FAIL", "canceled"};

const char *eg_board_state_name(eg_board_state s)
{
    return (unsigned)s < 5 ? state_names[s] : "?";
}

static int64_t run_ms(const run *r)
{
    return eg_clock_ms() - r->t0;
}

/* Queues an event for the calling thread with a copy of the worker's row (the lock is
 * held), and wakes it. */
static void post(worker *w, eg_prod_event_kind kind, eg_step step, eg_job_state state,
                 eg_log_level level, const char *text)
{
    run *r = w->run;
    queued *q = calloc(1, sizeof(*q));
    uint64_t one = 1;

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
    ssize_t n = write(r->wake_fd, &one, sizeof(one));
    (void)n;
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

static void on_step(void *ctx, eg_step step, eg_job_state state, const eg_job_result *res)
{
    worker *w = ctx;
    run *r = w->run;

    pthread_mutex_lock(&r->lock);
    w->row.step = step;
    w->row.retries = res->retries;
    if (state == EG_JOB_STEP_START) {
        w->row.done = w->row.total = 0;
        w->speed_t = 0;
        w->row.speed = 0;
    }
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
        store_result(
            r, eg_store_attempt_identified(r->o->store, r->o->run_id, (unsigned)w->row.slot, &id));
    }
}

static void on_progress(void *ctx, eg_step step, uint64_t done, uint64_t total)
{
    worker *w = ctx;
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
    worker *w = ctx;
    if (level == EG_LOG_DEBUG)
        return;
    pthread_mutex_lock(&w->run->lock);
    post(w, EG_PROD_LOG, w->row.step, EG_JOB_STEP_START, level, msg);
    pthread_mutex_unlock(&w->run->lock);
}

int eg_prod_record_end(eg_store *s, int64_t run_id, unsigned seq, const eg_job_result *res)
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
    e.result = res->rc == 0              ? EG_RESULT_PASS
               : res->rc == EG_ECANCELED ? EG_RESULT_CANCELED
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

int eg_prod_record_start(eg_store *s, int64_t run_id, unsigned seq, int slot, const char *port,
                         eg_job_kind kind, const char *usb_location, const char *usb_serial)
{
    eg_store_attempt_start a = {run_id,
                                seq,
                                slot,
                                port,
                                usb_location && *usb_location ? usb_location : NULL,
                                usb_serial && *usb_serial ? usb_serial : NULL,
                                kind == EG_JOB_VERIFY ? "verify" : "flash",
                                eg_clock_unix_ms(),
                                NULL};
    return eg_store_attempt_started(s, &a);
}

static void *work(void *arg)
{
    worker *w = arg;
    run *r = w->run;
    const eg_prod_opts *o = r->o;
    eg_job_opts jo = {0};
    eg_job_result res;
    eg_board_state state;
    uint64_t one = 1;

    jo.kind = o->kind;
    jo.port = w->row.port;
    jo.baud = o->baud;
    jo.connect_attempts = o->connect_attempts;
    jo.no_fast_connect = o->no_fast_connect;
    jo.ev = (eg_job_events){on_step, on_progress, on_log, w};
    jo.cancel = &w->cancel;
    if (o->store)
        store_result(r, eg_prod_record_start(o->store, o->run_id, (unsigned)w->row.slot,
                                             w->row.slot, w->row.port, o->kind, w->row.usb_location,
                                             w->row.usb_serial));
    eg_job_run(&res, o->plan, &jo);
    state = res.rc == 0              ? EG_BOARD_PASS
            : res.rc == EG_ECANCELED ? EG_BOARD_CANCELED
                                     : EG_BOARD_FAIL;
    if (o->store)
        store_result(r, eg_prod_record_end(o->store, o->run_id, (unsigned)w->row.slot, &res));
    pthread_mutex_lock(&r->lock);
    w->row.state = state;
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
    post(w, EG_PROD_DONE, res.step, res.rc < 0 ? EG_JOB_STEP_FAIL : EG_JOB_STEP_DONE, EG_LOG_INFO,
         NULL);
    r->finished++;
    pthread_mutex_unlock(&r->lock);
    eg_job_result_release(&res);
    ssize_t n = write(r->wake_fd, &one, sizeof(one));
    (void)n;
    return NULL;
}

/* The device a port name designates, as a key: for a terminal of a USB device, its
 * place in sysfs (bus, ports and interface: the same board under two names, even two
 * nodes of one interface); else the real path of the node, or a socket's address. */
static void device_key(char *dst, size_t len, const char *port)
{
    char real[PATH_MAX], sys[PATH_MAX + 32], dev[PATH_MAX];
    const char *base;

    if (strstr(port, "://") || !realpath(port, real)) {
        snprintf(dst, len, "%s", port);
        return;
    }
    base = strrchr(real, '/');
    snprintf(sys, sizeof(sys), "/sys/class/tty/%s/device", base ? base + 1 : real);
    if (realpath(sys, dev) && strstr(dev, "/usb"))
        snprintf(dst, len, "%s", dev);
    else
        snprintf(dst, len, "%s", real);
}

int eg_prod_check_ports(const char *const *ports, size_t n)
{
    char a[PATH_MAX], b[PATH_MAX];

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
    t->boards = (unsigned)r->n;
    for (size_t i = 0; i < r->n; i++) {
        switch (r->w[i].row.state) {
        case EG_BOARD_PASS:
            t->passed++;
            break;
        case EG_BOARD_FAIL:
            t->failed++;
            break;
        case EG_BOARD_CANCELED:
            t->canceled++;
            break;
        default:
            t->running++;
        }
    }
    t->elapsed_ms = run_ms(r);
    t->boards_per_hour =
        t->elapsed_ms > 0 ? (double)t->passed * 3600000.0 / (double)t->elapsed_ms : 0;
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
        if (r->o->ev.event)
            r->o->ev.event(r->o->ev.ctx, &q->e);
        free(q);
        q = next;
    }
}

static void tick(run *r, eg_prod_board *snap)
{
    eg_prod_totals t;

    if (!r->o->ev.tick)
        return;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        snap[i] = r->w[i].row;
    totals(&t, r);
    pthread_mutex_unlock(&r->lock);
    r->o->ev.tick(r->o->ev.ctx, snap, r->n, &t);
}

/* Known facts about each port before it is opened: its USB place and serial number. */
static void usb_facts(run *r)
{
    eg_port_info *ports = NULL;
    size_t n = 0;
    char a[PATH_MAX], b[PATH_MAX];

    eg_port_list(&ports, &n);
    for (size_t i = 0; i < r->n; i++) {
        eg_prod_board *row = &r->w[i].row;
        if (strstr(row->port, "://"))
            continue;
        eg_usb_location(row->usb_location, sizeof(row->usb_location), row->port);
        device_key(a, sizeof(a), row->port);
        for (size_t k = 0; k < n; k++) {
            device_key(b, sizeof(b), ports[k].name);
            if (strcmp(a, b) == 0)
                snprintf(row->usb_serial, sizeof(row->usb_serial), "%s", ports[k].serial);
        }
    }
    free(ports);
}

int eg_prod_run(eg_prod_summary *out, const eg_prod_opts *o)
{
    run r;
    sigset_t sigs, old;
    int sig_fd = -1, rc = 0, stops = 0;
    eg_prod_board *snap = NULL;
    pthread_attr_t attr;

    memset(out, 0, sizeof(*out));
    memset(&r, 0, sizeof(r));
    r.o = o;
    r.n = o->n_ports;
    r.t0 = eg_clock_ms();
    pthread_mutex_init(&r.lock, NULL);
    r.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r.w = calloc(r.n ? r.n : 1, sizeof(*r.w));
    snap = calloc(r.n ? r.n : 1, sizeof(*snap));
    for (size_t i = 0; r.w && i < r.n; i++)
        r.w[i].cancel.fd = -1; /* released on every path below */
    if (r.wake_fd < 0 || !r.w || !snap) {
        rc = eg_error_set(EG_ENOMEM, "cannot set the run up");
        goto done;
    }
    for (size_t i = 0; i < r.n; i++) {
        worker *w = &r.w[i];
        w->run = &r;
        w->row.slot = (int)i + 1;
        w->row.state = EG_BOARD_WAITING;
        snprintf(w->row.port, sizeof(w->row.port), "%s", o->ports[i]);
        if ((rc = eg_cancel_init(&w->cancel, NULL)) < 0)
            goto done;
    }
    usb_facts(&r);
    /* Signals go to this thread alone: blocked before any worker exists, so every
     * worker inherits the mask, and read here through a signalfd. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    if (o->take_signals) {
        pthread_sigmask(SIG_BLOCK, &sigs, &old);
        sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sig_fd < 0) {
            /* Without it a stop could never be asked: no run. */
            rc = eg_error_set(EG_EIO, "cannot take signals: %s", eg_strerror(errno));
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            goto done;
        }
    } else {
        /* Workers still take no signal. */
        pthread_sigmask(SIG_BLOCK, &sigs, &old);
    }
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    for (size_t i = 0; i < r.n; i++) {
        worker *w = &r.w[i];
        pthread_mutex_lock(&r.lock);
        w->row.state = EG_BOARD_RUNNING;
        w->row.started_ms = run_ms(&r);
        pthread_mutex_unlock(&r.lock);
        if (pthread_create(&w->thread, &attr, work, w) != 0) {
            rc = eg_error_set(EG_EIO, "cannot start a worker for '%s'", w->row.port);
            for (size_t k = 0; k < i; k++)
                eg_cancel_request(&r.w[k].cancel, EG_CANCEL_NOW);
            pthread_mutex_lock(&r.lock);
            for (size_t k = i; k < r.n; k++) {
                r.w[k].row.state = EG_BOARD_CANCELED;
                r.finished++;
            }
            pthread_mutex_unlock(&r.lock);
            break;
        }
        w->started = 1;
    }
    pthread_attr_destroy(&attr);
    if (!o->take_signals)
        pthread_sigmask(SIG_SETMASK, &old, NULL);

    int64_t next_tick = eg_clock_ms();
    for (;;) {
        struct pollfd p[2] = {{r.wake_fd, POLLIN, 0}, {sig_fd, POLLIN, 0}};
        int64_t now = eg_clock_ms();
        int timeout = o->tick_ms ? (int)(next_tick > now ? next_tick - now : 0) : 1000;
        size_t finished;

        poll(p, 2, timeout);
        if (p[0].revents) {
            uint64_t v;
            ssize_t n = read(r.wake_fd, &v, sizeof(v));
            (void)n;
        }
        if (sig_fd >= 0 && p[1].revents) {
            struct signalfd_siginfo si;
            while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                stops = stops < 2 ? stops + 1 : 2;
                for (size_t i = 0; i < r.n; i++)
                    eg_cancel_request(&r.w[i].cancel, stops);
                eg_prod_event e = {EG_PROD_STOPPING, NULL, 0, 0, 0, NULL, stops, run_ms(&r)};
                if (o->ev.event)
                    o->ev.event(o->ev.ctx, &e);
            }
        }
        deliver(&r);
        if (o->tick_ms && eg_clock_ms() >= next_tick) {
            tick(&r, snap);
            next_tick = eg_clock_ms() + o->tick_ms;
        }
        pthread_mutex_lock(&r.lock);
        finished = r.finished;
        pthread_mutex_unlock(&r.lock);
        if (finished == r.n)
            break;
    }
    for (size_t i = 0; i < r.n; i++)
        if (r.w[i].started)
            pthread_join(r.w[i].thread, NULL);
    deliver(&r);
    tick(&r, snap);
    totals(&out->totals, &r);
    out->stopped = stops;
    out->store_error = r.store_error;
    if (r.store_error)
        eg_error_set(r.store_error, "%s", r.store_message);
    out->n_boards = r.n;
    out->boards = snap;
    snap = NULL;
    for (size_t i = 0; i < r.n; i++)
        out->boards[i] = r.w[i].row;
    if (o->take_signals) {
        close(sig_fd);
        sig_fd = -1;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
done:
    if (sig_fd >= 0)
        close(sig_fd);
    for (size_t i = 0; r.w && i < r.n; i++)
        eg_cancel_release(&r.w[i].cancel);
    free(r.w);
    free(snap);
    if (r.wake_fd >= 0)
        close(r.wake_fd);
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
