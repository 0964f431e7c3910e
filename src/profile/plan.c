/* A profile's plan: the layout its images make, patched with its flash settings, with
 * its policy. */
#include "profile/profile.h"

#include "core/error.h"
#include "plan/plan.h"

#include <stdio.h>
#include <string.h>

/* The header codes of the profile's flash settings (-1: keep what the image says),
 * else the build's. */
static int flash_codes(int *mode, int *size, int *freq, const eg_profile *p,
                       const eg_idf_build *build)
{
    const char *m = p->flash_mode ? p->flash_mode : build ? build->flash_mode : NULL;
    const char *s = p->flash_size ? p->flash_size : build ? build->flash_size : NULL;
    const char *f = p->flash_freq ? p->flash_freq : build ? build->flash_freq : NULL;
    uint32_t bytes;
    uint8_t v;

    *mode = *size = *freq = -1;
    if (m && strcmp(m, "keep")) {
        if (eg_flash_mode_parse(&v, m) < 0)
            return EG_EINVAL;
        *mode = v;
    }
    if (s && strcmp(s, "keep")) {
        if (strcmp(s, "detect") == 0)
            return eg_error_set(EG_EINVAL, "the build's flash size is 'detect': a production "
                                           "profile must name the size (flash.size)");
        if (eg_flash_size_parse(&bytes, &v, s) < 0)
            return EG_EINVAL;
        *size = v;
    }
    if (f && strcmp(f, "keep")) {
        if (eg_flash_freq_parse(&v, p->chip, f) < 0)
            return EG_EINVAL;
        *freq = v;
    }
    return 0;
}

static int layout_images(eg_plan *plan, const eg_profile *p, int mode, int size, int freq)
{
    eg_plan_app app = {0};
    eg_elf *elf = NULL;
    int rc;

    eg_image_opts_default(&app.opts);
    if (mode >= 0)
        app.opts.flash_mode = (uint8_t)mode;
    if (size >= 0)
        app.opts.flash_size_code = (uint8_t)size;
    if (freq >= 0)
        app.opts.flash_freq_code = (uint8_t)freq;
    app.boot_mode = mode;
    app.boot_size = size;
    app.boot_freq = freq;
    app.flash_size = p->flash_size_bytes;
    app.app_path = p->app.given;
    if (p->app.data.len >= 4 && memcmp(p->app.data.data, "\177ELF", 4) == 0) {
        if ((rc = eg_elf_parse(&elf, p->app.data.data, p->app.data.len, p->app.given)) < 0)
            return rc;
        if (elf->min_chip_revision > 0)
            app.opts.min_rev_full = (uint16_t)elf->min_chip_revision;
        app.elf = elf;
    } else {
        app.image = p->app.data.data;
        app.image_len = p->app.data.len;
    }
    if (p->bootloader.path) {
        app.bootloader = p->bootloader.data.data;
        app.bootloader_len = p->bootloader.data.len;
        app.bootloader_path = p->bootloader.given;
    }
    if (p->partition_table.path) {
        app.table = p->partition_table.data.data;
        app.table_len = p->partition_table.data.len;
        app.table_path = p->partition_table.given;
    }
    app.table_offset = p->partition_table_offset;
    app.target_app_partition = p->target_app_partition;
    rc = eg_plan_layout_app(plan, &app);
    eg_elf_free(elf);
    return rc;
}

int eg_profile_plan(eg_plan **out, eg_profile *p, const eg_profile_plan_opts *o)
{
    eg_plan_opts po = {p->name,    p->chip, p->no_stub, o->stub_dir, EG_PLAN_DEFLATE_LEVEL,
                       &p->policy, o->ev};
    eg_plan *plan = NULL;
    uint32_t table_offset = p->partition_table_offset;
    int mode, size, freq, rc;

    *out = NULL;
    if ((rc = eg_plan_new(&plan, &po)) < 0)
        return rc;
    plan->chip_from = "the profile names";
    plan->min_rev_full = p->min_rev_full;
    plan->flash_size = p->flash_size_bytes;
    snprintf(plan->rev_what, sizeof(plan->rev_what), "profile '%.200s'", p->name);
    if ((rc = flash_codes(&mode, &size, &freq, p, p->idf)) < 0) {
        rc = eg_error_prefix(rc, "%s: flash: ", p->path);
        goto done;
    }
    if (p->idf) {
        /* The bytes were read and checked against their pins: the build lends them to
         * the plan. */
        for (size_t i = 0; i < p->idf->n_files && i < p->n_idf_files; i++) {
            eg_buf_release(&p->idf->files[i].data);
            p->idf->files[i].data = p->idf_files[i].data;
            p->idf_files[i].data = (eg_buf)EG_BUF_INIT;
        }
        if (p->idf->table_offset != EG_IDF_NONE)
            table_offset = p->idf->table_offset;
        rc = eg_plan_layout_idf(plan, p->idf, table_offset, mode, size, freq);
    } else if (p->app.path) {
        rc = layout_images(plan, p, mode, size, freq);
    }
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < p->n_regions && rc == 0; i++)
        rc = eg_plan_add_region(plan, p->regions[i].offset, p->regions[i].file.given,
                                &p->regions[i].file.data);
    if (rc == 0 && p->boot_check.enabled)
        rc = eg_plan_set_boot(plan, p->boot_check.baud, p->boot_check.timeout_ms,
                              p->boot_check.expect, p->boot_check.fail);
    if (rc == 0)
        rc = eg_plan_finish(plan);
    if (rc == 0)
        rc = eg_profile_nvs_place(p, plan, table_offset);
done:
    if (rc < 0)
        eg_plan_free(plan);
    else
        *out = plan;
    return rc;
}
