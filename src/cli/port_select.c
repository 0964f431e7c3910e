/* Choosing the port when none is given (no --port, no ESPGANG_PORT or ESPFLASH_PORT,
 * no [connection] serial), as espflash does: the USB serial ports of Espressif chips
 * and known USB-UART bridges (every port with --list-all-ports) are the candidates;
 * one that a [[usb_device]] of espflash_ports.toml names, or else the only one of a
 * known kind, is taken; otherwise the user is asked on the terminal (a numbered menu,
 * then whether to remember the choice), or, without a terminal or with
 * --non-interactive, told which ports could be the board. */
#include "cli/cli.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct candidate {
    const eg_port_info *port;
    const eg_usb_id *usb_device; /* the [[usb_device]] it matches, or NULL */
    int known;                   /* an Espressif chip or a known bridge, or configured */
} candidate;

static const eg_usb_id *configured(const eg_espflash_config *c, const eg_port_info *p)
{
    for (size_t i = 0; p->usb && i < c->usb_count; i++)
        if (c->usb_devices[i].vid == p->vid && c->usb_devices[i].pid == p->pid)
            return &c->usb_devices[i];
    return NULL;
}

/* "303a:1001 USB JTAG/serial debug unit" (what USB says of it), or "". */
static void describe(char *dst, size_t len, const eg_port_info *p)
{
    const char *what = p->product[0] ? p->product : p->description;
    if (p->usb)
        snprintf(dst, len, "%04x:%04x%s%.120s", p->vid, p->pid, what[0] ? " " : "", what);
    else
        snprintf(dst, len, "%.120s", what);
}

/* Asks question on standard error and reads one line of standard input into answer,
 * without its newline; 0 at the end of the input. */
static int ask(char *answer, size_t len, const char *question)
{
    fputs(question, stderr);
    fflush(stderr);
    if (!fgets(answer, (int)len, stdin)) {
        fputc('\n', stderr);
        return 0;
    }
    if (!strchr(answer, '\n')) {
        /* Longer than any answer: the rest of the line is no next answer. */
        int ch;
        while ((ch = getchar()) != EOF && ch != '\n')
            ;
        answer[0] = '?'; /* understood as nothing asked for */
        answer[1] = '\0';
        return 1;
    }
    answer[strcspn(answer, "\r\n")] = '\0';
    return 1;
}

/* Yes or no; def when the answer is empty; -1 at the end of the input. */
static int ask_yes(const char *question, int def)
{
    char answer[32];
    for (;;) {
        if (!ask(answer, sizeof(answer), question))
            return -1;
        if (!answer[0])
            return def;
        if (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0)
            return 1;
        if (strcmp(answer, "n") == 0 || strcmp(answer, "N") == 0 || strcmp(answer, "no") == 0)
            return 0;
        fprintf(stderr, "Please answer y or n.\n");
    }
}

/* The numbered menu; the index chosen, or -1 when the user quits. */
static int menu(const candidate *c, size_t n)
{
    char answer[32], question[96], what[160];

    fprintf(stderr, "No port given. Serial ports that could be the board:\n");
    for (size_t i = 0; i < n; i++) {
        describe(what, sizeof(what), c[i].port);
        fprintf(stderr, "  %2zu) %-20s %s%s\n", i + 1, c[i].port->name, what,
                c[i].usb_device ? "  [[usb_device]]" : "");
    }
    snprintf(question, sizeof(question), "Which one? [1-%zu, Enter: 1, q: quit] ", n);
    for (;;) {
        if (!ask(answer, sizeof(answer), question) || strcmp(answer, "q") == 0)
            return -1;
        if (!answer[0])
            return 0;
        char *end;
        unsigned long k = strtoul(answer, &end, 10);
        if (*end == '\0' && end != answer && k >= 1 && k <= n)
            return (int)k - 1;
        fprintf(stderr, "Please answer with a number from 1 to %zu.\n", n);
    }
}

/* After a choice from the menu: offers to put its VID:PID into espflash_ports.toml when
 * that would pick this port next time (no other candidate has it). */
static void offer_remember(const eg_espflash_config *cfg, const candidate *c, size_t n,
                           const candidate *chosen)
{
    const eg_port_info *p = chosen->port;
    char question[4300];

    if (!p->usb || chosen->usb_device || !cfg->ports_path[0])
        return;
    for (size_t i = 0; i < n; i++)
        if (&c[i] != chosen && c[i].port->usb && c[i].port->vid == p->vid &&
            c[i].port->pid == p->pid)
            return;
    snprintf(question, sizeof(question),
             "Remember %04x:%04x in %.4000s, so that it is taken without asking? [y/N] ", p->vid,
             p->pid, cfg->ports_path);
    if (ask_yes(question, 0) != 1)
        return;
    if (eg_espflash_remember_usb(cfg, p->vid, p->pid) < 0)
        fprintf(stderr, "warning: not remembered: %s\n", eg_error_msg());
    else
        fprintf(stderr, "Remembered %04x:%04x in %s\n", p->vid, p->pid, cfg->ports_path);
}

/* The candidates in the order they are offered: configured, known, the others. */
static int order(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    int kx = x->usb_device ? 2 : x->known, ky = y->usb_device ? 2 : y->known;
    if (kx != ky)
        return ky - kx;
    return x < y ? -1 : x > y; /* keep the list's order (by name) */
}

int eg_cli_pick_port(char *dst, size_t len, const eg_command *cmd, const eg_args *a,
                     const eg_espflash_config *cfg)
{
    const int all = a->count[OPT_LIST_ALL_PORTS] > 0, confirm = a->count[OPT_CONFIRM_PORT] > 0;
    /* Ask only where the question is seen and answered: both ends on a terminal. */
    const int can_ask =
        !a->count[OPT_NON_INTERACTIVE] && isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
    eg_port_info *ports = NULL;
    candidate *c = NULL, *pick = NULL;
    size_t nports = 0, n = 0, nconf = 0, nknown = 0;
    char what[160], why[4400] = "";
    int rc = EG_EXIT_FAIL;

    if (eg_port_list(&ports, &nports) < 0)
        return eg_cli_fail("no port given, and %s", eg_error_msg());
    if (!(c = calloc(nports ? nports : 1, sizeof(*c)))) {
        free(ports);
        return eg_cli_fail("out of memory");
    }
    for (size_t i = 0; i < nports; i++) {
        const eg_usb_id *u = configured(cfg, &ports[i]);
        int known = u || (ports[i].usb && eg_port_known(ports[i].vid, ports[i].pid));
        if (!all && !known)
            continue;
        c[n] = (candidate){&ports[i], u, known};
        nconf += u != NULL;
        nknown += known;
        n++;
    }
    qsort(c, n, sizeof(*c), order);
    if (nconf == 1) {
        pick = &c[0];
        snprintf(why, sizeof(why), "its USB device %04x:%04x is in %s", pick->port->vid,
                 pick->port->pid, pick->usb_device->at);
    } else if (nconf == 0 && nknown == 1) {
        pick = &c[0];
        describe(what, sizeof(what), pick->port);
        snprintf(why, sizeof(why),
                 "%s, the only serial port of an Espressif chip or a known USB-UART bridge", what);
    }
    if (pick && !confirm)
        goto chosen;
    if (n == 0) {
        if (all)
            rc = eg_cli_fail("no port given, and no serial port found: give one with --port PORT");
        else
            rc = eg_cli_fail("no port given, and no serial port of an Espressif chip or a known "
                             "USB-UART bridge is plugged in: give one with --port PORT "
                             "('espgang list-ports --all' lists every serial port; "
                             "--list-all-ports offers them all)");
        goto done;
    }
    if (!can_ask) {
        char list[2048] = "";
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof(list); i++) {
            describe(what, sizeof(what), c[i].port);
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)", i ? ", " : "",
                                     c[i].port->name, what);
        }
        const char *no_tty = a->count[OPT_NON_INTERACTIVE] ? "--non-interactive"
                                                           : "standard input is not a terminal";
        if (pick) {
            describe(what, sizeof(what), pick->port);
            eg_cli_usage(cmd, "%s: --confirm-port: cannot ask whether to use %s (%s): %s",
                         cmd->name, pick->port->name, what, no_tty);
        } else if (n == 1)
            eg_cli_usage(cmd,
                         "%s: no port given, and the only serial port, %s, is of no known kind: "
                         "give it with --port PORT to use it (%s, so espgang cannot ask)",
                         cmd->name, list, no_tty);
        else
            eg_cli_usage(cmd,
                         "%s: no port given, and %zu serial ports could be the board: %s; choose "
                         "one with --port PORT (%s, so espgang cannot ask)",
                         cmd->name, n, list, no_tty);
        rc = EG_EXIT_USAGE;
        goto done;
    }
    if (pick || n == 1) {
        /* One port: confirmed rather than chosen. */
        char question[600];
        pick = pick ? pick : &c[0];
        describe(what, sizeof(what), pick->port);
        snprintf(question, sizeof(question), "Use serial port '%.250s' (%s)? [Y/n] ",
                 pick->port->name, what);
        int yes = ask_yes(question, 1);
        if (yes != 1) {
            rc = eg_cli_fail("no port chosen");
            goto done;
        }
        snprintf(why, sizeof(why), "confirmed");
    } else {
        int k = menu(c, n);
        if (k < 0) {
            rc = eg_cli_fail("no port chosen");
            goto done;
        }
        pick = &c[k];
        snprintf(why, sizeof(why), "chosen");
        offer_remember(cfg, c, n, pick);
    }
chosen:
    snprintf(dst, len, "%s", pick->port->name);
    fprintf(stderr, "Using serial port '%s' (%s)\n", pick->port->name, why);
    rc = 0;
done:
    free(c);
    free(ports);
    return rc;
}
