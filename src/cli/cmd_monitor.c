/* monitor, and flash / write-bin -M: the board's serial output on the terminal, its code
 * addresses decoded (src/monitor), and what is typed sent to the board.
 *
 * Interactive (standard input a terminal, no --non-interactive): the terminal's input
 * is raw (no echo, no line editing, no signals from keys; output processing stays on,
 * so "\n" still starts a new line), Ctrl-R resets the board, Ctrl-C ends the monitor,
 * other keys go to the board as the terminal sends them. The terminal's settings are
 * restored on every way out: Ctrl-C, SIGINT / SIGTERM / SIGHUP, a port that fails (the
 * board unplugged), an output that fails, and at exit() as a last resort. */
#include "cli/cmds.h"

#include "core/cancel.h"
#include "core/error.h"
#include "core/num.h"
#include "monitor/monitor.h"
#include "transport/reset.h"
#include "transport/transport.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MONITOR_DEFAULT_BAUD 115200
#define MONITOR_MIN_BAUD     300
#define MONITOR_MAX_BAUD     12000000
#define READ_SLICE_MS        20 /* how often keystrokes and signals are looked at */
#define KEY_CTRL_C           0x03
#define KEY_CTRL_R           0x12

/* The terminal as it was, for every way out (the signal handler only raises flags). */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;
static volatile sig_atomic_t got_signal;
static eg_cancel *signal_cancel;

static void restore_terminal(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
        tio_saved = 0;
    }
}

static int raw_terminal(void)
{
    static int atexit_set;
    struct termios raw;

    if (tcgetattr(STDIN_FILENO, &saved_tio) != 0)
        return eg_error_set(EG_EIO, "cannot read the terminal's settings: %s", eg_strerror(errno));
    if (!atexit_set) {
        atexit(restore_terminal);
        atexit_set = 1;
    }
    raw = saved_tio;
    raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    raw.c_cflag |= CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tio_saved = 1;
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) != 0) {
        tio_saved = 0;
        return eg_error_set(EG_EIO, "cannot make the terminal raw: %s", eg_strerror(errno));
    }
    return 0;
}

static void on_signal(int sig)
{
    got_signal = sig;
    if (signal_cancel)
        eg_cancel_request(signal_cancel, EG_CANCEL_NOW);
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_STOP_SIGNALS (sizeof(stop_signals) / sizeof(stop_signals[0]))

static void signals_catch(eg_cancel *cancel, struct sigaction *old, struct sigaction *old_pipe)
{
    struct sigaction sa;

    got_signal = 0;
    signal_cancel = cancel;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_STOP_SIGNALS; i++)
        sigaction(stop_signals[i], &sa, &old[i]);
    sa.sa_handler = SIG_IGN; /* a reader of the output that goes away: EPIPE, not death */
    sigaction(SIGPIPE, &sa, old_pipe);
}

static void signals_restore(const struct sigaction *old, const struct sigaction *old_pipe)
{
    for (size_t i = 0; i < N_STOP_SIGNALS; i++)
        sigaction(stop_signals[i], &old[i], NULL);
    sigaction(SIGPIPE, old_pipe, NULL);
    signal_cancel = NULL;
}

/* ---- setup ------------------------------------------------------------------------ */

static const int monitor_only_opts[] = {
    OPT_MONITOR_BAUD,  OPT_ELF,          OPT_NO_RESET,      OPT_LOG_FORMAT,
    OPT_OUTPUT_FORMAT, OPT_NO_ADDRESSES, OPT_ALL_ADDRESSES, OPT_NON_INTERACTIVE};

int eg_cli_monitor_setup(eg_cli_monitor *out, const eg_command *cmd, const eg_args *a,
                         const char *flashed_elf)
{
    const char *baud = a->val[OPT_MONITOR_BAUD], *baud_from = "--monitor-baud";
    const char *format;
    int rc;

    memset(out, 0, sizeof(*out));
    out->enabled = cmd->run == cmd_monitor || a->count[OPT_MONITOR] > 0;
    if (!out->enabled) {
        for (size_t i = 0; i < sizeof(monitor_only_opts) / sizeof(monitor_only_opts[0]); i++)
            if (a->count[monitor_only_opts[i]]) {
                fprintf(stderr,
                        "warning: %s: --%s is a monitor option: it applies only with "
                        "-M/--monitor\n",
                        cmd->name, eg_cli_opt_name(cmd, monitor_only_opts[i]));
                break;
            }
        return 0;
    }
    if (!baud) {
        baud = getenv("MONITOR_BAUD");
        baud_from = "MONITOR_BAUD";
    }
    out->baud = MONITOR_DEFAULT_BAUD;
    if (baud && (eg_num_parse_u32(&out->baud, baud) < 0 || out->baud < MONITOR_MIN_BAUD ||
                 out->baud > MONITOR_MAX_BAUD))
        return eg_cli_usage(cmd, "%s: %s '%s' is not a baud rate (%d to %d)", cmd->name, baud_from,
                            baud, MONITOR_MIN_BAUD, MONITOR_MAX_BAUD);
    out->interactive = !a->count[OPT_NON_INTERACTIVE] && isatty(STDIN_FILENO);
    out->reset = !a->count[OPT_NO_RESET];
    out->all_addresses = a->count[OPT_ALL_ADDRESSES] > 0;
    if (a->count[OPT_NO_ADDRESSES] && out->all_addresses)
        fprintf(stderr,
                "warning: %s: --no-addresses turns decoding off: --all-addresses has "
                "nothing to do\n",
                cmd->name);
    format = a->val[OPT_LOG_FORMAT];
    if (format && strcmp(format, "serial") != 0 && strcmp(format, "defmt") != 0)
        return eg_cli_usage(cmd, "%s: --log-format '%s' is not a log format (known: %s)", cmd->name,
                            format, eg_monitor_format_names());
    if (a->val[OPT_ELF] && !*a->val[OPT_ELF])
        return eg_cli_usage(cmd, "%s: --elf needs a file", cmd->name);
    out->elf_path = a->val[OPT_ELF] ? a->val[OPT_ELF] : flashed_elf;
    if (out->elf_path) {
        if (!a->count[OPT_NO_ADDRESSES] && eg_symbols_open(&out->symbols, out->elf_path) < 0)
            return eg_cli_fail("%s: %s", cmd->name, eg_error_msg());
        if (eg_elf_load(&out->elf, out->elf_path) < 0)
            return eg_cli_fail("%s: %s", cmd->name, eg_error_msg());
    }
    if (!format)
        format = eg_monitor_format_for_elf(out->elf);
    if (strcmp(format, "serial") == 0 && a->val[OPT_OUTPUT_FORMAT])
        fprintf(stderr, "warning: %s: --output-format applies to defmt output only: ignored\n",
                cmd->name);
    eg_monitor_format_opts fo = {out->elf_path, out->elf, a->val[OPT_OUTPUT_FORMAT],
                                 isatty(STDOUT_FILENO)};
    if ((rc = eg_monitor_format_new(&out->format, format, &fo)) < 0)
        return eg_cli_fail("%s: %s", cmd->name, eg_error_msg());
    if (eg_monitor_format_warning(out->format))
        fprintf(stderr, "warning: %s: %s\n", cmd->name, eg_monitor_format_warning(out->format));
    return 0;
}

void eg_cli_monitor_release(eg_cli_monitor *m)
{
    eg_monitor_format_free(m->format);
    eg_symbols_free(m->symbols);
    eg_elf_free(m->elf);
    memset(m, 0, sizeof(*m));
}

/* ---- running ----------------------------------------------------------------------- */

typedef struct out_ctx {
    int color; /* standard output is a terminal: decoded lines in yellow */
} out_ctx;

static int emit_stdout(void *ctx, eg_monitor_kind kind, const char *text, size_t len)
{
    const out_ctx *o = ctx;
    int yellow = kind == EG_MONITOR_DECODED && o->color;

    if ((yellow && fputs("\033[33m", stdout) == EOF) || fwrite(text, 1, len, stdout) != len ||
        (yellow && fputs("\033[0m", stdout) == EOF))
        return eg_error_set(EG_EIO, "cannot write the output: %s", eg_strerror(errno));
    return 0;
}

/* Resets the board into its app, when the port's lines reach it. */
static int reset_board(eg_transport *t)
{
    if (!(t->caps & EG_TRANSPORT_CAP_LINES)) {
        fprintf(stderr, "port '%s' has no DTR/RTS lines: the board cannot be reset from here\n",
                t->name);
        return 0;
    }
    return eg_reset_hard(t);
}

/* Keystrokes waiting on standard input: Ctrl-C ends (1), Ctrl-R resets, the rest goes
 * to the board. 0 to go on, 1 to stop, or a negative code of the port. */
static int keys(eg_transport *t)
{
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    uint8_t in[256], send[256];
    size_t n_send = 0;
    ssize_t n;
    int rc;

    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return 0;
    n = read(STDIN_FILENO, in, sizeof(in));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        return 1; /* the terminal went away */
    for (ssize_t i = 0; i < n; i++) {
        if (in[i] == KEY_CTRL_C)
            return 1;
        if (in[i] != KEY_CTRL_R) {
            send[n_send++] = in[i];
            continue;
        }
        if (n_send && (rc = eg_transport_write(t, send, n_send, 1000)) < 0)
            return rc;
        n_send = 0;
        if ((rc = reset_board(t)) < 0)
            return rc;
    }
    if (n_send && (rc = eg_transport_write(t, send, n_send, 1000)) < 0)
        return rc;
    return 0;
}

int eg_cli_monitor_run(eg_cli_monitor *m, const char *port)
{
    struct sigaction old[N_STOP_SIGNALS], old_pipe;
    out_ctx out = {isatty(STDOUT_FILENO)};
    eg_monitor_opts mo = {m->format, m->symbols, m->all_addresses, emit_stdout, &out};
    eg_transport *t = NULL;
    eg_monitor *mon = NULL;
    eg_cancel cancel;
    uint8_t buf[1024];
    char why[1024] = "";
    int rc, port_failed = 0, exit_code = EG_EXIT_OK;

    m->format = NULL; /* the monitor's from here on */
    if (eg_cancel_init(&cancel, NULL) < 0) {
        eg_monitor_format_free(mo.format);
        return eg_cli_fail("%s", eg_error_msg());
    }
    if ((rc = eg_monitor_new(&mon, &mo)) < 0) {
        eg_cancel_release(&cancel);
        return eg_cli_fail("%s", eg_error_msg());
    }
    if ((rc = eg_transport_open(&t, port, m->baud, &cancel)) < 0) {
        eg_monitor_free(mon);
        eg_cancel_release(&cancel);
        return eg_cli_fail("port '%s': %s", port, eg_error_msg());
    }
    signals_catch(&cancel, old, &old_pipe);
    fprintf(stderr, "Monitoring '%s' at %u baud%s%s%s\n", port, m->baud,
            m->symbols ? ", decoding addresses with '" : "", m->symbols ? m->elf_path : "",
            m->symbols ? "'" : "");
    if (m->interactive) {
        fprintf(stderr, "Commands:\n    CTRL+R    Reset chip\n    CTRL+C    Exit\n\n");
        if (raw_terminal() < 0) {
            fprintf(stderr, "warning: %s: keystrokes are not sent to the board\n", eg_error_msg());
            m->interactive = 0;
        }
    }
    rc = m->reset ? reset_board(t) : 0;
    if (rc < 0)
        port_failed = 1;
    while (rc >= 0 && !got_signal) {
        int n = eg_transport_read(t, buf, sizeof(buf), READ_SLICE_MS);
        if (n < 0) {
            rc = n;
            port_failed = !got_signal;
            break;
        }
        if (n > 0) {
            if ((rc = eg_monitor_feed(mon, buf, (size_t)n)) < 0)
                break;
            if (fflush(stdout) != 0) {
                rc = eg_error_set(EG_EIO, "cannot write the output: %s", eg_strerror(errno));
                break;
            }
        }
        if (m->interactive && (rc = keys(t)) != 0) {
            port_failed = rc < 0;
            break;
        }
    }
    if (rc < 0)
        snprintf(why, sizeof(why), "%s", eg_error_msg());
    /* What is held (a CR, a format's remains) is shown, then the terminal restored. */
    if (eg_monitor_finish(mon) < 0 && rc >= 0) {
        rc = EG_EIO;
        snprintf(why, sizeof(why), "%s", eg_error_msg());
    }
    fflush(stdout);
    restore_terminal();
    if (port_failed) {
        eg_cli_fail("port '%s': %s: the monitor ends", port, why);
        exit_code = EG_EXIT_FAIL;
    } else if (rc < 0 && !got_signal) {
        eg_cli_fail("%s", why);
        exit_code = EG_EXIT_FAIL;
    }
    signals_restore(old, &old_pipe);
    eg_transport_free(t);
    eg_monitor_free(mon);
    eg_cancel_release(&cancel);
    return exit_code;
}

int eg_cli_monitor_after(eg_cli_monitor *m, const eg_command *cmd, const eg_args *a, int rc)
{
    eg_cli_job j;

    /* The port the flash used: chosen once. */
    if (rc == EG_EXIT_OK && m->enabled && eg_cli_chosen_port())
        rc = eg_cli_monitor_run(m, eg_cli_chosen_port());
    else if (rc == EG_EXIT_OK && m->enabled &&
             (rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_INFO)) == 0)
        rc = eg_cli_monitor_run(m, j.jo.port);
    eg_cli_monitor_release(m);
    return rc;
}

int cmd_monitor(const eg_command *cmd, eg_args *a)
{
    eg_cli_monitor m;
    eg_cli_job j;
    int rc;

    if (a->val[OPT_BAUD])
        return eg_cli_usage(cmd,
                            "monitor: --baud is the rate for flashing; the board's output comes "
                            "at -r/--monitor-baud");
    /* The monitor never talks to a loader: what only a loader's connection uses is
     * refused rather than ignored. */
    static const int loader_only[] = {OPT_BEFORE,         OPT_AFTER,      OPT_NO_STUB,
                                      OPT_STUB_DIR,       OPT_FLASH_SIZE, OPT_CONNECT_ATTEMPTS,
                                      OPT_NO_FAST_CONNECT};
    if ((rc = eg_cli_refuse_opts(cmd, a, loader_only, sizeof(loader_only) / sizeof(loader_only[0]),
                                 "the monitor (it resets the board into its app, or leaves it "
                                 "with --no-reset, and never talks to its loader)")) != 0)
        return rc;
    /* The monitor's options first, then the port as every board command finds it (which
     * may ask); the rest of the job is not used. */
    if ((rc = eg_cli_monitor_setup(&m, cmd, a, NULL)) != 0) {
        eg_cli_monitor_release(&m);
        return rc;
    }
    if ((rc = eg_cli_job_setup(&j, cmd, a, EG_JOB_INFO)) != 0) {
        eg_cli_monitor_release(&m);
        return rc;
    }
    if (j.chip && m.elf) {
        /* --chip and the ELF must agree, as flash checks them: symbols of another
         * chip's firmware would decode to nonsense. */
        const eg_chip *named;
        if (eg_cli_elf_chip(&named, m.elf, m.elf_path, j.chip) < 0)
            rc = eg_cli_fail("monitor: %s", eg_error_msg());
        else if (m.elf->machine != j.chip->elf_machine)
            rc = eg_cli_fail("monitor: '%s' is for another CPU than %s's (e_machine %u)",
                             m.elf_path, j.chip->name, (unsigned)m.elf->machine);
    }
    if (rc == 0)
        rc = eg_cli_monitor_run(&m, j.jo.port);
    eg_cli_monitor_release(&m);
    return rc;
}
