/* Shared between the parts of the defmt decoder (defmt_table.c, defmt_decode.c,
 * defmt_render.c, defmt_format.c); not for other modules. */
#ifndef EG_MONITOR_DEFMT_INTERNAL_H
#define EG_MONITOR_DEFMT_INTERNAL_H

#include "core/buf.h"
#include "monitor/defmt.h"

#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 dm_u128;
__extension__ typedef __int128 dm_i128;

/* The tags of table entries (symbol.rs in defmt's decoder). */
typedef enum dm_tag {
    DM_PRIM,
    DM_DERIVED,
    DM_BITFLAGS,
    DM_WRITE,
    DM_STR,
    DM_TIMESTAMP,
    DM_BITFLAGS_VALUE,
    DM_PRINTLN,
    DM_TRACE,
    DM_DEBUG,
    DM_INFO,
    DM_WARN,
    DM_ERROR,
} dm_tag;

typedef struct dm_entry {
    uint32_t index;
    dm_tag tag;
    char *format; /* the symbol's "data" */
    char *file;   /* NULL when the DWARF does not say */
    unsigned line;
    char *module;
} dm_entry;

/* One value of a defmt::bitflags! struct: key is "NAME@PACKAGE@DISAMBIGUATOR@CRATE"
 * (the crate empty for wire format 3), as the display hint names it. */
typedef struct dm_flag {
    char *key;
    char *name;
    uint64_t order; /* position in the definition */
    dm_u128 value;
} dm_flag;

struct eg_defmt_table {
    dm_entry *entries; /* sorted by index */
    size_t n_entries;
    char *timestamp; /* the timestamp's format string, or NULL */
    dm_flag *flags;  /* sorted by key, then order */
    size_t n_flags;
    size_t n_statements;
    eg_defmt_locations locations;
};

/* The entry with this index, or NULL. */
const dm_entry *dm_table_find(const eg_defmt_table *t, uint32_t index);

/* 1 for the tags of log statements with a level (trace ... error). */
static inline int dm_tag_has_level(dm_tag tag)
{
    return tag >= DM_TRACE && tag <= DM_ERROR;
}

/* Renders the arguments in frame[*pos..n) by format fmt into out (appended) and moves
 * *pos past them. On a frame that does not fit the format (too short, unknown index, a
 * bad bool, bad UTF-8, a broken format string, nesting deeper than 32, output beyond
 * EG_DEFMT_MESSAGE_MAX) returns -1 with why[] set to a lowercase reason. */
int dm_render(const eg_defmt_table *t, const char *fmt, const uint8_t *frame, size_t n, size_t *pos,
              eg_buf *out, char *why, size_t whylen);

/* Decodes one rzcobs frame (without its 0x00) into out (cleared first). -1 for a frame
 * that is no rzcobs, -2 when out of memory. */
int dm_rzcobs_decode(const uint8_t *enc, size_t len, eg_buf *out);

#endif
