/* ELF files as flash and save-image read them: parsed, then (when they parse) made
 * into an app image for every chip of their CPU; and the bytes as an app image. */
#include "chip/chip.h"
#include "core/buf.h"
#include "fuzz.h"
#include "image/elf.h"
#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eg_elf *elf = NULL;
    eg_image_info info;
    size_t n;
    const eg_chip *chips = eg_chip_all(&n);

    eg_image_parse(&info, data, size);
    if (eg_elf_parse(&elf, data, size, "fuzz.elf") < 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        eg_image_opts o;
        eg_buf out = EG_BUF_INIT;
        eg_image_opts_default(&o);
        o.require_app_desc = i % 2;
        eg_image_from_elf(&out, elf, &chips[i], &o);
        eg_buf_release(&out);
    }
    eg_elf_free(elf);
    return 0;
}
