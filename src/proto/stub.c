#include "proto/stub.h"

#include "core/clock.h"
#include "core/error.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define OHAI_TIMEOUT_MS 3000

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

int eg_stub_load(eg_stub *out, const char *dir, const char *name)
{
    char path[4096];
    json_error_t jerr;
    json_t *root = NULL, *text, *data;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    root = json_load_file(path, 0, &jerr);
    if (!root) {
        FILE *f = fopen(path, "r");
        if (!f)
            return eg_error_set(EG_ENOTFOUND,
                                "no flasher stub '%s' (looked for '%s'): run tools/setup.sh, "
                                "give --stub-dir DIR, or use --no-stub to stay with the ROM loader",
                                name, path);
        fclose(f);
        return eg_error_set(EG_EINVAL, "'%s' line %d: %s", path, jerr.line, jerr.text);
    }
    text = json_object_get(root, "text");
    data = json_object_get(root, "data");
    if ((rc = get_u32(&out->entry, root, "entry", path)) < 0 ||
        (rc = get_u32(&out->text_start, root, "text_start", path)) < 0)
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
        if ((rc = get_u32(&out->data_start, root, "data_start", path)) < 0 ||
            (rc = decode_base64(&out->data, json_string_value(data), path, "data")) < 0)
            goto done;
    }
done:
    json_decref(root);
    if (rc < 0)
        eg_stub_release(out);
    return rc;
}

void eg_stub_release(eg_stub *stub)
{
    eg_buf_release(&stub->text);
    eg_buf_release(&stub->data);
}

int eg_session_run_stub(eg_session *s, const eg_stub *stub)
{
    int rc;

    if ((rc = eg_session_mem_write(s, stub->text.data, stub->text.len, stub->text_start)) < 0 ||
        (stub->data.len &&
         (rc = eg_session_mem_write(s, stub->data.data, stub->data.len, stub->data_start)) < 0))
        return eg_error_prefix(rc, "uploading the flasher stub '%s': ", stub->name);
    rc = eg_session_mem_run(s, stub->entry);
    if (rc < 0)
        return eg_error_prefix(rc, "starting the flasher stub '%s': ", stub->name);
    rc = eg_session_await_raw(s, (const uint8_t *)"OHAI", 4, OHAI_TIMEOUT_MS);
    if (rc < 0)
        return eg_error_prefix(rc, "starting the flasher stub '%s': ", stub->name);
    s->stub = 1;
    s->status_len = EG_STUB_STATUS_LEN;
    return 0;
}
