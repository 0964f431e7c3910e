/* The policy's names and its defaults. */
#include "plan/policy.h"

#include "core/error.h"

#include <string.h>

static const char *const step_names[EG_STEP_COUNT] = {
    "connect", "identify", "check", "erase", "write", "verify", "finish", "boot",
};
static const char *const erase_names[] = {"none", "regions", "all"};

#define N_ERASE (sizeof(erase_names) / sizeof(erase_names[0]))

const char *eg_step_name(eg_step step)
{
    return (unsigned)step < EG_STEP_COUNT ? step_names[step] : "?";
}

int eg_step_parse(eg_step *out, const char *s)
{
    for (unsigned i = 0; i < EG_STEP_COUNT; i++)
        if (strcmp(s, step_names[i]) == 0) {
            *out = (eg_step)i;
            return 0;
        }
    return eg_error_set(EG_EINVAL,
                        "unknown step '%s' (connect, identify, check, erase, write, verify, "
                        "finish, boot)",
                        s);
}

const char *eg_erase_policy_name(eg_erase_policy p)
{
    return (unsigned)p < N_ERASE ? erase_names[p] : "?";
}

int eg_erase_policy_parse(eg_erase_policy *out, const char *s)
{
    for (unsigned i = 0; i < N_ERASE; i++)
        if (strcmp(s, erase_names[i]) == 0) {
            *out = (eg_erase_policy)i;
            return 0;
        }
    return eg_error_set(EG_EINVAL, "unknown erase policy '%s' (none, regions or all)", s);
}

void eg_policy_default(eg_policy *out)
{
    memset(out, 0, sizeof(*out));
    out->erase = EG_ERASE_NONE;
    out->verify_md5 = 1;
    out->verify_readback = 0;
    out->skip_same = 1;
    out->before = EG_BEFORE_DEFAULT_RESET;
    out->after = EG_AFTER_HARD_RESET;
}
