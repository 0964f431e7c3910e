/* A strict reader of the part of TOML 1.0 that configuration files like espflash's
 * use: comments, bare and quoted keys, dotted keys, basic strings (with escapes) and
 * literal strings on one line, integers (decimal, 0x hex, 0o octal, 0b binary, '_'
 * between digits), booleans, [tables], [[arrays of tables]] and inline arrays of those
 * scalars. Everything else TOML has (floats, dates and times, multi-line strings,
 * inline tables, arrays inside arrays) is refused by name, as is anything that is not
 * TOML: every fault is "NAME:LINE:COLUMN: what" (EG_EINVAL), the column counted in
 * characters from 1. No C TOML library is packaged by Debian; this one is small. */
#ifndef EG_CONFIG_TOML_H
#define EG_CONFIG_TOML_H

#include <stddef.h>
#include <stdint.h>

typedef enum eg_toml_type {
    EG_TOML_STRING,
    EG_TOML_INTEGER,
    EG_TOML_BOOLEAN,
    EG_TOML_ARRAY,
    EG_TOML_TABLE,
} eg_toml_type;

/* A value: a scalar, an array, or a table (the document is the root table). */
typedef struct eg_toml eg_toml;
struct eg_toml {
    eg_toml_type type;
    unsigned line, column; /* where the value starts; a table: its header, or the key
                              that made it */
    char *key;             /* its key in the table that holds it; NULL in an array */
    unsigned key_line, key_column;
    char *string;    /* EG_TOML_STRING: UTF-8 without NUL characters */
    int64_t integer; /* EG_TOML_INTEGER */
    int boolean;     /* EG_TOML_BOOLEAN: 0 or 1 */
    eg_toml **items; /* EG_TOML_ARRAY: the items; EG_TOML_TABLE: the keys' values, in
                        the order they were first written */
    size_t count;
    unsigned flags; /* how a table or array was made (the parser's) */
};

/* Parses len bytes of text (UTF-8, no NUL needed) into a new root table *out, freed
 * with eg_toml_free. name is what errors start with (the file's path). *out is NULL on
 * error. */
int eg_toml_parse(eg_toml **out, const char *name, const char *text, size_t len);

/* Reads and parses the file at path (errors start with path). EG_ENOTFOUND or EG_EIO
 * naming the path when it cannot be read. */
int eg_toml_load(eg_toml **out, const char *path);

/* The largest file eg_toml_load reads; larger ones, and anything but a regular file,
 * are refused with EG_EINVAL. */
#define EG_TOML_MAX_BYTES (1024 * 1024)

void eg_toml_free(eg_toml *v);

/* The value of key in table (not a dotted path), or NULL when there is none or table
 * is not a table. */
const eg_toml *eg_toml_get(const eg_toml *table, const char *key);

/* "a string", "an integer", "a boolean", "an array", "a table". */
const char *eg_toml_type_name(eg_toml_type t);

/* Sets the error "NAME:LINE:COLUMN: message" at value v (its key's place when it has
 * one and key is set, else the value's) and returns EG_EINVAL, for the checks that
 * read a document after it parsed. */
int eg_toml_error(const char *name, const eg_toml *v, int key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
