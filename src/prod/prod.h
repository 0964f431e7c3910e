/* The production run: one worker thread per board, each running the plan's job on it,
 * every attempt recorded in the store as it starts, once the board is identified, and
 * when it ends. A failing, silent or unplugged board never stops or slows the others.
 *
 * Two ways to find the boards: the ports given (one attempt each, the run ends when
 * all have ended), or watching USB (libudev hotplug) for boards plugged in and
 * unplugged until stopped: a board plugged in is flashed, its slot shows the result
 * until it is unplugged, and the next board in that slot starts again. A board
 * unplugged mid-attempt ends it at once, recorded FAIL 'unplugged'. A board on the
 * chip's own USB (USB-Serial-JTAG) leaves the bus whenever it is reset: its USB
 * location (and serial number) coming back within reenum_ms of a reset the worker
 * made is the same board, and the attempt goes on with its new port name.
 *
 * A board whose MAC passed the same profile before (in the store, or in this run) is
 * left as it is ("already passed": the attempt ends after identify, recorded
 * 'canceled' with that cause) unless reflash is set.
 *
 * The thread that calls eg_prod_run() takes the signals (through a signalfd; workers
 * never see one) and hands the caller every event, so the front end renders from one
 * thread: SIGINT or SIGTERM once asks every worker to start nothing new (what runs
 * finishes its current region and is recorded); twice, to stop now (recorded as
 * canceled). No attempt is ever left recorded as running. */
#ifndef EG_PROD_PROD_H
#define EG_PROD_PROD_H

#include "job/job.h"
#include "plan/plan.h"
#include "profile/profile.h"
#include "profile/slots.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* Where a board is. */
typedef enum eg_board_state {
    EG_BOARD_WAITING,
    EG_BOARD_RUNNING,
    EG_BOARD_PASS,
    EG_BOARD_FAIL,
    EG_BOARD_CANCELED,
    EG_BOARD_ALREADY, /* it passed this profile before: left as it is */
    EG_BOARD_EMPTY,   /* watching: no board in the slot */
} eg_board_state;

/* "waiting", "running", "PASS", "FAIL", "canceled", "already passed", "empty". */
const char *eg_board_state_name(eg_board_state s);

/* One row of the live table: what a board is doing, as of the last event. */
typedef struct eg_prod_board {
    int slot;
    char label[EG_SLOT_LABEL_MAX + 1]; /* the slot's label, "" when none */
    char port[256];
    eg_board_state state;
    eg_step step;
    int identified;
    char chip[16];
    char mac[18];
    uint64_t done, total;         /* the step's progress in bytes */
    double speed;                 /* bytes a second over the last few seconds (of the write) */
    int64_t started_ms, ended_ms; /* on the run's clock; ended 0 while it runs */
    unsigned retries;
    int64_t first_block_ms; /* from the start to the first flash block; -1: none */
    char message[512];      /* why it failed */
    char cause[64];         /* "write: unplugged": the failed step and the error's name */
    char usb_location[64], usb_serial[128]; /* "" when unknown */
    unsigned seq;                           /* the attempt's number in the run (0: none yet) */
    unsigned attempts;                      /* attempts in this slot so far */
    char serial[64];                        /* the serial number it was given, "" when none */
    int away; /* its port left the bus after a reset; waiting for it */
} eg_prod_board;

typedef enum eg_prod_event_kind {
    EG_PROD_STEP,     /* a board's step started, ended, failed, is retried */
    EG_PROD_DONE,     /* a board's attempt ended (state, message) */
    EG_PROD_LOG,      /* a board's log line */
    EG_PROD_STOPPING, /* a signal asked the run to stop (level: 1 drain, 2 now) */
    EG_PROD_SLOT,     /* watching: a board came, went, or came back (text says) */
    EG_PROD_WATCHING, /* watching: the boards present were taken; waiting for more */
} eg_prod_event_kind;

typedef struct eg_prod_event {
    eg_prod_event_kind kind;
    const eg_prod_board *board; /* a copy, as of the event; NULL for STOPPING */
    eg_step step;
    eg_job_state state;
    eg_log_level level;
    const char *text; /* LOG: the line */
    int level_stop;   /* STOPPING */
    int64_t t_ms;     /* since the run started */
} eg_prod_event;

typedef struct eg_prod_totals {
    unsigned boards; /* attempts started */
    unsigned passed, failed, canceled, already, running;
    int64_t elapsed_ms;
    double boards_per_hour; /* passed boards over the elapsed time */
} eg_prod_totals;

typedef struct eg_prod_events {
    /* Every event, in the calling thread, in order per board. */
    void (*event)(void *ctx, const eg_prod_event *e);
    /* About every tick_ms: the whole table, for a live display. */
    void (*tick)(void *ctx, const eg_prod_board *boards, size_t n, const eg_prod_totals *t);
    void *ctx;
} eg_prod_events;

typedef struct eg_prod_opts {
    const eg_plan *plan;
    eg_job_kind kind;         /* EG_JOB_FLASH or EG_JOB_VERIFY */
    const char *const *ports; /* one board each (not with watch) */
    size_t n_ports;
    /* Which USB location is which slot; NULL: slots follow the ports' order (1-based;
     * watching: the order the boards' USB locations first appear). With it, a port
     * whose location the file does not name stops the run before any board is
     * touched; watching, a board there is left alone (and said so once). */
    const eg_slots *slots;
    int watch;          /* find the boards by hotplug, until stopped */
    int watch_all;      /* watching: every USB terminal, not only known VID:PIDs */
    unsigned reenum_ms; /* a port back this soon after a reset is the same board (0: 5000) */
    int reflash;        /* rewrite boards that passed this profile before */
    /* Each board's own data (serial number, NVS partition) as the profile says; NULL:
     * none. Not for verify runs. lot and station fill the templates ("" when NULL). */
    const eg_profile *profile;
    const char *lot, *station;
    /* Where each attempt's log file goes (every step with its times, what the job
     * logged, the failure and the console's tail), named in its record; NULL: none.
     * Made when the run starts. */
    const char *log_dir;
    const char *profile_sha256; /* the profile's (64 hex digits); NULL: no such check */
    uint32_t baud;
    unsigned connect_attempts;
    int no_fast_connect;
    eg_store *store; /* running its writer; NULL: nothing recorded */
    int64_t run_id;
    unsigned tick_ms; /* 0: no ticks */
    int take_signals; /* catch SIGINT/SIGTERM (a front end does; tests may not) */
    eg_prod_events ev;
} eg_prod_opts;

typedef struct eg_prod_summary {
    eg_prod_totals totals;
    /* Every attempt as it ended, in the order they started (with ports given: one per
     * port, in their order); freed by eg_prod_summary_release(). */
    eg_prod_board *boards;
    size_t n_boards;
    int stopped;     /* 1: a stop was asked; 2: a stop now */
    int store_error; /* a record could not be queued: its code (eg_error_msg() says why) */
} eg_prod_summary;

/* Records an attempt as a worker does: when it starts, and when it ends (from the
 * job's result and the plan it worked to). The single-board commands use these with
 * --db. seq is the attempt's number within the run; slot 0 when there are none. */
int eg_prod_record_start(eg_store *s, int64_t run_id, unsigned seq, int slot, const char *label,
                         const char *port, eg_job_kind kind, const char *usb_location,
                         const char *usb_serial);
/* serial_number and log_path: NULL or "" when none. */
int eg_prod_record_end(eg_store *s, int64_t run_id, unsigned seq, const eg_job_result *res,
                       const char *serial_number, const char *log_path);

/* Refuses the same device twice (two names of one device node, one USB device's
 * interface under two names, one socket address twice), and with slots a port whose
 * USB location the slots file does not name. EG_EINVAL naming them. */
int eg_prod_check_ports(const char *const *ports, size_t n, const eg_slots *slots);

/* Runs the job on every port at once and waits for all of them; watching, until
 * stopped (the first stop takes no new board and lets the running ones finish, the
 * second stops them now). Returns 0, or a negative code when the run could not go on
 * (the threads could not start, the hotplug monitor could not be opened). */
int eg_prod_run(eg_prod_summary *out, const eg_prod_opts *o);

void eg_prod_summary_release(eg_prod_summary *s);

#endif
