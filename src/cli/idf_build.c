/* flash --idf-build DIR: writes what an ESP-IDF build directory's flasher_args.json
 * lists (flash_files at their offsets) with the flash settings and chip it names. Every
 * file is read and checked before the board is touched. */
#include "cli/cmds.h"

#include "core/error.h"
#include "core/num.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDF_MAX_FILES 32

typedef struct idf_file {
    uint32_t addr;
    char *path; /* as the JSON names it, relative to the build directory */
    eg_buf data;
} idf_file;

typedef struct idf_build {
    const eg_command *cmd;
    eg_args *a;
    char json_path[4096];
    idf_file files[IDF_MAX_FILES];
    int n;
    uint32_t app_offset; /* the "app" entry's offset; UINT32_MAX when none */
    uint32_t table_offset;
    /* flash_settings, NULL where absent; size may be "detect" or "keep". */
    const char *mode, *size, *freq;
    json_t *root;
    eg_cli_write_opts wopts;
} idf_build;

/* A string member of obj, or NULL; EG_EINVAL when present but not a string. */
static int get_string(const char **out, const idf_build *d, json_t *obj, const char *parent,
                      const char *key)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return eg_error_set(EG_EINVAL, "%s: \"%s\".\"%s\" is not a string", d->json_path, parent,
                            key);
    *out = json_string_value(v);
    return 0;
}

static int cmp_file(const void *x, const void *y)
{
    const idf_file *p = x, *q = y;
    return p->addr < q->addr ? -1 : p->addr > q->addr;
}

/* Reads flash_files: every "0xOFFSET": "path" pair, and the files themselves. */
static int read_files(idf_build *d, const char *dir)
{
    json_t *files = json_object_get(d->root, "flash_files"), *v;
    const char *key;

    if (!json_is_object(files) || json_object_size(files) == 0)
        return eg_error_set(EG_EINVAL, "%s: no \"flash_files\" object listing what to flash",
                            d->json_path);
    json_object_foreach(files, key, v)
    {
        idf_file *f = &d->files[d->n];
        char path[4096];
        int rc;

        if (d->n == IDF_MAX_FILES)
            return eg_error_set(EG_EINVAL, "%s: more than %d flash_files", d->json_path,
                                IDF_MAX_FILES);
        if (eg_num_parse_u32(&f->addr, key) < 0)
            return eg_error_set(EG_EINVAL, "%s: flash_files key \"%s\" is not an offset",
                                d->json_path, key);
        if (f->addr % 0x1000)
            return eg_error_set(EG_EINVAL, "%s: flash_files offset %s is not 4 KiB aligned",
                                d->json_path, key);
        if (!json_is_string(v) || !*json_string_value(v))
            return eg_error_set(EG_EINVAL, "%s: flash_files \"%s\" is not a file name",
                                d->json_path, key);
        if (!(f->path = strdup(json_string_value(v))))
            return eg_error_set(EG_ENOMEM, "out of memory");
        d->n++;
        if (f->path[0] == '/')
            snprintf(path, sizeof(path), "%s", f->path);
        else
            snprintf(path, sizeof(path), "%s/%s", dir, f->path);
        if ((rc = eg_buf_read_file(&f->data, path)) < 0)
            return eg_error_prefix(rc, "%s: flash_files \"%s\": ", d->json_path, key);
        if (f->data.len == 0)
            return eg_error_set(EG_EINVAL, "%s: flash_files \"%s\": '%s' is empty", d->json_path,
                                key, path);
    }
    qsort(d->files, (size_t)d->n, sizeof(d->files[0]), cmp_file);
    return 0;
}

/* Named entries ("app", "partition-table", ...) say which file is which. */
static int read_entry(uint32_t *offset, const idf_build *d, const char *name)
{
    json_t *e = json_object_get(d->root, name);
    const char *off, *enc;
    int rc;

    *offset = UINT32_MAX;
    if (!e)
        return 0;
    if (!json_is_object(e))
        return eg_error_set(EG_EINVAL, "%s: \"%s\" is not an object", d->json_path, name);
    if ((rc = get_string(&off, d, e, name, "offset")) < 0 ||
        (rc = get_string(&enc, d, e, name, "encrypted")) < 0)
        return rc;
    if (enc && strcmp(enc, "true") == 0)
        return eg_error_set(EG_EUNSUPPORTED,
                            "%s: \"%s\" is to be written encrypted, which espgang does not do "
                            "(flash encryption)",
                            d->json_path, name);
    if (off && eg_num_parse_u32(offset, off) < 0)
        return eg_error_set(EG_EINVAL, "%s: \"%s\".\"offset\" '%s' is not an offset",
                            d->json_path, name, off);
    return 0;
}

/* extra_esptool_args: the chip (checked against --chip), and --before, --after and
 * the stub where the command line does not say. */
static int read_extra(idf_build *d)
{
    json_t *x = json_object_get(d->root, "extra_esptool_args"), *stub;
    const char *chip, *before, *after;
    eg_args *a = d->a;
    int rc;

    if (!x)
        return 0;
    if (!json_is_object(x))
        return eg_error_set(EG_EINVAL, "%s: \"extra_esptool_args\" is not an object",
                            d->json_path);
    if ((rc = get_string(&chip, d, x, "extra_esptool_args", "chip")) < 0 ||
        (rc = get_string(&before, d, x, "extra_esptool_args", "before")) < 0 ||
        (rc = get_string(&after, d, x, "extra_esptool_args", "after")) < 0)
        return rc;
    if (chip) {
        const eg_chip *c = eg_chip_by_name(chip);
        if (!c)
            return eg_error_set(EG_EINVAL, "%s: the build is for chip '%s', which espgang does "
                                           "not know",
                                d->json_path, chip);
        if (a->val[OPT_CHIP] && eg_chip_by_name(a->val[OPT_CHIP]) != c)
            return eg_error_set(EG_EMISMATCH, "%s: the build is for %s, not %s", d->json_path,
                                c->name, a->val[OPT_CHIP]);
        a->val[OPT_CHIP] = chip;
    }
    if (before && !a->val[OPT_BEFORE])
        a->val[OPT_BEFORE] = before;
    if (after && !a->val[OPT_AFTER])
        a->val[OPT_AFTER] = after;
    stub = json_object_get(x, "stub");
    if (json_is_false(stub))
        a->count[OPT_NO_STUB] = 1;
    return 0;
}

static int read_settings(idf_build *d)
{
    json_t *s = json_object_get(d->root, "flash_settings");
    const char *parent = "flash_settings";
    uint8_t mode;
    int rc;

    if (!s)
        return 0;
    if (!json_is_object(s))
        return eg_error_set(EG_EINVAL, "%s: \"flash_settings\" is not an object", d->json_path);
    if ((rc = get_string(&d->mode, d, s, parent, "flash_mode")) < 0 ||
        (rc = get_string(&d->size, d, s, parent, "flash_size")) < 0 ||
        (rc = get_string(&d->freq, d, s, parent, "flash_freq")) < 0)
        return rc;
    if (d->mode && eg_flash_mode_parse(&mode, d->mode) < 0)
        return eg_error_prefix(EG_EINVAL, "%s: flash_settings: ", d->json_path);
    if (d->size && strcmp(d->size, "detect") && strcmp(d->size, "keep")) {
        uint32_t bytes;
        if (eg_flash_size_parse(&bytes, NULL, d->size) < 0)
            return eg_error_prefix(EG_EINVAL, "%s: flash_settings: ", d->json_path);
    }
    return 0;
}

/* The flash settings to put in the bootloader's header: the command line's, else the
 * build's; "keep" leaves a field alone, "detect" takes the board's size. */
static int settings(int *mode, int *size, int *freq, const idf_build *d, const eg_board *b)
{
    const eg_args *a = d->a;
    const char *m = a->val[OPT_FLASH_MODE] ? a->val[OPT_FLASH_MODE] : d->mode;
    const char *f = a->val[OPT_FLASH_FREQ] ? a->val[OPT_FLASH_FREQ] : d->freq;
    const char *s = a->val[OPT_FLASH_SIZE] ? a->val[OPT_FLASH_SIZE] : d->size;
    uint8_t v;
    uint32_t bytes;

    *mode = *size = *freq = -1;
    if (m && strcmp(m, "keep")) {
        if (eg_flash_mode_parse(&v, m) < 0)
            return EG_EINVAL;
        *mode = v;
    }
    if (f && strcmp(f, "keep")) {
        if (eg_flash_freq_parse(&v, b->chip, f) < 0)
            return eg_error_prefix(EG_EINVAL, "flash frequency: ");
        *freq = v;
    }
    if (s && strcmp(s, "keep")) {
        if (strcmp(s, "detect") == 0) {
            if (!b->flash_size)
                return eg_error_set(EG_EINVAL, "the build asks for the detected flash size, "
                                               "and the board's is unknown: give --flash-size");
            if (eg_flash_size_code(&v, b->flash_size) < 0)
                return EG_EINVAL;
        } else if (eg_flash_size_parse(&bytes, &v, s) < 0) {
            return EG_EINVAL;
        }
        *size = v;
    }
    return 0;
}

/* The image at off must be a valid one for the board's chip; for the app, the board's
 * revision must be one the app accepts. */
static int check_image(const idf_build *d, const idf_file *f, const eg_board *b, int is_app)
{
    eg_image_info info;
    unsigned rev = b->rev_major * 100 + b->rev_minor;
    int rc;

    if ((rc = eg_image_parse(&info, f->data.data, f->data.len)) < 0)
        return eg_error_prefix(rc, "'%s' at 0x%x: ", f->path, f->addr);
    if (!eg_image_valid(&info))
        return eg_error_set(EG_EINVAL, "'%s' at 0x%x: its checksum or SHA-256 does not match",
                            f->path, f->addr);
    if (info.chip_id != b->chip->image_chip_id)
        return eg_error_set(EG_EMISMATCH, "'%s' at 0x%x is an image for chip id %u, not %s",
                            f->path, f->addr, info.chip_id, b->chip->name);
    if (!is_app || d->a->count[OPT_FORCE])
        return 0;
    if (rev < info.min_rev_full)
        return eg_error_set(EG_EMISMATCH,
                            "'%s' needs %s revision v%u.%u or newer, and the board is v%u.%u "
                            "(--force flashes it anyway)",
                            f->path, b->chip->name, info.min_rev_full / 100,
                            info.min_rev_full % 100, b->rev_major, b->rev_minor);
    if (info.max_rev_full != 0xFFFF && rev > info.max_rev_full)
        return eg_error_set(EG_EMISMATCH,
                            "'%s' runs on %s revision v%u.%u at most, and the board is v%u.%u "
                            "(--force flashes it anyway)",
                            f->path, b->chip->name, info.max_rev_full / 100,
                            info.max_rev_full % 100, b->rev_major, b->rev_minor);
    return 0;
}

static int do_idf(eg_board *b, void *vctx)
{
    idf_build *d = vctx;
    eg_cli_region regions[IDF_MAX_FILES];
    eg_partition_table *table = NULL;
    int mode, size, freq, rc;

    if ((rc = settings(&mode, &size, &freq, d, b)) < 0)
        return rc;
    for (int i = 0; i < d->n; i++) {
        idf_file *f = &d->files[i];
        regions[i] = (eg_cli_region){f->addr, f->path, f->data.data, f->data.len};
        if (f->addr == b->chip->bootloader_offset) {
            if ((rc = check_image(d, f, b, 0)) < 0)
                return rc;
            if ((rc = eg_image_patch_flash_params(f->data.data, f->data.len, mode, size, freq)) <
                0)
                return eg_error_prefix(rc, "'%s': ", f->path);
        } else if (f->addr == d->app_offset && (rc = check_image(d, f, b, 1)) < 0) {
            return rc;
        }
    }
    if ((rc = eg_cli_regions_overlap(regions, d->n)) < 0)
        return rc;
    for (int i = 0; i < d->n; i++)
        if ((rc = eg_cli_check_range(b, regions[i].addr, regions[i].len)) < 0)
            return eg_error_prefix(rc, "'%s': ", regions[i].label);
    if (d->a->val[OPT_ERASE_PARTS] || d->a->val[OPT_ERASE_DATA_PARTS]) {
        eg_partition_opts popts;
        const idf_file *pt = NULL;
        for (int i = 0; i < d->n; i++)
            if (d->files[i].addr == d->table_offset)
                pt = &d->files[i];
        if (!pt)
            return eg_error_set(EG_EINVAL, "--erase-parts: the build flashes no partition table "
                                           "at 0x%x",
                                d->table_offset);
        eg_partition_opts_default(&popts);
        popts.table_offset = d->table_offset;
        popts.flash_size = b->flash_size;
        popts.bootloader_offset = b->chip->bootloader_offset;
        if ((rc = eg_partition_parse_bin(&table, pt->data.data, pt->data.len, pt->path, &popts)) <
            0)
            return rc;
        rc = eg_cli_erase_parts(b, table, d->a->val[OPT_ERASE_PARTS],
                                d->a->val[OPT_ERASE_DATA_PARTS]);
        eg_partition_table_free(table);
        if (rc < 0)
            return rc;
    }
    return eg_cli_write_regions(b, regions, d->n, &d->wopts);
}

/* Options that --idf-build takes from the build instead. */
static const int not_with_idf[] = {OPT_BOOTLOADER,           OPT_PARTITION_TABLE,
                                   OPT_TARGET_APP_PARTITION, OPT_RAM,
                                   OPT_MIN_CHIP_REV,         OPT_MMU_PAGE_SIZE,
                                   OPT_IGNORE_APP_DESC};

int eg_cli_flash_idf_build(const eg_command *cmd, eg_args *a)
{
    const char *dir = a->val[OPT_IDF_BUILD];
    idf_build *d;
    json_error_t jerr;
    uint32_t boot_off, table_off;
    int rc = EG_EXIT_FAIL;

    for (size_t i = 0; i < sizeof(not_with_idf) / sizeof(not_with_idf[0]); i++)
        if (a->count[not_with_idf[i]])
            return eg_cli_usage(cmd, "flash: --%s does not apply to --idf-build, which flashes "
                                     "what the build lists",
                                eg_cli_opt_name(cmd, not_with_idf[i]));
    if (!(d = calloc(1, sizeof(*d))))
        return eg_cli_fail("out of memory");
    d->cmd = cmd;
    d->a = a;
    snprintf(d->json_path, sizeof(d->json_path), "%s/flasher_args.json", dir);
    if (eg_cli_table_offset(&d->table_offset, cmd, a) < 0) {
        rc = EG_EXIT_USAGE;
        goto done;
    }
    eg_cli_write_opts_from_args(&d->wopts, a);
    d->root = json_load_file(d->json_path, 0, &jerr);
    if (!d->root) {
        if (jerr.line < 1)
            eg_cli_fail("%s: %s (is '%s' an ESP-IDF build directory? 'idf.py build' makes "
                        "one)",
                        d->json_path, jerr.text, dir);
        else
            eg_cli_fail("%s:%d:%d: %s", d->json_path, jerr.line, jerr.column, jerr.text);
        goto done;
    }
    if (!json_is_object(d->root)) {
        eg_cli_fail("%s: not a JSON object", d->json_path);
        goto done;
    }
    if (read_files(d, dir) < 0 || read_settings(d) < 0 || read_extra(d) < 0 ||
        read_entry(&d->app_offset, d, "app") < 0 || read_entry(&boot_off, d, "bootloader") < 0 ||
        read_entry(&table_off, d, "partition-table") < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if (table_off != UINT32_MAX && !a->val[OPT_PARTITION_TABLE_OFFSET])
        d->table_offset = table_off;
    rc = eg_cli_with_board(a, 1, do_idf, d);
done:
    for (int i = 0; i < d->n; i++) {
        free(d->files[i].path);
        eg_buf_release(&d->files[i].data);
    }
    json_decref(d->root);
    free(d);
    return rc;
}
