/* The serial monitor's core: the board's bytes in, the text to show out, with the code
 * addresses in it decoded, as espflash's monitor shows them. No I/O: the caller reads
 * the port and writes what comes out through the emit callback (src/cli does both).
 *
 * The bytes go through a log format (format.h: serial, defmt) into text; the text is
 * passed on at once, partial lines too (a prompt shows before its line ends); line ends
 * "\r\n" become "\n" (a lone "\r" is passed on as it is). When a line is complete and
 * symbols are given, every "0x" followed by eight hex digits in it that lies in the
 * ELF's code (with all_addresses: any address the ELF knows) is looked up, and under
 * the line come
 *
 *     0x42002098 - eg_shuffle
 *         at tools/fixtures/firmware.c:189
 *
 * (just "NAME" on the first line when the line is only that address; "at ??:??" when the
 * ELF has no line for it; a function inlined there adds " (inlined by) OUTER" and its call
 * site per level). Lines the first-stage bootloader prints about loading the
 * second ("load:0x", "entry 0x", "Saved PC:") are not decoded unless all_addresses. */
#ifndef EG_MONITOR_MONITOR_H
#define EG_MONITOR_MONITOR_H

#include "monitor/format.h"
#include "monitor/symbols.h"

#include <stddef.h>
#include <stdint.h>

/* Longer lines are shown whole but only their first this many bytes are decoded. */
#define EG_MONITOR_LINE_MAX 2048

typedef enum eg_monitor_kind {
    EG_MONITOR_BOARD,   /* what the board printed */
    EG_MONITOR_DECODED, /* the monitor's decoding of an address, whole lines */
} eg_monitor_kind;

/* Where the monitor's text goes, in order. A negative return stops the monitor and is
 * passed on (the terminal went away, say). */
typedef int (*eg_monitor_emit_fn)(void *ctx, eg_monitor_kind kind, const char *text, size_t len);

typedef struct eg_monitor_opts {
    eg_monitor_format *format; /* taken over, freed with the monitor; NULL: serial */
    eg_symbols *symbols;       /* borrowed; NULL: addresses are not decoded */
    int all_addresses;         /* decode every address the ELF knows, on every line */
    eg_monitor_emit_fn emit;
    void *ctx;
} eg_monitor_opts;

typedef struct eg_monitor eg_monitor;

/* A new monitor. o->format is the monitor's from here on, also when this fails. */
int eg_monitor_new(eg_monitor **out, const eg_monitor_opts *o);

/* Takes len bytes the board sent. */
int eg_monitor_feed(eg_monitor *m, const uint8_t *data, size_t len);

/* The board is done: passes on what is held (the format's remains, a "\r" that could
 * have begun a "\r\n"). The line begun stays undecoded. */
int eg_monitor_finish(eg_monitor *m);

void eg_monitor_free(eg_monitor *m);

#endif
