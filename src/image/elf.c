#include "image/elf.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"

#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_SECTION ".espressif.metadata"

static int elf_fail(const char *name, const char *what)
{
    return eg_error_set(EG_EINVAL, "'%s': %s", name, what);
}

static int lib_fail(const char *name, const char *what)
{
    return eg_error_set(EG_EINVAL, "'%s': %s (%s)", name, what, elf_errmsg(-1));
}

/* Loadable: bytes in the file and a place in memory. esptool's image writer takes
 * PROGBITS and the init/fini arrays with a non-zero address and size. */
static int loadable(const GElf_Shdr *sh)
{
    switch (sh->sh_type) {
    case SHT_PROGBITS:
    case SHT_INIT_ARRAY:
    case SHT_FINI_ARRAY:
    case SHT_PREINIT_ARRAY:
        return sh->sh_addr != 0 && sh->sh_size != 0;
    default:
        return 0;
    }
}

static char *copy_string(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
        /* the metadata strings may carry their terminating NUL */
        s[strnlen(s, n)] = '\0';
    }
    return s;
}

/* Reads the symbols that live in the metadata section: each names a value whose bytes
 * are the section's bytes at the symbol's address. */
static int read_metadata(eg_elf *e, Elf *elf, size_t meta_index, const GElf_Shdr *meta_sh)
{
    Elf_Scn *scn = NULL;

    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        Elf_Data *d;

        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
            continue;
        if (!(d = elf_getdata(scn, NULL)))
            continue;
        size_t n = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            const char *sname;

            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx != meta_index)
                continue;
            if (!(sname = elf_strptr(elf, sh.sh_link, sym.st_name)))
                continue;
            uint64_t off = sym.st_value - meta_sh->sh_addr;
            if (sym.st_value < meta_sh->sh_addr || off + sym.st_size > meta_sh->sh_size ||
                meta_sh->sh_offset + off + sym.st_size > e->file_len)
                continue;
            const uint8_t *p = e->file + meta_sh->sh_offset + off;
            char **slot = NULL;
            if (strcmp(sname, "build_info.CHIP_NAME") == 0)
                slot = &e->chip_name;
            else if (strcmp(sname, "espflash.LOG_FORMAT") == 0)
                slot = &e->log_format;
            if (slot) {
                free(*slot);
                if (!(*slot = copy_string(p, sym.st_size)))
                    return eg_error_set(EG_ENOMEM, "out of memory");
            } else if (strcmp(sname, "build_info.MIN_CHIP_REVISION") == 0) {
                char *v = copy_string(p, sym.st_size);
                char *end;
                if (!v)
                    return eg_error_set(EG_ENOMEM, "out of memory");
                long rev = strtol(v, &end, 10);
                if (end != v && *end == '\0' && rev >= 0 && rev <= 0xFFFF)
                    e->min_chip_revision = (int)rev;
                free(v);
            }
        }
    }
    return 0;
}

static int parse(eg_elf *e, const char *name)
{
    Elf *elf = NULL;
    Elf_Scn *scn = NULL;
    GElf_Ehdr eh;
    size_t shstrndx, nsec, meta_index = 0;
    GElf_Shdr meta_sh = {0};
    int rc = 0;

    if (e->file_len < 4 || memcmp(e->file, ELFMAG, SELFMAG) != 0)
        return elf_fail(name, "not an ELF file");
    if (e->file_len < EI_NIDENT || e->file[EI_CLASS] != ELFCLASS32 ||
        e->file[EI_DATA] != ELFDATA2LSB)
        return elf_fail(name, "not a 32-bit little-endian ELF file, as ESP firmware is");
    if (elf_version(EV_CURRENT) == EV_NONE)
        return eg_error_set(EG_EINVAL, "libelf is too old");
    if (!(elf = elf_memory((char *)e->file, e->file_len)))
        return lib_fail(name, "cannot read the ELF file");
    if (!gelf_getehdr(elf, &eh)) {
        rc = lib_fail(name, "the ELF header is damaged");
        goto done;
    }
    if (eh.e_machine != EG_ELF_MACHINE_XTENSA && eh.e_machine != EG_ELF_MACHINE_RISCV) {
        rc = eg_error_set(EG_EINVAL,
                          "'%s': not an Xtensa or RISC-V ELF file (machine %u): build it for "
                          "an ESP chip",
                          name, eh.e_machine);
        goto done;
    }
    e->machine = eh.e_machine;
    e->entry = (uint32_t)eh.e_entry;
    if (eh.e_shoff == 0 || eh.e_shoff > e->file_len) {
        rc = elf_fail(name, "the section headers are missing (truncated ELF?)");
        goto done;
    }
    if (elf_getshdrnum(elf, &nsec) != 0 || elf_getshdrstrndx(elf, &shstrndx) != 0 || nsec == 0) {
        rc = lib_fail(name, "the section headers are damaged (truncated ELF?)");
        goto done;
    }
    if (eh.e_shoff + (uint64_t)nsec * eh.e_shentsize > e->file_len) {
        rc = elf_fail(name, "the section headers run past the end of the file (truncated ELF?)");
        goto done;
    }
    if (!(e->sections = calloc(nsec, sizeof(*e->sections)))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        const char *sname;

        if (!gelf_getshdr(scn, &sh)) {
            rc = lib_fail(name, "a section header is damaged");
            goto done;
        }
        sname = elf_strptr(elf, shstrndx, sh.sh_name);
        if (!sname) {
            rc = lib_fail(name, "a section name is missing");
            goto done;
        }
        if (strcmp(sname, METADATA_SECTION) == 0) {
            meta_index = elf_ndxscn(scn);
            meta_sh = sh;
        }
        if (!loadable(&sh))
            continue;
        if (sh.sh_offset > e->file_len || sh.sh_size > e->file_len - sh.sh_offset) {
            rc = eg_error_set(EG_EINVAL,
                              "'%s': section '%s' runs past the end of the file (truncated ELF?)",
                              name, sname);
            goto done;
        }
        if (sh.sh_addr + sh.sh_size > 0x100000000ull) {
            rc = eg_error_set(EG_EINVAL, "'%s': section '%s' ends beyond the 32-bit address space",
                              name, sname);
            goto done;
        }
        eg_elf_section *s = &e->sections[e->n_sections];
        if (!(s->name = strdup(sname))) {
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto done;
        }
        s->addr = (uint32_t)sh.sh_addr;
        s->size = (uint32_t)sh.sh_size;
        s->align = (uint32_t)sh.sh_addralign;
        s->data = e->file + sh.sh_offset;
        e->n_sections++;
    }
    if (meta_index && meta_sh.sh_type != SHT_NOBITS && meta_sh.sh_offset <= e->file_len &&
        meta_sh.sh_size <= e->file_len - meta_sh.sh_offset)
        rc = read_metadata(e, elf, meta_index, &meta_sh);
done:
    elf_end(elf);
    return rc;
}

int eg_elf_parse(eg_elf **out, const uint8_t *data, size_t len, const char *name)
{
    eg_elf *e;
    int rc;

    *out = NULL;
    if (!(e = calloc(1, sizeof(*e))) || !(e->file = malloc(len ? len : 1))) {
        free(e);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    memcpy(e->file, data, len);
    e->file_len = len;
    e->min_chip_revision = -1;
    eg_sha256(e->sha256, data, len);
    if ((rc = parse(e, name)) < 0) {
        eg_elf_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

int eg_elf_load(eg_elf **out, const char *path)
{
    eg_buf b = EG_BUF_INIT;
    int rc;

    *out = NULL;
    if ((rc = eg_buf_read_file(&b, path)) < 0)
        return rc;
    rc = eg_elf_parse(out, b.data, b.len, path);
    eg_buf_release(&b);
    return rc;
}

void eg_elf_free(eg_elf *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_sections; i++)
        free(e->sections[i].name);
    free(e->sections);
    free(e->chip_name);
    free(e->log_format);
    free(e->file);
    free(e);
}

const eg_elf_section *eg_elf_find_section(const eg_elf *e, const char *needle)
{
    for (size_t i = 0; i < e->n_sections; i++)
        if (strstr(e->sections[i].name, needle))
            return &e->sections[i];
    return NULL;
}
