#include "app.h"

#include "core/buf.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

void sim_app_output_free(sim_app_output *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->lines[i].text);
    free(a->lines);
    a->lines = NULL;
    a->n = 0;
}

/* Parses one line (without its end) into *out. */
static int parse_line(sim_app_line *out, const char *path, size_t lineno, const char *s, size_t len)
{
    out->delay_ms = SIM_APP_LINE_MS;
    out->text = NULL;
    if (len > SIM_APP_LINE_MAX)
        return eg_error_set(EG_EINVAL, "--app-output '%s' line %zu: longer than %d characters",
                            path, lineno, SIM_APP_LINE_MAX);
    if (len >= 2 && s[0] == '@' && s[1] == '@') {
        s++;
        len--;
    } else if (len >= 1 && s[0] == '@') {
        size_t i = 1;
        unsigned long ms = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && ms <= SIM_APP_DELAY_MAX)
            ms = ms * 10 + (unsigned long)(s[i++] - '0');
        if (i == 1 || ms > SIM_APP_DELAY_MAX || (i < len && s[i] != ' '))
            return eg_error_set(EG_EINVAL,
                                "--app-output '%s' line %zu: '@' must be followed by a delay "
                                "in milliseconds (0 to %d) and a space (write '@@' for a line "
                                "that starts with '@')",
                                path, lineno, SIM_APP_DELAY_MAX);
        out->delay_ms = (unsigned)ms;
        if (i == len)
            return 0; /* a pause */
        s += i + 1;
        len -= i + 1;
    }
    out->text = malloc(len + 1);
    if (!out->text)
        return eg_error_set(EG_ENOMEM, "out of memory");
    memcpy(out->text, s, len);
    out->text[len] = '\0';
    return 0;
}

int sim_app_output_load(sim_app_output *out, const char *path)
{
    eg_buf file = EG_BUF_INIT;
    size_t pos = 0, lineno = 0, cap = 0;
    int rc;

    out->lines = NULL;
    out->n = 0;
    if ((rc = eg_buf_read_file(&file, path)) < 0) {
        rc = eg_error_prefix(rc, "--app-output: ");
        goto done;
    }
    while (pos < file.len) {
        const char *s = (const char *)file.data + pos;
        const char *nl = memchr(s, '\n', file.len - pos);
        size_t len = nl ? (size_t)(nl - s) : file.len - pos;

        pos += len + (nl != NULL);
        lineno++;
        if (len > 0 && s[len - 1] == '\r')
            len--;
        if (out->n == SIM_APP_LINES_MAX) {
            rc = eg_error_set(EG_EINVAL, "--app-output '%s': more than %d lines", path,
                              SIM_APP_LINES_MAX);
            goto done;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            sim_app_line *grown = realloc(out->lines, ncap * sizeof(*grown));
            if (!grown) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
            out->lines = grown;
            cap = ncap;
        }
        if ((rc = parse_line(&out->lines[out->n], path, lineno, s, len)) < 0)
            goto done;
        out->n++;
    }
done:
    eg_buf_release(&file);
    return rc;
}

void sim_app_line_format(const sim_app_line *line, const char *mac, char *dst, size_t dstlen)
{
    const char *s = line->text ? line->text : "";
    size_t o = 0;

    while (*s && o + 1 < dstlen) {
        if (strncmp(s, "{mac}", 5) == 0) {
            size_t m = strlen(mac);
            if (o + m >= dstlen)
                break;
            memcpy(dst + o, mac, m);
            o += m;
            s += 5;
        } else {
            dst[o++] = *s++;
        }
    }
    dst[o] = '\0';
}
