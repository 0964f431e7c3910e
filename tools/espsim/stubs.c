#include "stubs.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* Decodes base64 text and digests it. */
static int digest_b64(uint8_t sha[32], uint32_t *len, const char *text, const char *path)
{
    size_t n = strlen(text);
    eg_buf raw = EG_BUF_INIT;
    int rc, got;

    if (n % 4 || (rc = eg_buf_reserve(&raw, n / 4 * 3 + 3)) < 0)
        return eg_error_set(EG_EINVAL, "'%s': bad base64", path);
    got = EVP_DecodeBlock(raw.data, (const unsigned char *)text, (int)n);
    while (n > 0 && text[n - 1] == '=') {
        n--;
        got--;
    }
    if (got < 0) {
        eg_buf_release(&raw);
        return eg_error_set(EG_EINVAL, "'%s': bad base64", path);
    }
    *len = (uint32_t)got;
    rc = eg_sha256(sha, raw.data, (size_t)got);
    eg_buf_release(&raw);
    return rc;
}

static int load_one(sim_stub_image *img, const char *path, const char *name)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    json_t *text, *data;
    int rc = 0;

    if (!root)
        return eg_error_set(EG_EINVAL, "'%s' line %d: %s", path, jerr.line, jerr.text);
    memset(img, 0, sizeof(*img));
    snprintf(img->name, sizeof(img->name), "%s", name);
    img->entry = (uint32_t)json_integer_value(json_object_get(root, "entry"));
    img->text_start = (uint32_t)json_integer_value(json_object_get(root, "text_start"));
    img->data_start = (uint32_t)json_integer_value(json_object_get(root, "data_start"));
    text = json_object_get(root, "text");
    data = json_object_get(root, "data");
    if (!json_is_string(text))
        rc = eg_error_set(EG_EINVAL, "'%s': no text", path);
    else
        rc = digest_b64(img->text_sha, &img->text_len, json_string_value(text), path);
    if (rc == 0 && json_is_string(data))
        rc = digest_b64(img->data_sha, &img->data_len, json_string_value(data), path);
    json_decref(root);
    return rc;
}

int sim_stubs_load(sim_stubs *out, const char *dir, const char *chip_id)
{
    const char *suffix[2] = {"", "-rev1"};

    if (!dir)
        return 0;
    for (int i = 0; i < 2; i++) {
        char name[32], path[4200];
        snprintf(name, sizeof(name), "%s%s", chip_id, suffix[i]);
        snprintf(path, sizeof(path), "%.4000s/%s.json", dir, name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        fclose(f);
        if (out->n == sizeof(out->img) / sizeof(out->img[0]))
            return eg_error_set(EG_EINVAL, "'%s': too many flasher stubs (at most %zu)", path,
                                sizeof(out->img) / sizeof(out->img[0]));
        int rc = load_one(&out->img[out->n], path, name);
        if (rc < 0)
            return rc;
        out->n++;
    }
    return 0;
}

const sim_stub_image *sim_stubs_match(const sim_stubs *s, uint32_t entry, uint32_t text_start,
                                      const uint8_t *text, size_t text_len, uint32_t data_start,
                                      const uint8_t *data, size_t data_len)
{
    uint8_t ts[32], ds[32];

    if (!text || eg_sha256(ts, text, text_len) < 0 || (data && eg_sha256(ds, data, data_len) < 0))
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        const sim_stub_image *m = &s->img[i];
        if (m->entry == entry && m->text_start == text_start && m->text_len == text_len &&
            memcmp(m->text_sha, ts, 32) == 0 &&
            (m->data_len == 0 || (data && m->data_start == data_start && m->data_len == data_len &&
                                  memcmp(m->data_sha, ds, 32) == 0)))
            return m;
    }
    return NULL;
}
