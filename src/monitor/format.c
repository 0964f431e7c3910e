#include "monitor/format.h"

#include "core/error.h"

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

/* ---- defmt ------------------------------------------------------------------------- */

/* INTEGRATION POINT for the defmt decoder (src/monitor/defmt.h): replace defmt_new in
 * the table below with its constructor, which gets the same options (the ELF and its
 * path for the defmt table, -F/--output-format). Until then -L defmt says it is not
 * built yet. */
static int defmt_new(eg_monitor_format **out, const eg_monitor_format_opts *o)
{
    (void)o;
    *out = NULL;
    return eg_error_set(EG_EUNSUPPORTED,
                        "defmt decoding is not built yet: use --log-format serial");
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
    static const eg_monitor_format_opts none = {NULL, NULL, NULL};

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
