/* A board's NVS partition from the profile's nvs keys, and the checks made when the
 * plan is made (the partition is in the table, nothing else writes it, the data fits). */
#include "core/error.h"
#include "core/template.h"
#include "image/nvs.h"
#include "partition/partition.h"
#include "plan/plan.h"
#include "profile/sections.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *device_value(void *ctx, const char *name)
{
    const eg_profile_device *d = ctx;
    if (!d)
        return NULL; /* a sample: left as written */
    if (strcmp(name, "serial") == 0)
        return d->serial;
    if (strcmp(name, "mac") == 0)
        return d->mac;
    if (strcmp(name, "mac_hex") == 0)
        return d->mac_hex;
    if (strcmp(name, "lot") == 0)
        return d->lot;
    if (strcmp(name, "station") == 0)
        return d->station;
    if (strcmp(name, "date") == 0)
        return d->date;
    return NULL;
}

int eg_profile_nvs_image(eg_buf *out, const eg_profile *p, const eg_profile_device *dev)
{
    const eg_profile_nvs *nvs = &p->nvs;
    eg_nvs_entry *e = calloc(nvs->n_keys ? nvs->n_keys : 1, sizeof(*e));
    eg_buf *owned = calloc(nvs->n_keys ? nvs->n_keys : 1, sizeof(*owned));
    char text[EG_NVS_STRING_MAX + 1];
    int rc = 0;

    if (!e || !owned) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nvs->n_keys; i++) {
        const eg_profile_nvs_key *k = &nvs->keys[i];
        e[i].ns = k->ns;
        e[i].key = k->key;
        e[i].type = k->type;
        switch (k->from) {
        case EG_NVS_FROM_NUMBER:
            e[i].i = k->i;
            e[i].u = k->u;
            break;
        case EG_NVS_FROM_TEXT:
            if ((rc = eg_template_render(text, sizeof(text), k->text, device_value, (void *)dev)) <
                0) {
                rc = eg_error_prefix(rc, "nvs %s.%s: ", k->ns, k->key);
                goto done;
            }
            if ((rc = eg_buf_append(&owned[i], text, strlen(text))) < 0)
                goto done;
            e[i].data = owned[i].data;
            e[i].len = owned[i].len;
            break;
        case EG_NVS_FROM_FILE:
            e[i].data = k->file.data.data;
            e[i].len = k->file.data.len;
            break;
        case EG_NVS_FROM_PER_DEVICE:
            if (!dev)
                break; /* a sample: no board's file yet */
            if ((rc = eg_template_render(text, sizeof(text), k->text, device_value, (void *)dev)) <
                    0 ||
                (rc = eg_buf_read_file(&owned[i], text)) < 0) {
                rc = eg_error_prefix(rc == EG_ENOTFOUND ? EG_ENOTFOUND : rc,
                                     "nvs %s.%s: this board's file: ", k->ns, k->key);
                goto done;
            }
            e[i].data = owned[i].data;
            e[i].len = owned[i].len;
            break;
        }
        if (k->type == EG_NVS_STRING && e[i].data && memchr(e[i].data, '\0', e[i].len)) {
            rc = eg_error_set(EG_EINVAL, "nvs %s.%s: a string holds no NUL byte", k->ns, k->key);
            goto done;
        }
    }
    rc = eg_nvs_build(out, e, nvs->n_keys, nvs->size);
done:
    for (size_t i = 0; owned && i < nvs->n_keys; i++)
        eg_buf_release(&owned[i]);
    free(owned);
    free(e);
    return rc;
}

int eg_profile_nvs_place(eg_profile *p, const eg_plan *plan, uint32_t table_offset)
{
    eg_profile_nvs *nvs = &p->nvs;
    eg_partition_table *t = NULL;
    const eg_partition *part = NULL;
    eg_schema c = {.path = p->path, .user = p};
    eg_buf sample = EG_BUF_INIT;
    char label[64];
    int rc = 0;

    if (!nvs->n_keys)
        return 0;
    for (size_t i = 0; i < plan->n_regions && !t; i++) {
        const eg_plan_region *r = &plan->regions[i];
        if (r->addr == table_offset &&
            (rc = eg_partition_parse_bin(&t, r->data, r->len, r->label, NULL)) < 0)
            return eg_error_prefix(rc, "%s: nvs: ", p->path);
    }
    if (!t)
        return eg_schema_fail_at(EG_EINVAL, &c, nvs->line, nvs->column, "nvs",
                                 "the profile writes no partition table (at 0x%x) to find the "
                                 "nvs partition in",
                                 table_offset);
    if (nvs->partition) {
        part = eg_partition_find_name(t, nvs->partition);
        if (!part)
            rc = eg_schema_fail_at(EG_EINVAL, &c, nvs->line, nvs->column, "nvs.partition",
                                   "the partition table has no partition '%s'", nvs->partition);
        else if (part->type != EG_PARTITION_TYPE_DATA || part->subtype != EG_PARTITION_SUBTYPE_NVS)
            rc = eg_schema_fail_at(EG_EINVAL, &c, nvs->line, nvs->column, "nvs.partition",
                                   "partition '%s' is not of type data, subtype nvs",
                                   nvs->partition);
    } else if (!(part =
                     eg_partition_find_type(t, EG_PARTITION_TYPE_DATA, EG_PARTITION_SUBTYPE_NVS))) {
        rc = eg_schema_fail_at(EG_EINVAL, &c, nvs->line, nvs->column, "nvs",
                               "the partition table has no nvs partition (type data, subtype "
                               "nvs) to write the keys to");
    }
    if (rc < 0)
        goto done;
    nvs->addr = part->offset;
    nvs->size = part->size;
    snprintf(label, sizeof(label), "nvs partition '%s'", part->name);
    free(nvs->label);
    if (!(nvs->label = strdup(label))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < plan->n_regions; i++) {
        const eg_plan_region *r = &plan->regions[i];
        if (r->addr < (uint64_t)nvs->addr + nvs->size && nvs->addr < (uint64_t)r->addr + r->len) {
            rc = eg_schema_fail_at(EG_EINVAL, &c, nvs->line, nvs->column, "nvs",
                                   "%s (0x%x, %u bytes) is also written by '%s' at 0x%x", label,
                                   nvs->addr, nvs->size, r->label, r->addr);
            goto done;
        }
    }
    /* The keys as written (per-device files left empty) must fit already. */
    if ((rc = eg_profile_nvs_image(&sample, p, NULL)) < 0)
        rc = eg_schema_fail_at(rc, &c, nvs->line, nvs->column, "nvs", "%s: %s", label,
                               eg_error_msg());
done:
    eg_buf_release(&sample);
    eg_partition_table_free(t);
    return rc;
}
