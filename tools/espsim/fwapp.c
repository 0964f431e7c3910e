#include "fwapp.h"

#include "boot.h"

#include "core/error.h"
#include "core/hash.h"

#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_DESC_MAGIC   0xABCD5432u
#define IMAGE_MAGIC      0xE9
#define CHECKSUM_SEED    0xEF
#define TABLE_OFFSET     0x8000u
#define APP_OFFSET       0x10000u
#define BOOTLOADER_BYTES 16 /* the stand-in bootloader's one segment */

int sim_fw_kind_parse(sim_fw_kind *out, const char *text)
{
    if (strcmp(text, "hello") == 0)
        *out = SIM_FW_HELLO;
    else if (strcmp(text, "panic") == 0)
        *out = SIM_FW_PANIC;
    else if (strcmp(text, "defmt") == 0)
        *out = SIM_FW_DEFMT;
    else
        return eg_error_set(EG_EINVAL, "--app '%s': hello, panic or defmt", text);
    return 0;
}

void sim_fw_free(sim_fw *fw)
{
    for (size_t i = 0; i < fw->n_segs; i++)
        eg_buf_release(&fw->segs[i].data);
    fw->n_segs = 0;
    sim_defmt_output_free(&fw->defmt);
}

typedef struct func {
    uint32_t addr, size;
    size_t shndx;
    const char *name;
} func;

/* The function whose bytes hold addr (or that starts there), or NULL. */
static const func *func_at(const func *f, size_t n, uint32_t addr)
{
    for (size_t i = 0; i < n; i++)
        if (addr == f[i].addr || (addr > f[i].addr && addr - f[i].addr < f[i].size))
            return &f[i];
    return NULL;
}

static void frame_set(sim_fw_frame *fr, const func *f)
{
    fr->addr = f->addr;
    snprintf(fr->name, sizeof(fr->name), "%s", f->name);
}

/* app_main by name, else the largest function. */
static const func *find_app_main(const func *f, size_t n)
{
    static const char *const names[] = {"app_main", "eg_app_main", "main"};
    const func *big = NULL;

    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(f[i].name, names[k]) == 0)
                return &f[i];
    for (size_t i = 0; i < n; i++)
        if (!big || f[i].size > big->size)
            big = &f[i];
    return big;
}

/* The panic's frames (fwapp.h says which). */
static void pick_frames(sim_fw *fw, const func *f, size_t n)
{
    const func *main_fn = find_app_main(f, n), *inner = NULL, *entry;

    frame_set(&fw->app_main, main_fn);
    for (size_t i = 0; i < n; i++)
        if (f[i].shndx == main_fn->shndx && f[i].addr < main_fn->addr &&
            (!inner || f[i].addr > inner->addr))
            inner = &f[i];
    if (!inner)
        for (size_t i = 0; i < n; i++)
            if (f[i].addr > main_fn->addr && (!inner || f[i].addr < inner->addr))
                inner = &f[i];
    fw->n_frames = 0;
    if (inner)
        frame_set(&fw->frames[fw->n_frames++], inner);
    frame_set(&fw->frames[fw->n_frames++], main_fn);
    entry = func_at(f, n, fw->entry);
    if (entry && entry != main_fn && entry != inner)
        frame_set(&fw->frames[fw->n_frames++], entry);
}

/* The app descriptor's strings, when the ELF has one. */
static void read_app_desc(sim_fw *fw, const uint8_t *d, size_t len)
{
    if (len < 256 || eg_get_u32le(d) != APP_DESC_MAGIC)
        return;
    snprintf(fw->version, sizeof(fw->version), "%.32s", (const char *)d + 16);
    snprintf(fw->project, sizeof(fw->project), "%.32s", (const char *)d + 48);
}

int sim_fw_load(sim_fw *out, const char *path, sim_fw_kind kind, const eg_chip *chip)
{
    eg_buf file = EG_BUF_INIT;
    Elf *e = NULL;
    GElf_Ehdr eh;
    Elf_Scn *scn = NULL;
    size_t shnum = 0, n_funcs = 0, cap = 0;
    func *funcs = NULL;
    unsigned char *exec = NULL;
    uint8_t digest[EG_SHA256_LEN];
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->kind = kind;
    out->path = path;
    if ((rc = eg_buf_read_file(&file, path)) < 0)
        return eg_error_prefix(rc, "--app-elf: ");
    elf_version(EV_CURRENT);
    if (file.len < 4 || memcmp(file.data, "\177ELF", 4) != 0 ||
        !(e = elf_memory((char *)file.data, file.len)) || !gelf_getehdr(e, &eh) ||
        elf_getshdrnum(e, &shnum) != 0 ||
        eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize > file.len) {
        rc = eg_error_set(EG_EINVAL, "--app-elf '%s' is not an ELF file (or is cut short)", path);
        goto done;
    }
    if (eh.e_machine != chip->elf_machine) {
        rc = eg_error_set(EG_EINVAL, "--app-elf '%s' is for another CPU (e_machine %u), not %s's",
                          path, (unsigned)eh.e_machine, chip->name);
        goto done;
    }
    out->machine = eh.e_machine;
    out->entry = (uint32_t)eh.e_entry;
    exec = calloc(shnum + 1, 1);
    if (!exec) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    /* Sections: which hold code, the image's segments, the app descriptor. */
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        const char *name;
        Elf_Data *d;
        if (!gelf_getshdr(scn, &sh)) {
            rc = eg_error_set(EG_EINVAL, "--app-elf '%s': broken section header", path);
            goto done;
        }
        name = elf_strptr(e, eh.e_shstrndx, sh.sh_name);
        exec[elf_ndxscn(scn)] = (sh.sh_flags & SHF_EXECINSTR) != 0;
        if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_type == SHT_NOBITS || !sh.sh_addr || !sh.sh_size)
            continue;
        if (out->n_segs == sizeof(out->segs) / sizeof(out->segs[0])) {
            rc = eg_error_set(EG_EINVAL, "--app-elf '%s': more than 16 sections to load", path);
            goto done;
        }
        if (!(d = elf_getdata(scn, NULL)) || d->d_size != sh.sh_size) {
            rc = eg_error_set(EG_EINVAL, "--app-elf '%s': section %s cannot be read", path,
                              name ? name : "?");
            goto done;
        }
        struct sim_fw_seg *seg = &out->segs[out->n_segs++];
        seg->addr = (uint32_t)sh.sh_addr;
        if ((rc = eg_buf_append(&seg->data, d->d_buf, d->d_size)) < 0 ||
            (rc = eg_buf_fill(&seg->data, 0, (4 - d->d_size % 4) % 4)) < 0)
            goto done;
        if (name && strcmp(name, ".flash.appdesc") == 0)
            read_app_desc(out, d->d_buf, d->d_size);
    }
    /* Function symbols in the code. */
    scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize ||
            !(d = elf_getdata(scn, NULL)))
            continue;
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym sym;
            const char *name;
            if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
                sym.st_shndx == SHN_UNDEF || sym.st_shndx >= shnum || !exec[sym.st_shndx] ||
                !(name = elf_strptr(e, sh.sh_link, sym.st_name)) || !name[0])
                continue;
            if (n_funcs == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                func *grown = realloc(funcs, ncap * sizeof(*grown));
                if (!grown) {
                    rc = eg_error_set(EG_ENOMEM, "out of memory");
                    goto done;
                }
                funcs = grown;
                cap = ncap;
            }
            funcs[n_funcs++] =
                (func){(uint32_t)sym.st_value, (uint32_t)sym.st_size, sym.st_shndx, name};
        }
    }
    if (!n_funcs) {
        rc = eg_error_set(
            EG_EINVAL, "--app-elf '%s' has no function symbols: its addresses mean nothing", path);
        goto done;
    }
    pick_frames(out, funcs, n_funcs);
    if ((rc = eg_sha256(digest, file.data, file.len)) < 0)
        goto done;
    eg_hex(out->sha256, digest, sizeof(digest));
    if (kind == SIM_FW_DEFMT && (rc = sim_defmt_output_make(&out->defmt, path)) < 0)
        rc = eg_error_prefix(rc, "--app defmt: ");
done:
    free(funcs);
    free(exec);
    if (e)
        elf_end(e);
    eg_buf_release(&file);
    if (rc < 0)
        sim_fw_free(out);
    return rc;
}

/* ---- the flash as if FILE had been written -------------------------------------------- */

/* An image: header, extended header, segments, checksum at the end of a 16-byte block. */
static int image(eg_buf *out, const eg_chip *chip, uint32_t flash_size, uint32_t entry,
                 const struct sim_fw_seg *segs, size_t n)
{
    uint8_t h[24] = {IMAGE_MAGIC, (uint8_t)n, 2 /* DIO */};
    uint8_t sum = CHECKSUM_SEED;
    unsigned size_code = 0;
    int rc;

    while (size_code < 7 && (1u << 20 << size_code) < flash_size)
        size_code++;
    h[3] = (uint8_t)(size_code << 4);
    eg_put_u32le(h + 4, entry);
    h[8] = 0xEE;
    eg_put_u16le(h + 12, chip->image_chip_id);
    eg_put_u16le(h + 17, 0xFFFF); /* max_rev_full (min_rev_full at 15 stays 0) */
    if ((rc = eg_buf_append(out, h, sizeof(h))) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = eg_buf_append_u32le(out, segs[i].addr)) < 0 ||
            (rc = eg_buf_append_u32le(out, (uint32_t)segs[i].data.len)) < 0 ||
            (rc = eg_buf_append(out, segs[i].data.data, segs[i].data.len)) < 0)
            return rc;
        for (size_t k = 0; k < segs[i].data.len; k++)
            sum ^= segs[i].data.data[k];
    }
    if ((rc = eg_buf_fill(out, 0, 15 - out->len % 16)) < 0)
        return rc;
    return eg_buf_push(out, sum);
}

static uint32_t region_end(const eg_chip *chip, const char *kind)
{
    for (unsigned i = 0; i < chip->memory_map_len; i++)
        if (strcmp(chip->memory_map[i].kind, kind) == 0)
            return chip->memory_map[i].end;
    return 0;
}

static void table_entry(uint8_t *e, uint8_t type, uint8_t sub, uint32_t off, uint32_t size,
                        const char *label)
{
    e[0] = 0xAA;
    e[1] = 0x50;
    e[2] = type;
    e[3] = sub;
    eg_put_u32le(e + 4, off);
    eg_put_u32le(e + 8, size);
    memset(e + 12, 0, 20);
    memcpy(e + 12, label, strlen(label));
}

int sim_fw_preflash(const sim_fw *fw, const eg_chip *chip, uint8_t *flash, uint32_t size)
{
    eg_buf boot = EG_BUF_INIT, app = EG_BUF_INIT;
    struct sim_fw_seg boot_seg = {region_end(chip, "IRAM") - 0x8000, EG_BUF_INIT};
    uint8_t table[4 * 32];
    int rc;

    if ((rc = eg_buf_fill(&boot_seg.data, 0, BOOTLOADER_BYTES)) < 0 ||
        (rc = image(&boot, chip, size, boot_seg.addr, &boot_seg, 1)) < 0 ||
        (rc = image(&app, chip, size, fw->entry, fw->segs, fw->n_segs)) < 0)
        goto done;
    if (chip->bootloader_offset + boot.len > TABLE_OFFSET || APP_OFFSET + app.len > size) {
        rc = eg_error_set(EG_EINVAL, "--app-elf '%s': its image (%zu bytes) does not fit the flash",
                          fw->path, app.len);
        goto done;
    }
    memset(table, 0xFF, sizeof(table));
    table_entry(table, 1, 2, 0x9000, 0x6000, "nvs");
    table_entry(table + 32, 1, 1, 0xF000, 0x1000, "phy_init");
    table_entry(table + 64, 0, 0, APP_OFFSET, (size - APP_OFFSET) & ~0xFFFFu, "factory");
    table[96] = 0xEB;
    table[97] = 0xEB;
    if ((rc = eg_md5(table + 112, table, 96)) < 0)
        goto done;
    memcpy(flash + chip->bootloader_offset, boot.data, boot.len);
    memcpy(flash + TABLE_OFFSET, table, sizeof(table));
    memcpy(flash + APP_OFFSET, app.data, app.len);
done:
    eg_buf_release(&boot_seg.data);
    eg_buf_release(&boot);
    eg_buf_release(&app);
    return rc;
}

/* ---- what it prints ------------------------------------------------------------------ */

int sim_fw_start(const sim_fw *fw, eg_buf *out, const eg_chip *chip, unsigned ms)
{
    const char *base = strrchr(fw->path, '/');
    int dual = chip->elf_machine == 94 && strcmp(chip->id, "esp32s2") != 0;
    int rc;

    base = base ? base + 1 : fw->path;
    if ((rc = sim_put(out, "I (%u) cpu_start: %s app\r\n", ms + 10,
                      dual ? "Multicore" : "Unicore")) < 0 ||
        (rc = sim_put(out, "I (%u) cpu_start: Pro cpu start user code\r\n", ms + 18)) < 0 ||
        (rc = sim_put(out, "I (%u) cpu_start: cpu freq: 160000000 Hz\r\n", ms + 18)) < 0 ||
        (rc = sim_put(out, "I (%u) app_init: Application information:\r\n", ms + 21)) < 0 ||
        (rc = sim_put(out, "I (%u) app_init: Project name:     %s\r\n", ms + 25,
                      fw->project[0] ? fw->project : base)) < 0 ||
        (rc = sim_put(out, "I (%u) app_init: App version:      %s\r\n", ms + 29,
                      fw->version[0] ? fw->version : "1")) < 0 ||
        (rc = sim_put(out, "I (%u) app_init: ELF file SHA256:  %.16s...\r\n", ms + 34,
                      fw->sha256)) < 0 ||
        (rc = sim_put(out, "I (%u) app_init: ESP-IDF:          v5.3\r\n", ms + 38)) < 0 ||
        (rc = sim_put(out,
                      "I (%u) heap_init: Initializing. RAM available for dynamic allocation:\r\n",
                      ms + 43)) < 0 ||
        (rc = sim_put(out, "I (%u) spi_flash: detected chip: generic\r\n", ms + 52)) < 0 ||
        (rc = sim_put(out, "I (%u) main_task: Started on CPU0\r\n", ms + 61)) < 0)
        return rc;
    return sim_put(out, "I (%u) main_task: Calling app_main()\r\n", ms + 70);
}

int sim_fw_line(const sim_fw *fw, eg_buf *out, const eg_chip *chip, unsigned n, unsigned ms,
                unsigned *next_ms)
{
    (void)ms;
    *next_ms = SIM_FW_LINE_MS;
    if (fw->kind == SIM_FW_DEFMT) {
        /* One log call per line time; then the application is quiet. */
        if (n >= fw->defmt.n) {
            *next_ms = 60000;
            return 0;
        }
        size_t from = n ? fw->defmt.ends[n - 1] : 0;
        return eg_buf_append(out, fw->defmt.bytes.data + from, fw->defmt.ends[n] - from);
    }
    if (n == 0)
        return sim_put(out, "Hello world!\r\n");
    if (fw->kind == SIM_FW_PANIC) {
        if (n == 1) {
            *next_ms = 2 * SIM_FW_LINE_MS;
            return sim_put(out, "app_main() is at 0x%08x\r\n", fw->app_main.addr);
        }
        return 1; /* the panic */
    }
    if (n == 1)
        return sim_put(out, "This is %s chip\r\n", chip->name);
    *next_ms = FW_COUNTER_MS;
    if (n == 2)
        return sim_put(out, "app_main() is at 0x%08x\r\n", fw->app_main.addr);
    return sim_put(out, "Counter: %u\r\n", n - 3);
}
