/* Production profiles: the YAML tree (internal.h) checked against the schema in
 * profiles/README.md and turned into an eg_profile; then the input files read and
 * checked against their pins. */
#include "profile/profile.h"

#include "core/error.h"
#include "core/hash.h"
#include "core/num.h"
#include "image/image.h"
#include "profile/internal.h"
#include "profile/schema.h"
#include "profile/sections.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PROFILE_BYTES (1u << 20) /* a profile is a few KB; this is certainly a mistake */
#define MAX_NAME          128
#define MAX_PART_NAME     15 /* a partition's name field holds 16 bytes with its NUL */
#define MAX_RETRIES       100
#define MIN_BAUD          9600
#define MAX_BAUD          5000000
#define MAX_ATTEMPTS      1000
#define DEFAULT_BAUD      921600
#define DEFAULT_TABLE     0x8000

/* The schema reader's context; user is the profile being filled. */
typedef eg_schema ctx;
#define P(c) ((eg_profile *)(c)->user)

/* A file named by value node n (given) with its pin, resolved and checked to exist. */
int eg_profile_set_file(eg_profile_file *f, const ctx *c, const eg_profile_node *n, const char *key,
                        const uint8_t pin[32])
{
    int rc;

    if ((rc = eg_schema_get_string(&f->given, c, n, key)) < 0)
        return rc;
    if (!(f->path = eg_schema_resolve(c, f->given)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    memcpy(f->sha256, pin, 32);
    f->line = n->line;
    f->column = n->column;
    return eg_schema_check_exists(c, n, key, f->path, 0);
}

enum { F_FILE, F_SHA256, F_OFFSET };
static const char *const file_keys[] = {"file", "sha256"};
static const char *const region_keys[] = {"file", "sha256", "offset"};

/* {file, sha256} (and offset, for a region, when offset is not NULL). */
int eg_profile_get_file(eg_profile_file *f, uint32_t *offset, const ctx *c,
                        const eg_profile_node *n, const char *key)
{
    const eg_profile_node *v[3];
    char sub[MAX_KEY];
    uint8_t pin[32];
    int rc;

    if ((rc = eg_schema_check_plain(c, n, key)) < 0)
        return rc;
    if (n->kind != EG_NODE_MAP) {
        char buf[64];
        return eg_schema_fail(c, n, key, "expected a map with %sfile and sha256, found %s",
                              offset ? "offset, " : "", eg_schema_describe(buf, sizeof(buf), n));
    }
    if ((rc = eg_schema_walk_map(v, c, n, key, offset ? region_keys : file_keys,
                                 offset ? COUNT(region_keys) : COUNT(file_keys))) < 0)
        return rc;
    if (offset) {
        eg_schema_key_join(sub, key, "offset");
        if (!v[F_OFFSET])
            return eg_schema_fail(c, n, sub, "missing: where the file goes in flash");
        if ((rc = eg_schema_get_offset(offset, c, v[F_OFFSET], sub)) < 0)
            return rc;
    }
    eg_schema_key_join(sub, key, "file");
    if (!v[F_FILE])
        return eg_schema_fail(c, n, sub, "missing: the file to write");
    eg_schema_key_join(sub, key, "sha256");
    if (!v[F_SHA256])
        return eg_schema_fail(c, n, sub,
                              "missing: every input file is pinned by its SHA-256 (sha256sum FILE "
                              "prints it)");
    if ((rc = eg_schema_get_sha256(pin, c, v[F_SHA256], sub)) < 0)
        return rc;
    eg_schema_key_join(sub, key, "file");
    return eg_profile_set_file(f, c, v[F_FILE], sub, pin);
}

/* ---- sections ---------------------------------------------------------------------- */

/* A flash setting checked by parse, whose message says what is wrong with it. */
static int get_setting(char **out, const ctx *c, const eg_profile_node *n, const char *key,
                       int (*parse)(const eg_profile *p, const char *s))
{
    int rc = eg_schema_get_string(out, c, n, key);
    if (rc == 0 && (rc = parse(P(c), *out)) == EG_EINVAL)
        return eg_schema_fail(c, n, key, "%s", eg_error_msg());
    return rc;
}

static int parse_mode(const eg_profile *p, const char *s)
{
    uint8_t code;
    (void)p;
    return eg_flash_mode_parse(&code, s);
}

static int parse_size(const eg_profile *p, const char *s)
{
    uint32_t bytes;
    (void)p;
    return eg_flash_size_parse(&bytes, NULL, s);
}

static int parse_freq(const eg_profile *p, const char *s)
{
    uint8_t code;
    return eg_flash_freq_parse(&code, p->chip, s);
}

static int get_flash(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"mode", "size", "freq"};
    const eg_profile_node *v[COUNT(keys)];
    eg_profile *p = P(c);
    int rc;

    if ((rc = eg_schema_walk_map(v, c, n, "flash", keys, COUNT(keys))) < 0 ||
        (v[0] && (rc = get_setting(&p->flash_mode, c, v[0], "flash.mode", parse_mode)) < 0) ||
        (v[1] && (rc = get_setting(&p->flash_size, c, v[1], "flash.size", parse_size)) < 0) ||
        (v[2] && (rc = get_setting(&p->flash_freq, c, v[2], "flash.freq", parse_freq)) < 0))
        return rc;
    if (p->flash_size)
        return eg_flash_size_parse(&p->flash_size_bytes, NULL, p->flash_size);
    return 0;
}

static int get_connection(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"baud", "stub", "fast_connect", "before",
                                       "connect_attempts"};
    const eg_profile_node *v[COUNT(keys)];
    eg_profile *p = P(c);
    char *before = NULL;
    int on, rc;

    if ((rc = eg_schema_walk_map(v, c, n, "connection", keys, COUNT(keys))) < 0)
        return rc;
    if (v[0] &&
        (rc = eg_schema_get_count(&p->baud, c, v[0], "connection.baud", MIN_BAUD, MAX_BAUD)) < 0)
        return rc;
    if (v[1]) {
        if ((rc = eg_schema_get_bool(&on, c, v[1], "connection.stub")) < 0)
            return rc;
        p->no_stub = !on;
    }
    if (v[2]) {
        if ((rc = eg_schema_get_bool(&on, c, v[2], "connection.fast_connect")) < 0)
            return rc;
        p->no_fast_connect = !on;
    }
    if (v[3]) {
        if ((rc = eg_schema_get_string(&before, c, v[3], "connection.before")) < 0)
            return rc;
        if (eg_before_parse(&p->policy.before, before) < 0)
            rc = eg_schema_fail(c, v[3], "connection.before",
                                "unknown mode '%s' (default-reset, usb-reset, no-reset or "
                                "no-reset-no-sync)",
                                before);
        free(before);
        if (rc < 0)
            return rc;
    }
    if (v[4] && (rc = eg_schema_get_count(&p->connect_attempts, c, v[4],
                                          "connection.connect_attempts", 1, MAX_ATTEMPTS)) < 0)
        return rc;
    return 0;
}

enum { I_BOOTLOADER, I_TABLE, I_TABLE_OFFSET, I_APP, I_TARGET, I_REGIONS };
static const char *const image_keys[] = {
    "bootloader", "partition_table",      "partition_table_offset",
    "app",        "target_app_partition", "regions"};

static int get_regions(const ctx *c, const eg_profile_node *n)
{
    eg_profile *p = P(c);
    char sub[MAX_KEY];
    int rc;

    if ((rc = eg_schema_expect_kind(c, n, "images.regions", EG_NODE_LIST,
                                    "a list of {offset, file, sha256}")) < 0)
        return rc;
    if (n->n && !(p->regions = calloc(n->n, sizeof(*p->regions))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n->n; i++) {
        eg_profile_region *r = &p->regions[i];
        snprintf(sub, sizeof(sub), "images.regions[%zu]", i);
        p->n_regions++;
        if ((rc = eg_profile_get_file(&r->file, &r->offset, c, n->items[i], sub)) < 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (p->regions[j].offset == r->offset)
                return eg_schema_fail(c, n->items[i], sub,
                                      "offset 0x%x is also images.regions[%zu]'s", r->offset, j);
    }
    return 0;
}

static int get_images(const ctx *c, const eg_profile_node *n)
{
    const eg_profile_node *v[COUNT(image_keys)];
    eg_profile *p = P(c);
    int rc;

    if ((rc = eg_schema_walk_map(v, c, n, "images", image_keys, COUNT(image_keys))) < 0)
        return rc;
    if (v[I_BOOTLOADER] && (rc = eg_profile_get_file(&p->bootloader, NULL, c, v[I_BOOTLOADER],
                                                     "images.bootloader")) < 0)
        return rc;
    if (v[I_TABLE] && (rc = eg_profile_get_file(&p->partition_table, NULL, c, v[I_TABLE],
                                                "images.partition_table")) < 0)
        return rc;
    if (v[I_TABLE_OFFSET]) {
        const char *key = "images.partition_table_offset";
        if ((rc = eg_schema_get_offset(&p->partition_table_offset, c, v[I_TABLE_OFFSET], key)) < 0)
            return rc;
        if (p->partition_table_offset <= p->chip->bootloader_offset)
            return eg_schema_fail(c, v[I_TABLE_OFFSET], key,
                                  "0x%x is not after the bootloader, which %s starts at 0x%x",
                                  p->partition_table_offset, p->chip->name,
                                  p->chip->bootloader_offset);
    }
    if (v[I_APP] && (rc = eg_profile_get_file(&p->app, NULL, c, v[I_APP], "images.app")) < 0)
        return rc;
    if (v[I_TARGET] && (rc = eg_schema_get_line(&p->target_app_partition, c, v[I_TARGET],
                                                "images.target_app_partition", MAX_PART_NAME)) < 0)
        return rc;
    if (v[I_REGIONS] && (rc = get_regions(c, v[I_REGIONS])) < 0)
        return rc;
    if (!p->bootloader.path && !p->partition_table.path && !p->app.path && !p->n_regions)
        return eg_schema_fail(
            c, n, "images", "nothing to flash: name a bootloader, partition_table, app or regions");
    return 0;
}

static int get_idf_pins(const ctx *c, const eg_profile_node *n)
{
    const char *key = "idf_build.sha256";
    eg_profile *p = P(c);
    char sub[MAX_KEY];
    int rc;

    if ((rc = eg_schema_expect_kind(c, n, key, EG_NODE_MAP, "a map of file: sha256")) < 0)
        return rc;
    if (n->n && !(p->idf_files = calloc(n->n / 2, sizeof(*p->idf_files))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const eg_profile_node *k = n->items[i], *v = n->items[i + 1];
        eg_profile_file *f;
        uint8_t pin[32];
        size_t j, len;

        if ((rc = eg_schema_expect_kind(c, k, key, EG_NODE_SCALAR, "a file name")) < 0)
            return rc;
        eg_schema_key_join(sub, key, k->text);
        for (j = 0; j < i; j += 2)
            if (n->items[j]->len == k->len && memcmp(n->items[j]->text, k->text, k->len) == 0)
                return eg_schema_fail(c, k, sub, "given a second time (first on line %u)",
                                      n->items[j]->line);
        if (k->text[0] == '/')
            return eg_schema_fail(c, k, sub,
                                  "must be a path relative to idf_build.dir, as "
                                  "flasher_args.json lists it");
        if ((rc = eg_schema_get_sha256(pin, c, v, sub)) < 0)
            return rc;
        f = strcmp(k->text, "flasher_args.json") == 0 ? &p->idf_args
                                                      : &p->idf_files[p->n_idf_files++];
        if ((rc = eg_schema_get_string(&f->given, c, k, sub)) < 0)
            return rc;
        memcpy(f->sha256, pin, 32);
        f->line = k->line;
        f->column = k->column;
        len = strlen(p->idf_build) + strlen(f->given) + 2;
        if (!(f->path = malloc(len)))
            return eg_error_set(EG_ENOMEM, "out of memory");
        snprintf(f->path, len, "%s/%s", p->idf_build, f->given);
        if ((rc = eg_schema_check_exists(c, k, sub, f->path, 0)) < 0)
            return rc;
    }
    if (!p->idf_args.path)
        return eg_schema_fail(
            c, n, "idf_build.sha256.flasher_args.json",
            "missing: flasher_args.json says what goes where, so it is pinned too");
    return 0;
}

static int get_idf_build(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"dir", "sha256"};
    const eg_profile_node *v[COUNT(keys)];
    eg_profile *p = P(c);
    char *given = NULL;
    int rc;

    if ((rc = eg_schema_walk_map(v, c, n, "idf_build", keys, COUNT(keys))) < 0)
        return rc;
    if (!v[0])
        return eg_schema_fail(c, n, "idf_build.dir", "missing: the ESP-IDF build folder");
    if (!v[1])
        return eg_schema_fail(
            c, n, "idf_build.sha256",
            "missing: every file of the build is pinned by its SHA-256 (sha256sum "
            "prints it)");
    if ((rc = eg_schema_get_string(&given, c, v[0], "idf_build.dir")) < 0)
        return rc;
    p->idf_build = eg_schema_resolve(c, given);
    free(given);
    if (!p->idf_build)
        return eg_error_set(EG_ENOMEM, "out of memory");
    if ((rc = eg_schema_check_exists(c, v[0], "idf_build.dir", p->idf_build, 1)) < 0)
        return rc;
    return get_idf_pins(c, v[1]);
}

static int get_verify(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"md5", "readback"};
    const eg_profile_node *v[COUNT(keys)];
    int rc;

    if ((rc = eg_schema_walk_map(v, c, n, "verify", keys, COUNT(keys))) < 0 ||
        (v[0] && (rc = eg_schema_get_bool(&P(c)->policy.verify_md5, c, v[0], "verify.md5")) < 0) ||
        (v[1] &&
         (rc = eg_schema_get_bool(&P(c)->policy.verify_readback, c, v[1], "verify.readback")) < 0))
        return rc;
    return 0;
}

static int get_security(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"allow_secure_boot", "allow_flash_encryption",
                                       "allow_secure_download"};
    const eg_profile_node *v[COUNT(keys)];
    eg_policy *pol = &P(c)->policy;
    int *dst[] = {&pol->allow_secure_boot, &pol->allow_flash_encryption,
                  &pol->allow_secure_download};
    char sub[MAX_KEY];
    int rc;

    if ((rc = eg_schema_walk_map(v, c, n, "security", keys, COUNT(keys))) < 0)
        return rc;
    for (size_t i = 0; i < COUNT(keys); i++) {
        eg_schema_key_join(sub, "security", keys[i]);
        if (v[i] && (rc = eg_schema_get_bool(dst[i], c, v[i], sub)) < 0)
            return rc;
    }
    return 0;
}

/* The steps retries and timeouts name. */
#define BY_STEP EG_STEP_BOOT

/* A map by step name, each value parsed into values[step] by get_count or get_duration. */
static int get_by_step(unsigned values[EG_STEP_COUNT], const ctx *c, const eg_profile_node *n,
                       const char *key, int durations)
{
    const eg_profile_node *v[EG_STEP_COUNT];
    const char *names[EG_STEP_COUNT];
    char sub[MAX_KEY];
    int rc;

    /* The boot check has its own timeout and is never tried again. */
    for (unsigned s = 0; s < BY_STEP; s++)
        names[s] = eg_step_name((eg_step)s);
    if (n->kind != EG_NODE_MAP && !n->anchor && !n->tag) {
        char buf[64];
        return eg_schema_fail(c, n, key, "expected a map by step name (%s: %s), found %s",
                              names[EG_STEP_WRITE], durations ? "2m" : "2",
                              eg_schema_describe(buf, sizeof(buf), n));
    }
    if ((rc = eg_schema_walk_map(v, c, n, key, names, BY_STEP)) < 0)
        return rc;
    for (unsigned s = 0; s < BY_STEP; s++) {
        eg_schema_key_join(sub, key, names[s]);
        if (!v[s])
            continue;
        rc = durations ? eg_schema_get_duration(&values[s], c, v[s], sub)
                       : eg_schema_get_count(&values[s], c, v[s], sub, 0, MAX_RETRIES);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int get_retries(const ctx *c, const eg_profile_node *n)
{
    eg_policy *pol = &P(c)->policy;
    unsigned all;
    char buf[64];
    int rc;

    if ((rc = eg_schema_check_plain(c, n, "retries")) < 0)
        return rc;
    if (n->kind == EG_NODE_MAP)
        return get_by_step(pol->retries, c, n, "retries", 0);
    if (n->kind != EG_NODE_SCALAR || eg_schema_is_null(n))
        return eg_schema_fail(c, n, "retries",
                              "expected a number or a map by step (write: 2), found %s",
                              eg_schema_describe(buf, sizeof(buf), n));
    if ((rc = eg_schema_get_count(&all, c, n, "retries", 0, MAX_RETRIES)) < 0)
        return rc;
    for (unsigned s = 0; s < BY_STEP; s++)
        pol->retries[s] = all;
    return 0;
}

static int get_erase(const ctx *c, const eg_profile_node *n)
{
    char *s = NULL;
    int rc = eg_schema_get_string(&s, c, n, "erase");

    if (rc == 0 && eg_erase_policy_parse(&P(c)->policy.erase, s) < 0)
        rc = eg_schema_fail(c, n, "erase", "unknown policy '%s' (none, regions or all)", s);
    free(s);
    return rc;
}

static int get_after(const ctx *c, const eg_profile_node *n)
{
    char *s = NULL;
    int rc = eg_schema_get_string(&s, c, n, "after");

    if (rc == 0 && eg_after_parse(&P(c)->policy.after, s) < 0)
        rc = eg_schema_fail(c, n, "after",
                            "unknown mode '%s' (hard-reset, no-reset or watchdog-reset)", s);
    free(s);
    return rc;
}

/* ---- the whole ------------------------------------------------------------------------ */

enum {
    R_VERSION,
    R_NAME,
    R_CHIP,
    R_MIN_REVISION,
    R_FLASH,
    R_CONNECTION,
    R_IMAGES,
    R_IDF_BUILD,
    R_ERASE,
    R_VERIFY,
    R_SKIP,
    R_SECURITY,
    R_AFTER,
    R_RETRIES,
    R_TIMEOUTS,
    R_DATABASE,
    R_BOOT_CHECK,
    R_SERIAL,
    R_NVS,
};
static const char *const root_keys[] = {
    "version",   "name",     "chip",       "min_revision",   "flash",    "connection", "images",
    "idf_build", "erase",    "verify",     "skip_unchanged", "security", "after",      "retries",
    "timeouts",  "database", "boot_check", "serial",         "nvs",
};

static int get_version(const ctx *c, const eg_profile_node *root)
{
    const eg_profile_node *v = NULL;
    int rc;

    /* Read before anything else: another version's keys are not this one's. */
    for (size_t i = 0; i + 1 < root->n; i += 2)
        if (root->items[i]->kind == EG_NODE_SCALAR && strcmp(root->items[i]->text, "version") == 0)
            v = root->items[i + 1];
    if (!v)
        return eg_schema_fail(
            c, root, "version",
            "missing: a profile starts with 'version: %d', the format it is written in",
            EG_PROFILE_VERSION);
    if ((rc = eg_schema_get_count(&P(c)->version, c, v, "version", 0, 1000000)) < 0)
        return rc;
    if (P(c)->version != EG_PROFILE_VERSION)
        return eg_schema_fail(c, v, "version",
                              "profile version %u: this espgang reads profile version %d",
                              P(c)->version, EG_PROFILE_VERSION);
    return 0;
}

static int get_root(const ctx *c, const eg_profile_node *root)
{
    const eg_profile_node *v[COUNT(root_keys)];
    eg_profile *p = P(c);
    char buf[64], *chip = NULL;
    int rc;

    if ((rc = eg_schema_check_plain(c, root, "")) < 0)
        return rc;
    if (root->kind == EG_NODE_SCALAR && eg_schema_is_null(root))
        return eg_schema_fail(c, root, "", "the profile is empty");
    if (root->kind != EG_NODE_MAP)
        return eg_schema_fail(c, root, "",
                              "expected a map of keys (version: 1, name: ...), found %s",
                              eg_schema_describe(buf, sizeof(buf), root));
    if ((rc = get_version(c, root)) < 0 ||
        (rc = eg_schema_walk_map(v, c, root, "", root_keys, COUNT(root_keys))) < 0)
        return rc;
    if (!v[R_NAME])
        return eg_schema_fail(c, root, "name",
                              "missing: what records and reports call this profile");
    if ((rc = eg_schema_get_line(&p->name, c, v[R_NAME], "name", MAX_NAME)) < 0)
        return rc;
    if (!v[R_CHIP])
        return eg_schema_fail(c, root, "chip", "missing: the chip every board must be (%s)",
                              eg_chip_names());
    if ((rc = eg_schema_get_string(&chip, c, v[R_CHIP], "chip")) < 0)
        return rc;
    p->chip = eg_chip_by_name(chip);
    if (!p->chip)
        rc = eg_schema_fail(c, v[R_CHIP], "chip", "unknown chip '%s' (known: %s)", chip,
                            eg_chip_names());
    free(chip);
    if (rc < 0)
        return rc;
    if (v[R_MIN_REVISION] &&
        (rc = eg_schema_get_revision(&p->min_rev_full, c, v[R_MIN_REVISION], "min_revision")) < 0)
        return rc;
    if ((v[R_FLASH] && (rc = get_flash(c, v[R_FLASH])) < 0) ||
        (v[R_CONNECTION] && (rc = get_connection(c, v[R_CONNECTION])) < 0))
        return rc;
    if (v[R_IMAGES] && v[R_IDF_BUILD])
        return eg_schema_fail(c, v[R_IDF_BUILD], "idf_build",
                              "a profile names its images or an idf_build, not both");
    if (!v[R_IMAGES] && !v[R_IDF_BUILD])
        return eg_schema_fail(c, root, "images",
                              "missing: a profile names its images or an idf_build");
    if ((v[R_IMAGES] && (rc = get_images(c, v[R_IMAGES])) < 0) ||
        (v[R_IDF_BUILD] && (rc = get_idf_build(c, v[R_IDF_BUILD])) < 0))
        return rc;
    if ((v[R_ERASE] && (rc = get_erase(c, v[R_ERASE])) < 0) ||
        (v[R_VERIFY] && (rc = get_verify(c, v[R_VERIFY])) < 0) ||
        (v[R_SKIP] &&
         (rc = eg_schema_get_bool(&p->policy.skip_same, c, v[R_SKIP], "skip_unchanged")) < 0) ||
        (v[R_SECURITY] && (rc = get_security(c, v[R_SECURITY])) < 0) ||
        (v[R_AFTER] && (rc = get_after(c, v[R_AFTER])) < 0) ||
        (v[R_RETRIES] && (rc = get_retries(c, v[R_RETRIES])) < 0) ||
        (v[R_TIMEOUTS] &&
         (rc = get_by_step(p->policy.timeout_ms, c, v[R_TIMEOUTS], "timeouts", 1)) < 0))
        return rc;
    if (v[R_DATABASE]) {
        char *given = NULL;
        if ((rc = eg_schema_get_string(&given, c, v[R_DATABASE], "database")) < 0)
            return rc;
        p->database = eg_schema_resolve(c, given);
        free(given);
        if (!p->database)
            return eg_error_set(EG_ENOMEM, "out of memory");
    }
    if ((v[R_BOOT_CHECK] && (rc = eg_profile_get_boot_check(c, v[R_BOOT_CHECK])) < 0) ||
        (v[R_SERIAL] && (rc = eg_profile_get_serial(c, v[R_SERIAL])) < 0) ||
        (v[R_NVS] && (rc = eg_profile_get_nvs(c, v[R_NVS])) < 0))
        return rc;
    return eg_profile_check_factory(c, root);
}

int eg_profile_load(eg_profile **out, const char *path)
{
    eg_buf text = EG_BUF_INIT;
    eg_profile_node *root = NULL;
    eg_profile *p = NULL;
    char *folder = NULL;
    const char *slash = strrchr(path, '/');
    size_t folder_len = slash ? (size_t)(slash - path) + 1 : 0;
    ctx c = {.path = path, .user = NULL};
    struct stat st;
    int rc;

    *out = NULL;
    /* Looked at before reading, so that a wrong path to something huge is not read. */
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > MAX_PROFILE_BYTES) {
        rc = eg_error_set(EG_EINVAL, "%s: %lld bytes is too large for a profile (at most %u)", path,
                          (long long)st.st_size, MAX_PROFILE_BYTES);
        goto done;
    }
    if ((rc = eg_buf_read_file(&text, path)) < 0)
        goto done;
    if (text.len > MAX_PROFILE_BYTES) {
        rc = eg_error_set(EG_EINVAL, "%s: %zu bytes is too large for a profile (at most %u)", path,
                          text.len, MAX_PROFILE_BYTES);
        goto done;
    }
    if (!(p = calloc(1, sizeof(*p))) || !(p->path = strdup(path)) ||
        !(folder = malloc(folder_len + 1))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(folder, path, folder_len);
    folder[folder_len] = '\0';
    if ((rc = eg_sha256(p->sha256, text.data, text.len)) < 0)
        goto done;
    p->baud = DEFAULT_BAUD;
    p->partition_table_offset = DEFAULT_TABLE;
    eg_policy_default(&p->policy);
    if ((rc = eg_profile_yaml_parse(&root, path, text.len ? text.data : (const uint8_t *)"",
                                    text.len)) < 0)
        goto done;
    c.folder = folder;
    c.user = p;
    if ((rc = get_root(&c, root)) < 0)
        goto done;
    *out = p;
    p = NULL;
done:
    eg_profile_node_free(root);
    eg_buf_release(&text);
    free(folder);
    eg_profile_free(p);
    return rc;
}

/* ---- inputs ------------------------------------------------------------------------ */

void eg_profile_file_release(eg_profile_file *f)
{
    free(f->path);
    free(f->given);
    eg_buf_release(&f->data);
}

/* Forgets every file's bytes and the build read by eg_profile_read_inputs(). */
static void drop_inputs(eg_profile *p)
{
    eg_buf_release(&p->bootloader.data);
    eg_buf_release(&p->partition_table.data);
    eg_buf_release(&p->app.data);
    for (size_t i = 0; i < p->n_regions; i++)
        eg_buf_release(&p->regions[i].file.data);
    eg_buf_release(&p->idf_args.data);
    for (size_t i = 0; i < p->n_idf_files; i++)
        eg_buf_release(&p->idf_files[i].data);
    eg_idf_build_free(p->idf);
    p->idf = NULL;
    for (size_t i = 0; i < p->nvs.n_keys; i++)
        eg_buf_release(&p->nvs.keys[i].file.data);
}

/* f->data's SHA-256 against the pin. */
static int check_pin(const eg_profile *p, const eg_profile_file *f, const char *key)
{
    uint8_t got[32];
    char got_hex[65], pin_hex[65];
    ctx c = {.path = p->path, .user = NULL};
    int rc;

    if ((rc = eg_sha256(got, f->data.data, f->data.len)) < 0)
        return rc;
    if (memcmp(got, f->sha256, 32) == 0)
        return 0;
    eg_hex(got_hex, got, 32);
    eg_hex(pin_hex, f->sha256, 32);
    return eg_schema_fail_at(EG_EMISMATCH, &c, f->line, f->column, key,
                             "'%s' has SHA-256 %s, but the profile pins %s", f->path, got_hex,
                             pin_hex);
}

int eg_profile_read_file(const eg_profile *p, eg_profile_file *f, const char *key)
{
    int rc = eg_buf_read_file(&f->data, f->path);
    if (rc < 0)
        return eg_error_prefix(rc, "%s:%u:%u: %s: ", p->path, f->line, f->column, key);
    return check_pin(p, f, key);
}

/* The ESP-IDF build: flasher_args.json against its pin, then every file it lists
 * against its own, the pins put in the build's order. */
static int read_idf(eg_profile *p)
{
    ctx c = {.path = p->path, .user = p};
    const eg_profile_file *args = &p->idf_args;
    eg_profile_file *files = NULL;
    eg_idf_build *b = NULL;
    char key[MAX_KEY];
    size_t n = 0;
    int rc;

    if ((rc = eg_profile_read_file(p, &p->idf_args, "idf_build.sha256.flasher_args.json")) < 0)
        goto done;
    if ((rc = eg_idf_build_load(&b, p->idf_build)) < 0) {
        rc = eg_error_prefix(rc, "%s:%u:%u: idf_build: ", p->path, args->line, args->column);
        goto done;
    }
    if (b->chip && eg_chip_by_name(b->chip) != p->chip) {
        rc = eg_schema_fail_at(EG_EMISMATCH, &c, args->line, args->column, "idf_build",
                               "the build is for '%s', the profile for %s", b->chip, p->chip->name);
        goto done;
    }
    for (size_t j = 0; j < p->n_idf_files; j++) {
        size_t i = 0;
        while (i < b->n_files && strcmp(b->files[i].path, p->idf_files[j].given) != 0)
            i++;
        if (i == b->n_files) {
            eg_schema_key_join(key, "idf_build.sha256", p->idf_files[j].given);
            rc = eg_schema_fail_at(EG_EINVAL, &c, p->idf_files[j].line, p->idf_files[j].column, key,
                                   "%s does not list this file", b->json_path);
            goto done;
        }
    }
    if (!(files = calloc(b->n_files, sizeof(*files)))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    for (; n < b->n_files; n++) {
        const eg_profile_file *pin = NULL;
        for (size_t j = 0; j < p->n_idf_files && !pin; j++)
            if (strcmp(b->files[n].path, p->idf_files[j].given) == 0)
                pin = &p->idf_files[j];
        if (!pin) {
            rc = eg_schema_fail_at(EG_EINVAL, &c, args->line, args->column, "idf_build.sha256",
                                   "%s lists '%s' (at 0x%x), which has no pin", b->json_path,
                                   b->files[n].path, b->files[n].addr);
            goto done;
        }
        files[n] = *pin;
        files[n].path = strdup(pin->path);
        files[n].given = strdup(pin->given);
        files[n].data = b->files[n].data;
        b->files[n].data = (eg_buf)EG_BUF_INIT;
        if (!files[n].path || !files[n].given) {
            n++;
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto done;
        }
        eg_schema_key_join(key, "idf_build.sha256", pin->given);
        if ((rc = check_pin(p, &files[n], key)) < 0) {
            n++;
            goto done;
        }
    }
    /* Every pin is listed and every listed file pinned: the same set, in the build's
     * order now. */
    for (size_t j = 0; j < p->n_idf_files; j++)
        eg_profile_file_release(&p->idf_files[j]);
    free(p->idf_files);
    p->idf_files = files;
    p->n_idf_files = n;
    p->idf = b;
    files = NULL;
    b = NULL;
done:
    for (size_t i = 0; files && i < n; i++)
        eg_profile_file_release(&files[i]);
    free(files);
    eg_idf_build_free(b);
    return rc;
}

int eg_profile_read_inputs(eg_profile *p)
{
    char key[MAX_KEY];
    int rc = 0;

    drop_inputs(p);
    if ((p->bootloader.path &&
         (rc = eg_profile_read_file(p, &p->bootloader, "images.bootloader")) < 0) ||
        (p->partition_table.path &&
         (rc = eg_profile_read_file(p, &p->partition_table, "images.partition_table")) < 0) ||
        (p->app.path && (rc = eg_profile_read_file(p, &p->app, "images.app")) < 0))
        goto done;
    if (p->app.path && p->app.data.len >= 4 && memcmp(p->app.data.data, "\177ELF", 4) == 0 &&
        !p->flash_size) {
        ctx c = {.path = p->path, .user = p};
        rc = eg_schema_fail_at(
            EG_EINVAL, &c, p->app.line, p->app.column, "images.app",
            "'%s' is an ELF, and the app image made from it names the flash size: "
            "set flash.size",
            p->app.path);
        goto done;
    }
    for (size_t i = 0; i < p->n_regions; i++) {
        snprintf(key, sizeof(key), "images.regions[%zu]", i);
        if ((rc = eg_profile_read_file(p, &p->regions[i].file, key)) < 0)
            goto done;
    }
    if (p->idf_build && (rc = read_idf(p)) < 0)
        goto done;
    rc = eg_profile_read_factory(p);
done:
    if (rc < 0)
        drop_inputs(p);
    return rc;
}

void eg_profile_free(eg_profile *p)
{
    if (!p)
        return;
    eg_profile_file_release(&p->bootloader);
    eg_profile_file_release(&p->partition_table);
    eg_profile_file_release(&p->app);
    for (size_t i = 0; i < p->n_regions; i++)
        eg_profile_file_release(&p->regions[i].file);
    free(p->regions);
    eg_profile_file_release(&p->idf_args);
    for (size_t i = 0; i < p->n_idf_files; i++)
        eg_profile_file_release(&p->idf_files[i]);
    free(p->idf_files);
    eg_idf_build_free(p->idf);
    free(p->idf_build);
    free(p->path);
    free(p->name);
    free(p->flash_mode);
    free(p->flash_size);
    free(p->flash_freq);
    free(p->target_app_partition);
    free(p->database);
    eg_profile_free_factory(p);
    free(p);
}
