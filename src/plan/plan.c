#include "plan/plan.h"

#include "core/error.h"
#include "core/hash.h"
#include "image/region.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 0x1000u

int eg_plan_new(eg_plan **out, const eg_plan_opts *o)
{
    eg_plan *p;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return eg_error_set(EG_ENOMEM, "out of memory");
    p->name = strdup(o->name ? o->name : "");
    p->stub_dir = o->stub_dir ? strdup(o->stub_dir) : NULL;
    if (!p->name || (o->stub_dir && !p->stub_dir)) {
        eg_plan_free(p);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    p->chip = o->chip;
    p->chip_from = "the plan is for";
    snprintf(p->rev_what, sizeof(p->rev_what), "the plan");
    p->max_rev_full = 0xFFFF;
    p->level = o->level;
    p->ev = o->ev;
    p->no_stub = o->no_stub;
    p->block_size = o->no_stub ? 0x400 : 0x4000;
    p->table_offset = EG_PARTITION_TABLE_OFFSET;
    if (o->policy)
        p->policy = *o->policy;
    else
        eg_policy_default(&p->policy);
    *out = p;
    return 0;
}

void eg_plan_stub_release(eg_plan_stub *s)
{
    if (!s)
        return;
    eg_buf_release(&s->text);
    eg_buf_release(&s->data);
}

static void region_release(eg_plan_region *r)
{
    free(r->label);
    free(r->data);
    eg_zblocks_release(&r->z);
}

void eg_plan_free(eg_plan *p)
{
    if (!p)
        return;
    if (p->base) {
        for (size_t i = 0; i < p->n_regions; i++)
            if (p->regions[i].per_device)
                region_release(&p->regions[i]);
        free(p->regions);
        free(p);
        return;
    }
    for (size_t i = 0; i < p->n_regions; i++)
        region_release(&p->regions[i]);
    for (size_t i = 0; i < p->n_erases; i++)
        free(p->erases[i].label);
    for (size_t i = 0; i < p->n_stubs; i++)
        eg_plan_stub_release(&p->stubs[i]);
    free(p->regions);
    free(p->erases);
    free(p->stubs);
    free(p->ram_segs);
    free(p->erase_names);
    if (p->boot.enabled) {
        regfree(&p->boot.re_expect);
        if (p->boot.fail)
            regfree(&p->boot.re_fail);
    }
    free(p->boot.expect);
    free(p->boot.fail);
    free(p->name);
    free(p->stub_dir);
    eg_partition_table_free(p->table);
    free(p);
}

int eg_plan_boot_regex(regex_t *re, const char *pattern)
{
    int rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);

    if (rc != 0) {
        char why[256];
        regerror(rc, re, why, sizeof(why));
        return eg_error_set(EG_EINVAL, "'%s' is not a regular expression: %s", pattern, why);
    }
    return 0;
}

int eg_plan_set_boot(eg_plan *p, uint32_t baud, unsigned timeout_ms, const char *expect,
                     const char *fail)
{
    eg_plan_boot b = {0};
    int rc;

    if (p->finished)
        return eg_error_set(EG_EINVAL, "the plan is finished");
    if (p->boot.enabled)
        return eg_error_set(EG_EINVAL, "the boot check is set already");
    if (!expect || !*expect)
        return eg_error_set(EG_EINVAL, "the boot check needs a pattern to expect");
    if ((rc = eg_plan_boot_regex(&b.re_expect, expect)) < 0)
        return rc;
    if (fail && (rc = eg_plan_boot_regex(&b.re_fail, fail)) < 0) {
        regfree(&b.re_expect);
        return rc;
    }
    b.expect = strdup(expect);
    b.fail = fail ? strdup(fail) : NULL;
    if (!b.expect || (fail && !b.fail)) {
        regfree(&b.re_expect);
        if (fail)
            regfree(&b.re_fail);
        free(b.expect);
        free(b.fail);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    b.enabled = 1;
    b.baud = baud ? baud : 115200;
    b.timeout_ms = timeout_ms ? timeout_ms : 10000;
    p->boot = b;
    return 0;
}

/* Refuses changes once the plan is finished: it is shared read-only by then. */
static int open_for_changes(const eg_plan *p)
{
    if (p->finished)
        return eg_error_set(EG_EINVAL, "the plan is finished: it cannot change");
    return 0;
}

int eg_plan_add_region(eg_plan *p, uint32_t addr, const char *label, eg_buf *data)
{
    eg_plan_region *grown, *r;
    int rc;

    if ((rc = open_for_changes(p)) < 0)
        goto fail;
    if (addr % SECTOR) {
        rc = eg_error_set(EG_EINVAL, "'%s': address 0x%x is not aligned to a 4 KiB sector", label,
                          addr);
        goto fail;
    }
    if (data->len == 0) {
        rc = eg_error_set(EG_EINVAL, "'%s' is empty: nothing to write", label);
        goto fail;
    }
    if (data->len > UINT32_MAX - addr) {
        rc = eg_error_set(EG_EINVAL, "'%s' at 0x%x passes 4 GiB", label, addr);
        goto fail;
    }
    grown = realloc(p->regions, (p->n_regions + 1) * sizeof(*grown));
    if (!grown) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto fail;
    }
    p->regions = grown;
    r = &p->regions[p->n_regions];
    memset(r, 0, sizeof(*r));
    if (!(r->label = strdup(label))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto fail;
    }
    r->addr = addr;
    r->len = (uint32_t)data->len;
    r->data = data->data;
    r->image_chip_id = EG_PLAN_NO_IMAGE;
    r->max_rev_full = 0xFFFF;
    *data = (eg_buf)EG_BUF_INIT;
    p->n_regions++;
    return 0;
fail:
    eg_buf_release(data);
    return rc;
}

int eg_plan_add_erase(eg_plan *p, uint32_t addr, uint32_t size, const char *label)
{
    eg_plan_erase *grown;
    int rc;

    if ((rc = open_for_changes(p)) < 0)
        return rc;
    if (addr % SECTOR || size % SECTOR || size == 0)
        return eg_error_set(EG_EINVAL, "erase of %s (0x%x+0x%x) is not whole 4 KiB sectors", label,
                            addr, size);
    if (size > UINT32_MAX - addr)
        return eg_error_set(EG_EINVAL, "erase of %s passes 4 GiB", label);
    grown = realloc(p->erases, (p->n_erases + 1) * sizeof(*grown));
    if (!grown)
        return eg_error_set(EG_ENOMEM, "out of memory");
    p->erases = grown;
    p->erases[p->n_erases] = (eg_plan_erase){addr, size, strdup(label)};
    if (!p->erases[p->n_erases].label)
        return eg_error_set(EG_ENOMEM, "out of memory");
    p->n_erases++;
    return 0;
}

/* Narrows the revisions boards may have to [min, max]. */
static void narrow_revisions(eg_plan *p, uint16_t min, uint16_t max)
{
    if (min > p->min_rev_full)
        p->min_rev_full = min;
    if (max < p->max_rev_full)
        p->max_rev_full = max;
}

/* Checks that data is a valid image for the plan's chip; what names it. */
static int check_image(eg_image_info *info, const eg_plan *p, const uint8_t *data, size_t len,
                       const char *what)
{
    int rc = eg_image_parse(info, data, len);
    if (rc < 0)
        return eg_error_prefix(rc, "%s: ", what);
    if (!eg_image_valid(info))
        return eg_error_set(EG_EINVAL, "%s: its checksum or SHA-256 does not match its contents",
                            what);
    if (p->chip && info->chip_id != p->chip->image_chip_id) {
        const eg_chip *other = eg_chip_by_image_id(info->chip_id);
        return eg_error_set(EG_EMISMATCH, "%s is an image for the %s (chip id %u), not the %s",
                            what, other ? other->name : "unknown chip", info->chip_id,
                            p->chip->name);
    }
    return 0;
}

/* Writes the flash settings into a bootloader image's header (negative: keep). A signed
 * bootloader (data after its digest) is left as it is: a change would break it. */
static int patch_bootloader(const eg_plan *p, const char *label, uint8_t *data, size_t len,
                            int mode, int size, int freq)
{
    int rc = eg_image_patch_flash_params(data, len, mode, size, freq);
    if (rc == EG_EUNSUPPORTED) {
        eg_events_log(&p->ev, EG_LOG_INFO, "Note: bootloader '%s': %s", label, eg_error_msg());
        return 0;
    }
    return rc < 0 ? eg_error_prefix(rc, "bootloader '%s': ", label) : 0;
}

/* Parses a partition table given as CSV or binary bytes. */
static int parse_table(eg_partition_table **out, const uint8_t *data, size_t len, const char *name,
                       const eg_partition_opts *popts)
{
    if (len >= 2 && data[0] == 0xAA && data[1] == 0x50)
        return eg_partition_parse_bin(out, data, len, name, popts);
    return eg_partition_parse_csv(out, (const char *)data, len, name, popts);
}

static int copy_bytes(eg_buf *out, const uint8_t *data, size_t len)
{
    eg_buf_clear(out);
    return eg_buf_append(out, data, len);
}

/* Marks the region just added as an image of chip_id (and the app's revisions). */
static void mark_image(eg_plan *p, const eg_image_info *info, int is_app)
{
    eg_plan_region *r = &p->regions[p->n_regions - 1];
    r->image_chip_id = info->chip_id;
    r->is_app = is_app;
    r->min_rev_full = info->min_rev_full;
    r->max_rev_full = info->max_rev_full;
}

/* Notes the partition the region just added sits in. */
static void mark_partition(eg_plan *p, const eg_partition *part)
{
    eg_plan_region *r = &p->regions[p->n_regions - 1];
    snprintf(r->part_name, sizeof(r->part_name), "%s", part->name);
    r->part_size = part->size;
}

int eg_plan_layout_app(eg_plan *p, const eg_plan_app *a)
{
    const eg_chip *chip = p->chip;
    eg_partition_opts popts;
    eg_partition_table *table = NULL;
    const eg_partition *app_part;
    eg_buf app = EG_BUF_INIT, boot = EG_BUF_INIT, table_bin = EG_BUF_INIT;
    eg_image_info app_info, boot_info;
    int rc;

    if ((rc = open_for_changes(p)) < 0)
        return rc;
    if (!chip)
        return eg_error_set(EG_EINVAL, "an app's layout needs the chip");
    /* The app image. */
    if (a->elf) {
        if ((rc = eg_image_from_elf(&app, a->elf, chip, &a->opts)) < 0) {
            rc = eg_error_prefix(rc, "'%s': ", a->app_path);
            goto done;
        }
    } else if ((rc = copy_bytes(&app, a->image, a->image_len)) < 0) {
        goto done;
    }
    {
        char what[600];
        snprintf(what, sizeof(what), "the app '%s'", a->app_path);
        if ((rc = check_image(&app_info, p, app.data, app.len, what)) < 0)
            goto done;
    }
    /* The partition table. */
    eg_partition_opts_default(&popts);
    popts.table_offset = a->table_offset;
    popts.flash_size = a->flash_size;
    popts.bootloader_offset = chip->bootloader_offset;
    if (a->table)
        rc = parse_table(&table, a->table, a->table_len, a->table_path, &popts);
    else
        rc = eg_partition_default(&table, &popts);
    if (rc < 0)
        goto done;
    if ((rc = eg_partition_app_target(&app_part, table, a->target_app_partition)) < 0)
        goto done;
    if (app.len > app_part->size) {
        rc = eg_error_set(EG_EINVAL,
                          "the app image of '%s' (%zu bytes) does not fit partition '%s' (%u "
                          "bytes)",
                          a->app_path, app.len, app_part->name, app_part->size);
        goto done;
    }
    if ((rc = eg_partition_to_bin(&table_bin, table)) < 0)
        goto done;
    /* The bootloader sets the flash up: it carries the flash settings. */
    if (a->bootloader) {
        char what[600];
        snprintf(what, sizeof(what), "bootloader '%s'", a->bootloader_path);
        if ((rc = copy_bytes(&boot, a->bootloader, a->bootloader_len)) < 0 ||
            (rc = check_image(&boot_info, p, boot.data, boot.len, what)) < 0)
            goto done;
        if (chip->bootloader_offset + boot.len > a->table_offset) {
            rc = eg_error_set(EG_EINVAL,
                              "bootloader '%s' (%zu bytes at 0x%x) runs into the partition table "
                              "at 0x%x",
                              a->bootloader_path, boot.len, chip->bootloader_offset,
                              a->table_offset);
            goto done;
        }
        if ((rc = patch_bootloader(p, a->bootloader_path, boot.data, boot.len, a->boot_mode,
                                   a->boot_size, a->boot_freq)) < 0)
            goto done;
        if ((rc = eg_plan_add_region(p, chip->bootloader_offset, "bootloader", &boot)) < 0)
            goto done;
        mark_image(p, &boot_info, 0);
    } else {
        p->keep_board_bootloader = 1;
    }
    if ((rc = eg_plan_add_region(p, a->table_offset, "partition table", &table_bin)) < 0 ||
        (rc = eg_plan_add_region(p, app_part->offset, a->app_path, &app)) < 0)
        goto done;
    mark_image(p, &app_info, 1);
    mark_partition(p, app_part);
    narrow_revisions(p, app_info.min_rev_full, app_info.max_rev_full);
    snprintf(p->rev_what, sizeof(p->rev_what), "the app");
    if (a->opts.min_rev_full > p->min_rev_full)
        p->min_rev_full = a->opts.min_rev_full;
    if (a->flash_size > p->flash_size)
        p->flash_size = a->flash_size;
    p->table_offset = a->table_offset;
    eg_partition_table_free(p->table);
    p->table = table;
    table = NULL;
done:
    eg_partition_table_free(table);
    eg_buf_release(&app);
    eg_buf_release(&boot);
    eg_buf_release(&table_bin);
    return rc;
}

int eg_plan_layout_idf(eg_plan *p, eg_idf_build *build, uint32_t table_offset, int mode, int size,
                       int freq)
{
    const eg_chip *chip = p->chip;
    const eg_idf_file *pt = NULL, *app = NULL;
    eg_partition_table *table = NULL;
    eg_partition app_in = {0};
    eg_image_info info;
    char what[600];
    int rc;

    if ((rc = open_for_changes(p)) < 0)
        return rc;
    if (!chip)
        return eg_error_set(EG_EINVAL, "%s: the build names no chip: give it with --chip",
                            build->json_path);
    if (build->bootloader_offset != EG_IDF_NONE &&
        build->bootloader_offset != chip->bootloader_offset)
        return eg_error_set(EG_EMISMATCH,
                            "%s puts the bootloader at 0x%x, but the %s boots from 0x%x: is the "
                            "build for this chip?",
                            build->json_path, build->bootloader_offset, chip->name,
                            chip->bootloader_offset);
    for (size_t i = 0; i < build->n_files; i++) {
        eg_idf_file *f = &build->files[i];
        if (f->addr == table_offset)
            pt = f;
        if (f->addr == build->app_offset)
            app = f;
    }
    /* The table, and the app at the start of an app partition that holds it. */
    if (pt) {
        eg_partition_opts popts;
        eg_partition_opts_default(&popts);
        popts.table_offset = table_offset;
        popts.flash_size = p->flash_size;
        popts.bootloader_offset = chip->bootloader_offset;
        if ((rc = eg_partition_parse_bin(&table, pt->data.data, pt->data.len, pt->path, &popts)) <
            0)
            goto done;
        if (app) {
            size_t n;
            const eg_partition *e = eg_partition_entries(table, &n), *in = NULL;
            for (size_t i = 0; i < n; i++)
                if (e[i].type == EG_PARTITION_TYPE_APP && e[i].offset == app->addr)
                    in = &e[i];
            if (!in) {
                rc = eg_error_set(EG_EINVAL,
                                  "'%s' at 0x%x is not at the start of an app partition of '%s'",
                                  app->path, app->addr, pt->path);
                goto done;
            }
            if (app->data.len > in->size) {
                rc = eg_error_set(EG_EINVAL,
                                  "'%s' (%zu bytes) does not fit partition '%s' (%u bytes)",
                                  app->path, app->data.len, in->name, in->size);
                goto done;
            }
            app_in = *in;
        }
    }
    for (size_t i = 0; i < build->n_files; i++) {
        eg_idf_file *f = &build->files[i];
        int is_boot = f->addr == chip->bootloader_offset, is_app = f == app;
        if (is_boot || is_app) {
            snprintf(what, sizeof(what), "'%s' at 0x%x", f->path, f->addr);
            if ((rc = check_image(&info, p, f->data.data, f->data.len, what)) < 0)
                goto done;
        }
        if (is_boot &&
            (rc = patch_bootloader(p, f->path, f->data.data, f->data.len, mode, size, freq)) < 0)
            goto done;
        if ((rc = eg_plan_add_region(p, f->addr, f->path, &f->data)) < 0)
            goto done;
        if (is_boot || is_app)
            mark_image(p, &info, is_app);
        if (is_app && app_in.size)
            mark_partition(p, &app_in);
        if (is_app) {
            narrow_revisions(p, info.min_rev_full, info.max_rev_full);
            snprintf(p->rev_what, sizeof(p->rev_what), "'%.250s'", f->path);
        }
    }
    p->table_offset = table_offset;
    eg_partition_table_free(p->table);
    p->table = table;
    table = NULL;
done:
    eg_partition_table_free(table);
    return rc;
}

int eg_plan_erase_parts(eg_plan *p, const char *names, const char *data_types)
{
    const eg_partition **named = NULL, **data = NULL;
    size_t n_named = 0, n_data = 0;
    char label[64];
    int rc = 0;

    if ((rc = open_for_changes(p)) < 0)
        return rc;
    if (!p->table)
        return eg_error_set(EG_EINVAL, "no partition table to look partitions up in");
    /* Every name and subtype is looked up before anything is added. */
    if (names && (rc = eg_partition_select_names(&named, &n_named, p->table, names)) < 0)
        return rc;
    if (data_types && (rc = eg_partition_select_data(&data, &n_data, p->table, data_types)) < 0)
        rc = eg_error_prefix(rc, "--erase-data-parts: ");
    for (size_t i = 0; i < n_named + n_data && rc == 0; i++) {
        const eg_partition *e = i < n_named ? named[i] : data[i - n_named];
        snprintf(label, sizeof(label), "partition '%s'", e->name);
        rc = eg_plan_add_erase(p, e->offset, e->size, label);
    }
    free(named);
    free(data);
    return rc;
}

int eg_plan_erase_parts_of(eg_plan *p, const char *names, uint32_t table_offset,
                           eg_partition_table *table)
{
    int rc = open_for_changes(p);

    if (rc < 0) {
        eg_partition_table_free(table);
        return rc;
    }
    p->table_offset = table_offset;
    if (table) {
        eg_partition_table_free(p->table);
        p->table = table;
        return eg_plan_erase_parts(p, names, NULL);
    }
    free(p->erase_names);
    if (!(p->erase_names = strdup(names)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    return 0;
}

int eg_plan_ram(eg_plan *p, const eg_elf *elf, const char *path)
{
    int rc;

    if ((rc = open_for_changes(p)) < 0)
        return rc;
    if (p->chip && elf->machine != p->chip->elf_machine)
        return eg_error_set(EG_EMISMATCH, "'%s' is not built for %s (ELF machine %u)", path,
                            p->chip->name, elf->machine);
    free(p->ram_segs);
    p->ram_segs = calloc(elf->n_sections ? elf->n_sections : 1, sizeof(*p->ram_segs));
    if (!p->ram_segs)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i < elf->n_sections; i++) {
        const eg_elf_section *sec = &elf->sections[i];
        if (p->chip && eg_chip_addr_in_flash(p->chip, sec->addr))
            return eg_error_set(EG_EINVAL,
                                "'%s' cannot run from RAM: section %s is mapped from flash "
                                "(0x%08x); link everything into RAM, or flash it without --ram",
                                path, sec->name, sec->addr);
        p->ram_segs[i] = (eg_ram_segment){sec->addr, sec->data, sec->size, sec->name};
    }
    p->ram = (eg_ram_program){path, elf->entry, p->ram_segs, elf->n_sections};
    p->allow_unknown_flash = 1;
    return 0;
}

static int by_addr(const void *a, const void *b)
{
    const eg_plan_region *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The extent a region's erase covers: its partition when the table has one that holds
 * it, else its own sectors. */
static void erase_extent(eg_plan_region *r, const eg_partition_table *t)
{
    size_t n = 0;
    const eg_partition *e = t ? eg_partition_entries(t, &n) : NULL;

    r->erase_addr = r->addr;
    r->erase_len = (r->len + SECTOR - 1) / SECTOR * SECTOR;
    for (size_t i = 0; i < n; i++) {
        if (r->addr >= e[i].offset &&
            (uint64_t)r->addr + r->len <= (uint64_t)e[i].offset + e[i].size) {
            r->erase_addr = e[i].offset;
            r->erase_len = e[i].size;
            return;
        }
    }
}

int eg_plan_finish(eg_plan *p)
{
    eg_region *view = NULL;
    int rc;

    if ((rc = open_for_changes(p)) < 0)
        return rc;
    if (p->n_regions > 1)
        qsort(p->regions, p->n_regions, sizeof(*p->regions), by_addr);
    view = calloc(p->n_regions ? p->n_regions : 1, sizeof(*view));
    if (!view)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n_regions; i++)
        view[i] = (eg_region){p->regions[i].addr, p->regions[i].label, p->regions[i].data,
                              p->regions[i].len};
    rc = eg_regions_overlap(view, p->n_regions);
    free(view);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < p->n_regions; i++) {
        eg_plan_region *r = &p->regions[i];
        if ((rc = eg_md5(r->md5, r->data, r->len)) < 0 ||
            (rc = eg_sha256(r->sha256, r->data, r->len)) < 0)
            return rc;
        eg_hex(r->md5_hex, r->md5, 16);
        eg_hex(r->sha256_hex, r->sha256, 32);
        if (p->level >= 0 &&
            (rc = eg_zblocks_build(&r->z, r->data, r->len, p->level, p->block_size)) < 0)
            return eg_error_prefix(rc, "compressing '%s': ", r->label);
        erase_extent(r, p->table);
    }
    /* Two regions in one partition: erasing it whole for one would wipe the other;
     * each erases only its own sectors then. */
    for (size_t i = 0; i < p->n_regions; i++) {
        for (size_t k = i + 1; k < p->n_regions; k++) {
            eg_plan_region *a = &p->regions[i], *b = &p->regions[k];
            if ((uint64_t)a->erase_addr < (uint64_t)b->erase_addr + b->erase_len &&
                (uint64_t)b->erase_addr < (uint64_t)a->erase_addr + a->erase_len) {
                a->erase_addr = a->addr;
                a->erase_len = (a->len + SECTOR - 1) / SECTOR * SECTOR;
                b->erase_addr = b->addr;
                b->erase_len = (b->len + SECTOR - 1) / SECTOR * SECTOR;
            }
        }
    }
    /* The stubs are loaded here when there is flash work; a plan without regions
     * (board-info, checksum-md5) goes on with the ROM loader if its stub is missing. */
    if (p->chip && !p->no_stub && !p->ram.n_segs && p->n_regions) {
        char name[32];
        int variants = p->chip->stub_rev1_below_major ? 2 : 1;
        p->stubs = calloc((size_t)variants, sizeof(*p->stubs));
        if (!p->stubs)
            return eg_error_set(EG_ENOMEM, "out of memory");
        for (int v = 0; v < variants; v++) {
            snprintf(name, sizeof(name), "%s%s", p->chip->id, v ? "-rev1" : "");
            if ((rc = eg_plan_stub_load(&p->stubs[v], p->stub_dir, name)) < 0)
                return rc;
            p->n_stubs++;
        }
    }
    p->finished = 1;
    return 0;
}

int eg_plan_for_device(eg_plan **out, const eg_plan *base, uint32_t addr, const char *label,
                       eg_buf *data)
{
    eg_plan *p = NULL;
    eg_plan_region r = {0};
    int rc;

    *out = NULL;
    if (!base->finished || base->base) {
        rc = eg_error_set(EG_EINVAL, "a board's plan is made from a finished, shared plan");
        goto fail;
    }
    if (addr % SECTOR || !data->len || data->len > UINT32_MAX - addr) {
        rc = eg_error_set(EG_EINVAL, "'%s' at 0x%x (%zu bytes) cannot be written", label, addr,
                          data->len);
        goto fail;
    }
    for (size_t i = 0; i < base->n_regions; i++) {
        const eg_plan_region *b = &base->regions[i];
        if (addr < (uint64_t)b->addr + b->len && b->addr < (uint64_t)addr + data->len) {
            rc = eg_error_set(EG_EINVAL, "'%s' at 0x%x overlaps '%s' at 0x%x", label, addr,
                              b->label, b->addr);
            goto fail;
        }
    }
    r.addr = addr;
    r.len = (uint32_t)data->len;
    r.image_chip_id = EG_PLAN_NO_IMAGE;
    r.max_rev_full = 0xFFFF;
    r.per_device = 1;
    r.erase_addr = addr;
    r.erase_len = (r.len + SECTOR - 1) / SECTOR * SECTOR;
    if (!(r.label = strdup(label))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto fail;
    }
    r.data = data->data;
    *data = (eg_buf)EG_BUF_INIT;
    if ((rc = eg_md5(r.md5, r.data, r.len)) < 0 || (rc = eg_sha256(r.sha256, r.data, r.len)) < 0)
        goto fail;
    eg_hex(r.md5_hex, r.md5, 16);
    eg_hex(r.sha256_hex, r.sha256, 32);
    if (base->level >= 0 &&
        (rc = eg_zblocks_build(&r.z, r.data, r.len, base->level, base->block_size)) < 0) {
        rc = eg_error_prefix(rc, "compressing '%s': ", label);
        goto fail;
    }
    if (!(p = malloc(sizeof(*p)))) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto fail;
    }
    *p = *base;
    p->base = base;
    if (!(p->regions = calloc(base->n_regions + 1, sizeof(*p->regions)))) {
        free(p);
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(p->regions, base->regions, base->n_regions * sizeof(*p->regions));
    p->regions[base->n_regions] = r;
    p->n_regions = base->n_regions + 1;
    qsort(p->regions, p->n_regions, sizeof(*p->regions), by_addr);
    *out = p;
    return 0;
fail:
    eg_buf_release(data);
    region_release(&r);
    return rc;
}

uint32_t eg_plan_end(const eg_plan *p)
{
    uint32_t end = 0;
    for (size_t i = 0; i < p->n_regions; i++)
        if (p->regions[i].addr + p->regions[i].len > end)
            end = p->regions[i].addr + p->regions[i].len;
    return end;
}

int eg_plan_merge(eg_buf *out, const eg_plan *p, uint32_t pad_to)
{
    eg_region *view = calloc(p->n_regions ? p->n_regions : 1, sizeof(*view));
    int rc;

    if (!view)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n_regions; i++)
        view[i] = (eg_region){p->regions[i].addr, p->regions[i].label, p->regions[i].data,
                              p->regions[i].len};
    rc = eg_regions_merge(out, view, p->n_regions, pad_to);
    free(view);
    return rc;
}
