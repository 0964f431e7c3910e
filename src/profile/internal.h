/* Inside src/profile: a profile's YAML read into a small tree of nodes that remember
 * where they were written, so every fault can name its line and column. */
#ifndef EG_PROFILE_INTERNAL_H
#define EG_PROFILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef enum eg_profile_node_kind {
    EG_NODE_SCALAR,
    EG_NODE_LIST,
    EG_NODE_MAP,
    EG_NODE_ALIAS, /* *name: refused by the schema, kept to say where */
} eg_profile_node_kind;

typedef struct eg_profile_node {
    eg_profile_node_kind kind;
    unsigned line, column; /* 1-based, where the node starts */
    char *text;            /* scalar: the value, NUL-terminated; alias: its anchor name */
    size_t len;            /* scalar: bytes of text (a "\0" escape may sit inside) */
    int plain;             /* scalar written without quotes or block indicators */
    char *anchor, *tag;    /* &anchor and !tag as written; NULL when none */
    /* list: its items; map: key, value, key, value, ... (n counts nodes, 2 per pair) */
    struct eg_profile_node **items;
    size_t n;
} eg_profile_node;

/* Parses one YAML document of len bytes (UTF-8) into *out, which the caller frees with
 * eg_profile_node_free(); *out = NULL on error. name is the file's name for messages.
 * EG_EINVAL with "NAME:LINE:COLUMN: " in front of the message for text that is not
 * UTF-8, holds a tab or a control character, is not YAML, is empty, holds more than
 * one document or nests too deep. */
int eg_profile_yaml_parse(eg_profile_node **out, const char *name, const uint8_t *data, size_t len);

void eg_profile_node_free(eg_profile_node *n);

#endif
