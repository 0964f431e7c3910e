#include "cli/cmds.h"

#include "core/error.h"
#include "core/hash.h"

#include <stdio.h>
#include <string.h>

/* The memory kind of addr on chip ("DROM", "IRAM", ...), or "-" when unknown. */
static const char *kind_of(const eg_chip *chip, uint32_t addr)
{
    if (!chip)
        return "-";
    if (addr == 0)
        return "padding";
    for (unsigned i = 0; i < chip->memory_map_len; i++)
        if (addr >= chip->memory_map[i].start && addr < chip->memory_map[i].end)
            return chip->memory_map[i].kind;
    return "-";
}

static void print_rev(uint16_t rev)
{
    if (rev == 0xFFFF)
        printf("any");
    else
        printf("v%u.%u", rev / 100, rev % 100);
}

/* A fixed-size string field of the app descriptor, up to its NUL. */
static void print_field(const char *label, const uint8_t *p, size_t n)
{
    printf("  %-13s %.*s\n", label, (int)strnlen((const char *)p, n), (const char *)p);
}

int cmd_image_info(const eg_command *cmd, eg_args *a)
{
    const char *path = a->pos[0];
    eg_buf data = EG_BUF_INIT;
    eg_image_info info;
    const eg_chip *chip;
    char hex[65];
    int valid;

    (void)cmd;
    if (eg_buf_read_file(&data, path) < 0)
        return eg_cli_fail("%s", eg_error_msg());
    if (eg_image_parse(&info, data.data, data.len) < 0) {
        eg_cli_fail("'%s': %s", path, eg_error_msg());
        eg_buf_release(&data);
        return EG_EXIT_FAIL;
    }
    chip = eg_chip_by_image_id(info.chip_id);
    printf("File:          %s (%zu bytes)\n", path, data.len);
    printf("Chip:          %s (image chip id %u)\n", chip ? chip->name : "unknown", info.chip_id);
    printf("Entry point:   0x%08x\n", info.entry);
    printf("Flash:         mode %s, size %uMB, frequency %s\n", eg_flash_mode_name(info.flash_mode),
           eg_flash_size_from_code(info.flash_size_code) >> 20,
           chip ? eg_flash_freq_name(chip, info.flash_freq_code) : "?");
    printf("Chip revision: ");
    print_rev(info.min_rev_full);
    printf(" to ");
    print_rev(info.max_rev_full);
    printf("\nWP pin:        0x%02x\n", info.wp_pin);
    printf("Segments:      %u\n", info.n_segments);
    printf("  #  address     file offset  length    memory\n");
    for (unsigned i = 0; i < info.n_segments; i++) {
        const eg_image_segment *s = &info.segments[i];
        printf("  %-2u 0x%08x  0x%08x   %-8u  %s\n", i + 1, s->addr, s->file_offset, s->len,
               kind_of(chip, s->addr));
    }
    printf("Checksum:      0x%02x (%s)\n", info.checksum,
           info.checksum == info.checksum_calc ? "valid" : "INVALID");
    if (info.hash_appended) {
        eg_hex(hex, info.digest, 32);
        printf("SHA-256:       %s (%s)\n", hex,
               memcmp(info.digest, info.digest_calc, 32) == 0 ? "valid" : "INVALID");
    } else {
        printf("SHA-256:       not appended\n");
    }
    if (info.has_app_desc) {
        const uint8_t *d = data.data + info.app_desc_offset;
        printf("App descriptor:\n");
        print_field("project:", d + 48, 32);
        print_field("version:", d + 16, 32);
        print_field("IDF version:", d + 112, 32);
        print_field("compiled:", d + 96, 16);
        eg_hex(hex, d + 144, 32);
        printf("  %-13s %s\n", "ELF SHA-256:", hex);
        printf("  %-13s %u\n", "secure ver.:", eg_get_u32le(d + 4));
        if (info.mmu_page_log2)
            printf("  %-13s %u KB\n", "MMU page:", (1u << info.mmu_page_log2) / 1024);
    }
    valid = eg_image_valid(&info);
    eg_buf_release(&data);
    if (!valid)
        return eg_cli_fail("'%s': the image's checksum or SHA-256 does not match its contents",
                           path);
    return EG_EXIT_OK;
}
