#include "core/num.h"

#include "core/error.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static int digit_value(char c, unsigned base)
{
    int v;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    else
        return -1;
    return (unsigned)v < base ? v : -1;
}

int eg_num_parse(uint64_t *out, const char *s, uint64_t max)
{
    const char *p = s;
    unsigned base = 10;
    uint64_t v = 0, mult = 1;
    int digits = 0;

    *out = 0;
    if (!s || !*s)
        return eg_error_set(EG_EINVAL, "empty number");
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; *p; p++) {
        /* '_' may group digits (0x1_0000, 1_000_000), as in Rust: between two digits. */
        if (*p == '_' && digits > 0 && digit_value(p[1], base) >= 0)
            continue;
        int d = digit_value(*p, base);
        if (d < 0)
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return eg_error_set(EG_EINVAL, "number '%s' is too large", s);
        v = v * base + (uint64_t)d;
        digits++;
    }
    if (digits == 0)
        return eg_error_set(EG_EINVAL, "'%s' is not a number", s);
    if (*p) {
        if (base == 16)
            return eg_error_set(EG_EINVAL, "'%s' is not a number", s);
        if (strcasecmp(p, "k") == 0 || strcasecmp(p, "kb") == 0 || strcasecmp(p, "kib") == 0)
            mult = 1024;
        else if (strcasecmp(p, "m") == 0 || strcasecmp(p, "mb") == 0 || strcasecmp(p, "mib") == 0)
            mult = 1024 * 1024;
        else if (strcasecmp(p, "b") == 0)
            mult = 1;
        else
            return eg_error_set(EG_EINVAL, "'%s' is not a number (unknown suffix '%s')", s, p);
        if (v > UINT64_MAX / mult)
            return eg_error_set(EG_EINVAL, "number '%s' is too large", s);
        v *= mult;
    }
    if (v > max)
        return eg_error_set(EG_EINVAL, "number '%s' is too large (at most 0x%llx)", s,
                            (unsigned long long)max);
    *out = v;
    return 0;
}

int eg_num_parse_u32(uint32_t *out, const char *s)
{
    uint64_t v;
    int rc = eg_num_parse(&v, s, UINT32_MAX);
    *out = rc == 0 ? (uint32_t)v : 0;
    return rc;
}

void eg_num_format_size(char *dst, unsigned dstlen, uint64_t bytes)
{
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(dst, dstlen, "%lluMB", (unsigned long long)(bytes >> 20));
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(dst, dstlen, "%lluKB", (unsigned long long)(bytes >> 10));
    else
        snprintf(dst, dstlen, "%lluB", (unsigned long long)bytes);
}
