/* The --before and --after modes: their names, as esptool spells them. */
#include "core/modes.h"

#include "core/error.h"

#include <stddef.h>

static const char *const before_names[] = {"default-reset", "usb-reset", "no-reset",
                                           "no-reset-no-sync"};
static const char *const after_names[] = {"hard-reset", "no-reset", "watchdog-reset",
                                          "no-reset-no-stub"};

#define N_BEFORE (sizeof(before_names) / sizeof(before_names[0]))
#define N_AFTER  (sizeof(after_names) / sizeof(after_names[0]))

/* Finds s in names, accepting '_' for '-' as older tools spell them; -1 if absent. */
static int lookup_name(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        const char *a = names[i], *b = s;
        while (*a && (*a == *b || (*a == '-' && *b == '_'))) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return (int)i;
    }
    return -1;
}

int eg_before_parse(eg_before *out, const char *s)
{
    int i = lookup_name(before_names, N_BEFORE, s);
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
    int i = lookup_name(after_names, N_AFTER, s);
    if (i < 0)
        return eg_error_set(
            EG_EINVAL,
            "unknown --after '%s' (hard-reset, no-reset, no-reset-no-stub, watchdog-reset)", s);
    *out = (eg_after)i;
    return 0;
}

const char *eg_before_name(eg_before b)
{
    return (unsigned)b < N_BEFORE ? before_names[b] : "?";
}

int eg_after_stays(eg_after a)
{
    return a == EG_AFTER_NO_RESET || a == EG_AFTER_NO_RESET_NO_STUB;
}

const char *eg_after_name(eg_after a)
{
    return (unsigned)a < N_AFTER ? after_names[a] : "?";
}
