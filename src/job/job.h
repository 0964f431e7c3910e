/* A job: what one worker does to one board with a plan. The steps, each timed and
 * tried again as the plan's policy says (after reconnecting): connect, identify (chip,
 * revision, MAC, security; baud, stub, flash), check (the board against the plan),
 * erase, write (skipping what the flash already holds), verify (on-chip MD5, and
 * read-back), finish (reset as asked). A verify-only job never erases or writes.
 *
 * A job prints nothing: it reports through its events and fills a result (the step
 * and region that failed, the error code, the device's status byte, the message, the
 * durations). The single-board commands and the production run use the same path. */
#ifndef EG_JOB_JOB_H
#define EG_JOB_JOB_H

#include "core/cancel.h"
#include "core/events.h"
#include "device/console.h"
#include "device/device.h"
#include "plan/plan.h"

#include <stdint.h>

typedef enum eg_job_kind {
    EG_JOB_FLASH,  /* erase, write and verify what the plan says */
    EG_JOB_VERIFY, /* compare the flash with the plan; never erase or write */
    EG_JOB_INFO,   /* identify only (board-info); then the work callback, if any */
} eg_job_kind;

typedef enum eg_region_outcome {
    EG_REGION_PENDING,
    EG_REGION_SKIPPED,  /* the flash already held it (its MD5 matched) */
    EG_REGION_WRITTEN,  /* written, not verified (verification off) */
    EG_REGION_VERIFIED, /* written (or already there) and checked */
    EG_REGION_FAILED,
} eg_region_outcome;

/* "pending", "skipped", "written", "verified", "failed". */
const char *eg_region_outcome_name(eg_region_outcome o);

typedef struct eg_job_region {
    eg_region_outcome outcome;
    int has_md5; /* md5_device holds what the chip computed */
    uint8_t md5_device[16];
} eg_job_region;

typedef enum eg_boot_result {
    EG_BOOT_NONE,    /* no boot check ran */
    EG_BOOT_PASS,    /* the expected line came */
    EG_BOOT_FAIL,    /* a failing line came first */
    EG_BOOT_TIMEOUT, /* neither within the timeout */
} eg_boot_result;

/* "", "pass", "fail", "timeout". */
const char *eg_boot_result_name(eg_boot_result r);

#define EG_BOOT_TAIL_MAX 2048 /* the console's last bytes kept with the result */

typedef struct eg_job_result {
    int rc;            /* 0: passed; else the failure's EG_E* code (EG_ECANCELED: stopped) */
    eg_step step;      /* the step that failed, or was running when stopped */
    int region;        /* the plan region it was on, -1 when none */
    int device_status; /* the device's error byte when it reported one, else -1 */
    char message[512]; /* the error, "" when it passed */
    unsigned retries;  /* steps tried again */
    int64_t step_ms[EG_STEP_COUNT]; /* time spent in each step; -1: not run */
    int64_t first_block_ms;         /* from the start to the first flash block sent; -1: none */
    /* What the board is, once identified. */
    int identified;
    const eg_chip *chip;
    uint8_t mac[6];
    unsigned rev_major, rev_minor;
    uint32_t flash_id, flash_size;
    eg_chip_info info; /* package, features, crystal */
    eg_security_info sec;
    char usb_location[64], usb_serial[128];
    eg_job_region *regions; /* one per region of plan */
    size_t n_regions;
    const eg_plan *plan; /* the plan the job worked to (the replanned one, if any) */
    /* The boot check's outcome, the line that decided it ("" on a timeout) and the
     * console's last lines. */
    eg_boot_result boot;
    char boot_line[EG_CONSOLE_LINE_MAX];
    char boot_tail[EG_BOOT_TAIL_MAX];
} eg_job_result;

typedef enum eg_job_state {
    EG_JOB_STEP_START,
    EG_JOB_STEP_DONE,
    EG_JOB_STEP_RETRY, /* it failed and will be tried again; the result says why */
    EG_JOB_STEP_FAIL,
} eg_job_state;

typedef struct eg_job_events {
    /* A step starts, ends, fails, or is about to be tried again. */
    void (*step)(void *ctx, eg_step step, eg_job_state state, const eg_job_result *r);
    /* Bytes done of the step's total (write, verify's read-back, erase) across its
     * regions. */
    void (*progress)(void *ctx, eg_step step, uint64_t done, uint64_t total);
    void (*log)(void *ctx, eg_log_level level, const char *msg);
    void *ctx;
} eg_job_events;

typedef struct eg_job_opts {
    eg_job_kind kind;
    const char *port;
    uint32_t baud;             /* the rate after connecting; 0: 115200 */
    unsigned connect_attempts; /* 0: the default */
    uint32_t flash_size;       /* overrides the flash's JEDEC id (0: detect) */
    int no_fast_connect;       /* upload the stub at 115200, then raise the rate */
    /* When set, called once the board is identified and its flash attached: builds
     * the plan for this board (the single-board commands whose layout needs the
     * board's chip or flash size; a production run's per-device data). The job then
     * works to *out, which the caller frees; *out left NULL keeps the plan. A failure
     * ends the job at identify (EG_EPASSED: the board is left as it is). */
    int (*replan)(void *ctx, const eg_device *d, const eg_plan **out);
    /* When set, called before every connection to the board: writes the port's name
     * now into name (len bytes). A board on the chip's own USB (USB-Serial-JTAG) leaves
     * the bus when it is reset and comes back, often under another name: the callback
     * waits for it. NULL: o->port, always. */
    int (*port_name)(void *ctx, char *name, size_t len);
    /* When set, called just before the job resets the board (to reach the loader, and
     * the final reset), so that its port leaving the bus is known to be the reset. */
    void (*resetting)(void *ctx);
    /* When set, called with the device after the plan's steps (before finish): the
     * commands that read (read-flash, checksum-md5). */
    int (*work)(void *ctx, eg_device *d);
    void *ctx;
    eg_job_events ev;
    eg_cancel *cancel; /* NULL: none */
} eg_job_opts;

/* Runs the job on the board at o->port with plan (immutable, shared). Fills *out
 * (release with eg_job_result_release()) and returns out->rc. */
int eg_job_run(eg_job_result *out, const eg_plan *plan, const eg_job_opts *o);

void eg_job_result_release(eg_job_result *r);

#endif
