/* Parsing numbers as users type them: decimal, 0x hex, and decimal sizes with a
 * k/M suffix (binary units: 64k = 65536, 4MB = 4 MiB). */
#ifndef EG_CORE_NUM_H
#define EG_CORE_NUM_H

#include <stdint.h>

/* Parses s into *out. Accepts "123", "0x1F000", "64k", "64K", "64KB", "64KiB",
 * "4M", "4MB", "4MiB" (case-insensitive suffix), digits grouped by single '_' between
 * them ("0x1_0000", as Rust and espflash take them). Hex takes no suffix. Rejects empty
 * strings, signs, spaces, trailing garbage and values above max with EG_EINVAL and a
 * message naming the text. */
int eg_num_parse(uint64_t *out, const char *s, uint64_t max);

/* Same, for a 32-bit value (max 0xFFFFFFFF). */
int eg_num_parse_u32(uint32_t *out, const char *s);

/* Writes a size the way people read it: "4MB", "256KB", "1000B". */
void eg_num_format_size(char *dst, unsigned dstlen, uint64_t bytes);

#endif
