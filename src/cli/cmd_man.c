/* man (a hidden command): espgang's manual page, espgang.1, written in roff from the
 * command table (every command with its usage, summary, details and options; the
 * connection and general options once), with what the table does not hold: the
 * configuration files, port selection, the environment and the exit codes. The build
 * runs `espgang man -o build/espgang.1`; `cmake --install` puts it in share/man/man1. */
#include "cli/cmds.h"

#include <stdio.h>
#include <string.h>

#ifndef EG_VERSION
#define EG_VERSION "0.0.0"
#endif

/* Roff text (escapes written already) as lines of at most about 72 characters, a new
 * line after each sentence; a line that would start with '.' or '\'' is kept as text. */
static void lines(FILE *f, const char *s)
{
    int col = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        if (*s == '\n') {
            if (col)
                fputc('\n', f);
            col = 0;
            s++;
            continue;
        }
        if (!*s)
            break;
        size_t word = strcspn(s, " \n");
        if (col > 0 && col + 1 + (int)word > 76) {
            fputc('\n', f);
            col = 0;
        } else if (col > 0) {
            fputc(' ', f);
            col++;
        }
        if (col == 0 && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        fwrite(s, 1, word, f);
        col += (int)word;
        s += word;
        const char *next = s;
        while (*next == ' ')
            next++;
        if ((s[-1] == '.' || s[-1] == ':') && *next >= 'A' && *next <= 'Z') {
            fputc('\n', f); /* a new sentence on a new line */
            col = 0;
        }
    }
    if (col)
        fputc('\n', f);
}

/* Roff source: request lines ('.') as they are, text lines wrapped by lines(). */
static void source(FILE *f, const char *s)
{
    char line[1024];
    while (*s) {
        size_t n = strcspn(s, "\n");
        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), s);
        if (line[0] == '.')
            fprintf(f, "%s\n", line);
        else
            lines(f, line);
        s += n;
        if (*s)
            s++;
    }
}

/* Text as roff (backslashes and hyphens escaped), in lines. */
static void roff(FILE *f, const char *s)
{
    char buf[4096];
    size_t n = 0;
    for (; *s && n + 3 < sizeof(buf); s++) {
        if (*s == '\\' || *s == '-')
            buf[n++] = '\\';
        buf[n++] = *s == '\\' ? 'e' : *s;
    }
    buf[n] = '\0';
    lines(f, buf);
}

/* The same inline (no line breaks), for headings and option names. */
static void roff_inline(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
    }
}

static void opt_item(FILE *f, const eg_opt *o)
{
    fputs(".TP\n", f);
    if (o->short_name)
        fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
    fputs("\\fB\\-\\-", f);
    roff_inline(f, o->long_name);
    fputs("\\fR", f);
    if (o->metavar) {
        fputs(" \\fI", f);
        roff_inline(f, o->metavar);
        fputs("\\fR", f);
    }
    fputc('\n', f);
    roff(f, o->help);
}

/* The date the program was built (__DATE__, "Mar  5 2026"), as 2026-03-05. */
static void build_date(char out[11])
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *d = __DATE__;
    char mon[4] = {d[0], d[1], d[2], 0};
    const char *m = strstr(months, mon);
    int month = m ? (int)(m - months) / 3 + 1 : 1;
    memcpy(out, d + 7, 4);
    out[4] = '-';
    out[5] = (char)('0' + month / 10);
    out[6] = (char)('0' + month % 10);
    out[7] = '-';
    out[8] = d[4] == ' ' ? '0' : d[4];
    out[9] = d[5];
    out[10] = '\0';
}

static int gen_man(FILE *f, void *ctx)
{
    const eg_opt_group *connection = NULL, *general = NULL;
    eg_opt_group g[3], keep[3];
    char date[11];
    (void)ctx;

    build_date(date);
    fprintf(f,
            ".\\\" The manual of espgang, written by 'espgang man' from its command table.\n"
            ".TH ESPGANG 1 %s \"espgang %s\" \"User Commands\"\n",
            date, EG_VERSION);
    source(f, ".SH NAME\n"
              "espgang \\- flash and inspect Espressif chips over serial, one board or a "
              "fixture of many\n"
              ".SH SYNOPSIS\n"
              ".B espgang\n"
              ".I COMMAND\n"
              ".RI [ OPTIONS ]\n"
              ".RI [ ARGS ]\n"
              ".br\n"
              ".B espgang help\n"
              ".RI [ COMMAND ]\n"
              ".SH DESCRIPTION\n"
              "espgang flashes Espressif chips (ESP32, ESP32\\-S2, \\-S3, \\-C2, \\-C3, \\-C5, "
              "\\-C6, \\-H2, \\-P4) over serial.\n"
              "For one board on a desk it offers what espflash does, and reads espflash's "
              "configuration files.\n"
              "On a factory fixture it flashes many boards at once from a production profile "
              "and records every device's result in SQLite.\n"
              ".SH COMMANDS\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        if (c->flags & EG_CMD_HIDDEN)
            continue;
        fputs(".SS \"", f);
        roff_inline(f, c->name);
        if (c->usage[0]) {
            fputc(' ', f);
            roff_inline(f, c->usage);
        }
        fputs("\"\n", f);
        roff(f, c->summary);
        if (c->details) {
            fputs(".PP\n", f);
            roff(f, c->details);
        }
        size_t n = eg_cli_opt_groups(g, c);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(g[i].title, "Options") == 0) {
                for (const eg_opt *o = g[i].opts; o->id; o++)
                    opt_item(f, o);
            } else if (strcmp(g[i].title, "Connection") == 0) {
                fputs(".PP\nIt takes the connection options (see \\fBCONNECTION OPTIONS\\fR).\n",
                      f);
            }
        }
    }
    /* The shared options, once: from the first board command. */
    for (const eg_command *c = eg_commands; c->name && !connection; c++) {
        size_t n = eg_cli_opt_groups(keep, c);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(keep[i].title, "Connection") == 0)
                connection = &keep[i];
            if (strcmp(keep[i].title, "General") == 0)
                general = &keep[i];
        }
    }
    if (connection) {
        fputs(".SH CONNECTION OPTIONS\n"
              "Every command that works on a board takes these.\n",
              f);
        for (const eg_opt *o = connection->opts; o->id; o++)
            opt_item(f, o);
    }
    if (general) {
        fputs(".SH GENERAL OPTIONS\nEvery command takes these.\n", f);
        for (const eg_opt *o = general->opts; o->id; o++)
            opt_item(f, o);
    }
    source(f,
           ".SH PORT SELECTION\n"
           "The port is the first of: \\fB\\-\\-port\\fR; \\fBESPGANG_PORT\\fR; "
           "\\fBESPFLASH_PORT\\fR; \\fBserial\\fR under \\fB[connection]\\fR in "
           "\\fIespflash_ports.toml\\fR.\n"
           "Without any, espgang looks at the USB serial ports of Espressif chips and known "
           "USB\\-UART bridges (CP210x, CH34x/CH910x, FTDI, PL2303); every serial port with "
           "\\fB\\-\\-list\\-all\\-ports\\fR.\n"
           "A port whose VID:PID a \\fB[[usb_device]]\\fR names is taken; else the only port of "
           "a known kind.\n"
           "Otherwise espgang asks on the terminal (a numbered menu), and offers to remember the "
           "choice as a \\fB[[usb_device]]\\fR in \\fIespflash_ports.toml\\fR.\n"
           "With \\fB\\-\\-non\\-interactive\\fR, or when standard input is not a terminal, it "
           "fails and lists the ports that could be the board; \\fB\\-\\-confirm\\-port\\fR "
           "asks even when one port was found on its own.\n"
           ".SH FILES\n"
           "espgang reads espflash's configuration files.\n"
           "Each is looked for in the current folder, then its parent, then "
           "\\fI$XDG_CONFIG_HOME/espflash\\fR (else \\fI\\(ti/.config/espflash\\fR); the first "
           "found is read.\n"
           "Paths in them are taken from the current folder.\n"
           "A fault is reported with its \\fIFILE:LINE:COLUMN\\fR; an unknown key is a warning "
           "(espflash ignores it).\n"
           ".TP\n"
           ".I espflash.toml\n"
           "\\fBbaudrate\\fR (the default of \\fB\\-\\-baud\\fR);\n"
           "under \\fB[idf_format_args]\\fR (or \\fB[idf]\\fR): \\fBbootloader\\fR, "
           "\\fBpartition_table\\fR, \\fBpartition_table_offset\\fR, "
           "\\fBtarget_app_partition\\fR;\n"
           "under \\fB[flash]\\fR: \\fBmode\\fR, \\fBsize\\fR, \\fBfrequency\\fR.\n"
           "\\fBflash\\fR and \\fBsave\\-image\\fR take them as the defaults of the options of "
           "the same names.\n"
           ".TP\n"
           ".I espflash_ports.toml\n"
           "\\fB[connection]\\fR \\fBserial\\fR, the port; \\fB[[usb_device]]\\fR tables with "
           "\\fBvid\\fR and \\fBpid\\fR as hex strings (\"303a\").\n"
           "Without this file, espflash 3's \\fB[connection]\\fR and \\fB[[usb_device]]\\fR in "
           "\\fIespflash.toml\\fR are read.\n"
           ".SH ENVIRONMENT\n"
           ".TP\n"
           ".BR ESPGANG_PORT \", \" ESPFLASH_PORT\n"
           "The port when \\fB\\-\\-port\\fR is not given (ESPGANG_PORT first).\n"
           ".TP\n"
           ".BR ESPGANG_BAUD \", \" ESPFLASH_BAUD\n"
           "The baud rate when \\fB\\-\\-baud\\fR is not given (ESPGANG_BAUD first).\n"
           ".TP\n"
           ".BR XDG_CONFIG_HOME \", \" HOME\n"
           "Where the global configuration files are.\n"
           ".SH EXIT STATUS\n"
           "0 on success, 1 when an operation failed, 2 for a usage error;\n"
           "\\fBrun\\fR and \\fBverify\\fR exit 3 when some board did not pass.\n");
    return 0;
}

int cmd_man(const eg_command *cmd, eg_args *a)
{
    (void)cmd;
    return eg_cli_write_output(a->val[OPT_OUTPUT], gen_man, NULL);
}
