#include "image/region.h"

#include "core/error.h"

#include <stdlib.h>

int eg_regions_overlap(const eg_region *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((uint64_t)r[i].addr + r[i].len > 0x100000000ull)
            return eg_error_set(EG_EINVAL, "'%s' at 0x%x (%zu bytes) passes the end of 4 GiB",
                                r[i].label, r[i].addr, r[i].len);
        for (size_t j = i + 1; j < n; j++) {
            const eg_region *p = &r[i], *q = &r[j];
            if ((uint64_t)p->addr < q->addr + (uint64_t)q->len &&
                (uint64_t)q->addr < p->addr + (uint64_t)p->len)
                return eg_error_set(EG_EINVAL, "'%s' at 0x%x overlaps '%s' at 0x%x", p->label,
                                    p->addr, q->label, q->addr);
        }
    }
    return 0;
}

static int by_addr(const void *x, const void *y)
{
    const eg_region *p = *(const eg_region *const *)x, *q = *(const eg_region *const *)y;
    return p->addr < q->addr ? -1 : p->addr > q->addr;
}

int eg_regions_merge(eg_buf *out, const eg_region *r, size_t n, uint32_t pad_to)
{
    const eg_region **order;
    int rc;

    if ((rc = eg_regions_overlap(r, n)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (pad_to && (uint64_t)r[i].addr + r[i].len > pad_to)
            return eg_error_set(EG_EINVAL, "'%s' at 0x%x (%zu bytes) ends beyond the %u-byte flash",
                                r[i].label, r[i].addr, r[i].len, pad_to);
    if (!(order = malloc((n ? n : 1) * sizeof(*order))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        order[i] = &r[i];
    qsort(order, n, sizeof(*order), by_addr);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (order[i]->len == 0) /* nothing to place (and maybe where another region is) */
            continue;
        if ((rc = eg_buf_fill(out, 0xFF, order[i]->addr - out->len)) == 0)
            rc = eg_buf_append(out, order[i]->data, order[i]->len);
    }
    free(order);
    if (rc == 0 && pad_to > out->len)
        rc = eg_buf_fill(out, 0xFF, pad_to - out->len);
    if (rc < 0)
        eg_buf_release(out);
    return rc;
}
