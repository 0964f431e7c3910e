/* A profile's YAML (libyaml's event parser) read into a tree of nodes with their
 * marks. Anchors, aliases and tags are kept as written for the schema to refuse with
 * the key's name; what makes the text itself unusable is refused here. */
#include "profile/internal.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 32

typedef struct reader {
    yaml_parser_t parser;
    const char *name;
    const uint8_t *data;
    size_t len;
} reader;

/* Line and column (1-based, in characters) of the byte at offset. */
static void position(unsigned *line, unsigned *column, const uint8_t *data, size_t len,
                     size_t offset)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (data[i] == '\n') {
            ++*line;
            *column = 1;
        } else if ((data[i] & 0xC0) != 0x80) {
            ++*column;
        }
    }
}

/* libyaml's error as ours, with its place. */
static int parse_error(const reader *r)
{
    const yaml_parser_t *p = &r->parser;
    const char *problem = p->problem ? p->problem : "cannot parse";
    unsigned line, column;

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return eg_error_set(EG_ENOMEM, "out of memory");
    case YAML_READER_ERROR:
        position(&line, &column, r->data, r->len, p->problem_offset);
        if (strstr(problem, "UTF-8") && p->problem_value >= 0)
            return eg_error_set(EG_EINVAL, "%s:%u:%u: not UTF-8 text (%s 0x%02x)", r->name, line,
                                column, problem, (unsigned)p->problem_value);
        if (strstr(problem, "UTF-8"))
            return eg_error_set(EG_EINVAL, "%s:%u:%u: not UTF-8 text (%s)", r->name, line, column,
                                problem);
        if (p->problem_value >= 0)
            return eg_error_set(EG_EINVAL, "%s:%u:%u: %s (character 0x%02x)", r->name, line, column,
                                problem, (unsigned)p->problem_value);
        return eg_error_set(EG_EINVAL, "%s:%u:%u: %s", r->name, line, column, problem);
    default:
        line = (unsigned)p->problem_mark.line + 1;
        column = (unsigned)p->problem_mark.column + 1;
        if (p->context)
            return eg_error_set(EG_EINVAL, "%s:%u:%u: not valid YAML: %s (%s at %u:%u)", r->name,
                                line, column, problem, p->context,
                                (unsigned)p->context_mark.line + 1,
                                (unsigned)p->context_mark.column + 1);
        return eg_error_set(EG_EINVAL, "%s:%u:%u: not valid YAML: %s", r->name, line, column,
                            problem);
    }
}

static int next(yaml_event_t *ev, reader *r)
{
    if (!yaml_parser_parse(&r->parser, ev))
        return parse_error(r);
    return 0;
}

static char *dup_text(const yaml_char_t *s, size_t len)
{
    char *t = malloc(len + 1);
    if (t) {
        memcpy(t, s, len);
        t[len] = '\0';
    }
    return t;
}

void eg_profile_node_free(eg_profile_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        eg_profile_node_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n->anchor);
    free(n->tag);
    free(n);
}

static int append(eg_profile_node *parent, eg_profile_node *child)
{
    if ((parent->n & (parent->n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to twice */
        size_t cap = parent->n ? parent->n * 2 : 4;
        eg_profile_node **items = realloc(parent->items, cap * sizeof(*items));
        if (!items)
            return eg_error_set(EG_ENOMEM, "out of memory");
        parent->items = items;
    }
    parent->items[parent->n++] = child;
    return 0;
}

/* Builds the node that starts with ev (which this deletes) and everything inside. */
static int build(eg_profile_node **out, reader *r, yaml_event_t *ev, unsigned depth)
{
    eg_profile_node *n = calloc(1, sizeof(*n));
    const yaml_char_t *anchor = NULL, *tag = NULL;
    yaml_event_type_t end = YAML_NO_EVENT;
    int rc = 0;

    *out = NULL;
    if (!n) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    n->line = (unsigned)ev->start_mark.line + 1;
    n->column = (unsigned)ev->start_mark.column + 1;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n->kind = EG_NODE_SCALAR;
        n->len = ev->data.scalar.length;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        if (!(n->text = dup_text(ev->data.scalar.value, n->len)))
            rc = eg_error_set(EG_ENOMEM, "out of memory");
        break;
    case YAML_ALIAS_EVENT:
        n->kind = EG_NODE_ALIAS;
        if (!(n->text = dup_text(ev->data.alias.anchor, strlen((char *)ev->data.alias.anchor))))
            rc = eg_error_set(EG_ENOMEM, "out of memory");
        break;
    case YAML_SEQUENCE_START_EVENT:
        n->kind = EG_NODE_LIST;
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        end = YAML_SEQUENCE_END_EVENT;
        break;
    case YAML_MAPPING_START_EVENT:
        n->kind = EG_NODE_MAP;
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        end = YAML_MAPPING_END_EVENT;
        break;
    default:
        rc = eg_error_set(EG_EINVAL, "%s:%u:%u: not valid YAML: unexpected event %d", r->name,
                          n->line, n->column, (int)ev->type);
        break;
    }
    if (rc == 0 && ((anchor && !(n->anchor = strdup((const char *)anchor))) ||
                    (tag && !(n->tag = strdup((const char *)tag)))))
        rc = eg_error_set(EG_ENOMEM, "out of memory");
    if (rc == 0 && end != YAML_NO_EVENT && depth >= MAX_DEPTH)
        rc = eg_error_set(EG_EINVAL, "%s:%u:%u: nested deeper than %d levels", r->name, n->line,
                          n->column, MAX_DEPTH);
    yaml_event_delete(ev);
    while (rc == 0 && end != YAML_NO_EVENT) {
        eg_profile_node *child;
        if ((rc = next(ev, r)) < 0)
            break;
        if (ev->type == end) {
            yaml_event_delete(ev);
            break;
        }
        if ((rc = build(&child, r, ev, depth + 1)) < 0)
            break;
        if ((rc = append(n, child)) < 0)
            eg_profile_node_free(child);
    }
done:
    if (rc < 0)
        eg_profile_node_free(n);
    else
        *out = n;
    return rc;
}

/* A tab anywhere: YAML refuses them in indentation and libyaml's message for that says
 * little, so a profile uses spaces throughout. */
static int find_tab(const reader *r)
{
    const uint8_t *tab = memchr(r->data, '\t', r->len);
    unsigned line, column;

    if (!tab)
        return 0;
    position(&line, &column, r->data, r->len, (size_t)(tab - r->data));
    return eg_error_set(EG_EINVAL,
                        "%s:%u:%u: a tab character: a profile is indented and spaced "
                        "with spaces only",
                        r->name, line, column);
}

int eg_profile_yaml_parse(eg_profile_node **out, const char *name, const uint8_t *data, size_t len)
{
    reader r = {.name = name, .data = data, .len = len};
    eg_profile_node *root = NULL;
    yaml_event_t ev;
    int rc;

    *out = NULL;
    if ((rc = find_tab(&r)) < 0)
        return rc;
    if (!yaml_parser_initialize(&r.parser))
        return eg_error_set(EG_ENOMEM, "out of memory");
    yaml_parser_set_encoding(&r.parser, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&r.parser, data, len);
    if ((rc = next(&ev, &r)) < 0) /* stream start */
        goto done;
    yaml_event_delete(&ev);
    if ((rc = next(&ev, &r)) < 0)
        goto done;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        rc = eg_error_set(EG_EINVAL, "%s:1:1: the profile is empty", name);
        goto done;
    }
    yaml_event_delete(&ev); /* document start */
    if ((rc = next(&ev, &r)) < 0 || (rc = build(&root, &r, &ev, 0)) < 0)
        goto done;
    if ((rc = next(&ev, &r)) < 0) /* document end */
        goto done;
    yaml_event_delete(&ev);
    if ((rc = next(&ev, &r)) < 0)
        goto done;
    if (ev.type != YAML_STREAM_END_EVENT)
        rc = eg_error_set(EG_EINVAL, "%s:%u:%u: a second YAML document: a profile is one document",
                          name, (unsigned)ev.start_mark.line + 1,
                          (unsigned)ev.start_mark.column + 1);
    yaml_event_delete(&ev);
done:
    yaml_parser_delete(&r.parser);
    if (rc < 0)
        eg_profile_node_free(root);
    else
        *out = root;
    return rc;
}
