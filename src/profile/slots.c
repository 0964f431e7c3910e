#include "profile/slots.h"

#include "core/buf.h"
#include "core/error.h"
#include "profile/internal.h"
#include "profile/schema.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SLOTS_BYTES (1u << 20)

/* BUS-PORT[.PORT...]: digits, one '-', then digits separated by single dots. */
static int is_location(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || s[n] != '-')
        return 0;
    s += n + 1;
    for (;;) {
        n = strspn(s, "0123456789");
        if (n == 0)
            return 0;
        s += n;
        if (!*s)
            return 1;
        if (*s++ != '.')
            return 0;
    }
}

static const char *const slot_keys[] = {"slot", "label"};

/* One "LOCATION: {slot, label}" pair. */
static int get_slot(eg_slot *out, const eg_schema *c, const eg_profile_node *k,
                    const eg_profile_node *v)
{
    const eg_profile_node *f[2];
    char key[MAX_KEY], sub[MAX_KEY];
    int rc;

    if ((rc = eg_schema_expect_kind(c, k, "slots", EG_NODE_SCALAR, "a USB location")) < 0)
        return rc;
    eg_schema_key_join(key, "slots", k->text);
    if (!is_location(k->text))
        return eg_schema_fail(c, k, key,
                              "not a USB location (BUS-PORT[.PORT...], as list-ports prints "
                              "it: 1-2.3)");
    if ((rc = eg_schema_walk_map(f, c, v, key, slot_keys, COUNT(slot_keys))) < 0)
        return rc;
    if (!f[0])
        return eg_schema_fail(c, v, key, "has no slot number (slot: N)");
    eg_schema_key_join(sub, key, "slot");
    if ((rc = eg_schema_get_count(&out->number, c, f[0], sub, 1, EG_SLOT_MAX)) < 0)
        return rc;
    if (!(out->location = strdup(k->text)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    if (f[1]) {
        eg_schema_key_join(sub, key, "label");
        if ((rc = eg_schema_get_line(&out->label, c, f[1], sub, EG_SLOT_LABEL_MAX)) < 0)
            return rc;
    }
    return 0;
}

static const char *const root_keys[] = {"version", "slots"};

static int get_root(eg_slots *s, const eg_schema *c, const eg_profile_node *root)
{
    const eg_profile_node *f[2];
    unsigned version;
    int rc;

    if ((rc = eg_schema_walk_map(f, c, root, "", root_keys, COUNT(root_keys))) < 0)
        return rc;
    if (!f[0])
        return eg_schema_fail(c, root, "", "no version (version: %d)", EG_SLOTS_VERSION);
    if ((rc = eg_schema_get_count(&version, c, f[0], "version", 0, 1000000)) < 0)
        return rc;
    if (version != EG_SLOTS_VERSION)
        return eg_schema_fail(c, f[0], "version", "this espgang reads slots files of version %d",
                              EG_SLOTS_VERSION);
    if (!f[1])
        return eg_schema_fail(c, root, "", "no slots (slots: {LOCATION: {slot: N}, ...})");
    if ((rc = eg_schema_expect_kind(c, f[1], "slots", EG_NODE_MAP, "a map of locations")) < 0)
        return rc;
    s->slots = calloc(f[1]->n / 2 + 1, sizeof(*s->slots));
    if (!s->slots)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i + 1 < f[1]->n; i += 2) {
        const eg_profile_node *k = f[1]->items[i], *v = f[1]->items[i + 1];
        eg_slot *slot = &s->slots[s->n];
        char key[MAX_KEY];
        if ((rc = get_slot(slot, c, k, v)) < 0) {
            free(slot->location);
            free(slot->label);
            memset(slot, 0, sizeof(*slot));
            return rc;
        }
        s->n++;
        /* Each location once, each slot number once. */
        for (size_t j = 0; j + 1 < s->n; j++) {
            eg_schema_key_join(key, "slots", k->text);
            if (strcmp(s->slots[j].location, slot->location) == 0)
                return eg_schema_fail(c, k, key, "this location is given a second time");
            if (s->slots[j].number == slot->number)
                return eg_schema_fail(c, v, key, "slot %u is given a second time (for %s too)",
                                      slot->number, s->slots[j].location);
        }
    }
    return 0;
}

int eg_slots_load(eg_slots **out, const char *path)
{
    eg_buf text = EG_BUF_INIT;
    eg_profile_node *root = NULL;
    eg_slots *s = NULL;
    eg_schema c = {path, "", NULL};
    int rc;

    *out = NULL;
    if ((rc = eg_buf_read_file(&text, path)) < 0)
        goto done;
    if (text.len > MAX_SLOTS_BYTES) {
        rc = eg_error_set(EG_EINVAL, "%s: %zu bytes is too large for a slots file", path, text.len);
        goto done;
    }
    if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = eg_profile_yaml_parse(&root, path, text.len ? text.data : (const uint8_t *)"",
                                    text.len)) < 0 ||
        (rc = get_root(s, &c, root)) < 0)
        goto done;
    *out = s;
    s = NULL;
done:
    eg_profile_node_free(root);
    eg_buf_release(&text);
    eg_slots_free(s);
    return rc;
}

const eg_slot *eg_slots_find(const eg_slots *s, const char *location)
{
    for (size_t i = 0; s && location && i < s->n; i++)
        if (strcmp(s->slots[i].location, location) == 0)
            return &s->slots[i];
    return NULL;
}

void eg_slots_free(eg_slots *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->slots[i].location);
        free(s->slots[i].label);
    }
    free(s->slots);
    free(s->path);
    free(s);
}
