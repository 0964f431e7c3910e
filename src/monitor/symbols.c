#include "monitor/symbols.h"

#include "core/buf.h"
#include "core/error.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>
#include <libiberty/demangle.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct addr_range {
    uint64_t start, end; /* end exclusive */
} addr_range;

struct eg_symbols {
    eg_buf file; /* the ELF's bytes, which libdwfl reads in place */
    Dwfl *dwfl;
    Dwfl_Module *mod;
    int has_dwarf;
    addr_range *code; /* executable sections */
    size_t n_code;
};

/* Offline: the file is the module; its debug information is in it or nowhere. */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                        const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                        char **debuginfo_file_name)
{
    (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name;
    (void)debuglink_file, (void)debuglink_crc, (void)debuginfo_file_name;
    return -1;
}

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = NULL,
    .find_debuginfo = no_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = NULL,
};

/* Checks the ELF's headers with libelf and collects its executable sections. */
static int read_sections(eg_symbols *s, const char *path)
{
    Elf *e;
    GElf_Ehdr eh;
    size_t shnum = 0;
    Elf_Scn *scn = NULL;
    int rc = 0;

    if (s->file.len < 4 || memcmp(s->file.data, "\177ELF", 4) != 0)
        return eg_error_set(EG_EINVAL, "'%s' is not an ELF file", path);
    elf_version(EV_CURRENT);
    e = elf_memory((char *)s->file.data, s->file.len);
    if (!e)
        return eg_error_set(EG_EINVAL, "'%s': cannot read it as an ELF file: %s", path,
                            elf_errmsg(-1));
    if (elf_kind(e) != ELF_K_ELF) {
        rc = eg_error_set(EG_EINVAL, "'%s' is not an ELF file", path);
        goto done;
    }
    if (!gelf_getehdr(e, &eh) || elf_getshdrnum(e, &shnum) != 0) {
        rc = eg_error_set(EG_EINVAL, "'%s': broken ELF header: %s", path, elf_errmsg(-1));
        goto done;
    }
    if (eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize > s->file.len) {
        rc = eg_error_set(EG_EINVAL,
                          "'%s' is cut short: its section headers end at byte %llu, the file "
                          "has %zu bytes",
                          path,
                          (unsigned long long)(eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize),
                          s->file.len);
        goto done;
    }
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
        rc = eg_error_set(EG_EINVAL, "'%s' is not an executable (ELF type %u): link it first", path,
                          (unsigned)eh.e_type);
        goto done;
    }
    if (shnum == 0) {
        rc = eg_error_set(EG_EINVAL, "'%s' has no section headers", path);
        goto done;
    }
    s->code = calloc(shnum, sizeof(*s->code));
    if (!s->code) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) {
            rc = eg_error_set(EG_EINVAL, "'%s': broken section header %zu: %s", path,
                              elf_ndxscn(scn), elf_errmsg(-1));
            goto done;
        }
        if ((sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) == (SHF_ALLOC | SHF_EXECINSTR) &&
            sh.sh_size > 0 && s->n_code < shnum)
            s->code[s->n_code++] = (addr_range){sh.sh_addr, sh.sh_addr + sh.sh_size};
    }
done:
    elf_end(e);
    return rc;
}

int eg_symbols_open(eg_symbols **out, const char *path)
{
    eg_symbols *s;
    struct stat st;
    Dwarf_Addr bias;
    int rc;

    *out = NULL;
    if (stat(path, &st) != 0)
        return eg_error_set(errno == ENOENT ? EG_ENOTFOUND : EG_EIO, "'%s': cannot open: %s", path,
                            eg_strerror(errno));
    if (!S_ISREG(st.st_mode))
        return eg_error_set(EG_EINVAL, "'%s' is not a file", path);
    s = calloc(1, sizeof(*s));
    if (!s)
        return eg_error_set(EG_ENOMEM, "out of memory");
    if ((rc = eg_buf_read_file(&s->file, path)) < 0)
        goto fail;
    if ((rc = read_sections(s, path)) < 0)
        goto fail;
    s->dwfl = dwfl_begin(&offline_callbacks);
    if (!s->dwfl) {
        rc = eg_error_set(EG_ENOMEM, "libdw: %s", dwfl_errmsg(-1));
        goto fail;
    }
    dwfl_report_begin(s->dwfl);
    s->mod =
        dwfl_report_offline_memory(s->dwfl, "firmware", path, (char *)s->file.data, s->file.len);
    if (!s->mod || dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
        rc = eg_error_set(EG_EINVAL, "'%s': libdw cannot read it: %s", path, dwfl_errmsg(-1));
        goto fail;
    }
    s->has_dwarf = dwfl_module_getdwarf(s->mod, &bias) != NULL;
    *out = s;
    return 0;
fail:
    eg_symbols_free(s);
    return rc;
}

void eg_symbols_free(eg_symbols *s)
{
    if (!s)
        return;
    if (s->dwfl)
        dwfl_end(s->dwfl);
    free(s->code);
    eg_buf_release(&s->file);
    free(s);
}

int eg_symbols_has_dwarf(const eg_symbols *s)
{
    return s->has_dwarf;
}

int eg_symbols_in_code(const eg_symbols *s, uint64_t addr)
{
    for (size_t i = 0; i < s->n_code; i++)
        if (addr >= s->code[i].start && addr < s->code[i].end)
            return 1;
    return 0;
}

/* Copies a source path without the "./" that relative compilation directories leave in
 * front ("././tools/x.c" becomes "tools/x.c") or inside ("a/./b"). */
static void copy_path(char *dst, size_t len, const char *src)
{
    size_t o = 0;

    while (src[0] == '.' && src[1] == '/')
        src += 2;
    while (*src && o + 1 < len) {
        if (src[0] == '/' && src[1] == '.' && src[2] == '/') {
            src += 2;
            continue;
        }
        dst[o++] = *src++;
    }
    dst[o] = '\0';
}

/* name into dst, demangled when it is a C++ or Rust symbol (libiberty: Rust's legacy
 * and v0 manglings, the Itanium C++ ABI), without the parameters or Rust's hash, as
 * espflash shows them: "app::sensor::Reader::read". */
static void put_name(char *dst, size_t len, const char *name)
{
    char *plain = name ? cplus_demangle(name, DMGL_AUTO | DMGL_ANSI) : NULL;
    snprintf(dst, len, "%s", plain ? plain : name ? name : "");
    free(plain);
}

/* The function's name: its linkage name when it has one (the full path of a C++ or
 * Rust function, demangled by put_name), else as the source spells it (a clone's or
 * an inlined instance's name comes from its abstract origin). */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;

    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
        name = dwarf_formstring(&attr);
    if (!name && dwarf_attr_integrate(die, DW_AT_name, &attr))
        name = dwarf_formstring(&attr);
    return name;
}

/* The call site of an inlined instance: its DW_AT_call_file and DW_AT_call_line. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, eg_symbol_frame *f)
{
    Dwarf_Attribute attr;
    Dwarf_Word file_idx = 0, line = 0;
    Dwarf_Files *files;
    size_t nfiles;

    if (dwarf_attr(inl, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &line) == 0)
        f->line = (unsigned)line;
    if (dwarf_attr(inl, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &file_idx) == 0 &&
        dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && file_idx < nfiles) {
        const char *name = dwarf_filesrc(files, file_idx, NULL, NULL);
        if (name)
            copy_path(f->file, sizeof(f->file), name);
    }
}

size_t eg_symbols_lookup(eg_symbols *s, uint64_t addr, eg_symbol_frame *frames, size_t max)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu, *scopes = NULL;
    size_t n = 0;

    if (max == 0)
        return 0;
    memset(frames, 0, max * sizeof(*frames));
    cu = s->has_dwarf ? dwfl_module_addrdie(s->mod, addr, &bias) : NULL;
    if (cu && dwarf_getscopes(cu, addr - bias, &scopes) > 0) {
        /* The innermost scope's physical nesting (dwarf_getscopes follows an inlined
         * function into its abstract definition instead): each inlined instance, then
         * the function they are in. */
        Dwarf_Die inner = scopes[0];
        int nscopes;
        free(scopes);
        scopes = NULL;
        nscopes = dwarf_getscopes_die(&inner, &scopes);
        for (int i = 0; i < nscopes && n < max; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
                continue;
            put_name(frames[n].function, sizeof(frames[n].function), die_name(&scopes[i]));
            n++;
            /* What this one was inlined into is where the call is. */
            if (tag == DW_TAG_inlined_subroutine && n < max)
                call_site(cu, &scopes[i], &frames[n]);
            if (tag == DW_TAG_subprogram)
                break;
        }
    }
    free(scopes);
    /* The innermost frame's line is the line table's for the address. */
    Dwfl_Line *line = s->has_dwarf ? dwfl_module_getsrc(s->mod, addr) : NULL;
    if (line) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        if (file) {
            copy_path(frames[0].file, sizeof(frames[0].file), file);
            frames[0].line = lineno > 0 ? (unsigned)lineno : 0;
            if (n == 0)
                n = 1;
        }
    }
    if (!frames[0].function[0]) {
        /* No debug information for it: the symbol table, when a symbol covers it. */
        GElf_Off off = 0;
        GElf_Sym sym;
        const char *name = dwfl_module_addrinfo(s->mod, addr, &off, &sym, NULL, NULL, NULL);
        if (name && name[0] && (sym.st_size == 0 ? off == 0 : off < sym.st_size) &&
            (GELF_ST_TYPE(sym.st_info) == STT_FUNC || GELF_ST_TYPE(sym.st_info) == STT_OBJECT ||
             GELF_ST_TYPE(sym.st_info) == STT_NOTYPE)) {
            put_name(frames[0].function, sizeof(frames[0].function), name);
            if (n == 0)
                n = 1;
        }
    }
    return n;
}
