#include "cli/cli.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/num.h"
#include "prod/prod.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const eg_opt common_opts[] = {
    {OPT_HELP, 'h', "help", NULL, "show this help and exit"},
    {OPT_VERBOSE, 'v', "verbose", NULL, "say more about what happens"},
    EG_OPT_END,
};

static const eg_opt board_opts[] = {
    {OPT_PORT, 'p', "port", "PORT",
     "serial port, socket://HOST:PORT or rfc2217://HOST:PORT (default: $ESPGANG_PORT, "
     "$ESPFLASH_PORT, espflash_ports.toml, else the only port of a known kind, else asked)"},
    {OPT_BAUD, 'B', "baud", "BAUD",
     "baud rate for the work after connecting (default: $ESPGANG_BAUD, $ESPFLASH_BAUD, "
     "espflash.toml's baudrate, else 115200)"},
    {OPT_CHIP, 'c', "chip", "CHIP", "expected chip; a different one is an error"},
    {OPT_BEFORE, 'b', "before", "MODE",
     "how to enter the loader: default-reset, usb-reset, no-reset, no-reset-no-sync"},
    {OPT_AFTER, 'a', "after", "MODE",
     "what to do at the end: hard-reset, no-reset (back to the ROM loader), no-reset-no-stub "
     "(leave the flasher stub running), watchdog-reset"},
    {OPT_NO_STUB, 0, "no-stub", NULL, "talk to the ROM loader, do not upload the flasher stub"},
    {OPT_STUB_DIR, 0, "stub-dir", "DIR",
     "read the flasher stubs from DIR (esptool-js's NAME.json files) instead of the built-in "
     "ones"},
    {OPT_FLASH_SIZE, 's', "flash-size", "SIZE",
     "flash size when its JEDEC id does not tell (4MB, 16MB, ...)"},
    {OPT_CONNECT_ATTEMPTS, 0, "connect-attempts", "N",
     "reset-and-sync attempts before giving up (default 7)"},
    {OPT_NO_FAST_CONNECT, 0, "no-fast-connect", NULL,
     "upload the flasher stub at 115200 baud, then raise the rate (by default the ROM raises "
     "it first)"},
    {OPT_NON_INTERACTIVE, 0, "non-interactive", NULL,
     "never ask which port (with several candidates, fail and list them); the monitor leaves "
     "the terminal as it is and sends no keystrokes (for CI logs; the default when standard "
     "input is not a terminal)"},
    {OPT_CONFIRM_PORT, 0, "confirm-port", NULL,
     "ask before using a port found on its own (the only one, or a [[usb_device]] one)"},
    {OPT_LIST_ALL_PORTS, 0, "list-all-ports", NULL,
     "when no port is given, offer every serial port, not only those of known kinds"},
    EG_OPT_END,
};

int eg_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("espgang: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EG_EXIT_FAIL;
}

int eg_cli_usage(const eg_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("espgang: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'espgang %s%s--help'.\n", cmd ? cmd->name : "", cmd ? " " : "");
    return EG_EXIT_USAGE;
}

const eg_command *eg_cli_find(const char *name)
{
    for (const eg_command *c = eg_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Edits from a (alen bytes) to b: insertions, deletions, substitutions, and swaps of
 * two neighbours (the optimal string alignment distance). Names are short: anything
 * past 63 bytes is far. */
static size_t edits(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b), d[64][64];

    if (alen > 63 || blen > 63)
        return SIZE_MAX;
    for (size_t i = 0; i <= alen; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= blen; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= alen; i++) {
        for (size_t j = 1; j <= blen; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[alen][blen];
}

/* Keeps in *best the candidate closest to name (len bytes), if close enough to be a
 * slip: at most 2 edits, and fewer than the name is long. */
static void consider(const char **best, size_t *best_d, const char *name, size_t len,
                     const char *candidate)
{
    size_t d = edits(name, len, candidate);
    if (d <= 2 && d < len && d < *best_d) {
        *best = candidate;
        *best_d = d;
    }
}

const char *eg_cli_suggest_command(const char *name)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (const eg_command *c = eg_commands; c->name; c++)
        consider(&best, &best_d, name, strlen(name), c->name);
    return best;
}

size_t eg_cli_opt_groups(eg_opt_group out[3], const eg_command *cmd)
{
    size_t n = 0;
    if (cmd->opts && cmd->opts->id)
        out[n++] = (eg_opt_group){"Options", cmd->opts};
    if (cmd->flags & EG_CMD_BOARD)
        out[n++] = (eg_opt_group){"Connection", board_opts};
    out[n++] = (eg_opt_group){"General", common_opts};
    return n;
}

static const eg_opt *find_opt(const eg_command *cmd, const char *longname, size_t len,
                              char shortname)
{
    eg_opt_group groups[3];
    size_t n = eg_cli_opt_groups(groups, cmd);
    for (size_t l = 0; l < n; l++) {
        for (const eg_opt *o = groups[l].opts; o->id; o++) {
            if (longname && strlen(o->long_name) == len &&
                strncmp(o->long_name, longname, len) == 0)
                return o;
            if (!longname && shortname && o->short_name == shortname)
                return o;
        }
    }
    return NULL;
}

/* The long option of cmd closest to a mistyped one, or NULL. */
static const char *suggest_opt(const eg_command *cmd, const char *name, size_t len)
{
    const eg_opt *lists[3] = {common_opts, cmd->flags & EG_CMD_BOARD ? board_opts : NULL,
                              cmd->opts};
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (int l = 0; l < 3; l++)
        for (const eg_opt *o = lists[l]; o && o->id; o++)
            consider(&best, &best_d, name, len, o->long_name);
    return best;
}

int eg_cli_parse(eg_args *out, const eg_command *cmd, int argc, char **argv)
{
    int only_pos = 0;

    memset(out, 0, sizeof(*out));
    out->pos = calloc((size_t)argc + 1, sizeof(char *));
    if (!out->pos)
        return eg_cli_fail("out of memory");
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        const eg_opt *o = NULL;
        const char *value = NULL;

        if (only_pos || arg[0] != '-' || arg[1] == '\0') {
            out->pos[out->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = find_opt(cmd, name, len, 0);
            if (!o) {
                const char *near = suggest_opt(cmd, name, len);
                if (near)
                    return eg_cli_usage(cmd, "%s: unknown option '--%.*s' (did you mean '--%s'?)",
                                        cmd->name, (int)len, name, near);
                return eg_cli_usage(cmd, "%s: unknown option '--%.*s'", cmd->name, (int)len, name);
            }
            if (eq) {
                if (!o->metavar)
                    return eg_cli_usage(cmd, "%s: option '--%s' takes no value", cmd->name,
                                        o->long_name);
                value = eq + 1;
            }
        } else {
            o = find_opt(cmd, NULL, 0, arg[1]);
            if (!o)
                return eg_cli_usage(cmd, "%s: unknown option '-%c'", cmd->name, arg[1]);
            if (arg[2]) {
                if (!o->metavar)
                    return eg_cli_usage(cmd, "%s: option '-%c' takes no value", cmd->name, arg[1]);
                value = arg + 2;
            }
        }
        if (o->metavar && !value) {
            if (i + 1 >= argc)
                return eg_cli_usage(cmd, "%s: option '--%s' needs a value (%s)", cmd->name,
                                    o->long_name, o->metavar);
            value = argv[++i];
        }
        out->val[o->id] = value ? value : "";
        out->count[o->id]++;
    }
    if (out->count[OPT_HELP])
        return 0;
    if (out->npos < cmd->min_pos)
        return eg_cli_usage(cmd, "%s: missing arguments (usage: espgang %s %s)", cmd->name,
                            cmd->name, cmd->usage);
    if (cmd->max_pos >= 0 && out->npos > cmd->max_pos)
        return eg_cli_usage(cmd, "%s: too many arguments (usage: espgang %s %s)", cmd->name,
                            cmd->name, cmd->usage);
    return 0;
}

#define HELP_WIDTH  92 /* columns the help text fills */
#define HELP_INDENT 31 /* where option help starts */

/* Prints text word-wrapped to HELP_WIDTH, the first line from column col (where the
 * cursor is), the next ones indented by indent. */
static void print_wrapped(FILE *f, const char *text, int col, int indent)
{
    while (*text) {
        int room = HELP_WIDTH - col, len = (int)strlen(text);
        if (len > room) {
            int cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                for (cut = room; text[cut] && text[cut] != ' '; cut++)
                    ;
            len = cut;
        }
        fprintf(f, "%.*s\n", len, text);
        text += len;
        while (*text == ' ')
            text++;
        if (*text)
            fprintf(f, "%*s", indent, "");
        col = indent;
    }
}

static void print_opts(FILE *f, const eg_opt *opts)
{
    for (const eg_opt *o = opts; o && o->id; o++) {
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
                     o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
        if ((int)strlen(left) > HELP_INDENT - 3)
            fprintf(f, "  %s\n%*s", left, HELP_INDENT, "");
        else
            fprintf(f, "  %-*s ", HELP_INDENT - 3, left);
        print_wrapped(f, o->help, HELP_INDENT, HELP_INDENT);
    }
}

void eg_cli_help(const eg_command *cmd, FILE *f)
{
    fprintf(f, "Usage: espgang %s [OPTIONS]%s%s\n\n", cmd->name, cmd->usage[0] ? " " : "",
            cmd->usage);
    print_wrapped(f, cmd->summary, 0, 0);
    eg_opt_group groups[3];
    size_t n = eg_cli_opt_groups(groups, cmd);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "\n%s:\n", groups[i].title);
        print_opts(f, groups[i].opts);
    }
    if (cmd->details) {
        fprintf(f, "\n");
        print_wrapped(f, cmd->details, 0, 0);
    }
}

int eg_cli_u32(uint32_t *out, const eg_command *cmd, const char *what, const char *text)
{
    if (eg_num_parse_u32(out, text) < 0) {
        eg_cli_usage(cmd, "%s: %s: %s", cmd->name, what, eg_error_msg());
        return EG_EINVAL;
    }
    return 0;
}

/* Progress and log output. */
static eg_cli_progress progress_global;

static void cli_log(void *ctx, eg_log_level level, const char *msg)
{
    eg_cli_progress *p = ctx;
    if (level == EG_LOG_DEBUG && !p->verbose)
        return;
    eg_cli_progress_break(p);
    fprintf(stderr, "%s%s\n", level == EG_LOG_WARN ? "warning: " : "", msg);
}

static void cli_progress(void *ctx, eg_step step, uint64_t done, uint64_t total)
{
    eg_cli_progress_update(ctx, (int)step, done, total);
}

/* Once the board is checked against the plan: what it is and what will be written. */
static void cli_step(void *ctx, eg_step step, eg_job_state state, const eg_job_result *r)
{
    eg_cli_progress *p = ctx;
    if (!p->summary || step != EG_STEP_CHECK || state != EG_JOB_STEP_DONE)
        return;
    eg_cli_progress_break(p);
    eg_cli_print_board(r);
    eg_cli_print_plan(r->plan, r->chip);
}

/* The flasher stubs: --stub-dir's folder, or NULL for the ones built in. */
const char *eg_cli_stub_dir(const eg_args *a)
{
    return a->val[OPT_STUB_DIR];
}

eg_events eg_cli_log_events(const eg_args *a)
{
    progress_global.verbose = a->count[OPT_VERBOSE] > 0;
    return (eg_events){cli_log, NULL, &progress_global};
}

/* The first of the environment variables a and b that is set and not empty. */
static const char *env2(const char *a, const char *b)
{
    const char *v = getenv(a);
    if (v && *v)
        return v;
    v = getenv(b);
    return v && *v ? v : NULL;
}

int eg_cli_job_setup(eg_cli_job *out, const eg_command *cmd, const eg_args *a, eg_job_kind kind)
{
    const char *baud = a->val[OPT_BAUD] ? a->val[OPT_BAUD] : env2("ESPGANG_BAUD", "ESPFLASH_BAUD");
    const eg_espflash_config *cfg;
    eg_job_opts *jo = &out->jo;
    int rc;

    memset(out, 0, sizeof(*out));
    eg_policy_default(&out->policy);
    jo->kind = kind;
    if (baud && *baud && (eg_num_parse_u32(&jo->baud, baud) < 0 || jo->baud < 9600))
        return eg_cli_usage(cmd, "%s: baud rate '%s' is not valid", cmd->name, baud);
    if (a->val[OPT_CHIP] && !(out->chip = eg_chip_by_name(a->val[OPT_CHIP])))
        return eg_cli_usage(cmd, "%s: unknown chip '%s' (known: %s)", cmd->name, a->val[OPT_CHIP],
                            eg_chip_names());
    if ((a->val[OPT_BEFORE] && eg_before_parse(&out->policy.before, a->val[OPT_BEFORE]) < 0) ||
        (a->val[OPT_AFTER] && eg_after_parse(&out->policy.after, a->val[OPT_AFTER]) < 0))
        return eg_cli_usage(cmd, "%s: %s", cmd->name, eg_error_msg());
    if (a->val[OPT_CONNECT_ATTEMPTS]) {
        uint32_t n;
        if (eg_num_parse_u32(&n, a->val[OPT_CONNECT_ATTEMPTS]) < 0 || n == 0 || n > 1000)
            return eg_cli_usage(cmd, "%s: --connect-attempts '%s' is not a count from 1 to 1000",
                                cmd->name, a->val[OPT_CONNECT_ATTEMPTS]);
        jo->connect_attempts = n;
    }
    if (a->val[OPT_FLASH_SIZE]) {
        uint64_t v;
        if (eg_num_parse(&v, a->val[OPT_FLASH_SIZE], 1u << 30) < 0 || v < 0x40000 || (v & (v - 1)))
            return eg_cli_usage(cmd, "%s: --flash-size '%s' is not a power of two from 256KB",
                                cmd->name, a->val[OPT_FLASH_SIZE]);
        jo->flash_size = (uint32_t)v;
    }
    jo->no_fast_connect = a->count[OPT_NO_FAST_CONNECT] > 0;
    out->db = a->val[OPT_DB];
    eg_cli_progress_init(&progress_global, isatty(STDERR_FILENO), a->count[OPT_VERBOSE] > 0);
    progress_global.summary = kind == EG_JOB_FLASH;
    jo->ev = (eg_job_events){cli_step, cli_progress, cli_log, &progress_global};
    out->po.name = cmd->name;
    out->po.chip = out->chip;
    out->po.no_stub = a->count[OPT_NO_STUB] > 0;
    out->po.stub_dir = eg_cli_stub_dir(a);
    out->po.level = EG_PLAN_DEFLATE_LEVEL;
    out->po.policy = &out->policy;
    out->po.ev = (eg_events){cli_log, NULL, &progress_global};
    /* The configuration files, then the port: asking for it comes after every option
     * was found valid. */
    if ((rc = eg_cli_config(&cfg)) != 0)
        return rc;
    if (!baud && cfg->has_baudrate)
        jo->baud = cfg->baudrate;
    return eg_cli_port(&jo->port, out->port, sizeof(out->port), cmd, a);
}

/* The port this run chose, once it has (a monitor after flash -M reuses it: the user is
 * not asked twice, and a board that came back under another name is not sought anew). */
static char chosen_port[512];

const char *eg_cli_chosen_port(void)
{
    return chosen_port[0] ? chosen_port : NULL;
}

static int port_found(const char **out, char *buf, size_t len, const eg_command *cmd,
                      const eg_args *a);

int eg_cli_port(const char **out, char *buf, size_t len, const eg_command *cmd, const eg_args *a)
{
    int rc = port_found(out, buf, len, cmd, a);
    if (rc == 0 && *out)
        snprintf(chosen_port, sizeof(chosen_port), "%s", *out);
    return rc;
}

static int port_found(const char **out, char *buf, size_t len, const eg_command *cmd,
                      const eg_args *a)
{
    const eg_espflash_config *cfg;
    int rc;

    *out = a->val[OPT_PORT] ? a->val[OPT_PORT] : env2("ESPGANG_PORT", "ESPFLASH_PORT");
    if (*out)
        return **out ? 0 : eg_cli_usage(cmd, "%s: the port name is empty", cmd->name);
    if ((rc = eg_cli_config(&cfg)) != 0)
        return rc;
    if (cfg->serial) {
        *out = cfg->serial;
        fprintf(stderr, "Using serial port '%s' (from %s)\n", cfg->serial, cfg->serial_at);
        return 0;
    }
    if ((rc = eg_cli_pick_port(buf, len, cmd, a, cfg)) != 0)
        return rc;
    *out = buf;
    return 0;
}

int eg_cli_plan_new(eg_plan **out, const eg_cli_job *j, const char *name)
{
    eg_plan_opts po = j->po;

    po.name = name;
    if (eg_plan_new(out, &po) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (j->chip)
        (*out)->chip_from = "given with --chip";
    return 0;
}

/* Opens the --db store and records a run of one board (before the board is touched). */
static int record_begin(eg_store **out, int64_t *run_id, const eg_cli_job *j)
{
    char host[256] = "";
    eg_store_run_info info = {NULL,          NULL,
                              NULL,          NULL,
                              NULL,          j->jo.kind == EG_JOB_VERIFY ? "verify" : "flash",
                              EG_VERSION,    host,
                              (int)getpid(), eg_clock_unix_ms()};
    char location[64] = "";

    gethostname(host, sizeof(host) - 1);
    if (!strstr(j->jo.port, "://"))
        eg_usb_location(location, sizeof(location), j->jo.port);
    if (eg_store_open(out, j->db) < 0 || eg_store_run_begin(run_id, *out, &info) < 0 ||
        eg_store_writer_start(*out) < 0 ||
        eg_prod_record_start(*out, *run_id, 1, 0, NULL, j->jo.port, j->jo.kind, location, NULL) <
            0) {
        eg_store_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Ctrl-C (or SIGTERM) during a single-board job: the job stops at once through its
 * cancel token; a second one ends the process as usual. */
static eg_cancel *volatile cli_cancel;

static void on_stop_signal(int sig)
{
    int saved = errno;
    (void)sig;
    if (cli_cancel)
        eg_cancel_request(cli_cancel, EG_CANCEL_NOW);
    errno = saved;
}

/* What a stop left on the board, and how to finish. */
static void say_stopped(const eg_job_result *r, const eg_plan *plan)
{
    if (r->step == EG_STEP_ERASE || r->step == EG_STEP_WRITE) {
        if (r->region >= 0 && (size_t)r->region < plan->n_regions) {
            const eg_plan_region *reg = &plan->regions[r->region];
            fprintf(stderr,
                    "espgang: stopped while %s '%s' (0x%x, %u bytes): it is left partly "
                    "written",
                    r->step == EG_STEP_ERASE ? "erasing for" : "writing", reg->label, reg->addr,
                    reg->len);
            size_t after = plan->n_regions - (size_t)r->region - 1;
            if (after)
                fprintf(stderr, ", and the %zu region%s after it not written", after,
                        after == 1 ? "" : "s");
            fputs(".\n", stderr);
        } else {
            fputs("espgang: stopped while writing: the flash is left partly written.\n", stderr);
        }
        fputs("espgang: the flash does not hold what was asked (an app there will not boot); run "
              "the same command again to finish: what the flash already holds is skipped.\n",
              stderr);
    } else if (r->step == EG_STEP_VERIFY) {
        fputs("espgang: stopped while verifying: everything was written, not all of it "
              "checked; run the same command again to check it.\n",
              stderr);
    } else if (r->step < EG_STEP_ERASE) {
        fputs("espgang: stopped before anything was written.\n", stderr);
    }
}

int eg_cli_run(eg_cli_job *j, eg_plan *plan)
{
    eg_store *store = NULL;
    int64_t run_id = 0;
    eg_job_result r;
    eg_cancel cancel;
    struct sigaction sa, old_int, old_term;
    int rc, have_cancel = 0;

    if (!plan->finished && eg_plan_finish(plan) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (j->db && record_begin(&store, &run_id, j) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (!j->jo.cancel && eg_cancel_init(&cancel, NULL) == 0) {
        have_cancel = 1;
        j->jo.cancel = &cancel;
        cli_cancel = &cancel;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C ends the process */
        sigemptyset(&sa.sa_mask);
        /* A signal ignored from the start (nohup, a background job) stays ignored. */
        sigaction(SIGINT, NULL, &old_int);
        sigaction(SIGTERM, NULL, &old_term);
        if (old_int.sa_handler != SIG_IGN)
            sigaction(SIGINT, &sa, NULL);
        if (old_term.sa_handler != SIG_IGN)
            sigaction(SIGTERM, &sa, NULL);
    }
    rc = eg_job_run(&r, plan, &j->jo);
    if (have_cancel) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        cli_cancel = NULL;
        j->jo.cancel = NULL;
        eg_cancel_release(&cancel);
    }
    eg_cli_progress_break(&progress_global);
    if (rc < 0)
        eg_cli_fail("%s", r.message);
    if (rc == EG_ECANCELED)
        say_stopped(&r, r.plan ? r.plan : plan);
    if (rc == EG_ENOTFOUND && r.step == EG_STEP_CONNECT && !strstr(j->jo.port, "://"))
        fprintf(stderr, "espgang: 'espgang list-ports' shows the serial ports there are (--all: "
                        "every one, not only known USB bridges)\n");
    if (store) {
        int qrc = eg_prod_record_end(store, run_id, 1, &r, NULL, NULL);
        if (qrc < 0)
            eg_cli_fail("%s", eg_error_msg());
        /* The run is ended whatever became of the attempt's record. */
        int src = eg_store_writer_stop(store, run_id, eg_clock_unix_ms());
        if (src < 0 && qrc == 0)
            eg_cli_fail("%s", eg_error_msg());
        if (qrc < 0 || src < 0)
            rc = rc < 0 ? rc : EG_EIO;
        else
            fprintf(stderr, "Recorded as run %lld in '%s'\n", (long long)run_id, j->db);
        eg_store_close(store);
    }
    eg_job_result_release(&r);
    return rc < 0 ? EG_EXIT_FAIL : EG_EXIT_OK;
}

int eg_cli_run_work(const eg_command *cmd, const eg_args *a, int (*work)(void *ctx, eg_device *d),
                    void *ctx)
{
    eg_cli_job j;
    eg_plan *plan = NULL;
    int rc;

    if ((rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_INFO)) != 0 ||
        (rc = eg_cli_plan_new(&plan, &j, cmd->name)) != 0)
        return rc;
    j.jo.work = work;
    j.jo.ctx = ctx;
    rc = eg_cli_run(&j, plan);
    eg_plan_free(plan);
    return rc;
}

const char *eg_cli_opt_name(const eg_command *cmd, int id)
{
    eg_opt_group g[3];
    size_t n = eg_cli_opt_groups(g, cmd);
    for (size_t i = 0; i < n; i++)
        for (const eg_opt *o = g[i].opts; o && o->id; o++)
            if (o->id == id)
                return o->long_name;
    return "?";
}

int eg_cli_refuse_opts(const eg_command *cmd, const eg_args *a, const int *ids, size_t n,
                       const char *why)
{
    for (size_t i = 0; i < n; i++)
        if (a->count[ids[i]])
            return eg_cli_usage(cmd, "%s: --%s does not apply to %s", cmd->name,
                                eg_cli_opt_name(cmd, ids[i]), why);
    return 0;
}
