#include "image/idf_build.h"

#include "core/error.h"
#include "core/num.h"
#include "image/image.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string member of obj copied into *out (NULL when absent); EG_EINVAL when present
 * but not a string. */
static int get_string(char **out, const eg_idf_build *b, json_t *obj, const char *parent,
                      const char *key)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return eg_error_set(EG_EINVAL, "%s: \"%s\".\"%s\" is not a string", b->json_path, parent,
                            key);
    if (!(*out = strdup(json_string_value(v))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    return 0;
}

static int by_addr(const void *x, const void *y)
{
    const eg_idf_file *p = x, *q = y;
    return p->addr < q->addr ? -1 : p->addr > q->addr;
}

/* flash_files: every "0xOFFSET": "path" pair, and the files themselves. */
static int read_files(eg_idf_build *b, json_t *root, const char *dir)
{
    json_t *files = json_object_get(root, "flash_files"), *v;
    const char *key;

    if (!json_is_object(files) || json_object_size(files) == 0)
        return eg_error_set(EG_EINVAL, "%s: no \"flash_files\" object listing what to flash",
                            b->json_path);
    if (json_object_size(files) > EG_IDF_MAX_FILES)
        return eg_error_set(EG_EINVAL, "%s: more than %d flash_files", b->json_path,
                            EG_IDF_MAX_FILES);
    if (!(b->files = calloc(json_object_size(files), sizeof(*b->files))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    json_object_foreach(files, key, v)
    {
        eg_idf_file *f = &b->files[b->n_files];
        char *path;
        int rc;

        if (eg_num_parse_u32(&f->addr, key) < 0)
            return eg_error_set(EG_EINVAL, "%s: flash_files key \"%s\" is not an offset",
                                b->json_path, key);
        if (f->addr % 0x1000)
            return eg_error_set(EG_EINVAL, "%s: flash_files offset %s is not 4 KiB aligned",
                                b->json_path, key);
        if (!json_is_string(v) || !*json_string_value(v))
            return eg_error_set(EG_EINVAL, "%s: flash_files \"%s\" is not a file name",
                                b->json_path, key);
        if (!(f->path = strdup(json_string_value(v))))
            return eg_error_set(EG_ENOMEM, "out of memory");
        b->n_files++;
        if (f->path[0] == '/')
            path = strdup(f->path);
        else if ((path = malloc(strlen(dir) + strlen(f->path) + 2)))
            sprintf(path, "%s/%s", dir, f->path);
        if (!path)
            return eg_error_set(EG_ENOMEM, "out of memory");
        rc = eg_buf_read_file(&f->data, path);
        if (rc == 0 && f->data.len == 0)
            rc = eg_error_set(EG_EINVAL, "'%s' is empty", path);
        free(path);
        if (rc < 0)
            return eg_error_prefix(rc, "%s: flash_files \"%s\": ", b->json_path, key);
    }
    qsort(b->files, b->n_files, sizeof(*b->files), by_addr);
    return 0;
}

/* Every entry that describes a file ("app", "otadata", a partition's name, ...) must
 * not ask for encryption: espgang would write it in the clear. */
static int check_encrypted(const eg_idf_build *b, json_t *root)
{
    const char *name;
    json_t *e;

    json_object_foreach(root, name, e)
    {
        json_t *enc = json_is_object(e) ? json_object_get(e, "encrypted") : NULL;
        if (json_is_true(enc) ||
            (json_is_string(enc) && strcmp(json_string_value(enc), "true") == 0))
            return eg_error_set(EG_EUNSUPPORTED,
                                "%s: \"%s\" is to be written encrypted, which espgang does not "
                                "do (flash encryption)",
                                b->json_path, name);
    }
    return 0;
}

/* A named entry ("app", ...): its offset. */
static int read_entry(uint32_t *offset, const eg_idf_build *b, json_t *root, const char *name)
{
    json_t *e = json_object_get(root, name), *off;

    *offset = EG_IDF_NONE;
    if (!e)
        return 0;
    if (!json_is_object(e))
        return eg_error_set(EG_EINVAL, "%s: \"%s\" is not an object", b->json_path, name);
    off = json_object_get(e, "offset");
    if (off && (!json_is_string(off) || eg_num_parse_u32(offset, json_string_value(off)) < 0))
        return eg_error_set(EG_EINVAL, "%s: \"%s\".\"offset\" is not an offset", b->json_path,
                            name);
    return 0;
}

static int read_settings(eg_idf_build *b, json_t *root)
{
    json_t *s = json_object_get(root, "flash_settings");
    const char *p = "flash_settings";
    uint8_t mode;
    uint32_t bytes;
    int rc;

    if (!s)
        return 0;
    if (!json_is_object(s))
        return eg_error_set(EG_EINVAL, "%s: \"flash_settings\" is not an object", b->json_path);
    if ((rc = get_string(&b->flash_mode, b, s, p, "flash_mode")) < 0 ||
        (rc = get_string(&b->flash_size, b, s, p, "flash_size")) < 0 ||
        (rc = get_string(&b->flash_freq, b, s, p, "flash_freq")) < 0)
        return rc;
    if (b->flash_mode && strcmp(b->flash_mode, "keep") &&
        eg_flash_mode_parse(&mode, b->flash_mode) < 0)
        return eg_error_prefix(EG_EINVAL, "%s: flash_settings: ", b->json_path);
    if (b->flash_size && strcmp(b->flash_size, "detect") && strcmp(b->flash_size, "keep") &&
        eg_flash_size_parse(&bytes, NULL, b->flash_size) < 0)
        return eg_error_prefix(EG_EINVAL, "%s: flash_settings: ", b->json_path);
    return 0;
}

static int read_extra(eg_idf_build *b, json_t *root)
{
    json_t *x = json_object_get(root, "extra_esptool_args"), *stub;
    const char *p = "extra_esptool_args";
    int rc;

    b->stub = -1;
    if (!x)
        return 0;
    if (!json_is_object(x))
        return eg_error_set(EG_EINVAL, "%s: \"extra_esptool_args\" is not an object", b->json_path);
    if ((rc = get_string(&b->chip, b, x, p, "chip")) < 0 ||
        (rc = get_string(&b->before, b, x, p, "before")) < 0 ||
        (rc = get_string(&b->after, b, x, p, "after")) < 0)
        return rc;
    stub = json_object_get(x, "stub");
    if (json_is_boolean(stub))
        b->stub = json_is_true(stub);
    return 0;
}

int eg_idf_build_load(eg_idf_build **out, const char *dir)
{
    eg_idf_build *b;
    json_t *root = NULL;
    json_error_t jerr;
    int rc;

    *out = NULL;
    if (!(b = calloc(1, sizeof(*b))) || !(b->json_path = malloc(strlen(dir) + 20))) {
        free(b);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    sprintf(b->json_path, "%s/flasher_args.json", dir);
    b->stub = -1;
    root = json_load_file(b->json_path, 0, &jerr);
    if (!root) {
        if (jerr.line < 1)
            rc = eg_error_set(EG_EINVAL,
                              "%s: %s (is '%s' an ESP-IDF build directory? 'idf.py build' "
                              "makes one)",
                              b->json_path, jerr.text, dir);
        else
            rc = eg_error_set(EG_EINVAL, "%s:%d:%d: %s", b->json_path, jerr.line, jerr.column,
                              jerr.text);
        goto done;
    }
    if (!json_is_object(root)) {
        rc = eg_error_set(EG_EINVAL, "%s: not a JSON object", b->json_path);
        goto done;
    }
    if ((rc = check_encrypted(b, root)) < 0 || (rc = read_files(b, root, dir)) < 0 ||
        (rc = read_settings(b, root)) < 0 || (rc = read_extra(b, root)) < 0 ||
        (rc = read_entry(&b->app_offset, b, root, "app")) < 0 ||
        (rc = read_entry(&b->bootloader_offset, b, root, "bootloader")) < 0 ||
        (rc = read_entry(&b->table_offset, b, root, "partition-table")) < 0)
        goto done;
    *out = b;
done:
    json_decref(root);
    if (rc < 0)
        eg_idf_build_free(b);
    return rc;
}

void eg_idf_build_free(eg_idf_build *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_files; i++) {
        free(b->files[i].path);
        eg_buf_release(&b->files[i].data);
    }
    free(b->files);
    free(b->json_path);
    free(b->flash_mode);
    free(b->flash_size);
    free(b->flash_freq);
    free(b->chip);
    free(b->before);
    free(b->after);
    free(b);
}
