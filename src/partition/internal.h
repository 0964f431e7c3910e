/* What the partition module's files share: the table's layout, option checks,
 * validation and the "where" part of messages. Not for use outside src/partition. */
#ifndef EG_PARTITION_INTERNAL_H
#define EG_PARTITION_INTERNAL_H

#include "partition/partition.h"

#include <stddef.h>
#include <stdint.h>

struct eg_partition_table {
    size_t n;
    eg_partition e[]; /* n entries */
};

/* Checks that the options hold together (aligned table offset, bootloader below it). */
int eg_partition_check_opts(const eg_partition_opts *o);

/* How every parser starts: the options given (or the defaults when NULL) into *o,
 * checked, and an empty table with room for cap entries into *t (NULL on error). */
int eg_partition_start(eg_partition_table **t, eg_partition_opts *o, const eg_partition_opts *given,
                       size_t cap);

/* How every parser ends: validates t, then hands it to *out, or frees it on a fault. */
int eg_partition_finish(eg_partition_table **out, eg_partition_table *t, const eg_partition_opts *o,
                        const char *source);

/* Checks a name: 1-16 bytes of UTF-8 that a CSV row can hold unchanged. */
int eg_partition_check_name(const char *name, size_t len);

/* Writes where entry i is ("partitions.csv:7", "partitions.bin: entry 3", "line 7",
 * "entry 3") into dst. */
void eg_partition_where(char *dst, size_t len, const char *source, const eg_partition *e, size_t i);

/* Prefixes the current message with where entry i is, its name and offset; returns
 * code. */
int eg_partition_fail(int code, const char *source, const eg_partition *e, size_t i);

/* True for the rows gen_esp32part places itself below the table: the primary
 * bootloader and the primary partition table. */
int eg_partition_is_fixed_low(const eg_partition *p);

/* Every per-partition and cross-partition rule, in table order; the first fault found
 * is returned with its message. */
int eg_partition_validate(const eg_partition_table *t, const eg_partition_opts *o,
                          const char *source);

/* Alignment of a partition's offset: 0x10000 for app, else 0x1000. */
uint32_t eg_partition_offset_align(uint8_t type);

enum { EG_PARTITION_NUM_OK = 0, EG_PARTITION_NUM_BAD = -1, EG_PARTITION_NUM_BIG = -2 };

/* Reads a number as gen_esp32part does: 0x hex or decimal (no sign, no leading zero),
 * and with suffixes a K or M (any case) multiplier. Returns EG_PARTITION_NUM_OK, _BAD
 * (not a number) or _BIG (above max); sets no message. */
int eg_partition_number(uint64_t *out, const char *s, int suffixes, uint64_t max);

#endif
