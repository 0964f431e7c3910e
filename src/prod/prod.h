/* The production run: one worker thread per port, each running the plan's job on its
 * board, every attempt recorded in the store as it starts, once the board is
 * identified, and when it ends. A failing, silent or unplugged board never stops or
 * slows the others.
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
} eg_board_state;

/* "waiting", "running", "PASS", "FAIL", "canceled". */
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
} eg_prod_board;

typedef enum eg_prod_event_kind {
    EG_PROD_STEP,     /* a board's step started, ended, failed, is retried */
    EG_PROD_DONE,     /* a board's attempt ended (state, message) */
    EG_PROD_LOG,      /* a board's log line */
    EG_PROD_STOPPING, /* a signal asked the run to stop (level: 1 drain, 2 now) */
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
    unsigned boards, passed, failed, canceled, running;
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
    const char *const *ports; /* one board each */
    size_t n_ports;
    /* Which USB location is which slot; NULL: slots follow the ports' order (1-based).
     * With it, a port whose location the file does not name stops the run before any
     * board is touched. */
    const eg_slots *slots;
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
    eg_prod_board *boards; /* n_boards rows (freed by eg_prod_summary_release()) */
    size_t n_boards;
    int stopped;     /* 1: a stop was asked; 2: a stop now */
    int store_error; /* a record could not be queued: its code (eg_error_msg() says why) */
} eg_prod_summary;

/* Records an attempt as a worker does: when it starts, and when it ends (from the
 * job's result and the plan it worked to). The single-board commands use these with
 * --db. seq is the attempt's number within the run; slot 0 when there are none. */
int eg_prod_record_start(eg_store *s, int64_t run_id, unsigned seq, int slot, const char *port,
                         eg_job_kind kind, const char *usb_location, const char *usb_serial);
int eg_prod_record_end(eg_store *s, int64_t run_id, unsigned seq, const eg_job_result *res);

/* Refuses the same device twice (two names of one device node, one USB device's
 * interface under two names, one socket address twice), and with slots a port whose
 * USB location the slots file does not name. EG_EINVAL naming them. */
int eg_prod_check_ports(const char *const *ports, size_t n, const eg_slots *slots);

/* Runs the job on every port at once and waits for all of them. Returns 0, or a
 * negative code when the run could not go on (the threads could not start). */
int eg_prod_run(eg_prod_summary *out, const eg_prod_opts *o);

void eg_prod_summary_release(eg_prod_summary *s);

#endif
