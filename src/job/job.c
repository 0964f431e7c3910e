#include "job/job.h"

#include "core/error.h"
#include "core/hash.h"
#include "proto/stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    const eg_plan *plan;
    const eg_job_opts *o;
    eg_job_result *r;
    eg_device *d;
    eg_plan_stub spare; /* a stub the plan did not load */
    int replanned;
    eg_step step;
    int64_t start;
    char port[256]; /* the board's port as of the last connection */
    /* Progress within the running step: bytes of earlier regions, and the total. */
    uint64_t done_before, total;
} job;

static const char *const outcome_names[] = {"pending", "skipped", "written", "verified", "failed"};

const char *eg_region_outcome_name(eg_region_outcome o)
{
    return (unsigned)o < 5 ? outcome_names[o] : "?";
}

static int64_t now(const job *j)
{
    return eg_cancel_now(j->o->cancel);
}

static void job_log(void *ctx, eg_log_level level, const char *msg)
{
    job *j = ctx;
    if (j->o->ev.log)
        j->o->ev.log(j->o->ev.ctx, level, msg);
}

/* The session reports each region's bytes; the step's progress adds them up. The
 * reads that identify and check a board are not progress anyone waits for. */
static void job_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
    job *j = ctx;
    (void)what;
    if (j->step == EG_STEP_IDENTIFY || j->step == EG_STEP_CHECK)
        return;
    if (j->o->ev.progress)
        j->o->ev.progress(j->o->ev.ctx, j->step, j->done_before + done,
                          j->total ? j->total : total);
}

static void notify(job *j, eg_step step, eg_job_state state)
{
    if (j->o->ev.step)
        j->o->ev.step(j->o->ev.ctx, step, state, j->r);
}

static int drained(const job *j)
{
    return eg_cancel_level(j->o->cancel) >= EG_CANCEL_DRAIN;
}

/* ---- connect and identify ------------------------------------------------------ */

static int step_connect(job *j)
{
    eg_device_opts d = {0};
    int rc;

    eg_device_free(j->d);
    j->d = NULL;
    if (j->o->port_name && (rc = j->o->port_name(j->o->ctx, j->port, sizeof(j->port))) < 0)
        return rc;
    if (j->o->resetting && j->plan->policy.before != EG_BEFORE_NO_RESET &&
        j->plan->policy.before != EG_BEFORE_NO_RESET_NO_SYNC)
        j->o->resetting(j->o->ctx);
    d.port = j->port;
    d.before = j->plan->policy.before;
    d.connect_attempts = j->o->connect_attempts;
    d.flash_size = j->o->flash_size;
    d.ev = (eg_events){job_log, job_progress, j};
    d.cancel = j->o->cancel;
    return eg_device_connect(&j->d, &d);
}

/* The flasher stub, raising the baud rate with the ROM first unless told not to. */
static int start_loader(job *j, uint32_t baud)
{
    const eg_plan *p = j->plan;
    const eg_ram_program *stub;
    int rc;

    if (p->no_stub || p->ram.n_segs || j->d->s->stub)
        return eg_device_set_baud(j->d, baud);
    eg_plan_stub_release(&j->spare); /* one a reconnect loaded before */
    if ((rc = eg_plan_stub_for(&stub, p, j->d->chip, j->d->rev_major, &j->spare)) < 0) {
        /* Reading the board needs no stub: the ROM loader answers that too. */
        if (rc == EG_ENOTFOUND && j->o->kind == EG_JOB_INFO) {
            eg_events_log(&j->d->s->ev, EG_LOG_INFO,
                          "no flasher stub for the %s: going on with the ROM loader",
                          j->d->chip->name);
            return eg_device_set_baud(j->d, baud);
        }
        return eg_error_prefix(rc, "port '%s': ", j->port);
    }
    if (!j->o->no_fast_connect && (rc = eg_device_set_baud(j->d, baud)) < 0)
        return rc;
    if ((rc = eg_device_start_stub(j->d, stub)) < 0)
        return rc;
    return eg_device_set_baud(j->d, baud);
}

static void fill_identity(job *j)
{
    eg_job_result *r = j->r;
    const eg_transport *t = j->d->s->t;

    r->identified = 1;
    r->chip = j->d->chip;
    memcpy(r->mac, j->d->mac, 6);
    r->rev_major = j->d->rev_major;
    r->rev_minor = j->d->rev_minor;
    r->sec = j->d->sec;
    r->info = j->d->info;
    r->flash_id = j->d->flash_id;
    r->flash_size = j->d->flash_size;
    snprintf(r->usb_location, sizeof(r->usb_location), "%s", t->usb_location);
    snprintf(r->usb_serial, sizeof(r->usb_serial), "%s", t->usb_serial);
}

static int step_identify(job *j)
{
    uint32_t baud = j->o->baud ? j->o->baud : EG_ROM_BAUD;
    int rc;

    if ((rc = eg_device_identify(j->d)) < 0 || (rc = start_loader(j, baud)) < 0)
        return rc;
    if (!j->plan->ram.n_segs && (rc = eg_device_attach_flash(j->d)) < 0)
        return rc;
    fill_identity(j);
    /* A board of another chip than expected is refused by the check; no plan is made
     * for it. */
    if (j->o->replan && !j->replanned && (!j->plan->chip || j->plan->chip == j->d->chip)) {
        const eg_plan *next = NULL;
        if ((rc = j->o->replan(j->o->ctx, j->d, &next)) < 0)
            return rc;
        j->replanned = 1;
        if (!next)
            return 0;
        j->plan = next;
        j->r->plan = next;
        free(j->r->regions);
        j->r->n_regions = next->n_regions;
        j->r->regions = calloc(next->n_regions ? next->n_regions : 1, sizeof(*j->r->regions));
        if (!j->r->regions)
            return eg_error_set(EG_ENOMEM, "out of memory");
    }
    return 0;
}

/* ---- check ----------------------------------------------------------------------- */

static int check_revision(const job *j)
{
    const eg_plan *p = j->plan;
    const eg_device *d = j->d;
    unsigned rev = d->rev_major * 100 + d->rev_minor;

    if (p->ignore_revision)
        return 0;
    if (rev < p->min_rev_full)
        return eg_error_set(EG_EMISMATCH,
                            "the board is %s revision v%u.%u, but %s needs v%u.%u or newer "
                            "(--force flashes it anyway)",
                            d->chip->name, d->rev_major, d->rev_minor, p->rev_what,
                            p->min_rev_full / 100, p->min_rev_full % 100);
    if (p->max_rev_full != 0xFFFF && rev > p->max_rev_full)
        return eg_error_set(EG_EMISMATCH,
                            "the board is %s revision v%u.%u, but %s runs on v%u.%u at most "
                            "(--force flashes it anyway)",
                            d->chip->name, d->rev_major, d->rev_minor, p->rev_what,
                            p->max_rev_full / 100, p->max_rev_full % 100);
    return 0;
}

static int check_security(const job *j)
{
    const eg_policy *pol = &j->plan->policy;
    const eg_security_info *sec = &j->d->sec;

    if (!sec->present)
        return 0;
    if ((sec->flags & EG_SEC_SECURE_BOOT) && !pol->allow_secure_boot)
        return eg_error_set(EG_EMISMATCH, "the board has secure boot enabled, which the plan does "
                                          "not allow (allow_secure_boot)");
    if (__builtin_popcount(sec->flash_crypt_cnt) % 2 && !pol->allow_flash_encryption)
        return eg_error_set(EG_EMISMATCH, "the board has flash encryption enabled, which the plan "
                                          "does not allow (allow_flash_encryption)");
    if ((sec->flags & EG_SEC_SECURE_DOWNLOAD) && !pol->allow_secure_download)
        return eg_error_set(EG_EMISMATCH, "the board is in secure download mode, which the plan "
                                          "does not allow (allow_secure_download)");
    return 0;
}

/* With no bootloader in the plan the board's own is kept: it must be a valid image
 * for the chip, or the app would never start. */
static int check_board_bootloader(job *j)
{
    uint32_t off = j->d->chip->bootloader_offset;
    uint32_t gap = j->plan->table_offset > off ? j->plan->table_offset - off : 0;
    eg_buf boot = EG_BUF_INIT;
    eg_image_info info;
    int rc;

    /* The header first: an erased or foreign flash shows there, without reading the
     * whole gap up to the table. */
    if ((rc = eg_session_flash_read(&boot, j->d->s, off, gap < 0x1000 ? gap : 0x1000)) < 0) {
        eg_buf_release(&boot);
        return eg_error_prefix(rc, "reading the bootloader at 0x%x: ", off);
    }
    rc = boot.len >= EG_IMAGE_HEADER_LEN && boot.data[0] == EG_IMAGE_MAGIC &&
                 eg_get_u16le(boot.data + 12) == j->d->chip->image_chip_id
             ? 0
             : EG_EINVAL;
    /* Then the rest, appended. */
    if (rc == 0 && gap > boot.len &&
        (rc = eg_session_flash_read(&boot, j->d->s, off + (uint32_t)boot.len,
                                    gap - (uint32_t)boot.len)) < 0) {
        eg_buf_release(&boot);
        return eg_error_prefix(rc, "reading the bootloader at 0x%x: ", off);
    }
    if (rc == 0)
        rc = eg_image_parse(&info, boot.data, boot.len) < 0 || !eg_image_valid(&info) ? EG_EINVAL
                                                                                      : 0;
    eg_buf_release(&boot);
    if (rc < 0)
        return eg_error_set(
            EG_EINVAL,
            "the board has no valid %s bootloader at 0x%x: give one with "
            "--bootloader FILE (ESP-IDF builds it as build/bootloader/bootloader.bin)",
            j->d->chip->name, off);
    return 0;
}

static int check_ram(const job *j)
{
    const eg_ram_program *ram = &j->plan->ram;
    const eg_chip *chip = j->d->chip;

    for (size_t i = 0; i < ram->n_segs; i++)
        if (eg_chip_addr_in_flash(chip, ram->segs[i].addr))
            return eg_error_set(EG_EINVAL,
                                "'%s' cannot run from RAM: section %s is mapped from flash "
                                "(0x%08x); link everything into RAM, or flash it without --ram",
                                ram->name, ram->segs[i].name, ram->segs[i].addr);
    return 0;
}

static int step_check(job *j)
{
    const eg_plan *p = j->plan;
    const eg_device *d = j->d;
    int rc;

    if (p->chip && p->chip != d->chip)
        return eg_error_set(EG_EMISMATCH, "this board is an %s, not the %s %s", d->chip->name,
                            p->chip->name, p->chip_from);
    for (size_t i = 0; i < p->n_regions; i++) {
        const eg_plan_region *r = &p->regions[i];
        if (r->image_chip_id != EG_PLAN_NO_IMAGE &&
            (unsigned)r->image_chip_id != d->chip->image_chip_id) {
            const eg_chip *other = eg_chip_by_image_id((unsigned)r->image_chip_id);
            return eg_error_set(EG_EMISMATCH,
                                "'%s' at 0x%x is an image for the %s (chip id %d), not the %s",
                                r->label, r->addr, other ? other->name : "unknown chip",
                                r->image_chip_id, d->chip->name);
        }
    }
    if ((p->n_regions || p->ram.n_segs) && (rc = check_revision(j)) < 0)
        return rc;
    if (p->ram.n_segs)
        return check_ram(j);
    if ((rc = check_security(j)) < 0)
        return rc;
    if (!d->flash_size && (p->n_regions || p->n_erases || p->erase_all || p->erase_names))
        return eg_error_set(EG_EINVAL,
                            "the flash's size is unknown (JEDEC id 0x%06x): give it "
                            "with --flash-size so regions can be checked",
                            d->flash_id);
    if (p->flash_size > d->flash_size)
        return eg_error_set(EG_EMISMATCH, "the board has a %u MB flash, the plan needs %u MB",
                            d->flash_size >> 20, p->flash_size >> 20);
    for (size_t i = 0; i < p->n_regions; i++)
        if ((rc = eg_device_check_range(d, p->regions[i].addr, p->regions[i].len)) < 0)
            return eg_error_prefix(rc, "'%s': ", p->regions[i].label);
    for (size_t i = 0; i < p->n_erases; i++)
        if ((rc = eg_device_check_range(d, p->erases[i].addr, p->erases[i].size)) < 0)
            return eg_error_prefix(rc, "erasing %s: ", p->erases[i].label);
    if (j->o->kind == EG_JOB_FLASH && p->keep_board_bootloader)
        return check_board_bootloader(j);
    return 0;
}

/* ---- erase ------------------------------------------------------------------------ */

static int erase_one(job *j, uint32_t addr, uint32_t size, const char *label)
{
    int rc = eg_session_flash_erase(j->d->s, addr, size);
    if (rc < 0)
        return eg_error_prefix(rc, "erasing %s: ", label);
    eg_events_log(&j->d->s->ev, EG_LOG_INFO, "Erased %s (0x%08x, %u bytes)", label, addr, size);
    return 0;
}

/* Partitions named in plan->erase_names, as the board's own table places them. */
static int erase_board_parts(job *j)
{
    const eg_plan *p = j->plan;
    eg_partition_opts popts;
    eg_partition_table *t = NULL;
    eg_buf bin = EG_BUF_INIT;
    char label[64];
    const eg_partition **sel = NULL;
    size_t n = 0;
    int rc;

    eg_partition_opts_default(&popts);
    popts.table_offset = p->table_offset;
    popts.flash_size = j->d->flash_size;
    popts.bootloader_offset = j->d->chip->bootloader_offset;
    rc = eg_session_flash_read(&bin, j->d->s, p->table_offset, EG_PARTITION_BIN_LEN);
    if (rc < 0)
        rc = eg_error_prefix(rc, "reading the partition table at 0x%x: ", p->table_offset);
    else if ((rc = eg_partition_parse_bin(&t, bin.data, bin.len, "the board's table", &popts)) < 0)
        rc = eg_error_prefix(
            rc, "at 0x%x (give the table with --partition-table FILE): ", p->table_offset);
    eg_buf_release(&bin);
    if (rc < 0)
        return rc;
    /* Every name is looked up before anything is erased. */
    if ((rc = eg_partition_select_names(&sel, &n, t, p->erase_names)) < 0)
        goto done;
    for (size_t i = 0; i < n && rc == 0; i++) {
        snprintf(label, sizeof(label), "partition '%s'", sel[i]->name);
        rc = erase_one(j, sel[i]->offset, sel[i]->size, label);
    }
done:
    free(sel);
    eg_partition_table_free(t);
    return rc;
}

static int step_erase(job *j)
{
    const eg_plan *p = j->plan;
    int rc = 0;

    if (p->erase_all || p->policy.erase == EG_ERASE_ALL) {
        eg_events_log(&j->d->s->ev, EG_LOG_INFO, "Erasing the whole %u MB flash...",
                      j->d->flash_size >> 20);
        if ((rc = eg_session_flash_erase_all(j->d->s, j->d->flash_size)) < 0)
            return rc;
    }
    if (p->erase_names && (rc = erase_board_parts(j)) < 0)
        return rc;
    for (size_t i = 0; i < p->n_erases && rc == 0; i++) {
        if (drained(j))
            return eg_error_set(EG_ECANCELED, "stopped before erasing %s", p->erases[i].label);
        rc = erase_one(j, p->erases[i].addr, p->erases[i].size, p->erases[i].label);
    }
    return rc;
}

/* ---- write and verify ------------------------------------------------------------- */

static int device_md5(job *j, size_t i)
{
    const eg_plan_region *pr = &j->plan->regions[i];
    eg_job_region *jr = &j->r->regions[i];
    int rc = eg_session_flash_md5(jr->md5_device, j->d->s, pr->addr, pr->len);
    jr->has_md5 = rc == 0;
    return rc;
}

static int step_write(job *j)
{
    const eg_plan *p = j->plan;
    int skip = p->policy.skip_same && !p->erase_all && p->policy.erase != EG_ERASE_ALL;
    int rc;

    j->total = 0;
    for (size_t i = 0; i < p->n_regions; i++)
        j->total += p->regions[i].len;
    j->done_before = 0;
    for (size_t i = 0; i < p->n_regions; i++, j->done_before += p->regions[i - 1].len) {
        const eg_plan_region *pr = &p->regions[i];
        eg_job_region *jr = &j->r->regions[i];

        j->r->region = (int)i;
        if (jr->outcome != EG_REGION_PENDING && jr->outcome != EG_REGION_FAILED)
            continue; /* done before a retry */
        if (drained(j))
            return eg_error_set(EG_ECANCELED, "stopped before writing '%s'", pr->label);
        if (skip) {
            if ((rc = device_md5(j, i)) < 0)
                return eg_error_prefix(rc, "'%s': ", pr->label);
            if (memcmp(jr->md5_device, pr->md5, 16) == 0) {
                jr->outcome = EG_REGION_SKIPPED;
                eg_events_log(&j->d->s->ev, EG_LOG_INFO,
                              "Skipped '%s' at 0x%08x: the flash already holds it (md5 %s)",
                              pr->label, pr->addr, pr->md5_hex);
                continue;
            }
        }
        if (p->policy.erase == EG_ERASE_REGIONS &&
            (rc = erase_one(j, pr->erase_addr, pr->erase_len, pr->label)) < 0)
            return rc;
        if (j->r->first_block_ms < 0)
            j->r->first_block_ms = now(j) - j->start;
        rc = eg_session_flash_write(j->d->s, pr->addr, pr->data, pr->len,
                                    p->level >= 0 ? &pr->z : NULL);
        if (rc < 0) {
            jr->outcome = EG_REGION_FAILED;
            return eg_error_prefix(rc, "'%s': ", pr->label);
        }
        jr->has_md5 = 0;
        jr->outcome = EG_REGION_WRITTEN;
        if (!p->policy.verify_md5 && !p->policy.verify_readback)
            eg_events_log(&j->d->s->ev, EG_LOG_INFO,
                          "Wrote '%s' at 0x%08x (%u bytes, not verified)", pr->label, pr->addr,
                          pr->len);
    }
    j->r->region = -1;
    return 0;
}

typedef struct readback {
    const eg_plan_region *pr;
    uint32_t first_bad; /* offset of the first differing byte, UINT32_MAX: none */
} readback;

static int compare_sink(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    readback *rb = ctx;
    const uint8_t *want = rb->pr->data + (offset - rb->pr->addr);
    if (rb->first_bad == UINT32_MAX && memcmp(want, data, len) != 0) {
        size_t k = 0;
        while (want[k] == data[k])
            k++;
        rb->first_bad = offset + (uint32_t)k;
    }
    return 0;
}

/* Checks region i: its on-chip MD5 (unless known) and its bytes read back. */
static int verify_region(job *j, size_t i)
{
    const eg_plan *p = j->plan;
    const eg_plan_region *pr = &p->regions[i];
    eg_job_region *jr = &j->r->regions[i];
    int rc;

    if (p->policy.verify_md5 || j->o->kind == EG_JOB_VERIFY) {
        if (!jr->has_md5 && (rc = device_md5(j, i)) < 0)
            return eg_error_prefix(rc, "'%s': verifying: ", pr->label);
        if (memcmp(jr->md5_device, pr->md5, 16) != 0) {
            char got[33];
            eg_hex(got, jr->md5_device, 16);
            jr->outcome = EG_REGION_FAILED;
            return eg_error_set(EG_EMISMATCH,
                                "'%s' at 0x%08x: verify failed: flash MD5 %s, expected %s",
                                pr->label, pr->addr, got, pr->md5_hex);
        }
    }
    if (p->policy.verify_readback) {
        readback rb = {pr, UINT32_MAX};
        if ((rc = eg_session_flash_read_to(j->d->s, pr->addr, pr->len, compare_sink, &rb)) < 0)
            return eg_error_prefix(rc, "'%s': reading back: ", pr->label);
        if (rb.first_bad != UINT32_MAX) {
            jr->outcome = EG_REGION_FAILED;
            return eg_error_set(EG_EMISMATCH,
                                "'%s' at 0x%08x: read back differs from the plan from 0x%08x",
                                pr->label, pr->addr, rb.first_bad);
        }
    }
    if (jr->outcome != EG_REGION_SKIPPED)
        jr->outcome = EG_REGION_VERIFIED;
    if (j->o->kind == EG_JOB_FLASH)
        eg_events_log(&j->d->s->ev, EG_LOG_INFO, "%s '%s' at 0x%08x (%u bytes, md5 %s)",
                      jr->outcome == EG_REGION_SKIPPED ? "Checked" : "Wrote and verified",
                      pr->label, pr->addr, pr->len, pr->md5_hex);
    return 0;
}

static int step_verify(job *j)
{
    const eg_plan *p = j->plan;
    int first_rc = 0;
    char first_msg[512] = "";
    int first_region = -1;

    if (j->o->kind == EG_JOB_FLASH && !p->policy.verify_md5 && !p->policy.verify_readback)
        return 0;
    j->total = 0;
    for (size_t i = 0; i < p->n_regions; i++)
        j->total += p->policy.verify_readback ? p->regions[i].len : 0;
    j->done_before = 0;
    for (size_t i = 0; i < p->n_regions; i++) {
        eg_job_region *jr = &j->r->regions[i];
        int rc;
        j->r->region = (int)i;
        if (j->o->kind == EG_JOB_FLASH && jr->outcome == EG_REGION_SKIPPED &&
            !p->policy.verify_readback)
            continue; /* its MD5 matched before anything was written */
        if (jr->outcome == EG_REGION_VERIFIED)
            continue;
        if (drained(j) && j->o->kind == EG_JOB_VERIFY)
            return eg_error_set(EG_ECANCELED, "stopped before verifying '%s'", p->regions[i].label);
        rc = verify_region(j, i);
        if (p->policy.verify_readback)
            j->done_before += p->regions[i].len;
        if (rc < 0 && rc != EG_EMISMATCH)
            return rc;
        /* A verify-only run checks every region, and reports the first difference. */
        if (rc < 0 && !first_rc) {
            first_rc = rc;
            first_region = (int)i;
            snprintf(first_msg, sizeof(first_msg), "%s", eg_error_msg());
        }
        if (rc < 0 && j->o->kind == EG_JOB_FLASH)
            break;
    }
    j->r->region = first_region;
    if (first_rc)
        return eg_error_set(first_rc, "%s", first_msg);
    return 0;
}

/* ---- the boot check ------------------------------------------------------------- */

static const char *const boot_names[] = {"", "pass", "fail", "timeout"};

const char *eg_boot_result_name(eg_boot_result r)
{
    return (unsigned)r < 4 ? boot_names[r] : "?";
}

/* Appends a console line to the tail kept, dropping the oldest lines for room. */
static void keep_tail(eg_job_result *r, const char *line)
{
    size_t have = strlen(r->boot_tail), add = strlen(line) + 1;

    if (add >= sizeof(r->boot_tail))
        add = sizeof(r->boot_tail) - 1;
    while (have && have + add >= sizeof(r->boot_tail)) {
        char *nl = strchr(r->boot_tail, '\n');
        size_t cut = nl ? (size_t)(nl - r->boot_tail) + 1 : have;
        memmove(r->boot_tail, r->boot_tail + cut, have - cut + 1);
        have -= cut;
    }
    snprintf(r->boot_tail + have, sizeof(r->boot_tail) - have, "%.*s\n", (int)(add - 1), line);
}

/* Judges one console line: 1 expected, -1 failing, 0 neither. */
static int judge(job *j, const char *line)
{
    const eg_plan_boot *b = &j->plan->boot;

    keep_tail(j->r, line);
    if (b->fail && regexec(&b->re_fail, line, 0, NULL, 0) == 0)
        return -1;
    return regexec(&b->re_expect, line, 0, NULL, 0) == 0 ? 1 : 0;
}

/* After the final reset: the console at the app's rate, until the expected line, a
 * failing one, or the timeout. A board on the chip's own USB may leave the bus as it
 * resets: its port is opened again (under its new name). */
static int step_boot(job *j)
{
    const eg_plan_boot *b = &j->plan->boot;
    eg_transport *t = j->d->s->t, *own = NULL;
    eg_console con;
    char line[EG_CONSOLE_LINE_MAX];
    int64_t end = now(j) + b->timeout_ms;
    int rc = 0, verdict = 0;

    j->r->boot_tail[0] = '\0';
    if ((t->caps & EG_TRANSPORT_CAP_BAUD) && t->baud != b->baud &&
        (rc = eg_transport_set_baud(t, b->baud)) < 0)
        return rc;
    eg_console_init(&con, t);
    /* What the session read past its last response is the boot's start. */
    eg_console_feed(&con, j->d->s->rx + j->d->s->rx_pos, j->d->s->rx_len - j->d->s->rx_pos);
    j->d->s->rx_pos = j->d->s->rx_len;
    while (!verdict) {
        int64_t left = end - now(j);
        if (left <= 0)
            break;
        rc = eg_console_line(&con, line, sizeof(line), (unsigned)left);
        if (rc == EG_EGONE || rc == EG_EIO) {
            /* Gone with the reset: back under its name now, if it comes back. */
            eg_transport_free(own);
            own = NULL;
            if (j->o->port_name && (rc = j->o->port_name(j->o->ctx, j->port, sizeof(j->port))) < 0)
                break;
            if ((rc = eg_transport_open(&own, j->port, b->baud, j->o->cancel)) < 0)
                break;
            eg_console_init(&con, own);
            continue;
        }
        if (rc < 0)
            break;
        if (rc > 0)
            verdict = judge(j, line);
    }
    /* A prompt printed without its line's end counts too. */
    if (rc >= 0 && !verdict && eg_console_partial(&con)[0]) {
        snprintf(line, sizeof(line), "%s", eg_console_partial(&con));
        verdict = judge(j, line);
    }
    eg_transport_free(own);
    if (rc < 0)
        return rc;
    if (verdict > 0) {
        j->r->boot = EG_BOOT_PASS;
        snprintf(j->r->boot_line, sizeof(j->r->boot_line), "%s", line);
        return 0;
    }
    if (verdict < 0) {
        j->r->boot = EG_BOOT_FAIL;
        snprintf(j->r->boot_line, sizeof(j->r->boot_line), "%s", line);
        return eg_error_set(EG_EMISMATCH, "boot check: the console printed '%s' (matches '%s')",
                            line, b->fail);
    }
    j->r->boot = EG_BOOT_TIMEOUT;
    /* The console's last line says where the board got to. */
    size_t n = strlen(j->r->boot_tail);
    const char *last = j->r->boot_tail;
    if (n)
        n--; /* its line end */
    for (size_t i = n; i > 0; i--)
        if (j->r->boot_tail[i - 1] == '\n') {
            last = j->r->boot_tail + i;
            break;
        }
    n -= (size_t)(last - j->r->boot_tail);
    if (!j->r->boot_tail[0])
        return eg_error_set(EG_ETIMEDOUT,
                            "boot check: no line matching '%s' within %u ms at %u baud (the "
                            "console was silent)",
                            b->expect, b->timeout_ms, b->baud);
    return eg_error_set(EG_ETIMEDOUT,
                        "boot check: no line matching '%s' within %u ms at %u baud (the last "
                        "line: '%.*s')",
                        b->expect, b->timeout_ms, b->baud, (int)n, last);
}

static int step_finish(job *j)
{
    int rc;

    if (j->o->work) {
        j->total = 0;
        j->done_before = 0;
        if ((rc = j->o->work(j->o->ctx, j->d)) < 0)
            return rc;
    }
    if (j->plan->ram.n_segs) {
        if ((rc = eg_session_run_ram(j->d->s, &j->plan->ram)) < 0)
            return rc;
        return 0; /* a reset would end it */
    }
    if (j->o->resetting && !eg_after_stays(j->plan->policy.after))
        j->o->resetting(j->o->ctx);
    return eg_device_finish(j->d, j->plan->policy.after);
}

/* ---- running the steps ------------------------------------------------------------ */

/* Failures worth another try after reconnecting: the line or the board misbehaved. */
static int retryable(int rc)
{
    return rc == EG_ETIMEDOUT || rc == EG_EPROTO || rc == EG_EIO || rc == EG_EGONE ||
           rc == EG_EDEVICE;
}

static void record_failure(job *j, eg_step step, int rc)
{
    eg_job_result *r = j->r;
    const char *msg = eg_error_msg();

    r->rc = rc;
    r->step = step;
    r->device_status = rc == EG_EDEVICE && j->d ? j->d->s->last_error : -1;
    /* Every message names the port first. */
    if (strncmp(msg, "port '", 6) == 0)
        snprintf(r->message, sizeof(r->message), "%s", msg);
    else
        snprintf(r->message, sizeof(r->message), "port '%s': %s", j->port, msg);
}

typedef int (*step_fn)(job *j);

/* After a failure: a new connection, identified, up to (not including) step. It must
 * be the same board: one swapped in meanwhile would get the rest of another's work. */
static int reconnect(job *j, eg_step upto)
{
    uint8_t mac[6];
    int known = j->r->identified;
    int rc;

    memcpy(mac, j->r->mac, 6);
    rc = step_connect(j);
    if (rc == 0 && upto > EG_STEP_IDENTIFY)
        rc = step_identify(j);
    if (rc == 0 && known && upto > EG_STEP_IDENTIFY && memcmp(mac, j->r->mac, 6) != 0) {
        char was[18], now[18];
        eg_mac_format(was, mac);
        eg_mac_format(now, j->r->mac);
        return eg_error_set(EG_EMISMATCH,
                            "another board answered after reconnecting (MAC %s, was %s): "
                            "the board was swapped",
                            now, was);
    }
    return rc;
}

/* After a failure rc of step: records it, and says whether it is tried again (a try
 * left, a failure worth one, no stop asked); counts the try when it is. */
static int try_again(job *j, eg_step step, int rc, unsigned *tries)
{
    record_failure(j, step, rc);
    if (step == EG_STEP_BOOT || *tries >= j->plan->policy.retries[step] || !retryable(rc) ||
        eg_cancel_level(j->o->cancel) != EG_CANCEL_NONE)
        return 0;
    ++*tries;
    j->r->retries++;
    notify(j, step, EG_JOB_STEP_RETRY);
    return 1;
}

static int run_step(job *j, eg_step step, step_fn fn)
{
    const eg_policy *pol = &j->plan->policy;
    unsigned tries = 0;
    int rc;

    /* A stop asked once lets what runs finish, and starts nothing new. */
    if (drained(j)) {
        rc = eg_error_set(EG_ECANCELED, "stopped before the %s step", eg_step_name(step));
        record_failure(j, step, rc);
        return rc;
    }
    /* The deadline covers the step with all its tries. */
    eg_cancel_set_deadline(j->o->cancel, eg_step_name(step), pol->timeout_ms[step]);
    for (;;) {
        int64_t t0 = now(j);
        j->step = step;
        j->r->step = step;
        notify(j, step, EG_JOB_STEP_START);
        rc = fn(j);
        if (rc == 0 && pol->timeout_ms[step])
            rc = eg_cancel_check(j->o->cancel);
        if (j->r->step_ms[step] < 0)
            j->r->step_ms[step] = 0;
        j->r->step_ms[step] += now(j) - t0;
        if (rc == 0) {
            eg_cancel_set_deadline(j->o->cancel, NULL, 0);
            notify(j, step, EG_JOB_STEP_DONE);
            return 0;
        }
        /* A reconnect that fails is a try too (a board re-enumerating takes a moment). */
        do {
            if (!try_again(j, step, rc, &tries)) {
                eg_cancel_set_deadline(j->o->cancel, NULL, 0);
                notify(j, step, EG_JOB_STEP_FAIL);
                return rc;
            }
        } while (step > EG_STEP_CONNECT && (rc = reconnect(j, step)) < 0);
    }
}

int eg_job_run(eg_job_result *out, const eg_plan *plan, const eg_job_opts *o)
{
    job j;
    int rc;

    memset(&j, 0, sizeof(j));
    j.plan = plan;
    j.o = o;
    j.r = out;
    snprintf(j.port, sizeof(j.port), "%s", o->port ? o->port : "");
    memset(out, 0, sizeof(*out));
    out->region = -1;
    out->device_status = -1;
    out->first_block_ms = -1;
    for (int i = 0; i < EG_STEP_COUNT; i++)
        out->step_ms[i] = -1;
    out->n_regions = plan->n_regions;
    out->plan = plan;
    out->regions = calloc(plan->n_regions ? plan->n_regions : 1, sizeof(*out->regions));
    if (!out->regions) {
        out->rc = eg_error_set(EG_ENOMEM, "out of memory");
        snprintf(out->message, sizeof(out->message), "%s", eg_error_msg());
        return out->rc;
    }
    j.start = now(&j);
    if ((rc = run_step(&j, EG_STEP_CONNECT, step_connect)) < 0 ||
        (rc = run_step(&j, EG_STEP_IDENTIFY, step_identify)) < 0)
        goto done;
    if (o->kind != EG_JOB_INFO && (rc = run_step(&j, EG_STEP_CHECK, step_check)) < 0)
        goto done;
    if (o->kind == EG_JOB_FLASH && !j.plan->ram.n_segs &&
        ((rc = run_step(&j, EG_STEP_ERASE, step_erase)) < 0 ||
         (rc = run_step(&j, EG_STEP_WRITE, step_write)) < 0))
        goto done;
    if (o->kind != EG_JOB_INFO && !j.plan->ram.n_segs &&
        (rc = run_step(&j, EG_STEP_VERIFY, step_verify)) < 0)
        goto done;
    if ((rc = run_step(&j, EG_STEP_FINISH, step_finish)) < 0)
        goto done;
    if (o->kind != EG_JOB_INFO && j.plan->boot.enabled)
        rc = run_step(&j, EG_STEP_BOOT, step_boot);
done:
    if (rc == 0) {
        out->rc = 0;
        out->region = -1;
        out->device_status = -1;
        out->message[0] = '\0';
    }
    eg_device_free(j.d);
    eg_plan_stub_release(&j.spare);
    return out->rc;
}

void eg_job_result_release(eg_job_result *r)
{
    if (!r)
        return;
    free(r->regions);
    r->regions = NULL;
    r->n_regions = 0;
}
