/* Flash mode, size and frequency: what users type, and the image header's codes. */
#include "core/error.h"
#include "image/image.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = {"qio", "qout", "dio", "dout"};

int eg_flash_mode_parse(uint8_t *out, const char *s)
{
    for (uint8_t i = 0; i < 4; i++)
        if (strcasecmp(s, mode_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return eg_error_set(EG_EINVAL, "unknown flash mode '%s' (qio, qout, dio or dout)", s);
}

const char *eg_flash_mode_name(uint8_t mode)
{
    return mode < 4 ? mode_names[mode] : "?";
}

int eg_flash_size_code(uint8_t *out, uint32_t size)
{
    for (uint8_t code = 0; code < 8; code++)
        if (size == (0x100000u << code)) {
            *out = code;
            return 0;
        }
    return eg_error_set(EG_EINVAL,
                        "a flash size of %u bytes cannot go in an image header "
                        "(1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB or 128MB)",
                        size);
}

uint32_t eg_flash_size_from_code(uint8_t code)
{
    return code < 8 ? 0x100000u << code : 0;
}

int eg_flash_size_parse(uint32_t *out, uint8_t *code, const char *s)
{
    char *end;
    unsigned long mb = strtoul(s, &end, 10);
    uint8_t c = 0;

    if (end == s || !isdigit((unsigned char)s[0]) ||
        (strcasecmp(end, "MB") != 0 && strcasecmp(end, "M") != 0 && strcasecmp(end, "MiB") != 0) ||
        mb == 0 || mb > 128 || eg_flash_size_code(&c, (uint32_t)mb << 20) < 0)
        return eg_error_set(EG_EINVAL,
                            "unknown flash size '%s' (1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB "
                            "or 128MB)",
                            s);
    *out = (uint32_t)mb << 20;
    if (code)
        *code = c;
    return 0;
}

int eg_flash_freq_parse(uint8_t *out, const eg_chip *chip, const char *s)
{
    char *end;
    unsigned long mhz = strtoul(s, &end, 10);
    char known[64] = "";

    if (end != s && isdigit((unsigned char)s[0]) &&
        (strcasecmp(end, "m") == 0 || strcasecmp(end, "mhz") == 0)) {
        for (const eg_flash_freq *f = chip->flash_freqs; f < chip->flash_freqs + 5 && f->name; f++)
            if ((unsigned long)strtoul(f->name, NULL, 10) == mhz) {
                *out = f->code;
                return 0;
            }
    }
    for (const eg_flash_freq *f = chip->flash_freqs; f < chip->flash_freqs + 5 && f->name; f++) {
        if (known[0])
            strncat(known, ", ", sizeof(known) - strlen(known) - 1);
        strncat(known, f->name, sizeof(known) - strlen(known) - 1);
    }
    return eg_error_set(EG_EINVAL, "flash frequency '%s' is not one %s can use (%s)", s, chip->name,
                        known);
}

const char *eg_flash_freq_name(const eg_chip *chip, uint8_t code)
{
    for (const eg_flash_freq *f = chip->flash_freqs; f < chip->flash_freqs + 5 && f->name; f++)
        if (f->code == code)
            return f->name;
    return "?";
}
