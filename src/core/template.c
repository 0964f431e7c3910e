#include "core/template.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eg_template_free(eg_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->parts[i].text);
        free(t->parts[i].source);
    }
    free(t->parts);
    free(t->text);
    free(t);
}

static int add_part(eg_template *t, eg_template_part *p)
{
    eg_template_part *grown = realloc(t->parts, (t->n + 1) * sizeof(*grown));
    if (!grown)
        return eg_error_set(EG_ENOMEM, "out of memory");
    t->parts = grown;
    t->parts[t->n++] = *p;
    return 0;
}

/* The known names as "{a}, {b}" for messages. */
static void list_names(char *dst, size_t len, const char *const *names, size_t n)
{
    size_t at = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < n && at < len; i++)
        at += (size_t)snprintf(dst + at, len - at, "%s{%s}", i ? ", " : "", names[i]);
}

int eg_template_parse(eg_template **out, const char *text, const char *const *names, size_t n,
                      unsigned *column)
{
    eg_template *t = calloc(1, sizeof(*t));
    char *lit = NULL;
    size_t lit_len = 0, len = strlen(text);
    int rc = 0;

    *out = NULL;
    if (column)
        *column = 0;
    if (!t || !(t->text = strdup(text)) || !(lit = malloc(len + 1))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i <= len; i++) {
        char c = text[i];
        if ((c == '{' && text[i + 1] == '{') || (c == '}' && text[i + 1] == '}')) {
            lit[lit_len++] = c;
            i++;
            continue;
        }
        if (c == '}') {
            if (column)
                *column = (unsigned)i + 1;
            rc = eg_error_set(EG_EINVAL, "'}' without its '{' (a literal brace is '}}')");
            goto fail;
        }
        if (c != '{' && c != '\0') {
            lit[lit_len++] = c;
            continue;
        }
        if (lit_len) {
            eg_template_part p = {0};
            if (!(p.text = strndup(lit, lit_len)) || (rc = add_part(t, &p)) < 0) {
                free(p.text);
                rc = rc < 0 ? rc : eg_error_set(EG_ENOMEM, "out of memory");
                goto fail;
            }
            lit_len = 0;
        }
        if (c == '\0')
            break;
        /* A field: {name} or {name:0N}. */
        const char *end = strchr(text + i, '}');
        if (column)
            *column = (unsigned)i + 1;
        if (!end) {
            rc = eg_error_set(EG_EINVAL, "'{' without its '}' (a literal brace is '{{')");
            goto fail;
        }
        size_t flen = (size_t)(end - text - i) + 1;
        const char *name = text + i + 1, *colon = memchr(name, ':', (size_t)(end - name));
        size_t nlen = (size_t)((colon ? colon : end) - name);
        eg_template_part p = {0};
        if (colon) {
            const char *w = colon + 1;
            char *stop;
            unsigned long width = w < end && *w == '0' ? strtoul(w, &stop, 10) : 0;
            if (w >= end || *w != '0' || stop != end || width == 0 || width > 32) {
                rc = eg_error_set(EG_EINVAL,
                                  "'%.*s': a field's width is written '0N' (1 to 32), as in "
                                  "{seq:06}",
                                  (int)flen, text + i);
                goto fail;
            }
            p.width = (unsigned)width;
        }
        size_t k;
        for (k = 0; k < n; k++)
            if (strlen(names[k]) == nlen && strncmp(names[k], name, nlen) == 0)
                break;
        if (k == n) {
            char known[256];
            list_names(known, sizeof(known), names, n);
            rc = eg_error_set(EG_EINVAL, "unknown field '{%.*s}' (known: %s)", (int)nlen, name,
                              known);
            goto fail;
        }
        snprintf(p.field, sizeof(p.field), "%s", names[k]);
        if (!(p.source = strndup(text + i, flen)) || (rc = add_part(t, &p)) < 0) {
            free(p.source);
            rc = rc < 0 ? rc : eg_error_set(EG_ENOMEM, "out of memory");
            goto fail;
        }
        i += flen - 1;
    }
    free(lit);
    if (column)
        *column = 0;
    *out = t;
    return 0;
fail:
    free(lit);
    eg_template_free(t);
    return rc;
}

int eg_template_uses(const eg_template *t, const char *name)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (!t->parts[i].text && strcmp(t->parts[i].field, name) == 0)
            return 1;
    return 0;
}

int eg_template_render(char *dst, size_t len, const eg_template *t, eg_template_value value,
                       void *ctx)
{
    size_t at = 0;

    if (!len)
        return eg_error_set(EG_EINVAL, "no room");
    dst[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        const eg_template_part *p = &t->parts[i];
        const char *v = p->text ? p->text : value(ctx, p->field);
        size_t vlen, pad = 0;
        if (!v)
            v = p->source; /* left as written */
        else if (!p->text && strlen(v) < p->width)
            pad = p->width - strlen(v);
        vlen = strlen(v);
        if (at + pad + vlen >= len)
            return eg_error_set(EG_EINVAL, "'%s' is longer than %zu characters once filled in",
                                t->text, len - 1);
        memset(dst + at, '0', pad);
        memcpy(dst + at + pad, v, vlen);
        at += pad + vlen;
        dst[at] = '\0';
    }
    return 0;
}
