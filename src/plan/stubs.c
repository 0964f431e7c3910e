/* The flasher stubs as esptool-js ships them: one JSON file per chip with the entry
 * point and the base64 text and data segments with their addresses. */
#include "plan/plan.h"

#include "core/error.h"
#include "plan/stubs_builtin.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static int decode_base64(eg_buf *out, const char *text, const char *path, const char *key)
{
    size_t len = strlen(text);
    int rc, n;

    if (len % 4 != 0)
        return eg_error_set(EG_EINVAL, "'%s': \"%s\" is not base64", path, key);
    rc = eg_buf_reserve(out, len / 4 * 3 + 3);
    if (rc < 0)
        return rc;
    n = EVP_DecodeBlock(out->data, (const unsigned char *)text, (int)len);
    if (n < 0)
        return eg_error_set(EG_EINVAL, "'%s': \"%s\" is not base64", path, key);
    /* EVP_DecodeBlock counts the padding as data. */
    while (len > 0 && text[len - 1] == '=') {
        len--;
        n--;
    }
    out->len = (size_t)n;
    return 0;
}

static int get_u32(uint32_t *out, json_t *root, const char *key, const char *path)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)UINT32_MAX)
        return eg_error_set(EG_EINVAL, "'%s': \"%s\" is missing or not an address", path, key);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Reads the stub out of its JSON (path names it in messages); consumes root. */
static int stub_from_json(eg_plan_stub *out, json_t *root, const char *path)
{
    json_t *text, *data;
    uint32_t entry = 0, text_start = 0, data_start = 0;
    int rc;

    text = json_object_get(root, "text");
    data = json_object_get(root, "data");
    if ((rc = get_u32(&entry, root, "entry", path)) < 0 ||
        (rc = get_u32(&text_start, root, "text_start", path)) < 0)
        goto done;
    if (!json_is_string(text) || json_string_length(text) == 0) {
        rc = eg_error_set(EG_EINVAL, "'%s': no \"text\"", path);
        goto done;
    }
    if ((rc = decode_base64(&out->text, json_string_value(text), path, "text")) < 0)
        goto done;
    if (data) {
        if (!json_is_string(data)) {
            rc = eg_error_set(EG_EINVAL, "'%s': \"data\" is not a string", path);
            goto done;
        }
        if ((rc = get_u32(&data_start, root, "data_start", path)) < 0 ||
            (rc = decode_base64(&out->data, json_string_value(data), path, "data")) < 0)
            goto done;
    }
    out->segs[0] = (eg_ram_segment){text_start, out->text.data, out->text.len, "text"};
    out->segs[1] = (eg_ram_segment){data_start, out->data.data, out->data.len, "data"};
    out->prog = (eg_ram_program){out->name, entry, out->segs, out->data.len ? 2 : 1};
done:
    json_decref(root);
    if (rc < 0)
        eg_plan_stub_release(out);
    return rc;
}

int eg_plan_stub_load(eg_plan_stub *out, const char *dir, const char *name)
{
    char path[4096];
    json_error_t jerr;
    json_t *root;

    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", name);
    if (!dir) {
        for (size_t i = 0; i < eg_stub_n_files; i++) {
            if (strcmp(eg_stub_files[i].name, name) != 0)
                continue;
            snprintf(path, sizeof(path), "built-in stub '%s'", name);
            root = json_loadb(eg_stub_files[i].json, eg_stub_files[i].len, 0, &jerr);
            if (!root)
                return eg_error_set(EG_EINVAL, "%s line %d: %s", path, jerr.line, jerr.text);
            return stub_from_json(out, root, path);
        }
        if (eg_stub_n_files == 0)
            return eg_error_set(EG_ENOTFOUND,
                                "no flasher stub '%s': this espgang was built without its stubs "
                                "(run tools/setup.sh, then build again), give --stub-dir DIR, or "
                                "use --no-stub to stay with the ROM loader",
                                name);
        return eg_error_set(EG_ENOTFOUND,
                            "no flasher stub '%s' is built in: give --stub-dir DIR, or use "
                            "--no-stub to stay with the ROM loader",
                            name);
    }
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    root = json_load_file(path, 0, &jerr);
    if (!root) {
        FILE *f = fopen(path, "r");
        if (!f)
            return eg_error_set(EG_ENOTFOUND,
                                "no flasher stub '%s' (looked for '%s'): give another --stub-dir, "
                                "leave it out for the built-in stubs, or use --no-stub to stay "
                                "with the ROM loader",
                                name, path);
        fclose(f);
        return eg_error_set(EG_EINVAL, "'%s' line %d: %s", path, jerr.line, jerr.text);
    }
    return stub_from_json(out, root, path);
}

int eg_plan_stub_for(const eg_ram_program **out, const eg_plan *p, const eg_chip *chip,
                     unsigned rev_major, eg_plan_stub *spare)
{
    char name[32];
    int rc;

    *out = NULL;
    if (chip->stub_rev1_below_major && rev_major < chip->stub_rev1_below_major)
        snprintf(name, sizeof(name), "%s-rev1", chip->id);
    else
        snprintf(name, sizeof(name), "%s", chip->id);
    for (size_t i = 0; i < p->n_stubs; i++) {
        if (strcmp(p->stubs[i].name, name) == 0) {
            *out = &p->stubs[i].prog;
            return 0;
        }
    }
    if ((rc = eg_plan_stub_load(spare, p->stub_dir, name)) < 0)
        return rc;
    *out = &spare->prog;
    return 0;
}
