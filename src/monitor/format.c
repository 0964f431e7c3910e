#include "monitor/format.h"

#include "core/buf.h"
#include "core/error.h"
#include "monitor/defmt.h"

#include <stdlib.h>
#include <string.h>

/* ---- serial: the bytes are the text ------------------------------------------------- */

static int serial_feed(eg_monitor_format *f, const uint8_t *data, size_t len,
                       eg_monitor_text_fn text, void *ctx)
{
    (void)f;
    return len ? text(ctx, (const char *)data, len) : 0;
}

static void serial_free(eg_monitor_format *f)
{
    free(f);
}

static const eg_monitor_format_ops serial_ops = {"serial", serial_feed, NULL, serial_free};

static int serial_new(eg_monitor_format **out, const eg_monitor_format_opts *o)
{
    (void)o;
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return eg_error_set(EG_ENOMEM, "out of memory");
    (*out)->ops = &serial_ops;
    return 0;
}

/* ---- defmt ------------------------------------------------------------------------ */

/* The defmt decoder (monitor/defmt.h) behind the log-format interface. */

typedef struct defmt_format {
    eg_monitor_format base;
    eg_defmt_table *table;
    eg_defmt_decoder *dec;
    eg_defmt_format *fmt;
    unsigned flags; /* EG_DEFMT_COLOR */
    eg_buf line;
    int mid_line; /* the text so far did not end its line */
    /* During a feed: where text goes, and its first failure. */
    eg_monitor_text_fn text;
    void *ctx;
    int rc;
} defmt_format;

/* One piece of what the decoder found: text as it came, a frame as a line of its own. */
static void defmt_emit(void *ctx, const eg_defmt_line *l)
{
    defmt_format *d = ctx;
    int rc;

    if (d->rc < 0)
        return;
    if (l->kind == EG_DEFMT_TEXT) {
        if (l->text_len) {
            d->mid_line = l->text[l->text_len - 1] != '\n';
            d->rc = d->text(d->ctx, (const char *)l->text, l->text_len);
        }
        return;
    }
    eg_buf_clear(&d->line);
    if ((d->mid_line && (rc = eg_buf_push(&d->line, '\n')) < 0) ||
        (rc = eg_defmt_format_line(d->fmt, l, d->flags, &d->line)) < 0 ||
        (rc = eg_buf_push(&d->line, '\n')) < 0) {
        d->rc = rc;
        return;
    }
    d->mid_line = 0;
    d->rc = d->text(d->ctx, (const char *)d->line.data, d->line.len);
}

static int defmt_feed(eg_monitor_format *f, const uint8_t *data, size_t len,
                      eg_monitor_text_fn text, void *ctx)
{
    defmt_format *d = (defmt_format *)f;
    int rc;

    d->text = text;
    d->ctx = ctx;
    d->rc = 0;
    rc = eg_defmt_decoder_feed(d->dec, data, len, defmt_emit, d);
    return rc < 0 ? rc : d->rc;
}

static void defmt_free(eg_monitor_format *f)
{
    defmt_format *d = (defmt_format *)f;

    eg_defmt_format_free(d->fmt);
    eg_defmt_decoder_free(d->dec);
    eg_defmt_table_free(d->table);
    eg_buf_release(&d->line);
    free(d);
}

static const eg_monitor_format_ops defmt_ops = {"defmt", defmt_feed, NULL, defmt_free};

static int defmt_new(eg_monitor_format **out, const eg_monitor_format_opts *o)
{
    defmt_format *d;
    int rc;

    *out = NULL;
    if (!o->elf_path)
        return eg_error_set(EG_EUNSUPPORTED,
                            "defmt frames are decoded with the ELF's defmt table: give --elf FILE");
    d = calloc(1, sizeof(*d));
    if (!d)
        return eg_error_set(EG_ENOMEM, "out of memory");
    d->base.ops = &defmt_ops;
    d->flags = o->color ? EG_DEFMT_COLOR : 0;
    if ((rc = eg_defmt_table_load(&d->table, o->elf_path)) < 0 ||
        (rc = eg_defmt_decoder_new(&d->dec, d->table, 0)) < 0 ||
        (rc = eg_defmt_format_new(&d->fmt, o->output_format, d->table)) < 0) {
        defmt_free(&d->base);
        return rc;
    }
    *out = &d->base;
    return 0;
}

const char *eg_monitor_format_warning(const eg_monitor_format *f)
{
    if (f && f->ops == &defmt_ops)
        return eg_defmt_format_warning(((const defmt_format *)f)->fmt);
    return NULL;
}

static const struct {
    const char *name;
    int (*make)(eg_monitor_format **out, const eg_monitor_format_opts *o);
} formats[] = {
    {"serial", serial_new},
    {"defmt", defmt_new},
};

int eg_monitor_format_new(eg_monitor_format **out, const char *name,
                          const eg_monitor_format_opts *o)
{
    static const eg_monitor_format_opts none = {NULL, NULL, NULL, 0};

    *out = NULL;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(formats[i].name, name) == 0)
            return formats[i].make(out, o ? o : &none);
    return eg_error_set(EG_EINVAL, "unknown log format '%s' (known: %s)", name,
                        eg_monitor_format_names());
}

void eg_monitor_format_free(eg_monitor_format *f)
{
    if (f)
        f->ops->free(f);
}

const char *eg_monitor_format_for_elf(const eg_elf *elf)
{
    if (elf && elf->log_format && strcmp(elf->log_format, "defmt-espflash") == 0)
        return "defmt";
    return "serial";
}

const char *eg_monitor_format_names(void)
{
    return "serial, defmt";
}
