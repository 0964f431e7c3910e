/* The profile's factory sections: boot_check, serial and nvs.
 *
 *   boot_check: {baud: 115200, expect: "REGEX", fail: "REGEX", timeout: 10s}
 *   serial: {format: "WX-{lot}-{seq:06}", start: 1}
 *   nvs:
 *     partition: nvs                  # the table's first nvs partition when absent
 *     namespaces:
 *       factory:
 *         hw_rev: {type: u8, value: 3}
 *         serial: {type: string, value: "{serial}"}
 *         cal: {type: blob, file: cal.bin, sha256: ...}
 *         cert: {type: blob, per_device: "certs/{mac_hex}.pem"}
 */
#include "core/error.h"
#include "plan/plan.h"
#include "profile/sections.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef eg_schema ctx;
#define P(c) ((eg_profile *)(c)->user)

#define DEFAULT_BOOT_BAUD    115200
#define DEFAULT_BOOT_TIMEOUT 10000
#define MAX_PATTERN          1024

/* The fields a serial number's format may use, and an NVS value's. */
static const char *const serial_fields[] = {"lot", "station", "date", "seq"};
static const char *const value_fields[] = {"serial", "mac", "mac_hex", "lot", "station", "date"};

/* A template at n: parsed with names, a fault placed at its character. */
static int get_template(eg_template **out, const ctx *c, const eg_profile_node *n, const char *key,
                        const char *const *names, size_t count)
{
    char *text = NULL;
    unsigned col;
    int rc;

    if ((rc = eg_schema_get_string(&text, c, n, key)) < 0)
        return rc;
    rc = eg_template_parse(out, text, names, count, &col);
    free(text);
    if (rc == EG_EINVAL) {
        /* The column inside a plain one-line scalar; a quoted one starts one later. */
        unsigned at = n->column + (col ? col - 1 : 0) + (n->plain ? 0 : 1);
        return eg_schema_fail_at(EG_EINVAL, c, n->line, at, key, "%s", eg_error_msg());
    }
    return rc;
}

/* ---- boot_check --------------------------------------------------------------------- */

static int get_pattern(char **out, const ctx *c, const eg_profile_node *n, const char *key)
{
    regex_t re;
    int rc;

    if ((rc = eg_schema_get_line(out, c, n, key, MAX_PATTERN)) < 0)
        return rc;
    if ((rc = eg_plan_boot_regex(&re, *out)) < 0)
        return eg_schema_fail(c, n, key, "%s", eg_error_msg());
    regfree(&re);
    return 0;
}

int eg_profile_get_boot_check(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"baud", "expect", "fail", "timeout"};
    const eg_profile_node *v[COUNT(keys)];
    eg_profile_boot_check *b = &P(c)->boot_check;
    int rc;

    if ((rc = eg_schema_walk_map(v, c, n, "boot_check", keys, COUNT(keys))) < 0)
        return rc;
    b->line = n->line;
    b->column = n->column;
    b->baud = DEFAULT_BOOT_BAUD;
    b->timeout_ms = DEFAULT_BOOT_TIMEOUT;
    if (v[0] && (rc = eg_schema_get_count(&b->baud, c, v[0], "boot_check.baud", 1200, 5000000)) < 0)
        return rc;
    if (!v[1])
        return eg_schema_fail(c, n, "boot_check.expect",
                              "missing: the line (a regular expression) the app prints once it "
                              "runs");
    if ((rc = get_pattern(&b->expect, c, v[1], "boot_check.expect")) < 0 ||
        (v[2] && (rc = get_pattern(&b->fail, c, v[2], "boot_check.fail")) < 0) ||
        (v[3] && (rc = eg_schema_get_duration(&b->timeout_ms, c, v[3], "boot_check.timeout")) < 0))
        return rc;
    b->enabled = 1;
    return 0;
}

/* ---- serial ------------------------------------------------------------------------- */

int eg_profile_get_serial(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"format", "start"};
    const eg_profile_node *v[COUNT(keys)];
    eg_profile_serial *s = &P(c)->serial;
    int rc;

    if ((rc = eg_schema_walk_map(v, c, n, "serial", keys, COUNT(keys))) < 0)
        return rc;
    if (!v[0])
        return eg_schema_fail(c, n, "serial.format",
                              "missing: the serial number's template (\"WX-{lot}-{seq:06}\")");
    if ((rc = get_template(&s->format, c, v[0], "serial.format", serial_fields,
                           COUNT(serial_fields))) < 0)
        return rc;
    if (!eg_template_uses(s->format, "seq"))
        return eg_schema_fail(c, v[0], "serial.format",
                              "uses no {seq}: every board would get the same number");
    s->start = 1;
    if (v[1] && (rc = eg_schema_get_count(&s->start, c, v[1], "serial.start", 0, 2000000000)) < 0)
        return rc;
    return 0;
}

/* ---- nvs ---------------------------------------------------------------------------- */

/* An NVS name (a namespace or a key): 1 to 15 bytes. */
static int check_name(const ctx *c, const eg_profile_node *n, const char *key, const char *what)
{
    if (n->kind != EG_NODE_SCALAR || !n->len || memchr(n->text, '\0', n->len))
        return eg_schema_fail(c, n, key, "an NVS %s is a name of 1 to %d characters", what,
                              EG_NVS_KEY_MAX);
    if (n->len > EG_NVS_KEY_MAX)
        return eg_schema_fail(c, n, key,
                              "%s '%s' is %zu characters: NVS %ss are at most %d characters", what,
                              n->text, n->len, what, EG_NVS_KEY_MAX);
    return 0;
}

/* A number for type t from n. */
static int get_number(eg_profile_nvs_key *k, const ctx *c, const eg_profile_node *n,
                      const char *key)
{
    static const struct {
        eg_nvs_type type;
        int64_t min;
        uint64_t max;
    } ranges[] = {
        {EG_NVS_U8, 0, UINT8_MAX},   {EG_NVS_I8, INT8_MIN, INT8_MAX},
        {EG_NVS_U16, 0, UINT16_MAX}, {EG_NVS_I16, INT16_MIN, INT16_MAX},
        {EG_NVS_U32, 0, UINT32_MAX}, {EG_NVS_I32, INT32_MIN, INT32_MAX},
        {EG_NVS_U64, 0, UINT64_MAX}, {EG_NVS_I64, INT64_MIN, INT64_MAX},
    };
    const char *t = n->text;
    char *end;
    int neg, rc;

    if ((rc = eg_schema_expect_kind(c, n, key, EG_NODE_SCALAR, "a whole number")) < 0)
        return rc;
    for (size_t i = 0; i < COUNT(ranges); i++) {
        if (ranges[i].type != k->type)
            continue;
        neg = t[0] == '-';
        errno = 0;
        if (neg) {
            long long v = strtoll(t, &end, 0);
            if (!errno && *t && !*end && v >= ranges[i].min) {
                k->i = v;
                return 0;
            }
        } else {
            unsigned long long v = strtoull(t, &end, 0);
            if (!errno && *t && t[0] != '+' && !*end && v <= ranges[i].max &&
                (ranges[i].min == 0 || v <= (uint64_t)INT64_MAX)) {
                k->u = v;
                k->i = (int64_t)v;
                return 0;
            }
        }
        return eg_schema_fail(c, n, key, "'%s' is not a whole number a %s holds (%lld to %llu)", t,
                              eg_nvs_type_name(k->type), (long long)ranges[i].min,
                              (unsigned long long)ranges[i].max);
    }
    return eg_schema_fail(c, n, key, "a %s takes a string or a file, not a number",
                          eg_nvs_type_name(k->type));
}

/* The folder a per-device path template reads from (its literal start up to the last
 * '/'), which must exist now. */
static int check_per_device(const ctx *c, const eg_profile_node *n, const char *key,
                            const eg_template *t)
{
    char folder[1024];
    size_t len = 0;

    if (!eg_template_uses(t, "mac") && !eg_template_uses(t, "mac_hex") &&
        !eg_template_uses(t, "serial"))
        return eg_schema_fail(c, n, key,
                              "names no {mac}, {mac_hex} or {serial}: every board would get the "
                              "same file (use file: for that)");
    if (t->n && t->parts[0].text) {
        const char *slash = strrchr(t->parts[0].text, '/');
        len = slash ? (size_t)(slash - t->parts[0].text) + 1 : 0;
    }
    snprintf(folder, sizeof(folder), "%.*s", (int)len, len ? t->parts[0].text : "./");
    return eg_schema_check_exists(c, n, key, folder, 1);
}

/* One key: {type, value | file + sha256 | per_device}. */
static int get_key(eg_profile_nvs_key *k, const ctx *c, const eg_profile_node *n, const char *key)
{
    static const char *const keys[] = {"type", "value", "file", "sha256", "per_device"};
    const eg_profile_node *v[COUNT(keys)];
    char sub[MAX_KEY], *type = NULL;
    int sources, rc;

    if ((rc = eg_schema_expect_kind(c, n, key, EG_NODE_MAP,
                                    "a map {type, value} (or file and sha256, or per_device)")) <
            0 ||
        (rc = eg_schema_walk_map(v, c, n, key, keys, COUNT(keys))) < 0)
        return rc;
    eg_schema_key_join(sub, key, "type");
    if (!v[0])
        return eg_schema_fail(c, n, sub,
                              "missing: u8, i8, u16, i16, u32, i32, u64, i64, string "
                              "or blob");
    if ((rc = eg_schema_get_string(&type, c, v[0], sub)) < 0)
        return rc;
    if (strcmp(type, "binary") == 0 || strcmp(type, "hex2bin") == 0 ||
        strcmp(type, "base64") == 0 || eg_nvs_type_parse(&k->type, type) < 0)
        rc = eg_schema_fail(c, v[0], sub,
                            "unknown type '%s' (u8, i8, u16, i16, u32, i32, u64, i64, string or "
                            "blob)",
                            type);
    free(type);
    if (rc < 0)
        return rc;
    sources = !!v[1] + !!v[2] + !!v[4];
    if (sources != 1 || (v[3] && !v[2]))
        return eg_schema_fail(c, n, key, "give one of value, file (with its sha256) or per_device");
    if (v[1] && k->type != EG_NVS_STRING && k->type != EG_NVS_BLOB) {
        eg_schema_key_join(sub, key, "value");
        k->from = EG_NVS_FROM_NUMBER;
        return get_number(k, c, v[1], sub);
    }
    if (k->type != EG_NVS_STRING && k->type != EG_NVS_BLOB) {
        eg_schema_key_join(sub, key, v[2] ? "file" : "per_device");
        return eg_schema_fail(c, v[2] ? v[2] : v[4], sub, "a %s takes a number: value",
                              eg_nvs_type_name(k->type));
    }
    if (v[1]) {
        eg_schema_key_join(sub, key, "value");
        k->from = EG_NVS_FROM_TEXT;
        return get_template(&k->text, c, v[1], sub, value_fields, COUNT(value_fields));
    }
    if (v[2]) {
        uint8_t pin[32];
        k->from = EG_NVS_FROM_FILE;
        eg_schema_key_join(sub, key, "sha256");
        if (!v[3])
            return eg_schema_fail(c, n, sub,
                                  "missing: every input file is pinned by its SHA-256 (sha256sum "
                                  "FILE prints it)");
        if ((rc = eg_schema_get_sha256(pin, c, v[3], sub)) < 0)
            return rc;
        eg_schema_key_join(sub, key, "file");
        return eg_profile_set_file(&k->file, c, v[2], sub, pin);
    }
    /* per_device: a path template, relative to the profile's folder. */
    eg_schema_key_join(sub, key, "per_device");
    k->from = EG_NVS_FROM_PER_DEVICE;
    {
        char *given = NULL, *resolved;
        unsigned col;
        if ((rc = eg_schema_get_string(&given, c, v[4], sub)) < 0)
            return rc;
        resolved = eg_schema_resolve(c, given);
        free(given);
        if (!resolved)
            return eg_error_set(EG_ENOMEM, "out of memory");
        rc = eg_template_parse(&k->text, resolved, value_fields, COUNT(value_fields), &col);
        free(resolved);
        if (rc == EG_EINVAL)
            return eg_schema_fail(c, v[4], sub, "%s", eg_error_msg());
        if (rc < 0)
            return rc;
    }
    return check_per_device(c, v[4], sub, k->text);
}

int eg_profile_get_nvs(const ctx *c, const eg_profile_node *n)
{
    static const char *const keys[] = {"partition", "namespaces"};
    const eg_profile_node *v[COUNT(keys)];
    eg_profile_nvs *nvs = &P(c)->nvs;
    char sub[MAX_KEY], key[MAX_KEY];
    size_t total = 0;
    int rc;

    nvs->line = n->line;
    nvs->column = n->column;
    if ((rc = eg_schema_expect_kind(c, n, "nvs", EG_NODE_MAP, "a map {partition, namespaces}")) <
            0 ||
        (rc = eg_schema_walk_map(v, c, n, "nvs", keys, COUNT(keys))) < 0)
        return rc;
    if (v[0] && (rc = eg_schema_get_line(&nvs->partition, c, v[0], "nvs.partition", 16)) < 0)
        return rc;
    if (!v[1])
        return eg_schema_fail(c, n, "nvs.namespaces",
                              "missing: the namespaces and their keys (factory: {serial: {type: "
                              "string, value: \"{serial}\"}})");
    if ((rc = eg_schema_expect_kind(c, v[1], "nvs.namespaces", EG_NODE_MAP,
                                    "a map of namespaces")) < 0)
        return rc;
    for (size_t i = 0; i + 1 < v[1]->n; i += 2)
        total += v[1]->items[i + 1]->kind == EG_NODE_MAP ? v[1]->items[i + 1]->n / 2 : 0;
    if (!(nvs->keys = calloc(total ? total : 1, sizeof(*nvs->keys))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i + 1 < v[1]->n; i += 2) {
        const eg_profile_node *ns = v[1]->items[i], *keys_node = v[1]->items[i + 1];
        eg_schema_key_join(sub, "nvs.namespaces", ns->kind == EG_NODE_SCALAR ? ns->text : "?");
        if ((rc = check_name(c, ns, sub, "namespace")) < 0)
            return rc;
        for (size_t k = 0; k < i; k += 2)
            if (strcmp(v[1]->items[k]->text, ns->text) == 0)
                return eg_schema_fail(c, ns, sub, "this namespace is given a second time");
        if ((rc = eg_schema_expect_kind(c, keys_node, sub, EG_NODE_MAP, "a map of keys")) < 0)
            return rc;
        if (keys_node->n == 0)
            return eg_schema_fail(c, keys_node, sub, "a namespace holds at least one key");
        for (size_t j = 0; j + 1 < keys_node->n; j += 2) {
            const eg_profile_node *kn = keys_node->items[j];
            eg_profile_nvs_key *k = &nvs->keys[nvs->n_keys];
            eg_schema_key_join(key, sub, kn->kind == EG_NODE_SCALAR ? kn->text : "?");
            if ((rc = check_name(c, kn, key, "key")) < 0)
                return rc;
            for (size_t m = 0; m < j; m += 2)
                if (strcmp(keys_node->items[m]->text, kn->text) == 0)
                    return eg_schema_fail(c, kn, key, "this key is given a second time");
            if (!(k->ns = strdup(ns->text)) || !(k->key = strdup(kn->text)))
                return eg_error_set(EG_ENOMEM, "out of memory");
            k->line = kn->line;
            k->column = kn->column;
            nvs->n_keys++;
            if ((rc = get_key(k, c, keys_node->items[j + 1], key)) < 0)
                return rc;
        }
    }
    if (!nvs->n_keys)
        return eg_schema_fail(c, v[1], "nvs.namespaces", "names no namespace");
    return 0;
}

/* ---- across sections ------------------------------------------------------------------ */

int eg_profile_check_factory(const ctx *c, const eg_profile_node *root)
{
    eg_profile *p = P(c);
    char key[MAX_KEY];

    (void)root;
    if (p->boot_check.enabled && eg_after_stays(p->policy.after))
        return eg_schema_fail_at(EG_EINVAL, c, p->boot_check.line, p->boot_check.column,
                                 "boot_check",
                                 "the board is left in its loader (after: %s): it never boots "
                                 "to be checked",
                                 eg_after_name(p->policy.after));
    for (size_t i = 0; i < p->nvs.n_keys; i++) {
        const eg_profile_nvs_key *k = &p->nvs.keys[i];
        if (k->text && eg_template_uses(k->text, "serial") && !p->serial.format) {
            snprintf(key, sizeof(key), "nvs.namespaces.%s.%s", k->ns, k->key);
            return eg_schema_fail_at(EG_EINVAL, c, k->line, k->column, key,
                                     "uses {serial}, but the profile gives no serial.format");
        }
    }
    return 0;
}

int eg_profile_read_factory(eg_profile *p)
{
    char key[MAX_KEY];
    int rc;

    for (size_t i = 0; i < p->nvs.n_keys; i++) {
        eg_profile_nvs_key *k = &p->nvs.keys[i];
        if (k->from != EG_NVS_FROM_FILE)
            continue;
        snprintf(key, sizeof(key), "nvs.namespaces.%s.%s.file", k->ns, k->key);
        eg_buf_release(&k->file.data);
        if ((rc = eg_profile_read_file(p, &k->file, key)) < 0)
            return rc;
    }
    return 0;
}

void eg_profile_free_factory(eg_profile *p)
{
    free(p->boot_check.expect);
    free(p->boot_check.fail);
    eg_template_free(p->serial.format);
    for (size_t i = 0; i < p->nvs.n_keys; i++) {
        eg_profile_nvs_key *k = &p->nvs.keys[i];
        free(k->ns);
        free(k->key);
        eg_template_free(k->text);
        eg_profile_file_release(&k->file);
    }
    free(p->nvs.keys);
    free(p->nvs.partition);
    free(p->nvs.label);
}
