/* The TOML reader of espflash's files. */
#include "config/toml.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eg_toml *t = NULL;
    if (eg_toml_parse(&t, "fuzz.toml", (const char *)data, size) == 0)
        eg_toml_free(t);
    return 0;
}
