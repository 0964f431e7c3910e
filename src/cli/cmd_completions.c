/* completions SHELL: a completion script for bash, zsh, fish, elvish or PowerShell,
 * written from the command table (every command, every option with its value name and
 * what its values are: files, folders, ports, chips, modes), so it never falls behind
 * the commands. */
#include "cli/cmds.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/modes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What an option's value (or a command's positional arguments) completes to. */
typedef enum value_kind {
    V_NONE,  /* nothing to offer: a number, a name */
    V_FILE,  /* a file */
    V_DIR,   /* a folder */
    V_PORT,  /* a serial port (espgang list-ports -n) */
    V_WORDS, /* one of a list of words */
} value_kind;

typedef struct value_hint {
    value_kind kind;
    char words[256]; /* V_WORDS: separated by spaces */
} value_hint;

/* Values known by option name. */
static const struct {
    const char *opt;
    const char *words;
} word_values[] = {
    {"flash-mode", "qio qout dio dout"},
    {"flash-size", "1MB 2MB 4MB 8MB 16MB 32MB 64MB 128MB"},
    {"flash-freq", "80m 60m 48m 40m 30m 26m 24m 20m 16m 15m 12m"},
    {"format", "csv json html text"},
};

static const char *const shells[] = {"bash", "zsh", "fish", "elvish", "powershell"};

static value_hint opt_hint(const eg_opt *o)
{
    value_hint h = {V_NONE, ""};
    const char *m = o->metavar;

    if (!m)
        return h;
    if (strcmp(o->long_name, "chip") == 0) {
        /* The chip table's names, "a, b, c" → "a b c". */
        const char *names = eg_chip_names();
        size_t n = 0;
        for (const char *p = names; *p && n + 1 < sizeof(h.words); p++)
            if (*p != ',')
                h.words[n++] = *p;
        h.words[n] = '\0';
        h.kind = V_WORDS;
        return h;
    }
    if (strcmp(o->long_name, "before") == 0 || strcmp(o->long_name, "after") == 0) {
        /* The modes' own names, as many as core/modes.c knows. */
        size_t n = 0;
        for (int i = 0;; i++) {
            const char *name =
                o->long_name[0] == 'b' ? eg_before_name((eg_before)i) : eg_after_name((eg_after)i);
            if (strcmp(name, "?") == 0 || n + strlen(name) + 2 > sizeof(h.words))
                break;
            n += (size_t)snprintf(h.words + n, sizeof(h.words) - n, "%s%s", n ? " " : "", name);
        }
        h.kind = V_WORDS;
        return h;
    }
    for (size_t i = 0; i < sizeof(word_values) / sizeof(word_values[0]); i++)
        if (strcmp(o->long_name, word_values[i].opt) == 0) {
            h.kind = V_WORDS;
            snprintf(h.words, sizeof(h.words), "%s", word_values[i].words);
            return h;
        }
    if (strcmp(m, "PORT") == 0)
        h.kind = V_PORT;
    else if (strcmp(m, "DIR") == 0)
        h.kind = V_DIR;
    else if (strcmp(m, "FILE") == 0 || strcmp(m, "OUT") == 0 || strcmp(m, "PATH") == 0 ||
             strcmp(m, "ELF") == 0 || strcmp(m, "PROFILE") == 0)
        h.kind = V_FILE;
    return h;
}

/* A command's positional arguments: files when its usage names one; the lowercase
 * words in it ("check") and the shells of completions as words. */
static value_hint pos_hint(const eg_command *cmd)
{
    value_hint h = {V_NONE, ""};
    char word[64];
    size_t n = 0;

    if (strcmp(cmd->name, "completions") == 0) {
        h.kind = V_WORDS;
        for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
            n +=
                (size_t)snprintf(h.words + n, sizeof(h.words) - n, "%s%s", i ? " " : "", shells[i]);
        return h;
    }
    const char *u = cmd->usage;
    while (*u) {
        size_t len = strcspn(u, " []|.");
        if (len == 0) {
            u++;
            continue;
        }
        snprintf(word, sizeof(word), "%.*s", (int)(len < sizeof(word) ? len : sizeof(word) - 1), u);
        u += len;
        if (strstr(word, "FILE") || strstr(word, "ELF") || strstr(word, "OUT") ||
            strstr(word, "PROFILE"))
            h.kind = V_FILE;
        else if (word[0] >= 'a' && word[0] <= 'z' && n + strlen(word) + 2 < sizeof(h.words))
            n += (size_t)snprintf(h.words + n, sizeof(h.words) - n, "%s%s", n ? " " : "", word);
    }
    if (h.kind == V_NONE && n)
        h.kind = V_WORDS;
    return h;
}

/* The first clause of an option's help, for one-line descriptions. */
static void short_help(char *dst, size_t len, const char *help)
{
    size_t n = strcspn(help, ";(");
    while (n > 0 && help[n - 1] == ' ')
        n--;
    if (n > 90) {
        n = 90;
        while (n > 40 && help[n] != ' ')
            n--;
    }
    snprintf(dst, len, "%.*s", (int)n, help);
}

/* The first sentence of a command's summary. */
static void short_summary(char *dst, size_t len, const char *summary)
{
    const char *dot = strchr(summary, '.');
    snprintf(dst, len, "%.*s", dot ? (int)(dot - summary) : (int)strlen(summary), summary);
}

/* s with every character of special preceded by esc (or, esc NULL, every ' doubled). */
static void put_escaped(FILE *f, const char *s, const char *special, const char *esc)
{
    for (; *s; s++) {
        if (strchr(special, *s)) {
            if (esc)
                fputs(esc, f);
            else
                fputc(*s, f);
        }
        fputc(*s, f);
    }
}

static int visible(const eg_command *c)
{
    return !(c->flags & EG_CMD_HIDDEN);
}

/* Calls emit for every name (-x, then --xx) of every option cmd takes, with the first
 * clause of its help. */
static void each_option_name(FILE *f, const eg_command *cmd,
                             void (*emit)(FILE *f, const char *name, const char *desc))
{
    eg_opt_group g[3];
    size_t ng = eg_cli_opt_groups(g, cmd);
    char text[256], name[96];

    for (size_t i = 0; i < ng; i++)
        for (const eg_opt *o = g[i].opts; o->id; o++) {
            short_help(text, sizeof(text), o->help);
            if (o->short_name) {
                snprintf(name, sizeof(name), "-%c", o->short_name);
                emit(f, name, text);
            }
            snprintf(name, sizeof(name), "--%s", o->long_name);
            emit(f, name, text);
        }
}

/* Calls emit for every visible command with the first sentence of its summary. */
static void each_command(FILE *f, void (*emit)(FILE *f, const char *name, const char *desc))
{
    char text[256];
    for (const eg_command *c = eg_commands; c->name; c++) {
        if (!visible(c))
            continue;
        short_summary(text, sizeof(text), c->summary);
        emit(f, c->name, text);
    }
}

/* --- bash --- */

static void bash_values(FILE *f, value_hint h, const char *indent)
{
    switch (h.kind) {
    case V_FILE:
        fprintf(f,
                "%scompopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "
                "\"$cur\")\n",
                indent);
        break;
    case V_DIR:
        fprintf(f,
                "%scompopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "
                "\"$cur\")\n",
                indent);
        break;
    case V_PORT:
        fprintf(f,
                "%sCOMPREPLY=($(compgen -W \"$(\"${COMP_WORDS[0]}\" list-ports -n 2>/dev/null)\" "
                "-- \"$cur\"))\n",
                indent);
        break;
    case V_WORDS:
        fprintf(f, "%sCOMPREPLY=($(compgen -W \"%s\" -- \"$cur\"))\n", indent, h.words);
        break;
    case V_NONE:
        fprintf(f, "%sCOMPREPLY=()\n", indent);
        break;
    }
}

static void gen_bash(FILE *f)
{
    fprintf(f, "# bash completion for espgang (written by 'espgang completions bash')\n"
               "_espgang() {\n"
               "    local cur=${COMP_WORDS[COMP_CWORD]} prev=\"\"\n"
               "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
               "    if ((COMP_CWORD == 1)); then\n"
               "        COMPREPLY=($(compgen -W \"");
    for (const eg_command *c = eg_commands; c->name; c++)
        if (visible(c))
            fprintf(f, "%s ", c->name);
    fprintf(f, "help --help --version\" -- \"$cur\"))\n"
               "        return\n"
               "    fi\n"
               "    case ${COMP_WORDS[1]} in\n"
               "    help)\n"
               "        ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W \"");
    for (const eg_command *c = eg_commands; c->name; c++)
        if (visible(c))
            fprintf(f, "%s ", c->name);
    fprintf(f, "\" -- \"$cur\"))\n"
               "        ;;\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        eg_opt_group g[3];
        size_t ng = eg_cli_opt_groups(g, c);
        if (!visible(c))
            continue;
        fprintf(f, "    %s)\n        case $prev in\n", c->name);
        for (size_t i = 0; i < ng; i++)
            for (const eg_opt *o = g[i].opts; o->id; o++) {
                if (!o->metavar)
                    continue;
                if (o->short_name)
                    fprintf(f, "        -%c | --%s)\n", o->short_name, o->long_name);
                else
                    fprintf(f, "        --%s)\n", o->long_name);
                bash_values(f, opt_hint(o), "            ");
                fprintf(f, "            return\n            ;;\n");
            }
        fprintf(f, "        esac\n"
                   "        if [[ $cur == -* ]]; then\n"
                   "            COMPREPLY=($(compgen -W \"");
        for (size_t i = 0; i < ng; i++)
            for (const eg_opt *o = g[i].opts; o->id; o++) {
                fprintf(f, "--%s ", o->long_name);
                if (o->short_name)
                    fprintf(f, "-%c ", o->short_name);
            }
        fprintf(f, "\" -- \"$cur\"))\n"
                   "            return\n"
                   "        fi\n");
        bash_values(f, pos_hint(c), "        ");
        fprintf(f, "        ;;\n");
    }
    fprintf(f, "    esac\n"
               "}\n"
               "complete -F _espgang espgang\n");
}

/* --- zsh --- */

/* Text for inside '...[...]' of _arguments: brackets, colons and backslashes escaped,
 * quotes closed and reopened. */
static void zsh_desc(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else
            fputc(*s, f);
    }
}

static void zsh_action(FILE *f, value_hint h)
{
    switch (h.kind) {
    case V_FILE:
        fputs("_files", f);
        break;
    case V_DIR:
        fputs("_files -/", f);
        break;
    case V_PORT:
        fputs("_espgang_ports", f);
        break;
    case V_WORDS:
        fprintf(f, "(%s)", h.words);
        break;
    case V_NONE:
        fputs(" ", f);
        break;
    }
}

static void gen_zsh(FILE *f)
{
    char text[256];

    fprintf(f, "#compdef espgang\n"
               "# zsh completion for espgang (written by 'espgang completions zsh')\n\n"
               "_espgang_ports() {\n"
               "    local -a ports\n"
               "    ports=(${(f)\"$(espgang list-ports -n 2>/dev/null)\"})\n"
               "    _describe -t ports 'serial port' ports\n"
               "}\n\n"
               "_espgang() {\n"
               "    local -a commands\n"
               "    commands=(\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        if (!visible(c))
            continue;
        short_summary(text, sizeof(text), c->summary);
        fprintf(f, "        '%s:", c->name);
        for (const char *p = text; *p; p++) {
            if (*p == '\'')
                fputs("'\\''", f);
            else
                fputc(*p, f);
        }
        fprintf(f, "'\n");
    }
    fprintf(f, "    )\n"
               "    if ((CURRENT == 2)); then\n"
               "        _describe -t commands 'espgang command' commands\n"
               "        _arguments '(- *)'{-h,--help}'[show the help and exit]' "
               "'(- *)'{-V,--version}'[show the version and exit]'\n"
               "        return\n"
               "    fi\n"
               "    local cmd=$words[2]\n"
               "    shift words\n"
               "    ((CURRENT--))\n"
               "    case $cmd in\n"
               "    help)\n"
               "        _describe -t commands 'espgang command' commands\n"
               "        ;;\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        eg_opt_group g[3];
        size_t ng = eg_cli_opt_groups(g, c);
        if (!visible(c))
            continue;
        fprintf(f, "    %s)\n        _arguments -s -S", c->name);
        for (size_t i = 0; i < ng; i++)
            for (const eg_opt *o = g[i].opts; o->id; o++) {
                short_help(text, sizeof(text), o->help);
                for (int form = 0; form < 2; form++) {
                    if (form == 0 && !o->short_name)
                        continue;
                    fputs(" \\\n            '", f);
                    if (o->short_name)
                        fprintf(f, "(-%c --%s)", o->short_name, o->long_name);
                    if (form == 0)
                        fprintf(f, "-%c%s[", o->short_name, o->metavar ? "+" : "");
                    else
                        fprintf(f, "--%s%s[", o->long_name, o->metavar ? "=" : "");
                    zsh_desc(f, text);
                    fputc(']', f);
                    if (o->metavar) {
                        fprintf(f, ":%s:", o->metavar);
                        zsh_action(f, opt_hint(o));
                    }
                    fputc('\'', f);
                }
            }
        value_hint ph = pos_hint(c);
        if (c->max_pos != 0) {
            fputs(" \\\n            '*:ARG:", f);
            zsh_action(f, ph);
            fputc('\'', f);
        }
        fprintf(f, "\n        ;;\n");
    }
    fprintf(f, "    esac\n"
               "}\n\n"
               "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
               "    _espgang \"$@\"\n"
               "else\n"
               "    compdef _espgang espgang\n"
               "fi\n");
}

/* --- fish --- */

static void fish_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    put_escaped(f, s, "\\'", "\\");
    fputc('\'', f);
}

static void gen_fish(FILE *f)
{
    char text[256];

    fprintf(f, "# fish completion for espgang (written by 'espgang completions fish')\n"
               "complete -c espgang -f\n"
               "complete -c espgang -n __fish_use_subcommand -s h -l help -d 'show the help'\n"
               "complete -c espgang -n __fish_use_subcommand -s V -l version -d 'show the "
               "version'\n"
               "complete -c espgang -n __fish_use_subcommand -a help -d 'show the help of a "
               "command'\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        if (!visible(c))
            continue;
        short_summary(text, sizeof(text), c->summary);
        fprintf(f, "complete -c espgang -n __fish_use_subcommand -a %s -d ", c->name);
        fish_quoted(f, text);
        fputc('\n', f);
        fprintf(f, "complete -c espgang -n '__fish_seen_subcommand_from help' -a %s\n", c->name);
    }
    for (const eg_command *c = eg_commands; c->name; c++) {
        eg_opt_group g[3];
        size_t ng = eg_cli_opt_groups(g, c);
        if (!visible(c))
            continue;
        for (size_t i = 0; i < ng; i++)
            for (const eg_opt *o = g[i].opts; o->id; o++) {
                short_help(text, sizeof(text), o->help);
                fprintf(f, "complete -c espgang -n '__fish_seen_subcommand_from %s'", c->name);
                if (o->short_name)
                    fprintf(f, " -s %c", o->short_name);
                fprintf(f, " -l %s", o->long_name);
                if (o->metavar) {
                    value_hint h = opt_hint(o);
                    if (h.kind == V_FILE)
                        fputs(" -r -F", f);
                    else if (h.kind == V_DIR)
                        fputs(" -x -a '(__fish_complete_directories)'", f);
                    else if (h.kind == V_PORT)
                        fputs(" -x -a '(espgang list-ports -n 2>/dev/null)'", f);
                    else if (h.kind == V_WORDS)
                        fprintf(f, " -x -a '%s'", h.words);
                    else
                        fputs(" -x", f);
                }
                fputs(" -d ", f);
                fish_quoted(f, text);
                fputc('\n', f);
            }
        value_hint ph = pos_hint(c);
        if (ph.kind == V_FILE)
            fprintf(f, "complete -c espgang -n '__fish_seen_subcommand_from %s' -F\n", c->name);
        else if (ph.kind == V_WORDS)
            fprintf(f, "complete -c espgang -n '__fish_seen_subcommand_from %s' -a '%s'\n", c->name,
                    ph.words);
    }
}

/* --- elvish --- */

static void elvish_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    put_escaped(f, s, "'", NULL);
    fputc('\'', f);
}

static void elvish_cand(FILE *f, const char *indent, const char *text, const char *desc)
{
    fprintf(f, "%sedit:complex-candidate ", indent);
    elvish_quoted(f, text);
    fputs(" &display=", f);
    char display[400];
    snprintf(display, sizeof(display), "%-22s %s", text, desc);
    elvish_quoted(f, display);
    fputc('\n', f);
}

static void elvish_command(FILE *f, const char *name, const char *desc)
{
    elvish_cand(f, "        ", name, desc);
}

static void elvish_option(FILE *f, const char *name, const char *desc)
{
    elvish_cand(f, "                ", name, desc);
}

static void gen_elvish(FILE *f)
{
    fprintf(f, "# elvish completion for espgang (written by 'espgang completions elvish')\n"
               "set edit:completion:arg-completer[espgang] = {|@words|\n"
               "    if (== (count $words) 2) {\n");
    each_command(f, elvish_command);
    fprintf(f, "    } else {\n"
               "        var completions = [\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        if (!visible(c))
            continue;
        fprintf(f, "            &%s= {\n", c->name);
        each_option_name(f, c, elvish_option);
        if (pos_hint(c).kind == V_FILE)
            fprintf(f, "                edit:complete-filename $words[-1]\n");
        fprintf(f, "            }\n");
    }
    fprintf(f, "        ]\n"
               "        if (has-key $completions $words[1]) {\n"
               "            $completions[$words[1]]\n"
               "        }\n"
               "    }\n"
               "}\n");
}

/* --- PowerShell --- */

static void ps_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    put_escaped(f, s, "'", NULL);
    fputc('\'', f);
}

static void ps_result(FILE *f, const char *text, const char *type, const char *desc)
{
    fputs("            [CompletionResult]::new(", f);
    ps_quoted(f, text);
    fputs(", ", f);
    ps_quoted(f, text);
    fprintf(f, ", [CompletionResultType]::%s, ", type);
    ps_quoted(f, desc[0] ? desc : text);
    fputs(")\n", f);
}

static void ps_command(FILE *f, const char *name, const char *desc)
{
    ps_result(f, name, "ParameterValue", desc);
}

static void ps_option(FILE *f, const char *name, const char *desc)
{
    ps_result(f, name, "ParameterName", desc);
}

static void gen_powershell(FILE *f)
{
    fprintf(f, "# PowerShell completion for espgang (written by 'espgang completions powershell')\n"
               "using namespace System.Management.Automation\n"
               "using namespace System.Management.Automation.Language\n\n"
               "Register-ArgumentCompleter -Native -CommandName 'espgang' -ScriptBlock {\n"
               "    param($wordToComplete, $commandAst, $cursorPosition)\n"
               "    $elements = $commandAst.CommandElements\n"
               "    $command = 'espgang'\n"
               "    if ($elements.Count -gt 1 -and $elements[1] -is [StringConstantExpressionAst] "
               "-and\n"
               "        -not $elements[1].Value.StartsWith('-') -and $elements[1].Value -ne "
               "$wordToComplete) {\n"
               "        $command = 'espgang;' + $elements[1].Value\n"
               "    }\n"
               "    $completions = @(switch ($command) {\n"
               "        'espgang' {\n");
    each_command(f, ps_command);
    fprintf(f, "            break\n        }\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        if (!visible(c))
            continue;
        fprintf(f, "        'espgang;%s' {\n", c->name);
        each_option_name(f, c, ps_option);
        fprintf(f, "            break\n        }\n");
    }
    fprintf(f, "    })\n"
               "    $completions.Where{ $_.CompletionText -like \"$wordToComplete*\" } |\n"
               "        Sort-Object -Property ListItemText\n"
               "}\n");
}

int eg_cli_write_output(const char *path, int (*gen)(FILE *f, void *ctx), void *ctx)
{
    char *data = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&data, &len);
    int rc;

    if (!f)
        return eg_cli_fail("out of memory");
    rc = gen(f, ctx);
    if (fclose(f) != 0 || !data) {
        free(data);
        return eg_cli_fail("out of memory");
    }
    if (rc == 0 && path) {
        if (eg_file_write_atomic(path, data, len) < 0)
            rc = eg_cli_fail("%s", eg_error_msg());
    } else if (rc == 0 && fwrite(data, 1, len, stdout) != len) {
        rc = eg_cli_fail("cannot write to standard output");
    }
    free(data);
    return rc;
}

static int gen_shell(FILE *f, void *ctx)
{
    static void (*const gens[])(FILE *) = {gen_bash, gen_zsh, gen_fish, gen_elvish, gen_powershell};
    gens[*(const size_t *)ctx](f);
    return 0;
}

int cmd_completions(const eg_command *cmd, eg_args *a)
{
    for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
        if (strcmp(a->pos[0], shells[i]) == 0)
            return eg_cli_write_output(a->val[OPT_OUTPUT], gen_shell, &i);
    return eg_cli_usage(cmd, "%s: unknown shell '%s' (bash, zsh, fish, elvish or powershell)",
                        cmd->name, a->pos[0]);
}
