/* The records store: every production run, every device (by MAC) and every attempt
 * on a board with its regions, for traceability reports and QA.
 *
 * One interface; SQLite (a file on disk) is the embedded default and a PostgreSQL
 * backend for many stations will follow, so the SQL stays portable where that costs
 * nothing. The schema is db/schema.sql; numbered migrations in db/ move older files
 * forward on open (PRAGMA user_version); a file from a newer espgang is refused.
 *
 * Threads: after eg_store_writer_start() one writer thread owns the connection and
 * takes records from a queue; eg_store_attempt_*() copy what they are given, queue it
 * and return at once, so workers never wait on the database. An attempt is written
 * when it starts and completed when it ends: a crash leaves it 'running', and the
 * next open marks it 'interrupted', so there is never a gap. */
#ifndef EG_STORE_STORE_H
#define EG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct eg_store eg_store;

#define EG_STORE_SCHEMA_VERSION 1

typedef enum eg_store_result {
    EG_RESULT_RUNNING,
    EG_RESULT_PASS,
    EG_RESULT_FAIL,
    EG_RESULT_CANCELED,
    EG_RESULT_INTERRUPTED,
} eg_store_result;

/* "running", "pass", "fail", "canceled", "interrupted". */
const char *eg_store_result_name(eg_store_result r);

/* The steps whose durations an attempt records, in this order. */
#define EG_STORE_STEPS 7
extern const char *const eg_store_step_names[EG_STORE_STEPS]; /* "connect" ... "finish" */

typedef struct eg_store_run_info {
    const char *station, *operator_name, *lot; /* NULL when not given */
    const char *profile_name;                  /* NULL for a single-board command */
    const char *profile_sha256;                /* 64 hex digits, or NULL */
    const char *kind;                          /* "flash" or "verify" */
    const char *version;                       /* espgang's */
    const char *host;                          /* this machine's name */
    int pid;                                   /* this process */
    int64_t started_ms;                        /* Unix time, milliseconds */
} eg_store_run_info;

/* What an attempt knows when it starts. */
typedef struct eg_store_attempt_start {
    int64_t run_id;
    unsigned seq; /* unique within the run; the attempt's key with run_id */
    int slot;     /* 1-based; 0 when none */
    const char *port;
    const char *usb_location, *usb_serial; /* NULL when unknown */
    const char *kind;                      /* "flash" or "verify" */
    int64_t started_ms;
} eg_store_attempt_start;

/* What the board said it is. */
typedef struct eg_store_identity {
    const char *chip; /* "ESP32-C3" */
    unsigned rev_major, rev_minor;
    char mac[18]; /* "24:0a:c4:00:00:01" */
    uint32_t flash_id, flash_size;
    int has_security; /* 0 when the chip's ROM cannot tell */
    uint32_t security_flags;
    int flash_encrypted;
} eg_store_identity;

typedef struct eg_store_region {
    uint32_t offset, size;
    const char *label;
    char sha256[65];       /* of the plan's bytes */
    char md5_expected[33]; /* of the plan's bytes */
    char md5_device[33];   /* what the chip computed; "" when not asked */
    const char *outcome;   /* "written", "skipped", "verified", "failed", "pending" */
} eg_store_region;

/* What an attempt knows when it ends. */
typedef struct eg_store_attempt_end {
    int64_t run_id;
    unsigned seq;
    eg_store_result result;
    int identified; /* identity is filled */
    eg_store_identity identity;
    const char *failed_step;         /* NULL when it passed */
    int error_code;                  /* EG_E*, 0 when it passed */
    const char *message;             /* the error, NULL when it passed */
    int device_status;               /* the device's error byte, -1 when none */
    unsigned retries;                /* steps tried again */
    int64_t step_ms[EG_STORE_STEPS]; /* -1: the step did not run */
    int64_t ended_ms;
    const eg_store_region *regions;
    size_t n_regions;
} eg_store_attempt_end;

/* Opens (creating when absent) the database at path, applies migrations, checks that
 * it can be written (a read-only file or a full disk is an error now, not later), and
 * marks attempts left 'running' by a process of this host that is gone as
 * 'interrupted'. EG_EIO / EG_EINVAL with a message naming path. */
int eg_store_open(eg_store **out, const char *path);

/* Stops the writer if it runs (as eg_store_writer_stop) and closes. NULL is fine. */
void eg_store_close(eg_store *s);

/* Records a new run (synchronously: before any board is touched) into *run_id. */
int eg_store_run_begin(int64_t *run_id, eg_store *s, const eg_store_run_info *info);

/* Starts the writer thread; from now on only the eg_store_attempt_*() calls and
 * eg_store_writer_stop() may be used until it stops. */
int eg_store_writer_start(eg_store *s);

/* Queue a record: copies everything, never blocks on the database. EG_ENOMEM, or the
 * writer's first error (the message says what failed) once it has failed. */
int eg_store_attempt_started(eg_store *s, const eg_store_attempt_start *a);
int eg_store_attempt_identified(eg_store *s, int64_t run_id, unsigned seq,
                                const eg_store_identity *id);
int eg_store_attempt_finished(eg_store *s, const eg_store_attempt_end *e);

/* Writes everything queued, records the run's end (ended_ms), and stops the writer.
 * Returns 0 or the first write error. */
int eg_store_writer_stop(eg_store *s, int64_t run_id, int64_t ended_ms);

#endif
