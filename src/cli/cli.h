/* The command-line front end: the command table, option parsing and help generated
 * from each command's option spec, progress display, and opening a board from the
 * common options. Only this folder (and tools/) prints to the terminal. */
#ifndef EG_CLI_CLI_H
#define EG_CLI_CLI_H

#include "config/espflash.h"
#include "job/job.h"
#include "plan/plan.h"

#include <stdint.h>
#include <stdio.h>

/* Option ids: common ones first, then per-command ones. */
enum {
    OPT_NONE,
    OPT_HELP,
    OPT_PORT,
    OPT_BAUD,
    OPT_CHIP,
    OPT_BEFORE,
    OPT_AFTER,
    OPT_NO_STUB,
    OPT_CONNECT_ATTEMPTS,
    OPT_VERBOSE,
    OPT_JSON,
    OPT_NO_COMPRESS,
    OPT_FLASH_SIZE,
    OPT_STUB_DIR,
    OPT_NO_VERIFY,
    OPT_NO_SKIP,
    OPT_FLASH_MODE,
    OPT_FLASH_FREQ,
    OPT_MIN_CHIP_REV,
    OPT_MMU_PAGE_SIZE,
    OPT_IGNORE_APP_DESC,
    OPT_MERGE,
    OPT_SKIP_PADDING,
    OPT_BOOTLOADER,
    OPT_PARTITION_TABLE,
    OPT_PARTITION_TABLE_OFFSET,
    OPT_TARGET_APP_PARTITION,
    OPT_ERASE_PARTS,
    OPT_ERASE_DATA_PARTS,
    OPT_FORCE,
    OPT_RAM,
    OPT_IDF_BUILD,
    OPT_TO_CSV,
    OPT_TO_BINARY,
    OPT_OUTPUT,
    OPT_NO_FAST_CONNECT,
    OPT_PORTS,
    OPT_ALL,
    OPT_STATION,
    OPT_OPERATOR,
    OPT_LOT,
    OPT_DB,
    OPT_READBACK,
    OPT_RUN,
    OPT_SINCE,
    OPT_FORMAT,
    OPT_SUMMARY,
    OPT_SLOTS,
    OPT_WATCH,
    OPT_REFLASH,
    OPT_DEVICE,
    OPT_NON_INTERACTIVE,
    OPT_CONFIRM_PORT,
    OPT_LIST_ALL_PORTS,
    OPT_NAME_ONLY,
    OPT_MONITOR,
    OPT_MONITOR_BAUD,
    OPT_ELF,
    OPT_NO_RESET,
    OPT_LOG_FORMAT,
    OPT_OUTPUT_FORMAT,
    OPT_NO_ADDRESSES,
    OPT_ALL_ADDRESSES,
    OPT_MAX = 96
};

typedef struct eg_opt {
    int id;
    char short_name;       /* 0 when none */
    const char *long_name; /* without the dashes */
    const char *metavar;   /* NULL for a flag */
    const char *help;
} eg_opt;

#define EG_OPT_END                                                                                 \
    {                                                                                              \
        0, 0, NULL, NULL, NULL                                                                     \
    }

typedef struct eg_args {
    const char *val[OPT_MAX]; /* last value given, or NULL */
    int count[OPT_MAX];       /* times given */
    char **pos;               /* positional arguments */
    int npos;
} eg_args;

struct eg_command;
typedef int (*eg_command_fn)(const struct eg_command *cmd, eg_args *a);

enum {
    EG_CMD_BOARD = 1 << 0,  /* takes the common board options */
    EG_CMD_HIDDEN = 1 << 1, /* left out of the command list, completions and man page */
};

typedef struct eg_command {
    const char *name;
    const char *usage;    /* positional part: "ADDR SIZE FILE" */
    const char *summary;  /* one line */
    const char *details;  /* paragraph after the options, or NULL */
    int min_pos, max_pos; /* max_pos < 0: unlimited */
    unsigned flags;
    const eg_opt *opts; /* command-specific options, ending with EG_OPT_END */
    eg_command_fn run;
} eg_command;

/* Exit codes. */
enum { EG_EXIT_OK = 0, EG_EXIT_FAIL = 1, EG_EXIT_USAGE = 2 };

/* The table, in main.c. */
extern const eg_command eg_commands[];
const eg_command *eg_cli_find(const char *name);

/* The command name closest to a mistyped one (at most 2 edits away, a swap of two
 * neighbours counting one), or NULL when none is that close. */
const char *eg_cli_suggest_command(const char *name);

/* The option lists a command takes, in the order its help shows them: its own
 * ("Options"), the connection options of board commands ("Connection"), the ones every
 * command takes ("General"). Returns how many (1 to 3). */
typedef struct eg_opt_group {
    const char *title;
    const eg_opt *opts; /* ending with EG_OPT_END */
} eg_opt_group;
size_t eg_cli_opt_groups(eg_opt_group out[3], const eg_command *cmd);

/* Parses argv by the command's option spec into *out; returns 0, or the exit code of a
 * usage error it has printed. */
int eg_cli_parse(eg_args *out, const eg_command *cmd, int argc, char **argv);
void eg_cli_help(const eg_command *cmd, FILE *f);

/* The long name of the command's option id (without dashes), or "?". */
const char *eg_cli_opt_name(const eg_command *cmd, int id);

/* Prints "espgang: error: <message>" and returns EG_EXIT_FAIL. */
int eg_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a usage error with a hint to --help and returns EG_EXIT_USAGE. */
int eg_cli_usage(const eg_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a number argument (hex and size suffixes allowed); on failure prints a usage
 * error naming what and returns EG_EINVAL. */
int eg_cli_u32(uint32_t *out, const eg_command *cmd, const char *what, const char *text);

/* The progress a single-board command shows (progress.c). */
typedef struct eg_cli_progress {
    int tty, verbose;
    int step;     /* the step shown, -1: none yet */
    int last_pct; /* last drawn */
    int last_tenth;
    int drawn;   /* a bar is on the terminal's current line */
    int summary; /* say what the board is and what will be written (flash, write-bin) */
    int ended;   /* the step's last line is out */
    int64_t start_ms, last_draw_ms;
} eg_cli_progress;

void eg_cli_progress_init(eg_cli_progress *p, int tty, int verbose);
/* done of total bytes of step (an eg_step): on a terminal a bar fitted to its width,
 * else a line at every 10 %; at the end one line with the time and throughput. */
void eg_cli_progress_update(eg_cli_progress *p, int step, uint64_t done, uint64_t total);
/* Clears a bar from the terminal's line before other text is printed. */
void eg_cli_progress_break(eg_cli_progress *p);

/* What flash found, on standard error as espflash shows it: chip and package,
 * revision, crystal, flash size, features, MAC. */
void eg_cli_print_board(const eg_job_result *r);
/* What it will write: each app against its partition, and whether the board's
 * bootloader is kept. */
void eg_cli_print_plan(const eg_plan *plan, const eg_chip *chip);

/* Where the flasher stubs are: --stub-dir, else NULL for the ones built in. */
const char *eg_cli_stub_dir(const eg_args *a);

/* Events that print log lines to stderr (debug ones with -v). */
eg_events eg_cli_log_events(const eg_args *a);

/* A single-board job from the common board options: the job's options, the plan's,
 * and the policy (--before, --after). */
typedef struct eg_cli_job {
    eg_job_opts jo;
    eg_plan_opts po;
    eg_policy policy;
    const eg_chip *chip; /* --chip, NULL when not given */
    const char *db;      /* --db: record the attempt there, as a production run does */
    char port[256];      /* the port chosen when none was given */
} eg_cli_job;

/* Reads the common board options into *out for a job of kind. The port: --port, else
 * $ESPGANG_PORT, $ESPFLASH_PORT, espflash_ports.toml's [connection] serial, else the one
 * eg_cli_pick_port() finds; the baud rate: --baud, else $ESPGANG_BAUD, $ESPFLASH_BAUD,
 * espflash.toml's baudrate. A bad value is a usage error: printed, EG_EXIT_USAGE
 * returned; a configuration file that cannot be read or no port found: printed,
 * EG_EXIT_FAIL; else 0. */
int eg_cli_job_setup(eg_cli_job *out, const eg_command *cmd, const eg_args *a, eg_job_kind kind);

/* A new plan with the job's options (chip, loader, compression, policy). Prints the
 * error and returns EG_EXIT_FAIL, else 0. */
int eg_cli_plan_new(eg_plan **out, const eg_cli_job *j, const char *name);

/* Finishes plan, runs the job on the board, prints what failed; an exit code. */
int eg_cli_run(eg_cli_job *j, eg_plan *plan);

/* espflash's configuration files (espflash.toml, espflash_ports.toml), read at the first
 * call of the run (their warnings printed) and kept; an exit code when they cannot be
 * read (printed), else 0. */
int eg_cli_config(const eg_espflash_config **out);

/* For flash and save-image: the settings of espflash.toml for the options the command
 * line did not give (--bootloader (save-image: with --merge only), --partition-table,
 * --partition-table-offset, --target-app-partition, -m, -s, -f); an exit code when the
 * files cannot be read (printed), else 0. */
int eg_cli_config_image_defaults(const eg_command *cmd, eg_args *a);

/* The port eg_cli_port chose in this run, or NULL before it did. */
const char *eg_cli_chosen_port(void);

/* The port the options name into *out: --port, else $ESPGANG_PORT, $ESPFLASH_PORT,
 * espflash_ports.toml's [connection] serial (said on stderr), else the one
 * eg_cli_pick_port() finds (into buf). Returns 0, or an exit code after printing why
 * there is none. */
int eg_cli_port(const char **out, char *buf, size_t len, const eg_command *cmd, const eg_args *a);

/* No port given: the port to use into dst, found among the serial ports (port_select.c
 * says how; --list-all-ports, --confirm-port, --non-interactive), cfg's [[usb_device]]
 * first. Returns 0, or an exit code after printing why none was chosen. */
int eg_cli_pick_port(char *dst, size_t len, const eg_command *cmd, const eg_args *a,
                     const eg_espflash_config *cfg);

/* Connects to the board the options name, identifies it, attaches its flash, runs
 * work (which reads, say), and leaves the board as --after says; an exit code. */
int eg_cli_run_work(const eg_command *cmd, const eg_args *a, int (*work)(void *ctx, eg_device *d),
                    void *ctx);

#endif
