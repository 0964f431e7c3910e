/* cargo espgang: the build flags of cargo-espflash 4 (its BuildArgs) told apart from
 * espgang's own options, the `cargo build` they make, and what cargo's JSON messages
 * say was built: the executable to flash and, when the package uses esp-idf-sys, the
 * bootloader and partition table that crate's build made. Prints nothing: cargo's
 * rendered diagnostics and the text lines it writes go to a callback. */
#ifndef EG_CARGO_CARGO_H
#define EG_CARGO_CARGO_H

#include <stddef.h>

/* The flags, in the order they are handed to cargo (cargo-espflash's order). */
enum {
    EG_CARGO_TARGET,
    EG_CARGO_TARGET_DIR,
    EG_CARGO_RELEASE,
    EG_CARGO_LOCKED,
    EG_CARGO_FROZEN,
    EG_CARGO_EXAMPLE,
    EG_CARGO_BIN,
    EG_CARGO_PACKAGE,
    EG_CARGO_NO_DEFAULT_FEATURES,
    EG_CARGO_FEATURES,
    EG_CARGO_UNSTABLE,
    EG_CARGO_SKIP_UPDATE_CHECK, /* cargo-espflash's -S: accepted, never handed on */
    EG_CARGO_NFLAGS
};

typedef struct eg_cargo_flag {
    const char *long_name; /* without dashes; NULL when there is only the short one */
    char short_name;       /* 0 when none */
    const char *metavar;   /* NULL: a flag without a value */
    int repeat;            /* may be given more than once, every value kept */
    const char *help;
} eg_cargo_flag;

/* One row per flag, indexed by the enum above. */
extern const eg_cargo_flag eg_cargo_flags[EG_CARGO_NFLAGS];

/* The command line of `cargo espgang flash|save-image` split in two. Owns build and
 * rest (the arrays, and build's strings); rest's strings and bin/example point into
 * the argv given to eg_cargo_args_split. */
typedef struct eg_cargo_args {
    char **build; /* "build", "--message-format=json-render-diagnostics", the build
                     flags; NULL-terminated: cargo's arguments after its name */
    char **rest;  /* everything else, in its order: espgang's; NULL-terminated */
    size_t nbuild, nrest;
    const char *bin;     /* --bin, or NULL */
    const char *example; /* --example, or NULL */
} eg_cargo_args;

/* Splits argv (argc strings, without the command name) into the build flags and the
 * rest. Build flags are taken as `--flag VALUE`, `--flag=VALUE`, `-Z VALUE` or
 * `-ZVALUE`; --features may be given several times and is handed on as one
 * comma-separated list; -Z is handed on once per value; -S/--skip-update-check is
 * dropped. Everything from a `--` on is left to the rest, the `--` included.
 * EG_EINVAL naming the flag when a value is missing, one is given to a flag that takes
 * none, or a flag that takes one value is given twice; *out is then empty. */
int eg_cargo_args_split(eg_cargo_args *out, int argc, char **argv);

/* Frees what a split made; the struct is left empty. Accepts an empty struct. */
void eg_cargo_args_release(eg_cargo_args *a);

/* An executable that cargo reported building. */
typedef struct eg_cargo_exe {
    char *name; /* target.name: the bin's or example's name */
    char *kind; /* "bin", "example", ... (the first of target.kind) */
    char *path; /* "executable", as cargo gives it (absolute) */
} eg_cargo_exe;

/* What cargo's messages said, as they are fed. */
typedef struct eg_cargo_build {
    eg_cargo_exe *exes; /* compiler-artifact messages with an executable, in order */
    size_t nexes;
    char *idf_out_dir;     /* out_dir of the last esp-idf-sys build script, or NULL */
    char *bootloader;      /* OUT_DIR/build/bootloader/bootloader.bin when it existed */
    char *partition_table; /* OUT_DIR/build/partition_table/partition-table.bin, ditto */
    int finished;          /* a build-finished message came */
    int success;           /* ... and said success */
    size_t text_lines;     /* lines that were not JSON (handed to the text callback) */
} eg_cargo_build;

#define EG_CARGO_BUILD_INIT                                                                        \
    {                                                                                              \
        NULL, 0, NULL, NULL, NULL, 0, 0, 0                                                         \
    }

/* Text for the terminal: a compiler message's rendered form, or a line of cargo's
 * standard output that is not JSON (then with its newline). */
typedef void (*eg_cargo_text_fn)(void *ctx, const char *text, size_t len);

/* Reads one line of cargo's standard output (without its newline; len bytes, no NUL
 * needed) into b. A line that is not a JSON object goes to text, as it is; a JSON
 * message of another reason or of a shape cargo does not write is skipped, as
 * cargo-espflash skips it; a compiler message's "rendered" text goes to text. A
 * build-script-executed message of the package esp-idf-sys records its out_dir and the
 * bootloader and partition table found under it. EG_ENOMEM only. */
int eg_cargo_feed(eg_cargo_build *b, const char *line, size_t len, eg_cargo_text_fn text,
                  void *ctx);

/* The executable to flash into *out (pointing into b): the one cargo built, matching
 * --bin (a bin of that name) or --example (an example of that name) when given.
 * EG_ENOTFOUND when there is none (saying what was built, if anything), EG_EINVAL when
 * there are several (naming them and --bin). */
int eg_cargo_pick(const eg_cargo_exe **out, const eg_cargo_build *b, const char *bin,
                  const char *example);

/* Frees what b holds and leaves it as EG_CARGO_BUILD_INIT. */
void eg_cargo_build_release(eg_cargo_build *b);

/* The package name in a cargo package id, into dst (len bytes): the current form
 * ("registry+https://...#esp-idf-sys@0.36.1", "path+file:///src/esp-idf-sys#0.36.1",
 * where the name is the URL's last segment) and the one before cargo 1.77
 * ("esp-idf-sys 0.33.7 (registry+https://...)"). EG_EINVAL when id has neither form or
 * the name does not fit. */
int eg_cargo_package_name(char *dst, size_t len, const char *id);

/* Runs program (a path, or a name looked up in PATH) with argv (argv[0] its name,
 * NULL-terminated), its standard output read line by line into b through
 * eg_cargo_feed, its standard input and error the caller's. *status is its exit status
 * (0 ok), or 128 + the signal that ended it. 0 when it exited 0; EG_EIO when it could
 * not be started or read; EG_EINVAL when it failed ("'cargo build' failed (exit status
 * 101)"). */
int eg_cargo_run(eg_cargo_build *b, int *status, const char *program, char *const argv[],
                 eg_cargo_text_fn text, void *ctx);

#endif
