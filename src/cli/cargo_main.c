/* cargo-espgang: `cargo espgang COMMAND ...`, what `cargo espflash` is to espflash.
 * flash and save-image first run `cargo build` with the build flags (src/cargo/) and
 * then espgang's command on the executable cargo built, with the bootloader and
 * partition table of esp-idf-sys's build when the package has one; every other command
 * is espgang's, run as given. espgang is the one next to this executable, else the one
 * on PATH. Its own executable: its main() is not espgang's. */
#include "cargo/cargo.h"
#include "config/espflash.h"

#include "core/error.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EG_VERSION
#define EG_VERSION "0.0.0"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define HELP_INDENT 30

/* "cargo-espgang: " + what + the message, to stderr, no newline. */
static void say(const char *what, const char *fmt, va_list ap)
{
    fprintf(stderr, "cargo-espgang: %s", what);
    vfprintf(stderr, fmt, ap);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("error: ", fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

/* A usage error with a hint to the command's --help. */
static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("", fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'cargo espgang %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

static int is_build_cmd(const char *cmd)
{
    return strcmp(cmd, "flash") == 0 || strcmp(cmd, "save-image") == 0;
}

static int is_skip_update_check(const char *arg)
{
    return strcmp(arg, "-S") == 0 || strcmp(arg, "--skip-update-check") == 0;
}

/* The build flags, generated from eg_cargo_flags. */
static void print_flags(FILE *f)
{
    for (int i = 0; i < EG_CARGO_NFLAGS; i++) {
        const eg_cargo_flag *fl = &eg_cargo_flags[i];
        char left[64];
        if (fl->long_name && fl->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", fl->short_name, fl->long_name,
                     fl->metavar ? " " : "", fl->metavar ? fl->metavar : "");
        else if (fl->long_name)
            snprintf(left, sizeof(left), "    --%s%s%s", fl->long_name, fl->metavar ? " " : "",
                     fl->metavar ? fl->metavar : "");
        else
            snprintf(left, sizeof(left), "-%c %s", fl->short_name, fl->metavar);
        fprintf(f, "  %-*s %s\n", HELP_INDENT - 3, left, fl->help);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: cargo espgang COMMAND [OPTIONS] [ARGS]\n\n"
               "Build a Rust package for an Espressif chip with cargo and flash it with "
               "espgang.\n\n"
               "Commands:\n"
               "  flash           build the package, then write the app, its partition table "
               "and\n"
               "                  bootloader to the board (espgang flash ... ELF)\n"
               "  save-image      build the package, then save its app image "
               "(espgang save-image ELF OUT)\n"
               "  ...             every other command is espgang's (board-info, monitor, "
               "list-ports,\n"
               "                  erase-flash, ...; 'espgang --help' lists them), run as "
               "given\n\n"
               "Build options of flash and save-image (handed to 'cargo build'):\n");
    print_flags(f);
    fprintf(f, "\nEvery other option is espgang's: 'cargo espgang flash --help' shows them.\n"
               "When the package uses esp-idf-sys, the bootloader and partition table its "
               "build made\nare flashed (unless --bootloader or --partition-table is given).\n\n"
               "As a cargo runner ('cargo run' flashes), in .cargo/config.toml:\n"
               "  [target.riscv32imc-unknown-none-elf]\n"
               "  runner = \"espgang flash --monitor\"\n");
}

static void cmd_help(FILE *f, const char *cmd)
{
    fprintf(f, "Usage: cargo espgang %s [BUILD OPTIONS] [ESPGANG OPTIONS]%s\n\n", cmd,
            strcmp(cmd, "save-image") == 0 ? " OUT" : "");
    fprintf(f,
            "Runs 'cargo build' with the build options, then 'espgang %s' on the "
            "executable it built%s.\n\nBuild options (handed to 'cargo build'):\n",
            cmd, strcmp(cmd, "save-image") == 0 ? " (ELF OUT)" : "");
    print_flags(f);
    fprintf(f, "\nThe rest are espgang's, as 'espgang %s --help' lists them:\n\n", cmd);
}

/* espgang's path into buf: next to this executable, else the name, for PATH. */
static void espgang_path(char *buf, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        char *slash;
        self[n] = '\0';
        if ((slash = strrchr(self, '/'))) {
            *slash = '\0';
            snprintf(buf, len, "%s/espgang", self);
            if (access(buf, X_OK) == 0)
                return;
        }
    }
    snprintf(buf, len, "espgang");
}

/* Replaces this process by espgang with args (args[0] is overwritten; NULL-terminated).
 * Returns only on failure, with the exit code. */
static int run_espgang(char **args)
{
    char path[PATH_MAX + 16];
    espgang_path(path, sizeof(path));
    args[0] = path;
    fflush(stdout);
    fflush(stderr);
    if (strchr(path, '/'))
        execv(path, args);
    else
        execvp(path, args);
    return fail("cannot run '%s': %s%s", path, eg_strerror(errno),
                strchr(path, '/') ? "" : " (install espgang next to cargo-espgang or on PATH)");
}

static void to_stderr(void *ctx, const char *text, size_t len)
{
    (void)ctx;
    fwrite(text, 1, len, stderr);
}

/* Is option name (without dashes) among args before a "--", alone or with "=VALUE"? */
static int has_opt(char **args, const char *name)
{
    size_t len = strlen(name);
    for (; *args && strcmp(*args, "--") != 0; args++)
        if (strncmp(*args, "--", 2) == 0 && strncmp(*args + 2, name, len) == 0 &&
            ((*args)[2 + len] == '\0' || (*args)[2 + len] == '='))
            return 1;
    return 0;
}

/* flash / save-image: build, then espgang CMD ELF [esp-idf-sys's files] REST... */
static int build_and_run(const char *cmd, int argc, char **argv)
{
    eg_cargo_args ca;
    eg_cargo_build b = EG_CARGO_BUILD_INIT;
    const eg_cargo_exe *exe;
    const char *program = getenv("CARGO");
    char **args = NULL, **cargo_argv = NULL;
    size_t n = 0;
    int status, rc, code = EXIT_FAIL, b_boot_cfg = 0, b_table_cfg = 0;

    for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            char *help[] = {NULL, (char *)cmd, "--help", NULL};
            cmd_help(stdout, cmd);
            return run_espgang(help);
        }
    }
    if (eg_cargo_args_split(&ca, argc, argv) < 0)
        return usage_error(cmd, "%s: %s", cmd, eg_error_msg());
    /* cargo sets CARGO for its subcommands: the same cargo (toolchain) builds. */
    if (!program || !*program)
        program = "cargo";
    if (!(cargo_argv = calloc(ca.nbuild + 2, sizeof(char *)))) {
        code = fail("out of memory");
        goto done;
    }
    cargo_argv[0] = "cargo";
    memcpy(cargo_argv + 1, ca.build, ca.nbuild * sizeof(char *));
    rc = eg_cargo_run(&b, &status, program, cargo_argv, to_stderr, NULL);
    if (rc < 0) {
        fail("%s: nothing was %s", eg_error_msg(), strcmp(cmd, "flash") == 0 ? "flashed" : "saved");
        code = status != 0 && rc == EG_EINVAL ? status : EXIT_FAIL;
        goto done;
    }
    if (eg_cargo_pick(&exe, &b, ca.bin, ca.example) < 0) {
        code = fail("%s", eg_error_msg());
        goto done;
    }
    if (!(args = calloc(ca.nrest + 8, sizeof(char *)))) {
        code = fail("out of memory");
        goto done;
    }
    args[n++] = NULL; /* espgang's path, filled in by run_espgang */
    args[n++] = (char *)cmd;
    args[n++] = exe->path;
    fprintf(stderr, "App: %s '%s' (%s)\n", exe->kind, exe->name, exe->path);
    /* esp-idf-sys's bootloader and table, unless given or not wanted: flash --ram and
     * --idf-build write neither, and an image that is not merged holds no bootloader. */
    if (strcmp(cmd, "flash") == 0 && (has_opt(ca.rest, "ram") || has_opt(ca.rest, "idf-build"))) {
        /* neither */
    } else {
        /* espflash's order: a flag, then espflash.toml's [idf] files, then esp-idf-sys's.
         * espgang reads the file itself; here it only keeps esp-idf-sys's out of its way
         * (a file that does not read is espgang's to report). */
        char cwd[4096], global[4096];
        eg_espflash_config *cfg = NULL;
        eg_espflash_global_dir(global, sizeof(global), getenv("XDG_CONFIG_HOME"), getenv("HOME"));
        if (getcwd(cwd, sizeof(cwd)) && eg_espflash_config_load(&cfg, cwd, global) == 0 && cfg) {
            if (cfg->bootloader)
                b_boot_cfg = 1;
            if (cfg->partition_table)
                b_table_cfg = 1;
        }
        eg_espflash_config_free(cfg);
        if (b.bootloader && !b_boot_cfg && !has_opt(ca.rest, "bootloader") &&
            (strcmp(cmd, "flash") == 0 || has_opt(ca.rest, "merge"))) {
            args[n++] = "--bootloader";
            args[n++] = b.bootloader;
            fprintf(stderr, "Bootloader: %s (esp-idf-sys's build)\n", b.bootloader);
        }
        if (b.partition_table && !b_table_cfg && !has_opt(ca.rest, "partition-table")) {
            args[n++] = "--partition-table";
            args[n++] = b.partition_table;
            fprintf(stderr, "Partition table: %s (esp-idf-sys's build)\n", b.partition_table);
        }
    }
    memcpy(args + n, ca.rest, ca.nrest * sizeof(char *));
    args[n + ca.nrest] = NULL;
    code = run_espgang(args);
done:
    free(args);
    free(cargo_argv);
    eg_cargo_build_release(&b);
    eg_cargo_args_release(&ca);
    return code;
}

int main(int argc, char **argv)
{
    int i = 1;

    /* cargo runs `cargo-espgang espgang ARGS...`; run directly, ARGS come first. */
    if (i < argc && strcmp(argv[i], "espgang") == 0)
        i++;
    while (i < argc && is_skip_update_check(argv[i]))
        i++;
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 ||
        strcmp(argv[i], "help") == 0) {
        if (strcmp(argv[i], "help") == 0 && i + 1 < argc) {
            if (is_build_cmd(argv[i + 1])) {
                char *help[] = {NULL, argv[i + 1], "--help", NULL};
                cmd_help(stdout, argv[i + 1]);
                return run_espgang(help);
            }
            argv[i] = "help"; /* espgang help CMD */
            return run_espgang(argv + i - 1);
        }
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
        printf("cargo-espgang %s\n", EG_VERSION);
        return EXIT_OK;
    }
    if (is_build_cmd(argv[i]))
        return build_and_run(argv[i], argc - i - 1, argv + i + 1);
    /* Another command: espgang's, as given (less cargo-espflash's -S). */
    {
        char **args = calloc((size_t)(argc - i) + 2, sizeof(char *));
        size_t n = 1;
        int rest = 0, code;
        if (!args)
            return fail("out of memory");
        for (int k = i; k < argc; k++) {
            if (strcmp(argv[k], "--") == 0)
                rest = 1;
            if (rest || !is_skip_update_check(argv[k]))
                args[n++] = argv[k];
        }
        code = run_espgang(args);
        free(args);
        return code;
    }
}
