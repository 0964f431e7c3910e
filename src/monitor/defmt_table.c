/* The defmt table of an ELF (defmt's decoder/src/elf2table): libelf for the symbols,
 * jansson for their JSON names, libdw for the log statements' source locations. */
#include "core/buf.h"
#include "core/error.h"
#include "monitor/defmt_internal.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <jansson.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    dm_tag tag;
} TAGS[] = {
    {"defmt_prim", DM_PRIM},
    {"defmt_derived", DM_DERIVED},
    {"defmt_bitflags", DM_BITFLAGS},
    {"defmt_write", DM_WRITE},
    {"defmt_str", DM_STR},
    {"defmt_timestamp", DM_TIMESTAMP},
    {"defmt_bitflags_value", DM_BITFLAGS_VALUE},
    {"defmt_println", DM_PRINTLN},
    {"defmt_trace", DM_TRACE},
    {"defmt_debug", DM_DEBUG},
    {"defmt_info", DM_INFO},
    {"defmt_warn", DM_WARN},
    {"defmt_error", DM_ERROR},
};

/* What one load works with; freed at its end. */
typedef struct loader {
    const char *path;
    Elf *elf;
    size_t strndx;     /* the symbol table's string section */
    Elf_Data *symdata; /* the symbol table */
    size_t nsyms;
    unsigned char *sec; /* per section index: 1 when it is .defmt or .defmt.* */
    size_t nsec;
    const char **raw; /* per entry: its symbol's name (in the ELF's memory) */
    size_t cap;
    eg_defmt_table *t;
} loader;

static int is_statement(dm_tag tag)
{
    return dm_tag_has_level(tag) || tag == DM_PRINTLN;
}

static int cmp_entry(const void *a, const void *b)
{
    const dm_entry *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_flag(const void *a, const void *b)
{
    const dm_flag *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

const dm_entry *dm_table_find(const eg_defmt_table *t, uint32_t index)
{
    dm_entry key = {.index = index};
    if (t->n_entries == 0)
        return NULL;
    return bsearch(&key, t->entries, t->n_entries, sizeof(*t->entries), cmp_entry);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* `_defmt_version_ = 4`, also quoted (LLD keeps the linker script's quotes). */
static const char *version_of(const char *name)
{
    static const char prefix[] = "_defmt_version_ = ";
    if (name[0] == '"')
        name++;
    if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
        return NULL;
    return name + sizeof(prefix) - 1;
}

/* The name without a closing quote, copied. */
static char *unquoted(const char *s)
{
    char *d = dup_str(s);
    size_t n;
    if (d && (n = strlen(d)) > 0 && d[n - 1] == '"')
        d[n - 1] = '\0';
    return d;
}

static int json_fail(const loader *L, GElf_Addr index, const char *name, const char *what)
{
    return eg_error_set(EG_EINVAL, "'%s': defmt symbol at index %llu: %s: '%.60s%s'", L->path,
                        (unsigned long long)index, what, name, strlen(name) > 60 ? "..." : "");
}

/* A string member of the symbol's JSON; NULL when absent or not a string. */
static const char *member(json_t *obj, const char *key, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

static int add_entry(loader *L, dm_tag tag, GElf_Addr index, const char *data, const char *raw)
{
    eg_defmt_table *t = L->t;
    if (t->n_entries == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 64;
        dm_entry *e = realloc(t->entries, cap * sizeof(*e));
        if (!e)
            return eg_error_set(EG_ENOMEM, "out of memory");
        t->entries = e;
        const char **r = realloc(L->raw, cap * sizeof(*r));
        if (!r)
            return eg_error_set(EG_ENOMEM, "out of memory");
        L->raw = r;
        L->cap = cap;
    }
    dm_entry *e = &t->entries[t->n_entries];
    memset(e, 0, sizeof(*e));
    e->index = (uint32_t)index;
    e->tag = tag;
    if (!(e->format = dup_str(data)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    L->raw[t->n_entries++] = raw;
    return 0;
}

/* A defmt_bitflags_value symbol: data "NAME::ORDER::FLAG", 16 bytes of value in its
 * section at its address. */
static int add_flag(loader *L, const GElf_Sym *sym, const char *name, const char *data,
                    const char *package, const char *disamb, const char *crate)
{
    eg_defmt_table *t = L->t;
    const char *c1 = strstr(data, "::"), *c2 = c1 ? strstr(c1 + 2, "::") : NULL;
    if (!c1 || !c2 || strstr(c2 + 2, "::") || c1 == data || c2 == c1 + 2)
        return json_fail(L, sym->st_value, name, "malformed bitflags value");
    char *end;
    unsigned long long order = strtoull(c1 + 2, &end, 10);
    if (end != c2)
        return json_fail(L, sym->st_value, name, "malformed bitflags value");
    if (sym->st_size != 16)
        return json_fail(L, sym->st_value, name, "bitflags value does not occupy 16 bytes");
    Elf_Scn *scn = elf_getscn(L->elf, sym->st_shndx);
    GElf_Shdr sh;
    Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
    if (!d || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || sym->st_value < sh.sh_addr ||
        sym->st_value - sh.sh_addr + 16 > d->d_size)
        return json_fail(L, sym->st_value, name, "bitflags value outside its section");
    const uint8_t *p = (const uint8_t *)d->d_buf + (sym->st_value - sh.sh_addr);
    dm_u128 v = 0;
    for (int i = 15; i >= 0; i--)
        v = v << 8 | p[i];

    dm_flag *f = realloc(t->flags, (t->n_flags + 1) * sizeof(*f));
    if (!f)
        return eg_error_set(EG_ENOMEM, "out of memory");
    t->flags = f;
    f = &t->flags[t->n_flags];
    size_t klen = (size_t)(c1 - data) + strlen(package) + strlen(disamb) + strlen(crate) + 4;
    f->key = malloc(klen);
    f->name = dup_str(c2 + 2);
    if (!f->key || !f->name) {
        free(f->key);
        free(f->name);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    snprintf(f->key, klen, "%.*s@%s@%s@%s", (int)(c1 - data), data, package, disamb, crate);
    f->order = order;
    f->value = v;
    t->n_flags++;
    return 0;
}

/* One symbol in a .defmt section: its JSON name says what the entry is. */
static int add_symbol(loader *L, const GElf_Sym *sym, const char *name)
{
    json_error_t jerr;
    json_t *obj = json_loads(name, 0, &jerr);
    size_t n_pkg = 0, n_tag = 0, n_data = 0, n_dis = 0, n_crate = 0;
    const char *pkg, *tag, *data, *dis, *crate = "";
    char why[160];
    int rc = 0;

    if (!obj || !json_is_object(obj)) {
        if (obj)
            snprintf(why, sizeof(why), "its name is no JSON object");
        else
            snprintf(why, sizeof(why), "its name is no JSON (%.100s at column %d)", jerr.text,
                     jerr.column);
        rc = json_fail(L, sym->st_value, name, why);
        goto done;
    }
    if (!(pkg = member(obj, "package", &n_pkg)) || !(tag = member(obj, "tag", &n_tag)) ||
        !(data = member(obj, "data", &n_data)) || !(dis = member(obj, "disambiguator", &n_dis))) {
        rc = json_fail(L, sym->st_value, name,
                       "its JSON lacks one of \"package\", \"tag\", \"data\", \"disambiguator\"");
        goto done;
    }
    json_t *cv = json_object_get(obj, "crate_name");
    if (cv && !json_is_null(cv)) {
        if (!json_is_string(cv)) {
            rc = json_fail(L, sym->st_value, name, "its \"crate_name\" is no string");
            goto done;
        }
        crate = json_string_value(cv);
        n_crate = json_string_length(cv);
    }
    if (strlen(pkg) != n_pkg || strlen(tag) != n_tag || strlen(data) != n_data ||
        strlen(dis) != n_dis || strlen(crate) != n_crate) {
        rc = json_fail(L, sym->st_value, name, "a NUL character in its JSON strings");
        goto done;
    }
    size_t i;
    for (i = 0; i < sizeof(TAGS) / sizeof(TAGS[0]); i++)
        if (strcmp(tag, TAGS[i].name) == 0)
            break;
    if (i == sizeof(TAGS) / sizeof(TAGS[0]))
        goto done; /* another tool's tag: not ours to read */
    if (TAGS[i].tag == DM_TIMESTAMP) {
        if (L->t->timestamp) {
            rc = eg_error_set(EG_EINVAL, "'%s': two defmt timestamp formats ('%s' and '%s')",
                              L->path, L->t->timestamp, data);
            goto done;
        }
        if (!(L->t->timestamp = dup_str(data)))
            rc = eg_error_set(EG_ENOMEM, "out of memory");
    } else if (TAGS[i].tag == DM_BITFLAGS_VALUE) {
        rc = add_flag(L, sym, name, data, pkg, dis, crate);
    } else {
        if (sym->st_value > 0xFFFF) {
            rc = json_fail(L, sym->st_value, name, "index beyond 65535");
            goto done;
        }
        rc = add_entry(L, TAGS[i].tag, sym->st_value, data, name);
    }
done:
    json_decref(obj);
    return rc;
}

/* The names a symbol table holds that are no table entry (defmt's elf2table skips
 * them too): mapping symbols, the version and encoding symbols, markers. */
static int skipped_name(const char *name)
{
    return name[0] == '\0' || name[0] == '$' || strncmp(name, "_defmt", 6) == 0 ||
           strncmp(name, "__DEFMT_MARKER", 14) == 0;
}

static int read_symbols(loader *L, int *any_defmt)
{
    char *version = NULL, *encoding = NULL;
    int rc = 0;

    /* First pass: the version and encoding symbols, wherever they are. */
    for (size_t i = 0; i < L->nsyms; i++) {
        GElf_Sym sym;
        const char *name, *v;
        if (!gelf_getsym(L->symdata, (int)i, &sym) ||
            !(name = elf_strptr(L->elf, L->strndx, sym.st_name)))
            continue;
        if ((v = version_of(name))) {
            char *nv = unquoted(v);
            if (!nv) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
            if (version && strcmp(version, nv) != 0) {
                rc = eg_error_set(EG_EINVAL,
                                  "'%s': two defmt versions in use (%s and %s): only one is "
                                  "supported",
                                  L->path, version, nv);
                free(nv);
                goto done;
            }
            free(version);
            version = nv;
        } else if (strncmp(name, "_defmt_encoding_ = ", 19) == 0) {
            if (encoding && strcmp(encoding, name + 19) != 0) {
                rc = eg_error_set(EG_EINVAL, "'%s': two defmt encodings in use (%s and %s)",
                                  L->path, encoding, name + 19);
                goto done;
            }
            free(encoding);
            if (!(encoding = dup_str(name + 19))) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
        }
    }
    if (!*any_defmt) {
        if (!version)
            rc = eg_error_set(EG_ENOTFOUND, "no defmt data in '%s' (is defmt linked in?)", L->path);
        else
            rc = eg_error_set(EG_EINVAL,
                              "'%s': a defmt version symbol but no .defmt section (is "
                              "defmt.x in the linker arguments?)",
                              L->path);
        goto done;
    }
    if (!version) {
        rc = eg_error_set(EG_EINVAL,
                          "'%s': a .defmt section but no defmt version symbol "
                          "(_defmt_version_ = N)",
                          L->path);
        goto done;
    }
    if (strcmp(version, "3") != 0 && strcmp(version, "4") != 0) {
        rc = eg_error_set(EG_EUNSUPPORTED,
                          "'%s': defmt wire format version %s is not supported (3 and 4 are)",
                          L->path, version);
        goto done;
    }
    if (!encoding) {
        rc = eg_error_set(EG_EINVAL, "'%s': no defmt encoding symbol (_defmt_encoding_ = rzcobs)",
                          L->path);
        goto done;
    }
    if (strcmp(encoding, "rzcobs") != 0) {
        rc = eg_error_set(EG_EUNSUPPORTED,
                          "'%s': defmt encoding '%s' is not supported: only rzcobs frames can "
                          "be told apart from text (defmt's encoding-rzcobs feature)",
                          L->path, encoding);
        goto done;
    }

    /* Second pass: every symbol in a .defmt section is an entry. */
    for (size_t i = 0; i < L->nsyms; i++) {
        GElf_Sym sym;
        const char *name;
        if (!gelf_getsym(L->symdata, (int)i, &sym) ||
            !(name = elf_strptr(L->elf, L->strndx, sym.st_name)))
            continue;
        if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= L->nsec || !L->sec[sym.st_shndx] ||
            GELF_ST_TYPE(sym.st_info) == STT_SECTION || skipped_name(name))
            continue;
        if ((rc = add_symbol(L, &sym, name)) != 0)
            goto done;
    }
done:
    free(version);
    free(encoding);
    return rc;
}

/* Location of log statements: DWARF variables named DEFMT_LOG_STATEMENT (defmt's macros
 * name the static of each log statement so). The linkage name is the entry's symbol
 * (Rust); without one, the variable's address is its index (C and C++ compilers name
 * the static by an alias). The module path is the enclosing namespaces. */
typedef struct raw_ref {
    const char *name;
    size_t pos;
} raw_ref;

typedef struct dw_walk {
    loader *L;
    raw_ref *by_raw; /* the entries' symbol names, sorted */
    const char *ns[64];
    int depth;
} dw_walk;

static int cmp_raw(const void *a, const void *b)
{
    return strcmp(((const raw_ref *)a)->name, ((const raw_ref *)b)->name);
}

static dm_entry *entry_by_raw(dw_walk *w, const char *name)
{
    raw_ref key = {.name = name};
    raw_ref *r = bsearch(&key, w->by_raw, w->L->t->n_entries, sizeof(key), cmp_raw);
    return r ? &w->L->t->entries[r->pos] : NULL;
}

static char *module_path(const dw_walk *w)
{
    size_t n = 1;
    for (int i = 0; i < w->depth; i++)
        n += strlen(w->ns[i]) + 2;
    char *m = malloc(n), *p = m;
    if (!m)
        return NULL;
    *p = '\0';
    for (int i = 0; i < w->depth; i++) {
        size_t l = strlen(w->ns[i]);
        if (i) {
            memcpy(p, "::", 2);
            p += 2;
        }
        memcpy(p, w->ns[i], l);
        p += l;
        *p = '\0';
    }
    return m;
}

/* A relative source path is relative to the unit's DW_AT_comp_dir: defmt's decoder joins
 * them, so the full path ({F}) is the same as espflash shows. */
static char *source_path(Dwarf_Die *die, const char *file)
{
    Dwarf_Die cu;
    Dwarf_Attribute attr;
    const char *dir = NULL;
    if (file[0] != '/' && dwarf_diecu(die, &cu, NULL, NULL) &&
        dwarf_attr(&cu, DW_AT_comp_dir, &attr))
        dir = dwarf_formstring(&attr);
    if (!dir || !dir[0] || strcmp(dir, ".") == 0)
        return dup_str(file);
    size_t dl = strlen(dir), fl = strlen(file);
    int slash = dir[dl - 1] != '/';
    char *p = malloc(dl + slash + fl + 1);
    if (p) {
        memcpy(p, dir, dl);
        if (slash)
            p[dl] = '/';
        memcpy(p + dl + slash, file, fl + 1);
    }
    return p;
}

static void statement_location(dw_walk *w, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    dm_entry *e = NULL;
    const char *link = NULL;

    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
        link = dwarf_formstring(&attr);
    if (link) {
        e = entry_by_raw(w, link);
    } else if (dwarf_attr(die, DW_AT_location, &attr)) {
        Dwarf_Op *ops;
        size_t nops;
        if (dwarf_getlocation(&attr, &ops, &nops) == 0 && nops == 1 && ops[0].atom == DW_OP_addr)
            e = (dm_entry *)dm_table_find(w->L->t, (uint32_t)ops[0].number);
        if (e && ops[0].number > 0xFFFF)
            e = NULL;
    }
    if (!e || !is_statement(e->tag) || e->file)
        return;
    const char *file = dwarf_decl_file(die);
    int line = 0;
    if (!file || dwarf_decl_line(die, &line) != 0 || line <= 0)
        return;
    e->file = source_path(die, file);
    e->module = module_path(w);
    if (!e->file || !e->module) {
        free(e->file);
        free(e->module);
        e->file = e->module = NULL;
        return;
    }
    e->line = (unsigned)line;
}

static void walk_children(dw_walk *w, Dwarf_Die *parent, int level);

static int is_statement_die(Dwarf_Die *die)
{
    const char *name;
    return dwarf_tag(die) == DW_TAG_variable && (name = dwarf_diename(die)) &&
           strcmp(name, "DEFMT_LOG_STATEMENT") == 0;
}

/* Whether a log statement's static is somewhere inside die. */
static int has_statement(Dwarf_Die *die, int level)
{
    Dwarf_Die child;
    if (level > 200 || dwarf_child(die, &child) != 0)
        return 0;
    do {
        if (is_statement_die(&child) ||
            (dwarf_haschildren(&child) && has_statement(&child, level + 1)))
            return 1;
    } while (dwarf_siblingof(&child, &child) == 0);
    return 0;
}

/* A C or C++ function: Rust puts a log statement's static in namespaces of its own
 * (crate::module::function); a C++ compiler puts it in the function's DIE, which for
 * a namespace member sits at the top with DW_AT_specification pointing at the
 * declaration inside its namespaces. The module path inside the function is then the
 * declaration's namespaces (and classes) and the function's name, as Rust's would be. */
static void walk_function(dw_walk *w, Dwarf_Die *fn, int level)
{
    Dwarf_Die decl = *fn, ref;
    Dwarf_Attribute attr;
    Dwarf_Die *scopes = NULL;
    int saved = w->depth, n = 0;
    const char *saved_ns[sizeof(w->ns) / sizeof(w->ns[0])];

    memcpy(saved_ns, w->ns, sizeof(saved_ns));
    for (int hops = 0; hops < 4; hops++) {
        if ((dwarf_attr(&decl, DW_AT_abstract_origin, &attr) ||
             dwarf_attr(&decl, DW_AT_specification, &attr)) &&
            dwarf_formref_die(&attr, &ref))
            decl = ref;
        else
            break;
    }
    if (dwarf_dieoffset(&decl) != dwarf_dieoffset(fn) &&
        (n = dwarf_getscopes_die(&decl, &scopes)) > 0) {
        /* scopes[0] is decl, then its parents up to the unit */
        w->depth = 0;
        for (int i = n - 1; i > 0; i--) {
            int tag = dwarf_tag(&scopes[i]);
            const char *name = dwarf_diename(&scopes[i]);
            if ((tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
                 tag == DW_TAG_structure_type) &&
                w->depth < (int)(sizeof(w->ns) / sizeof(w->ns[0])))
                w->ns[w->depth++] = name ? name : "";
        }
    }
    const char *name = dwarf_diename(&decl);
    if (name && w->depth < (int)(sizeof(w->ns) / sizeof(w->ns[0])))
        w->ns[w->depth++] = name;
    walk_children(w, fn, level + 1);
    free(scopes);
    memcpy(w->ns, saved_ns, sizeof(saved_ns));
    w->depth = saved;
}

static void walk_children(dw_walk *w, Dwarf_Die *parent, int level)
{
    Dwarf_Die child;
    if (level > 200 || dwarf_child(parent, &child) != 0)
        return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_namespace) {
            const char *name = dwarf_diename(&child);
            if (w->depth < (int)(sizeof(w->ns) / sizeof(w->ns[0]))) {
                w->ns[w->depth++] = name ? name : "";
                walk_children(w, &child, level + 1);
                w->depth--;
            }
            continue;
        }
        if (tag == DW_TAG_subprogram) {
            if (dwarf_haschildren(&child) && has_statement(&child, level + 1))
                walk_function(w, &child, level);
            continue;
        }
        if (is_statement_die(&child))
            statement_location(w, &child);
        if (dwarf_haschildren(&child))
            walk_children(w, &child, level + 1);
    } while (dwarf_siblingof(&child, &child) == 0);
}

static void read_locations(loader *L)
{
    eg_defmt_table *t = L->t;
    Dwarf *dw = dwarf_begin_elf(L->elf, DWARF_C_READ, NULL);
    dw_walk w = {.L = L};
    size_t with = 0;

    t->locations = EG_DEFMT_LOCATIONS_NONE;
    if (!dw || t->n_statements == 0)
        goto done;
    if (!(w.by_raw = malloc(t->n_entries * sizeof(*w.by_raw))))
        goto done;
    for (size_t i = 0; i < t->n_entries; i++)
        w.by_raw[i] = (raw_ref){.name = L->raw[i], .pos = i};
    qsort(w.by_raw, t->n_entries, sizeof(*w.by_raw), cmp_raw);

    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie;
    uint8_t unit_type;
    while (dwarf_get_units(dw, cu, &cu, NULL, &unit_type, &cudie, NULL) == 0) {
        if (unit_type == DW_UT_compile || unit_type == DW_UT_partial)
            walk_children(&w, &cudie, 0);
    }
    for (size_t i = 0; i < t->n_entries; i++)
        if (is_statement(t->entries[i].tag) && t->entries[i].file)
            with++;
    if (with == t->n_statements)
        t->locations = EG_DEFMT_LOCATIONS_ALL;
    else if (with > 0)
        t->locations = EG_DEFMT_LOCATIONS_PARTIAL;
    if (t->locations != EG_DEFMT_LOCATIONS_ALL) {
        /* espflash shows no location unless every statement has one */
        for (size_t i = 0; i < t->n_entries; i++) {
            free(t->entries[i].file);
            free(t->entries[i].module);
            t->entries[i].file = t->entries[i].module = NULL;
            t->entries[i].line = 0;
        }
    }
done:
    free(w.by_raw);
    if (dw)
        dwarf_end(dw);
}

/* Sorts the entries and keeps the last of equal indices (defmt's map does). */
static void sort_entries(loader *L)
{
    eg_defmt_table *t = L->t;
    /* sort positions stably by index, carrying the raw names along */
    for (size_t i = 1; i < t->n_entries; i++) {
        dm_entry e = t->entries[i];
        const char *r = L->raw[i];
        size_t j = i;
        while (j > 0 && t->entries[j - 1].index > e.index) {
            t->entries[j] = t->entries[j - 1];
            L->raw[j] = L->raw[j - 1];
            j--;
        }
        t->entries[j] = e;
        L->raw[j] = r;
    }
    size_t out = 0;
    for (size_t i = 0; i < t->n_entries; i++) {
        if (out > 0 && t->entries[out - 1].index == t->entries[i].index) {
            free(t->entries[out - 1].format);
            out--;
        }
        t->entries[out] = t->entries[i];
        L->raw[out] = L->raw[i];
        out++;
    }
    t->n_entries = out;
    if (t->n_flags)
        qsort(t->flags, t->n_flags, sizeof(*t->flags), cmp_flag);
    t->n_statements = 0;
    for (size_t i = 0; i < t->n_entries; i++)
        if (is_statement(t->entries[i].tag))
            t->n_statements++;
}

int eg_defmt_table_load(eg_defmt_table **out, const char *elf_path)
{
    eg_buf file = EG_BUF_INIT;
    loader L = {.path = elf_path};
    int rc, any_defmt = 0;
    size_t shstrndx;

    *out = NULL;
    if ((rc = eg_buf_read_file(&file, elf_path)) != 0)
        return rc;
    if (elf_version(EV_CURRENT) == EV_NONE) {
        rc = eg_error_set(EG_EINVAL, "libelf: %s", elf_errmsg(-1));
        goto done;
    }
    if (!(L.elf = elf_memory((char *)file.data, file.len)) || elf_kind(L.elf) != ELF_K_ELF ||
        elf_getshdrstrndx(L.elf, &shstrndx) != 0 || elf_getshdrnum(L.elf, &L.nsec) != 0) {
        rc = eg_error_set(EG_EINVAL, "'%s' is not an ELF file", elf_path);
        goto done;
    }
    if (!(L.t = calloc(1, sizeof(*L.t))) || !(L.sec = calloc(L.nsec ? L.nsec : 1, 1))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(L.elf, scn)) != NULL) {
        GElf_Shdr sh;
        const char *name;
        if (!gelf_getshdr(scn, &sh))
            continue;
        name = elf_strptr(L.elf, shstrndx, sh.sh_name);
        if (name && (strcmp(name, ".defmt") == 0 || strncmp(name, ".defmt.", 7) == 0)) {
            L.sec[elf_ndxscn(scn)] = 1;
            any_defmt = 1;
        }
        if (sh.sh_type == SHT_SYMTAB && !L.symdata && sh.sh_entsize) {
            L.symdata = elf_getdata(scn, NULL);
            L.nsyms = sh.sh_size / sh.sh_entsize;
            L.strndx = sh.sh_link;
        }
    }
    if (!L.symdata) {
        if (any_defmt)
            rc = eg_error_set(EG_EINVAL, "'%s': a .defmt section but no symbol table (stripped?)",
                              elf_path);
        else
            rc =
                eg_error_set(EG_ENOTFOUND, "no defmt data in '%s' (is defmt linked in?)", elf_path);
        goto done;
    }
    if ((rc = read_symbols(&L, &any_defmt)) != 0)
        goto done;
    sort_entries(&L);
    read_locations(&L);
    *out = L.t;
    L.t = NULL;
done:
    if (L.elf)
        elf_end(L.elf);
    eg_defmt_table_free(L.t);
    free(L.sec);
    free(L.raw);
    eg_buf_release(&file);
    return rc;
}

void eg_defmt_table_free(eg_defmt_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_entries; i++) {
        free(t->entries[i].format);
        free(t->entries[i].file);
        free(t->entries[i].module);
    }
    for (size_t i = 0; i < t->n_flags; i++) {
        free(t->flags[i].key);
        free(t->flags[i].name);
    }
    free(t->entries);
    free(t->flags);
    free(t->timestamp);
    free(t);
}

size_t eg_defmt_table_statements(const eg_defmt_table *t)
{
    return t->n_statements;
}

int eg_defmt_table_has_timestamp(const eg_defmt_table *t)
{
    return t->timestamp != NULL;
}

eg_defmt_locations eg_defmt_table_locations(const eg_defmt_table *t)
{
    return t->locations;
}
