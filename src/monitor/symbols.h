/* Code addresses of a firmware ELF turned into function names and source lines, for the
 * serial monitor. DWARF is read with libdw (libdwfl, offline), names fall back on the
 * symbol table when an ELF has no debug information (or none for that address).
 *
 * A table belongs to one thread: lookups fill libdw's caches. */
#ifndef EG_MONITOR_SYMBOLS_H
#define EG_MONITOR_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct eg_symbols eg_symbols;

#define EG_SYMBOL_FRAMES_MAX 8

/* One frame of what runs at an address: the function and where in the source. With
 * inlining, frame 0 is the innermost inlined function at the address, each next frame
 * the function it was inlined into, its line the call site. */
typedef struct eg_symbol_frame {
    char function[256]; /* "" when unknown */
    char file[512];     /* "" when unknown; leading "./" taken off */
    unsigned line;      /* 0 when unknown */
} eg_symbol_frame;

/* Opens the ELF at path. EG_ENOTFOUND / EG_EIO when it cannot be read, EG_EINVAL when it
 * is not an ELF or its headers are broken, each message naming path. An ELF without
 * debug information is accepted (names from its symbol table, no lines). */
int eg_symbols_open(eg_symbols **out, const char *path);

void eg_symbols_free(eg_symbols *s);

/* 1 when the ELF has DWARF debug information (source lines). */
int eg_symbols_has_dwarf(const eg_symbols *s);

/* 1 when addr lies in an executable section of the ELF (its code). */
int eg_symbols_in_code(const eg_symbols *s, uint64_t addr);

/* What the ELF says about addr: up to max frames into frames, innermost first. Returns
 * the count: 0 when neither the debug information nor the symbol table knows addr. */
size_t eg_symbols_lookup(eg_symbols *s, uint64_t addr, eg_symbol_frame *frames, size_t max);

#endif
