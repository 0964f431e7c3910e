#include "core/modes.h"

#include "core/error.h"

static const char *const before_names[] = {"default-reset", "usb-reset", "no-reset",
                                           "no-reset-no-sync"};
static const char *const after_names[] = {"hard-reset", "no-reset", "watchdog-reset"};

/* Finds s in names, accepting '_' for '-' as older tools spell them. */
static int lookup_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++) {
        const char *a = names[i], *b = s;
        while (*a && (*a == *b || (*a == '-' && *b == '_'))) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return i;
    }
    return -1;
}

int eg_before_parse(eg_before *out, const char *s)
{
    int i = lookup_name(before_names, 4, s);
    if (i < 0)
        return eg_error_set(EG_EINVAL,
                            "unknown --before '%s' (default-reset, usb-reset, no-reset, "
                            "no-reset-no-sync)",
                            s);
    *out = (eg_before)i;
    return 0;
}

int eg_after_parse(eg_after *out, const char *s)
{
    int i = lookup_name(after_names, 3, s);
    if (i < 0)
        return eg_error_set(EG_EINVAL,
                            "unknown --after '%s' (hard-reset, no-reset, watchdog-reset)", s);
    *out = (eg_after)i;
    return 0;
}

const char *eg_before_name(eg_before b)
{
    return (unsigned)b < 4 ? before_names[b] : "?";
}

const char *eg_after_name(eg_after a)
{
    return (unsigned)a < 3 ? after_names[a] : "?";
}
