/* What goes where in flash: regions of bytes at addresses, their overlap check, and
 * the merged image that holds them all as the flash does from address 0. */
#ifndef EG_IMAGE_REGION_H
#define EG_IMAGE_REGION_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Bytes owned by the caller, what to call them in messages, and where they go. */
typedef struct eg_region {
    uint32_t addr;
    const char *label;
    const uint8_t *data;
    size_t len;
} eg_region;

/* EG_EINVAL naming both when two regions overlap or one passes 4 GiB. */
int eg_regions_overlap(const eg_region *r, size_t n);

/* Appends to out (which must be empty) the flash from address 0 as the regions fill
 * it: each region at its address, 0xFF in the gaps, and 0xFF up to pad_to bytes (0: the
 * file ends with the last region). EG_EINVAL when regions overlap or end beyond
 * pad_to. */
int eg_regions_merge(eg_buf *out, const eg_region *r, size_t n, uint32_t pad_to);

#endif
