/* Log formats: how the bytes a board sends become the text the monitor shows (espflash's
 * -L/--log-format). A format takes the board's bytes as they come and hands on text
 * through a callback; the monitor (monitor.h) then splits that text into lines and
 * decodes the addresses in them, whatever the format.
 *
 *  - "serial": the bytes are the text (what ESP-IDF's and esp-println's logs are).
 *  - "defmt": defmt frames decoded with the ELF's defmt table into lines with level and
 *    timestamp (-F/--output-format chooses their layout), each a line of its own; plain
 *    text between frames passes through. format.c adapts the defmt decoder
 *    (monitor/defmt.h) to this interface; a build without that header answers that
 *    defmt decoding is not built yet. */
#ifndef EG_MONITOR_FORMAT_H
#define EG_MONITOR_FORMAT_H

#include "image/elf.h"

#include <stddef.h>
#include <stdint.h>

/* Where a format's text goes: len bytes of text (not NUL-terminated, any length, lines
 * ended by '\n' or "\r\n"). A negative return stops the format and is passed on. */
typedef int (*eg_monitor_text_fn)(void *ctx, const char *text, size_t len);

typedef struct eg_monitor_format eg_monitor_format;

typedef struct eg_monitor_format_ops {
    const char *name;
    /* Takes len bytes from the board and hands on whatever text they complete. */
    int (*feed)(eg_monitor_format *f, const uint8_t *data, size_t len, eg_monitor_text_fn text,
                void *ctx);
    /* The board is done (the monitor ends): hands on what is still held. May be NULL. */
    int (*finish)(eg_monitor_format *f, eg_monitor_text_fn text, void *ctx);
    void (*free)(eg_monitor_format *f);
} eg_monitor_format_ops;

/* Each format embeds this first. */
struct eg_monitor_format {
    const eg_monitor_format_ops *ops;
};

/* What a format may need. */
typedef struct eg_monitor_format_opts {
    const char *elf_path;      /* the firmware's ELF, NULL when none was given */
    const eg_elf *elf;         /* ... parsed (its whole file is in elf->file); NULL: none */
    const char *output_format; /* -F/--output-format, NULL when not given */
    int color;                 /* the text goes to a terminal: a format may colour it */
} eg_monitor_format_opts;

/* A new format by name ("serial", "defmt"). EG_EINVAL naming the known ones for an
 * unknown name; EG_EUNSUPPORTED when the format cannot run (defmt without an ELF, or in
 * a build without its decoder, monitor/defmt.h); defmt's own errors (no defmt table in
 * the ELF, a bad -F) as its decoder gives them. */
int eg_monitor_format_new(eg_monitor_format **out, const char *name,
                          const eg_monitor_format_opts *o);

void eg_monitor_format_free(eg_monitor_format *f);

/* What the user should hear about the format's options (defmt: a -F with {t} for
 * firmware without timestamps, or the reverse), or NULL. */
const char *eg_monitor_format_warning(const eg_monitor_format *f);

/* The format the ELF's metadata asks for (espflash.LOG_FORMAT "defmt-espflash": "defmt"),
 * else "serial". elf may be NULL. */
const char *eg_monitor_format_for_elf(const eg_elf *elf);

/* The names, comma-separated, for messages. */
const char *eg_monitor_format_names(void);

#endif
