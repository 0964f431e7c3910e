/* Text templates with named fields: "WX-{lot}-{seq:06}". A field is {name} or
 * {name:0N} (the value padded on the left with zeros to N characters); "{{" and "}}"
 * are a literal brace. The fields a template may use are fixed when it is parsed, so
 * a misspelt one is an error when the file is read, not on the first board. */
#ifndef EG_CORE_TEMPLATE_H
#define EG_CORE_TEMPLATE_H

#include <stddef.h>

#define EG_TEMPLATE_FIELD_MAX 16

typedef struct eg_template_part {
    char *text;                        /* a literal piece, or NULL for a field */
    char field[EG_TEMPLATE_FIELD_MAX]; /* the field's name */
    unsigned width;                    /* pad to this many characters (0: none) */
    char *source;                      /* the field as written ("{seq:06}") */
} eg_template_part;

typedef struct eg_template {
    char *text; /* as written */
    eg_template_part *parts;
    size_t n;
} eg_template;

/* Parses text into *out (freed with eg_template_free); fields must be among the n
 * names. EG_EINVAL with "unknown field '{x}' (known: {a}, {b})", "'{' without its '}'"
 * and the like, and *column (when not NULL) the 1-based character the fault is at. */
int eg_template_parse(eg_template **out, const char *text, const char *const *names, size_t n,
                      unsigned *column);
void eg_template_free(eg_template *t);

/* Whether t uses the field name. */
int eg_template_uses(const eg_template *t, const char *name);

/* A field's value: a string, or NULL to leave the field as written (a series keeps
 * "{seq:06}"). */
typedef const char *(*eg_template_value)(void *ctx, const char *name);

/* Renders t into dst (len bytes with the NUL). EG_EINVAL when it does not fit. */
int eg_template_render(char *dst, size_t len, const eg_template *t, eg_template_value value,
                       void *ctx);

#endif
