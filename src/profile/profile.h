/* Production profiles: one YAML file (libyaml) that says everything a factory run
 * needs to flash a board the same way every time: the chip, flash settings, images
 * with a SHA-256 pinned for every input file, and the policy (erase, verify, security,
 * retries, deadlines, what to do after). The schema is in profiles/README.md.
 *
 * Loading validates everything that can be known without a board: unknown keys,
 * wrong types and bad values are errors naming `file:line:column`; relative paths are
 * taken relative to the profile's folder. Reading the inputs then checks each file's
 * SHA-256 against its pin, so a changed file refuses the run before any board is
 * touched. A loaded profile is immutable and may be shared read-only. */
#ifndef EG_PROFILE_PROFILE_H
#define EG_PROFILE_PROFILE_H

#include "chip/chip.h"
#include "core/buf.h"
#include "core/events.h"
#include "core/template.h"
#include "image/idf_build.h"
#include "image/nvs.h"
#include "plan/policy.h"

struct eg_plan;

#include <stddef.h>
#include <stdint.h>

#define EG_PROFILE_VERSION 1 /* the format version this espgang reads */

/* An input file and the SHA-256 it must have. */
typedef struct eg_profile_file {
    char *path;            /* resolved: relative paths joined to the profile's folder */
    char *given;           /* as the profile spells it, for messages */
    uint8_t sha256[32];    /* the pin */
    unsigned line, column; /* where the file is named, for messages */
    eg_buf data;           /* the bytes, once eg_profile_read_inputs() has read them */
} eg_profile_file;

/* An extra region: a file written at an offset (NVS data, a filesystem image, ...). */
typedef struct eg_profile_region {
    uint32_t offset;
    eg_profile_file file;
} eg_profile_region;

/* boot_check: after the final reset the console must print a line matching expect. */
typedef struct eg_profile_boot_check {
    int enabled;
    uint32_t baud;         /* the app's console rate (default 115200) */
    unsigned timeout_ms;   /* default 10 s */
    char *expect, *fail;   /* POSIX extended regular expressions; fail NULL: none */
    unsigned line, column; /* where boot_check: is */
} eg_profile_boot_check;

/* serial: each board's serial number, from a template and a counter in the records. */
typedef struct eg_profile_serial {
    eg_template *format; /* NULL: no serial numbers; fields lot, station, date, seq */
    unsigned start;      /* the first number of a series (default 1) */
} eg_profile_serial;

/* Where an NVS key's value comes from. */
typedef enum eg_profile_nvs_source {
    EG_NVS_FROM_NUMBER,     /* value: a number */
    EG_NVS_FROM_TEXT,       /* value: a template (a string, or a blob of its bytes) */
    EG_NVS_FROM_FILE,       /* file: one pinned file for every board (a blob or string) */
    EG_NVS_FROM_PER_DEVICE, /* per_device: a path template, a file for each board */
} eg_profile_nvs_source;

typedef struct eg_profile_nvs_key {
    char *ns, *key;
    eg_nvs_type type;
    eg_profile_nvs_source from;
    int64_t i;             /* a signed number */
    uint64_t u;            /* an unsigned number */
    eg_template *text;     /* FROM_TEXT: the value; FROM_PER_DEVICE: the path (resolved) */
    eg_profile_file file;  /* FROM_FILE */
    unsigned line, column; /* where the key is, for messages */
} eg_profile_nvs_key;

/* nvs: each board's NVS partition, generated from these keys. */
typedef struct eg_profile_nvs {
    char *partition; /* the partition's name (NULL: the table's first of type nvs) */
    eg_profile_nvs_key *keys;
    size_t n_keys;
    unsigned line, column; /* where nvs: is */
    /* Found by eg_profile_plan() in the partition table: */
    uint32_t addr, size;
    char *label; /* "nvs partition 'nvs'" */
} eg_profile_nvs;

typedef struct eg_profile {
    char *path;            /* the profile file, as given */
    uint8_t sha256[32];    /* of the profile file itself, recorded with every run */
    unsigned version;      /* EG_PROFILE_VERSION */
    char *name;            /* required; what records and reports call it */
    const eg_chip *chip;   /* required */
    uint16_t min_rev_full; /* major * 100 + minor; boards below are refused (0: any) */
    /* Flash settings for the bootloader's header and the app image; NULL keeps what
     * the image says. flash_size is required when an ELF app is built (its header
     * needs one) and is also the least flash a board must have. */
    char *flash_mode, *flash_size, *flash_freq;
    uint32_t flash_size_bytes; /* flash_size parsed; 0 when not given */
    uint32_t baud;             /* the rate after connecting (default 921600) */
    int no_stub;               /* stay with the ROM loader (default: use the stub) */
    int no_fast_connect;       /* do not raise the baud before uploading the stub */
    unsigned connect_attempts; /* reset-and-sync attempts (0: the default) */

    /* Images: either the three files and extra regions, or an ESP-IDF build. */
    eg_profile_file bootloader;      /* path NULL: none */
    eg_profile_file partition_table; /* CSV or binary; path NULL: ESP-IDF's default */
    eg_profile_file app;             /* an ELF or an app image; path NULL: none */
    uint32_t partition_table_offset; /* default 0x8000 */
    char *target_app_partition;      /* NULL: factory, else ota_0 */
    eg_profile_region *regions;      /* extra regions */
    size_t n_regions;
    char *idf_build;          /* resolved folder, NULL when not used */
    eg_profile_file idf_args; /* its flasher_args.json, which must be pinned too */
    /* Every file the build lists, pinned by its path relative to the build (given);
     * path is the resolved one. In the profile's order until the inputs are read. */
    eg_profile_file *idf_files;
    size_t n_idf_files;
    /* flasher_args.json as eg_profile_read_inputs() read it (NULL before): offsets,
     * named entries, flash settings. Then idf_files are in the order of idf->files
     * (by address), idf_files[i] is idf->files[i], and the bytes are in
     * idf_files[i].data only (idf->files[i].data is left empty). */
    eg_idf_build *idf;

    eg_policy policy;
    char *database; /* resolved path, NULL: the command line's or espgang.db */

    /* The factory floor: each board's own data and the boot check. */
    eg_profile_boot_check boot_check;
    eg_profile_serial serial;
    eg_profile_nvs nvs;
} eg_profile;

/* What a board's templates are filled with (serial NULL when the profile gives none). */
typedef struct eg_profile_device {
    const char *serial;
    const char *mac;                  /* "24:0a:c4:00:00:01" */
    const char *mac_hex;              /* "240ac4000001" */
    const char *lot, *station, *date; /* "" when not given; date "20261202" */
} eg_profile_device;

/* The board's NVS partition (nvs.size bytes) from the profile's keys into out, which
 * must be empty. EG_ENOTFOUND naming a per-device file the board has none of; EG_EINVAL
 * from the generator (a value that does not fit its type, data that does not fit). dev
 * NULL: a sample with the templates as written and no per-device files. */
int eg_profile_nvs_image(eg_buf *out, const eg_profile *p, const eg_profile_device *dev);

/* Finds the nvs partition in the table plan writes at table_offset (nvs.addr, .size,
 * .label) and checks that nothing else writes it and the keys fit: EG_EINVAL at the
 * profile's nvs key otherwise. Nothing to do without nvs keys. eg_profile_plan() calls
 * it. */
int eg_profile_nvs_place(eg_profile *p, const struct eg_plan *plan, uint32_t table_offset);

/* Parses and validates the profile at path into *out, which the caller frees with
 * eg_profile_free(); *out = NULL on error. EG_EINVAL with a message that starts with
 * "PATH:LINE:COLUMN: KEY: " (PATH as given) for every fault in the file, the first
 * one found; EG_ENOTFOUND when the profile or a file it names does not exist (the
 * message names the key and the resolved path), EG_EIO when one cannot be read.
 * Files are not read yet, but each must exist. */
int eg_profile_load(eg_profile **out, const char *path);

/* Reads every input file into its data and checks it against its pin; EG_EMISMATCH
 * naming the file, its pin and what it hashes to when one differs. For an ESP-IDF
 * build, flasher_args.json is read and every file it lists must be pinned (EG_EINVAL
 * for a file it lists without a pin, or a pin for a file it does not list), and the
 * chip it names must be the profile's (EG_EMISMATCH). An ELF app needs flash.size
 * (EG_EINVAL). Messages start "PATH:LINE:COLUMN: KEY: " at the file's key. On
 * failure no input data is kept (every data empty, idf NULL); calling it again reads
 * everything again. Call it before the profile is shared. */
int eg_profile_read_inputs(eg_profile *p);

/* How a profile's plan is made: where the flasher stubs are, where notes go. */
typedef struct eg_profile_plan_opts {
    const char *stub_dir;
    eg_events ev;
} eg_profile_plan_opts;

/* Builds the plan the profile describes (after eg_profile_read_inputs()): its images
 * laid out and patched with its flash settings (the build's where the profile says
 * nothing), its extra regions, its chip, minimum revision, least flash size and
 * policy. The input bytes move into the plan (the profile's data is left empty). */
int eg_profile_plan(struct eg_plan **out, eg_profile *p, const eg_profile_plan_opts *o);

/* Frees the profile and everything in it; NULL is a no-op. */
void eg_profile_free(eg_profile *p);

#endif
