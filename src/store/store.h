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

#define EG_STORE_SCHEMA_VERSION 2

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
#define EG_STORE_STEPS 8
/* "connect", "identify", "check", "erase", "write", "verify", "finish", "boot" */
extern const char *const eg_store_step_names[EG_STORE_STEPS];

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
    const char *slot_label; /* the slot's name in the slots file; NULL when none */
} eg_store_attempt_start;

/* What the board said it is. */
typedef struct eg_store_identity {
    const char *chip; /* "ESP32-C3" */
    unsigned rev_major, rev_minor;
    char mac[18]; /* "24:0a:c4:00:00:01", lowercase */
    uint32_t flash_id, flash_size;
    int has_security; /* 0 when the chip's ROM cannot tell */
    uint32_t security_flags;
    int flash_encrypted;
} eg_store_identity;

typedef struct eg_store_region {
    uint32_t offset, size;
    const char *label;     /* NULL or "" when none (read back as NULL) */
    char sha256[65];       /* of the plan's bytes; lowercase hex, as the MD5s */
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
    /* NULL when none: */
    const char *serial_number; /* the device's (eg_store_serial) */
    const char *log_path;      /* the attempt's log file */
    const char *boot_result;   /* the boot check's: "pass", "fail" or "timeout" */
    const char *boot_line;     /* the console line that decided it */
    const char *boot_tail;     /* the last lines of the console */
} eg_store_attempt_end;

/* Opens (creating when absent) the database at path, applies migrations, checks that
 * it can be written (a read-only file or a full disk is an error now, not later), and
 * marks attempts left 'running' by a process of this host that is gone as
 * 'interrupted'. EG_EIO / EG_EINVAL with a message naming path. The caller owns
 * *out (eg_store_close); *out is NULL on error. */
int eg_store_open(eg_store **out, const char *path);

/* Opens an existing database at path for reading (reports): never creates it
 * (EG_ENOTFOUND when absent), refuses what eg_store_open refuses except a read-only
 * file, migrates an older one only when it can be written, and changes nothing else. */
int eg_store_open_read(eg_store **out, const char *path);

/* Writes what is queued and stops the writer if it runs, then closes. A run that
 * eg_store_writer_stop did not end stays open (the sweep ends it once this process is
 * gone). NULL is fine. */
void eg_store_close(eg_store *s);

/* Records a new run (synchronously: before any board is touched) into *run_id.
 * info->host NULL means this machine's name (gethostname) and info->pid 0 this
 * process: the sweep on open finds a run of a process that is gone by these two. */
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

/* Renders serial number seq of a series into dst (len bytes with the NUL): 0, or a
 * negative code with a message. */
typedef int (*eg_store_serial_render)(char *dst, size_t len, int64_t seq, void *ctx);

/* The serial number of the device mac ("24:0a:c4:00:00:01", lowercase) in series (the
 * profile's format with everything but the sequence number filled in): the one it
 * was given before (*existing = 1), or a new one (*existing = 0): the series' highest
 * sequence number + 1, or start for the series' first, rendered by render(ctx) and
 * stored. Numbers are never reused: allocation is one IMMEDIATE transaction, so two
 * espgang processes on one file never hand out the same number.
 *
 * Any thread may call it at any time, while the writer runs too, and several at once
 * (they take turns): it uses a connection of its own, kept in s (opened at the first
 * call) under a mutex of its own, and the writer starts no new batch while an
 * allocation waits for the file, so a call waits for at most the batch being written
 * (milliseconds), never behind the queue. Another process holding the file is waited
 * for up to 10 s.
 *
 * The serial (rendered or stored) goes into out (out_len bytes with the NUL).
 * EG_EINVAL: a bad MAC, series or start, a render that fails or gives "", a serial
 * longer than out_len, or one that another device (or another number) already has;
 * EG_EIO: the file. out is "" and *existing 0 on error; nothing is stored. */
int eg_store_serial(char *out, size_t out_len, int *existing, eg_store *s, const char *series,
                    const char *mac, int64_t start, eg_store_serial_render render, void *ctx);

/* Writes everything queued, records the run's end (ended_ms), and stops the writer.
 * Returns 0 or the first write error, whose message also counts the records that
 * were not written. */
int eg_store_writer_stop(eg_store *s, int64_t run_id, int64_t ended_ms);

/* Reading back, for reports and tests. Not while this handle's writer runs (another
 * handle on the same file may read at any time: the journal is WAL). */

/* Which attempts: every field that is set narrows the choice (all of them: AND). */
typedef struct eg_store_filter {
    int64_t run_id;   /* > 0: this run only */
    const char *lot;  /* non-NULL: runs of this lot only */
    int has_since;    /* only attempts started at or after since_ms */
    int64_t since_ms; /* Unix time, milliseconds */
    const char *mac;  /* non-NULL: this device's attempts only ("24:0a:c4:00:00:01") */
} eg_store_filter;

/* One attempt as stored. A field NULL or -1 in the structs above means the same
 * here: start.usb_location NULL when unknown, end.ended_ms -1 while it has not ended
 * (running or interrupted), end.identified 0 before the board was identified. */
typedef struct eg_store_attempt_rec {
    eg_store_attempt_start start;
    eg_store_attempt_end end; /* regions in offset order */
    /* The attempt's run, with EG_STORE_EACH_RUNS only (else NULL): */
    const char *station, *operator_name, *lot, *profile_name;
} eg_store_attempt_rec;

/* Called once per attempt; rec and everything it points to is valid only during the
 * call. Returns 0 to go on, or a negative code that ends the iteration with it. */
typedef int (*eg_store_attempt_fn)(void *ctx, const eg_store_attempt_rec *rec);

/* Flags of eg_store_attempts_each. */
enum {
    /* Only what reports show: no usb_serial, flash id and size, security, device
     * status, retries or step times (left NULL, 0 or -1): fewer columns to read.
     * The slot label, serial number, log path and boot check are read. */
    EG_STORE_EACH_BRIEF = 1 << 0,
    /* With the run's station, operator, lot and profile (a join per attempt: for
     * a device's history, not for a million attempts). */
    EG_STORE_EACH_RUNS = 1 << 1,
    /* Without regions (n_regions 0): statistics need none, and reading them is a
     * third of a report's work. */
    EG_STORE_EACH_NO_REGIONS = 1 << 2,
};

/* Calls fn for every attempt that f chooses (NULL: all), in the order they were
 * started (recorded), with its regions. Returns 0, fn's code, or a read error. */
int eg_store_attempts_each(eg_store *s, const eg_store_filter *f, unsigned flags,
                           eg_store_attempt_fn fn, void *ctx);

/* Called once per region; g is valid only during the call. 0 to go on, or a negative
 * code that ends the iteration with it. */
typedef int (*eg_store_region_fn)(void *ctx, const eg_store_region *g);

/* Calls fn for every region of attempt seq of run run_id, in offset order (none when
 * there is no such attempt). Returns 0, fn's code, or a read error. Not while this
 * handle's writer runs. */
int eg_store_regions_each(eg_store *s, int64_t run_id, unsigned seq, eg_store_region_fn fn,
                          void *ctx);

/* Failed attempts that share a step and an error code. */
typedef struct eg_store_cause {
    char *step; /* failed_step ("" when the attempt named none) */
    int error_code;
    int64_t count;
} eg_store_cause;

typedef struct eg_store_summary {
    int64_t attempts;
    int64_t by_result[EG_RESULT_INTERRUPTED + 1]; /* indexed by eg_store_result */
    eg_store_cause *causes; /* of 'fail' attempts: most frequent first, then by step
                             * and error name */
    size_t n_causes;
} eg_store_summary;

/* Counts the attempts f chooses (NULL: all) into *out, which the caller releases with
 * eg_store_summary_release() (also after an error). */
int eg_store_summary_get(eg_store_summary *out, eg_store *s, const eg_store_filter *f);
void eg_store_summary_release(eg_store_summary *sum);

/* Counts one attempt into sum (zeroed first by the caller), as eg_store_summary_get
 * does; eg_store_summary_sort() then puts the causes in its order. */
int eg_store_summary_add(eg_store_summary *sum, const eg_store_attempt_rec *rec);
void eg_store_summary_sort(eg_store_summary *sum);

/* Whether the device mac ("24:0a:c4:00:00:01") passed a flash run of the profile
 * whose SHA-256 is profile_sha256 (64 hex digits), as far as the file says now: 1
 * (*run_id the latest such run), 0 (not), or a negative code. Any thread may call it,
 * while the writer runs too (it reads through a connection of its own). */
int eg_store_passed_before(eg_store *s, const char *mac, const char *profile_sha256,
                           int64_t *run_id);

/* What the store knows of one device besides its attempts. */
typedef struct eg_store_serial_rec {
    char *series, *serial;
    int64_t seq, allocated_ms;
} eg_store_serial_rec;

typedef struct eg_store_device {
    int known;  /* the device was recorded (identified in an attempt) */
    char *chip; /* the chip it said it is last; NULL when not known */
    int64_t first_seen_ms, last_seen_ms;
    eg_store_serial_rec *serials; /* its serial numbers, in the order they were given */
    size_t n_serials;
} eg_store_device;

/* Reads the device mac ("24:0a:c4:00:00:01") into *out, which the caller releases with
 * eg_store_device_release() (also after an error). A device the store has never seen
 * is not an error: known 0 and no serial numbers. Not while this handle's writer runs. */
int eg_store_device_get(eg_store_device *out, eg_store *s, const char *mac);
void eg_store_device_release(eg_store_device *d);

/* The path the store was opened with. */
const char *eg_store_path(const eg_store *s);

#endif
