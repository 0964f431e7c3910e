/* ELF to app image, following the layout rules of Espressif's elf2image (esptool
 * v5.3.1) so that the same ELF and options give the same bytes; and the parser. */
#include "image/image.h"

#include "core/error.h"
#include "core/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEG_HEADER_LEN  8
#define CHECKSUM_SEED   0xEF
#define ELF_SHA_OFFSET  0xB0 /* image offset of app_elf_sha256 in a flash app descriptor */
#define APP_DESC_NAME   ".flash.appdesc"
#define BOOT_DESC_NAME  ".dram0.bootdesc"
#define SEGMENT_MAX_LEN 0x1000000u

void eg_image_opts_default(eg_image_opts *out)
{
    memset(out, 0, sizeof(*out));
    out->flash_mode = EG_FLASH_DIO;
    out->flash_size_code = 2; /* 4MB */
    out->max_rev_full = 0xFFFF;
    out->require_app_desc = 1;
}

/* A segment being laid out: its own copy of the bytes. */
typedef struct seg {
    uint32_t addr;
    eg_buf data;
    const char *name;
} seg;

/* The next memory-map region at or after *i that holds addr; NULL when none. */
static const char *next_kind(const eg_chip *chip, unsigned *i, uint32_t addr)
{
    for (; *i < chip->memory_map_len; (*i)++) {
        const eg_mem_region *r = &chip->memory_map[*i];
        if (addr >= r->start && addr < r->end) {
            (*i)++;
            return r->kind;
        }
    }
    return NULL;
}

/* The section of elf that chip has no memory for (its start or its end lies outside
 * every region of the chip's memory map), or NULL when the chip holds them all. */
static const eg_elf_section *misplaced(const eg_elf *elf, const eg_chip *chip)
{
    for (size_t i = 0; i < elf->n_sections; i++) {
        const eg_elf_section *es = &elf->sections[i];
        uint32_t last = es->addr + (uint32_t)(es->size ? es->size - 1 : 0);
        unsigned a = 0, b = 0;
        if (!next_kind(chip, &a, es->addr) || !next_kind(chip, &b, last))
            return es;
    }
    return NULL;
}

/* Two addresses are of one memory kind when the regions holding them, in map order,
 * have the same names. */
static int same_memory(const eg_chip *chip, uint32_t a, uint32_t b)
{
    unsigned i = 0, j = 0;
    for (;;) {
        const char *ka = next_kind(chip, &i, a), *kb = next_kind(chip, &j, b);
        if (!ka || !kb)
            return ka == kb;
        if (strcmp(ka, kb) != 0)
            return 0;
    }
}

static uint8_t xor_sum(uint8_t seed, const uint8_t *p, size_t n)
{
    while (n--)
        seed ^= *p++;
    return seed;
}

static int pad_zero(eg_buf *b, size_t n)
{
    static const uint8_t zeros[64];
    int rc = 0;
    while (n && rc == 0) {
        size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
        rc = eg_buf_append(b, zeros, k);
        n -= k;
    }
    return rc;
}

static void segs_free(seg *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eg_buf_release(&s[i].data);
    free(s);
}

/* The MMU page the app is laid out for: asked for, else what its app descriptor (desc,
 * may be NULL) says
 * (or, on chips with a choice, the largest page its address is aligned to), else
 * 64 KiB. */
/* True when the section begins with an app descriptor (its magic word, and room for it). */
static int begins_with_desc(const eg_elf_section *es)
{
    return es->size >= EG_APP_DESC_LEN && eg_get_u32le(es->data) == EG_APP_DESC_MAGIC;
}

static int choose_page(uint32_t *out, const eg_elf_section *desc, const eg_chip *chip,
                       const eg_image_opts *opts)
{
    *out = EG_MMU_PAGE_DEFAULT;
    if (opts->mmu_page_size) {
        uint32_t p = opts->mmu_page_size;
        if (chip->mmu_page_sizes == 0 && p != EG_MMU_PAGE_DEFAULT)
            return eg_error_set(EG_EINVAL, "%s's MMU page size is fixed at 64KB", chip->name);
        if (chip->mmu_page_sizes && ((p & (p - 1)) || !(chip->mmu_page_sizes & p)))
            return eg_error_set(EG_EINVAL, "%u bytes is not an MMU page size %s can use", p,
                                chip->name);
        *out = p;
        return 0;
    }
    if (!desc || !chip->mmu_page_sizes || !eg_chip_addr_in_flash(chip, desc->addr) ||
        !begins_with_desc(desc))
        return 0;
    uint8_t log2 = desc->data[180];
    if (log2) {
        uint32_t p = log2 < 32 ? 1u << log2 : 0;
        if (!(chip->mmu_page_sizes & p))
            return eg_error_set(EG_EINVAL,
                                "the app descriptor asks for an MMU page of 2^%u bytes, which "
                                "%s cannot use",
                                log2, chip->name);
        *out = p;
        return 0;
    }
    for (uint32_t p = 0x80000000u; p; p >>= 1)
        if ((chip->mmu_page_sizes & p) &&
            (desc->addr - EG_IMAGE_HEADER_LEN - SEG_HEADER_LEN) % p == 0) {
            *out = p;
            break;
        }
    return 0;
}

/* The ELF's sections as segments, adjacent ones of one memory kind merged. */
static int collect(seg **out, size_t *count, const eg_elf *elf, const eg_chip *chip)
{
    size_t n = elf->n_sections, kept = 0;
    seg *s = calloc(n ? n : 1, sizeof(*s));
    int rc = 0;

    *out = NULL;
    *count = 0;
    if (!s)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const eg_elf_section *es = &elf->sections[i];
        s[i].addr = es->addr;
        s[i].name = es->name;
        if ((rc = eg_buf_append(&s[i].data, es->data, es->size)) < 0 ||
            (rc = pad_zero(&s[i].data, (4 - es->size % 4) % 4)) < 0) {
            segs_free(s, n);
            return rc;
        }
    }
    /* From the back: a section that starts where the one before it ends, in the same
     * memory, joins it (gaps are never filled: they may be noinit). */
    for (size_t i = n; i-- > 1;) {
        seg *prev = &s[i - 1], *next = &s[i];
        if (next->addr == prev->addr + prev->data.len &&
            same_memory(chip, prev->addr, next->addr)) {
            if ((rc = eg_buf_append(&prev->data, next->data.data, next->data.len)) < 0) {
                segs_free(s, n);
                return rc;
            }
            eg_buf_release(&next->data);
            next->name = NULL; /* merged away */
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i].name == NULL)
            continue;
        s[kept++] = s[i];
    }
    *out = s;
    *count = kept;
    return 0;
}

/* Sorts by address, keeping equal addresses in their order. */
static void sort_by_addr(seg **v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        seg *x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1]->addr > x->addr) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void move_first(seg **v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i]->name, name) == 0) {
            seg *x = v[i];
            memmove(v + 1, v, i * sizeof(*v));
            v[0] = x;
            return;
        }
}

typedef struct writer {
    eg_buf *out;
    uint8_t checksum;
    unsigned count;
    const uint8_t *elf_sha; /* NULL: none to place */
} writer;

static int write_segment(writer *w, uint32_t addr, const uint8_t *data, size_t len,
                         const char *name)
{
    size_t pos = w->out->len;
    int rc;

    if (len % 4)
        return eg_error_set(EG_EINVAL, "segment '%s' is %zu bytes, not a multiple of 4", name, len);
    if (len >= SEGMENT_MAX_LEN)
        return eg_error_set(EG_EINVAL, "segment '%s' is %zu bytes, over the 16 MB limit", name,
                            len);
    if ((rc = eg_buf_append_u32le(w->out, addr)) < 0 ||
        (rc = eg_buf_append_u32le(w->out, (uint32_t)len)) < 0 ||
        (rc = eg_buf_append(w->out, data, len)) < 0)
        return rc;
    /* The app descriptor's app_elf_sha256 gets the ELF's digest. */
    if (w->elf_sha && ELF_SHA_OFFSET >= pos && ELF_SHA_OFFSET < pos + len) {
        size_t at = ELF_SHA_OFFSET - pos;
        static const uint8_t zero[32];
        if (at < SEG_HEADER_LEN || at + 32 > len)
            return eg_error_set(EG_EINVAL, "the app descriptor's ELF digest field straddles a "
                                           "segment boundary");
        if (memcmp(w->out->data + ELF_SHA_OFFSET, zero, 32) != 0)
            return eg_error_set(EG_EINVAL, "the app descriptor's ELF digest field (image offset "
                                           "0xb0) is not zero: refusing to overwrite it");
        memcpy(w->out->data + ELF_SHA_OFFSET, w->elf_sha, 32);
    }
    w->checksum = xor_sum(w->checksum, w->out->data + pos + SEG_HEADER_LEN, len);
    w->count++;
    return 0;
}

/* Data bytes of a padding segment so that, after its header and the next segment's,
 * the file offset matches addr modulo the page; 0 when it already does. */
static uint32_t alignment_needed(uint32_t addr, size_t pos, uint32_t page)
{
    int64_t align_past = (int64_t)(addr % page) - SEG_HEADER_LEN;
    int64_t pad = (int64_t)(page - pos % page) + align_past;
    if (pad == 0 || pad == page)
        return 0;
    pad -= SEG_HEADER_LEN;
    if (pad < 0)
        pad += page;
    return (uint32_t)pad;
}

static int lay_out(writer *w, const eg_chip *chip, seg **flash, size_t n_flash, seg **ram,
                   size_t n_ram, uint32_t page)
{
    size_t fi = 0, ri = 0;
    int rc;

    while (fi < n_flash) {
        seg *s = flash[fi];
        uint32_t pad = alignment_needed(s->addr, w->out->len, page);
        if (pad > 0) {
            if (ri < n_ram && pad > SEG_HEADER_LEN) {
                /* Fill the gap with the start of a RAM segment rather than zeros. */
                seg *r = ram[ri];
                size_t take = pad < r->data.len ? pad : r->data.len;
                if ((rc = write_segment(w, r->addr, r->data.data, take, r->name)) < 0)
                    return rc;
                memmove(r->data.data, r->data.data + take, r->data.len - take);
                r->data.len -= take;
                r->addr += (uint32_t)take;
                if (r->data.len == 0)
                    ri++;
            } else {
                uint8_t *z = calloc(1, pad);
                if (!z)
                    return eg_error_set(EG_ENOMEM, "out of memory");
                rc = write_segment(w, 0, z, pad, s->name);
                free(z);
                if (rc < 0)
                    return rc;
            }
            continue;
        }
        if (chip->flash_segment_min_tail) {
            size_t end = w->out->len + s->data.len + SEG_HEADER_LEN;
            size_t rem = end % page;
            if (rem < chip->flash_segment_min_tail &&
                (rc = pad_zero(&s->data, chip->flash_segment_min_tail - rem)) < 0)
                return rc;
        }
        if ((rc = write_segment(w, s->addr, s->data.data, s->data.len, s->name)) < 0)
            return rc;
        fi++;
    }
    for (; ri < n_ram; ri++)
        if ((rc = write_segment(w, ram[ri]->addr, ram[ri]->data.data, ram[ri]->data.len,
                                ram[ri]->name)) < 0)
            return rc;
    return 0;
}

const eg_elf_section *eg_image_app_desc(const eg_elf *elf, const eg_chip *chip)
{
    const eg_elf_section *desc = eg_elf_find_section(elf, APP_DESC_NAME), *first = NULL;

    if (desc)
        return desc;
    for (size_t i = 0; i < elf->n_sections; i++) {
        const eg_elf_section *es = &elf->sections[i];
        if (!chip && begins_with_desc(es))
            return es;
        if (chip && es->addr >= chip->drom.start && es->addr < chip->drom.end &&
            (!first || es->addr < first->addr))
            first = es;
    }
    return first && begins_with_desc(first) ? first : NULL;
}

int eg_image_check_app_desc(const eg_elf *elf, const eg_chip *chip)
{
    if (eg_image_app_desc(elf, chip))
        return 0;
    if (chip && elf->machine == chip->elf_machine && !eg_image_maps_flash(elf, chip) &&
        !misplaced(elf, chip))
        return eg_error_set(EG_EINVAL,
                            "the ELF maps nothing from flash and has no app descriptor: it "
                            "looks like a bootloader, not an app (give a bootloader with "
                            "--bootloader FILE, as an image: espgang save-image "
                            "--ignore-app-descriptor -c CHIP BOOTLOADER.elf BOOTLOADER.bin)");
    return eg_error_set(EG_EINVAL, "the ELF has no app descriptor (section .flash.appdesc), which "
                                   "ESP-IDF's bootloader expects; esp-hal apps get one from "
                                   "esp_bootloader_esp_idf::esp_app_desc!(), or use "
                                   "--ignore-app-descriptor");
}

int eg_image_maps_flash(const eg_elf *elf, const eg_chip *chip)
{
    for (size_t i = 0; i < elf->n_sections; i++)
        if (eg_chip_addr_in_flash(chip, elf->sections[i].addr))
            return 1;
    return 0;
}

int eg_image_from_elf(eg_buf *out, const eg_elf *elf, const eg_chip *chip,
                      const eg_image_opts *opts)
{
    seg *segs = NULL, **flash = NULL, **ram = NULL;
    size_t n = 0, n_flash = 0, n_ram = 0;
    const eg_elf_section *desc = eg_image_app_desc(elf, chip);
    uint32_t page;
    uint8_t hdr[EG_IMAGE_HEADER_LEN] = {0};
    writer w = {out, CHECKSUM_SEED, 0, NULL};
    int rc;

    if (opts->require_app_desc && !desc && (rc = eg_image_check_app_desc(elf, chip)) < 0)
        return rc;
    if (elf->machine != chip->elf_machine)
        return eg_error_set(EG_EMISMATCH, "the ELF is for %s, but %s is %s",
                            elf->machine == EG_ELF_MACHINE_XTENSA ? "Xtensa" : "RISC-V", chip->name,
                            chip->elf_machine == EG_ELF_MACHINE_XTENSA ? "an Xtensa chip"
                                                                       : "a RISC-V chip");
    /* A section outside the chip's memory map is refused when another chip of the
     * family holds every section: the ELF is built for that one. Outside every map it
     * is let be (the maps, as esptool has them, leave out some memory ESP-IDF uses:
     * the ESP32-P4's SCP/TCM and the top of its L2 memory). */
    const eg_elf_section *off = misplaced(elf, chip);
    if (off) {
        /* Built for another chip of the family? Name those that hold it all. */
        char fits[160] = "";
        size_t count, n_fit = 0, used = 0;
        const eg_chip *all = eg_chip_all(&count), *fit[16];
        for (size_t i = 0; i < count; i++)
            if (&all[i] != chip && all[i].elf_machine == chip->elf_machine &&
                !misplaced(elf, &all[i]) && n_fit < 16)
                fit[n_fit++] = &all[i];
        for (size_t i = 0; i < n_fit; i++) {
            const char *sep = i == 0 ? "" : i + 1 == n_fit ? " or " : ", ";
            int w = snprintf(fits + used, sizeof(fits) - used, "%s%s", sep, fit[i]->name);
            if (w > 0 && (size_t)w < sizeof(fits) - used)
                used += (size_t)w;
        }
        if (n_fit)
            return eg_error_set(EG_EMISMATCH,
                                "section %s at 0x%08x is not in the %s's memory map: the ELF "
                                "looks built for the %s",
                                off->name, off->addr, chip->name, fits);
    }
    if ((rc = choose_page(&page, desc, chip, opts)) < 0)
        return rc;
    if ((rc = collect(&segs, &n, elf, chip)) < 0)
        return rc;
    if (n == 0) {
        rc = eg_error_set(EG_EINVAL, "the ELF has no sections to load");
        goto done;
    }
    if (n > EG_IMAGE_MAX_SEGMENTS) {
        rc = eg_error_set(EG_EINVAL,
                          "the ELF has %zu segments after merging adjacent sections, more than "
                          "the %d an image can hold: check the linker script",
                          n, EG_IMAGE_MAX_SEGMENTS);
        goto done;
    }
    if (!(flash = calloc(n, sizeof(*flash))) || !(ram = calloc(n, sizeof(*ram)))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (eg_chip_addr_in_flash(chip, segs[i].addr))
            flash[n_flash++] = &segs[i];
        else
            ram[n_ram++] = &segs[i];
    }
    sort_by_addr(flash, n_flash);
    sort_by_addr(ram, n_ram);
    move_first(flash, n_flash, APP_DESC_NAME);
    move_first(ram, n_ram, BOOT_DESC_NAME);
    for (size_t i = 1; i < n_flash; i++)
        if (flash[i]->addr / page == flash[i - 1]->addr / page) {
            rc = eg_error_set(EG_EINVAL,
                              "segment at 0x%08x ('%s') lands in the same %u KB flash page as "
                              "the one at 0x%08x ('%s'): the image cannot map both; change the "
                              "linker script to merge them",
                              flash[i]->addr, flash[i]->name, page / 1024, flash[i - 1]->addr,
                              flash[i - 1]->name);
            goto done;
        }
    if (desc && eg_chip_addr_in_flash(chip, desc->addr))
        w.elf_sha = elf->sha256;

    hdr[0] = EG_IMAGE_MAGIC;
    hdr[2] = opts->flash_mode;
    hdr[3] = (uint8_t)(opts->flash_size_code << 4 | (opts->flash_freq_code & 0xF));
    eg_put_u32le(hdr + 4, elf->entry);
    hdr[8] = 0xEE; /* wp pin: none */
    eg_put_u16le(hdr + 12, chip->image_chip_id);
    hdr[14] = opts->min_rev;
    eg_put_u16le(hdr + 15, opts->min_rev_full);
    eg_put_u16le(hdr + 17, opts->max_rev_full);
    hdr[23] = 1; /* hash appended */
    if ((rc = eg_buf_append(out, hdr, sizeof(hdr))) < 0)
        goto done;
    if ((rc = lay_out(&w, chip, flash, n_flash, ram, n_ram, page)) < 0)
        goto done;
    if (w.count > EG_IMAGE_MAX_SEGMENTS) {
        rc = eg_error_set(EG_EINVAL,
                          "the image needs %u segments with the padding that aligns its flash "
                          "segments, more than the %d the bootloader loads",
                          w.count, EG_IMAGE_MAX_SEGMENTS);
        goto done;
    }
    out->data[1] = (uint8_t)w.count;
    if ((rc = pad_zero(out, 15 - out->len % 16)) < 0 || (rc = eg_buf_push(out, w.checksum)) < 0)
        goto done;
    uint8_t digest[EG_SHA256_LEN];
    eg_sha256(digest, out->data, out->len);
    rc = eg_buf_append(out, digest, sizeof(digest));
done:
    free(flash);
    free(ram);
    segs_free(segs, n);
    if (rc < 0)
        eg_buf_release(out);
    return rc;
}

int eg_image_parse(eg_image_info *out, const uint8_t *data, size_t len)
{
    size_t pos = EG_IMAGE_HEADER_LEN;
    uint8_t sum = CHECKSUM_SEED;

    memset(out, 0, sizeof(*out));
    if (len < EG_IMAGE_HEADER_LEN)
        return eg_error_set(EG_EINVAL, "%zu bytes: too short for an image header", len);
    if (data[0] != EG_IMAGE_MAGIC)
        return eg_error_set(EG_EINVAL, "not an ESP image (first byte 0x%02x, not 0xe9)", data[0]);
    out->n_segments = data[1];
    out->flash_mode = data[2];
    out->flash_size_code = data[3] >> 4;
    out->flash_freq_code = data[3] & 0xF;
    out->entry = eg_get_u32le(data + 4);
    out->wp_pin = data[8];
    memcpy(out->drive, data + 9, 3);
    out->chip_id = eg_get_u16le(data + 12);
    out->min_rev = data[14];
    out->min_rev_full = eg_get_u16le(data + 15);
    out->max_rev_full = eg_get_u16le(data + 17);
    out->hash_appended = data[23];
    if (out->hash_appended > 1)
        return eg_error_set(EG_EINVAL,
                            "the extended header's hash_appended byte is 0x%02x, not 0 "
                            "or 1",
                            out->hash_appended);
    if (out->n_segments == 0)
        return eg_error_set(EG_EINVAL, "the image header counts no segments");
    for (unsigned i = 0; i < out->n_segments; i++) {
        if (len - pos < SEG_HEADER_LEN)
            return eg_error_set(EG_EINVAL, "the image ends inside the header of segment %u of %u",
                                i, out->n_segments);
        eg_image_segment *s = &out->segments[i];
        s->addr = eg_get_u32le(data + pos);
        s->len = eg_get_u32le(data + pos + 4);
        s->file_offset = (uint32_t)(pos + SEG_HEADER_LEN);
        if (s->len > len - pos - SEG_HEADER_LEN)
            return eg_error_set(EG_EINVAL,
                                "segment %u (0x%08x, %u bytes) runs past the end of the image", i,
                                s->addr, s->len);
        sum = xor_sum(sum, data + s->file_offset, s->len);
        pos += SEG_HEADER_LEN + s->len;
    }
    pos += 15 - pos % 16;
    if (pos >= len)
        return eg_error_set(EG_EINVAL, "the image ends before its checksum");
    out->checksum = data[pos];
    out->checksum_calc = sum;
    out->length = pos + 1;
    if (out->hash_appended) {
        if (len - out->length < EG_SHA256_LEN)
            return eg_error_set(EG_EINVAL, "the image ends before its SHA-256 digest");
        memcpy(out->digest, data + out->length, EG_SHA256_LEN);
        eg_sha256(out->digest_calc, data, out->length);
    }
    const eg_image_segment *first = &out->segments[0];
    if (first->len >= EG_APP_DESC_LEN &&
        eg_get_u32le(data + first->file_offset) == EG_APP_DESC_MAGIC) {
        out->has_app_desc = 1;
        out->app_desc_offset = first->file_offset;
        out->mmu_page_log2 = data[first->file_offset + 180];
    }
    return 0;
}

int eg_image_valid(const eg_image_info *info)
{
    return info->checksum == info->checksum_calc &&
           (!info->hash_appended || memcmp(info->digest, info->digest_calc, EG_SHA256_LEN) == 0);
}

int eg_image_patch_flash_params(uint8_t *data, size_t len, int mode, int size_code, int freq_code)
{
    eg_image_info info;
    int rc;

    if ((rc = eg_image_parse(&info, data, len)) < 0)
        return rc;
    /* A signature block (secure boot) follows the digest: changing the header would
     * break it. */
    for (size_t i = info.length + (info.hash_appended ? EG_SHA256_LEN : 0); i < len; i++)
        if (data[i] != 0xFF)
            return eg_error_set(EG_EUNSUPPORTED,
                                "it is signed (data follows the image at 0x%zx), so its flash "
                                "settings stay as they are",
                                info.length);
    if (mode >= 0)
        data[2] = (uint8_t)mode;
    if (size_code >= 0)
        data[3] = (uint8_t)((data[3] & 0x0F) | size_code << 4);
    if (freq_code >= 0)
        data[3] = (uint8_t)((data[3] & 0xF0) | (freq_code & 0x0F));
    if (info.hash_appended)
        eg_sha256(data + info.length, data, info.length);
    return 0;
}
