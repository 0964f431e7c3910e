/* run and verify: a production profile on many boards at once, every attempt recorded.
 * profile check: a profile validated and its plan printed. */
#include "cli/cmds.h"
#include "cli/live.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/num.h"
#include "core/path.h"
#include "prod/prod.h"
#include "profile/profile.h"
#include "profile/slots.h"
#include "store/store.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EG_VERSION
#define EG_VERSION "0.0.0"
#endif

/* Exit codes of a run: every board passed, some did not, the run could not start. */
enum { EXIT_RUN_OK = 0, EXIT_RUN_START = 1, EXIT_RUN_USAGE = 2, EXIT_RUN_FAILED = 3 };

#define DEFAULT_DB "espgang.db"

typedef struct ports {
    char **names;
    size_t n;
    char *copy;
} ports;

static void ports_free(ports *p)
{
    free(p->names);
    free(p->copy);
    memset(p, 0, sizeof(*p));
}

/* --ports P1,P2,... */
static int ports_from_list(ports *out, const char *list)
{
    size_t cap = 1;
    char *save = NULL;

    for (const char *c = list; *c; c++)
        cap += *c == ',';
    out->copy = strdup(list);
    out->names = calloc(cap, sizeof(*out->names));
    if (!out->copy || !out->names)
        return eg_error_set(EG_ENOMEM, "out of memory");
    for (char *s = strtok_r(out->copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        while (*s == ' ')
            s++;
        if (*s)
            out->names[out->n++] = s;
    }
    if (!out->n)
        return eg_error_set(EG_EINVAL, "--ports names no port");
    return 0;
}

/* --all: the USB serial ports of Espressif's or known USB-UART bridges. */
static int ports_known(ports *out)
{
    eg_port_info *list = NULL;
    size_t n = 0, len = 1;
    int rc = eg_port_list(&list, &n);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        len += strlen(list[i].name) + 1;
    out->copy = calloc(1, len);
    out->names = calloc(n ? n : 1, sizeof(*out->names));
    if (!out->copy || !out->names) {
        free(list);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    char *at = out->copy;
    for (size_t i = 0; i < n; i++) {
        if (!list[i].usb || !eg_port_known(list[i].vid, list[i].pid))
            continue;
        size_t l = strlen(list[i].name);
        memcpy(at, list[i].name, l + 1);
        out->names[out->n++] = at;
        at += l + 1;
    }
    free(list);
    if (!out->n)
        return eg_error_set(EG_ENOTFOUND,
                            "--all: no USB serial port of an Espressif chip or a known USB-UART "
                            "bridge is connected (espgang list-ports --all shows every port)");
    return 0;
}

static int run_profile(const eg_command *cmd, eg_args *a, eg_job_kind kind)
{
    const char *what = kind == EG_JOB_VERIFY ? "verify" : "flash";
    eg_profile *profile = NULL;
    eg_plan *plan = NULL;
    eg_store *store = NULL;
    eg_slots *slots = NULL;
    ports p = {0};
    int64_t run_id = 0;
    int rc = EXIT_RUN_START;

    uint32_t baud = 0;

    int watch = a->count[OPT_WATCH] > 0;
    if (watch && a->val[OPT_PORTS])
        return eg_cli_usage(cmd, "%s: --watch finds the boards itself: no --ports", cmd->name);
    if (!watch && !a->val[OPT_PORTS] == !a->count[OPT_ALL])
        return eg_cli_usage(cmd, "%s: give the boards with --ports P1,P2,..., --all or --watch",
                            cmd->name);
    if (a->val[OPT_BAUD] && (eg_num_parse_u32(&baud, a->val[OPT_BAUD]) < 0 || baud < 9600))
        return eg_cli_usage(cmd, "%s: baud rate '%s' is not valid", cmd->name, a->val[OPT_BAUD]);
    /* Signals are for the run to take (eg_prod_run reads them): blocked before any
     * thread exists, so that no thread (the records writer, a worker) can be the one
     * a Ctrl-C lands on. One that comes while the run is being set up stops it as soon
     * as it starts. */
    sigset_t sigs, old;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, &old);
    /* Everything is checked before any board is touched: the profile and its pinned
     * files, the plan, the ports, the database. */
    if (eg_profile_load(&profile, a->pos[0]) < 0 || eg_profile_read_inputs(profile) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if (kind == EG_JOB_VERIFY && a->count[OPT_READBACK])
        profile->policy.verify_readback = 1;
    eg_profile_plan_opts ppo = {eg_cli_stub_dir(a), eg_cli_log_events(a)};
    if (eg_profile_plan(&plan, profile, &ppo) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    if ((a->val[OPT_SLOTS] && eg_slots_load(&slots, a->val[OPT_SLOTS]) < 0) ||
        (!watch &&
         ((a->val[OPT_PORTS] ? ports_from_list(&p, a->val[OPT_PORTS]) : ports_known(&p)) < 0 ||
          eg_prod_check_ports((const char *const *)p.names, p.n, slots) < 0))) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    /* Templates that name the lot or the station need them now, not on the first board. */
    for (size_t i = 0; i <= profile->nvs.n_keys; i++) {
        const eg_template *t =
            i < profile->nvs.n_keys ? profile->nvs.keys[i].text : profile->serial.format;
        if (eg_template_uses(t, "lot") && !a->val[OPT_LOT]) {
            eg_cli_fail("%s: '%s' names {lot}: give the lot with --lot", a->pos[0], t->text);
            goto done;
        }
        if (eg_template_uses(t, "station") && !a->val[OPT_STATION]) {
            eg_cli_fail("%s: '%s' names {station}: give it with --station", a->pos[0], t->text);
            goto done;
        }
    }
    const char *db = a->val[OPT_DB]      ? a->val[OPT_DB]
                     : profile->database ? profile->database
                                         : DEFAULT_DB;
    char host[256] = "", sha[65];
    gethostname(host, sizeof(host) - 1);
    eg_hex(sha, profile->sha256, 32);
    eg_store_run_info info = {a->val[OPT_STATION],
                              a->val[OPT_OPERATOR],
                              a->val[OPT_LOT],
                              profile->name,
                              sha,
                              what,
                              EG_VERSION,
                              host,
                              (int)getpid(),
                              eg_clock_unix_ms()};
    if (eg_store_open(&store, db) < 0 || eg_store_run_begin(&run_id, store, &info) < 0 ||
        eg_store_writer_start(store) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }

    eg_live live;
    eg_live_mode mode = a->count[OPT_JSON]           ? EG_LIVE_JSON
                        : isatty(STDOUT_FILENO) != 0 ? EG_LIVE_TABLE
                                                     : EG_LIVE_LINES;
    eg_live_init(&live, mode, stdout, what, a->count[OPT_VERBOSE] > 0);
    live.watch = watch;
    if (mode == EG_LIVE_LINES && watch)
        printf("%s: %s '%s' on every board plugged in (Ctrl-C to stop), run %lld in '%s'\n",
               cmd->name, what, profile->name, (long long)run_id, db);
    else if (mode == EG_LIVE_LINES)
        printf("%s: %s '%s' on %zu boards, run %lld in '%s'\n", cmd->name, what, profile->name, p.n,
               (long long)run_id, db);
    eg_prod_opts po = {0};
    po.plan = plan;
    po.kind = kind;
    po.ports = (const char *const *)p.names;
    po.n_ports = p.n;
    po.slots = slots;
    po.watch = watch;
    po.watch_all = watch && a->count[OPT_ALL];
    po.reflash = a->count[OPT_REFLASH] > 0;
    po.profile_sha256 = sha;
    po.profile = profile;
    /* Each attempt's log beside the records: logs/RUN/ in the database's folder. */
    char real[PATH_MAX], logs[PATH_MAX + 64];
    if (eg_path_resolve(real, sizeof(real), db) == 0) {
        char *slash = strrchr(real, '/');
        *slash = '\0';
        snprintf(logs, sizeof(logs), "%s/logs/%lld", real[0] ? real : "", (long long)run_id);
        po.log_dir = logs;
    }
    po.lot = a->val[OPT_LOT];
    po.station = a->val[OPT_STATION];
    po.baud = baud ? baud : profile->baud;
    po.connect_attempts = profile->connect_attempts;
    po.no_fast_connect = profile->no_fast_connect;
    po.store = store;
    po.run_id = run_id;
    po.tick_ms = mode == EG_LIVE_TABLE ? 100u : 0u;
    po.take_signals = 1;
    po.ev = eg_live_events(&live);
    eg_prod_summary sum;
    int prc = eg_prod_run(&sum, &po);
    if (prc == 0 && sum.store_error)
        eg_cli_fail("records: %s", eg_error_msg());
    int wrc = eg_store_writer_stop(store, run_id, eg_clock_unix_ms());
    if (prc == 0)
        eg_live_summary(&live, &sum);
    eg_live_release(&live);
    if (prc < 0 || wrc < 0) {
        eg_cli_fail("%s", eg_error_msg());
        rc = EXIT_RUN_START;
    } else if (sum.store_error) {
        rc = EXIT_RUN_START; /* boards ran, but not every record could be kept */
    } else {
        /* Boards left as they were passed before: not a failure. Watching, the run is
         * a session stopped on purpose: its failures are in the records; only boards
         * canceled by a stop now make it fail. */
        if (watch)
            rc = sum.totals.canceled == 0 ? EXIT_RUN_OK : EXIT_RUN_FAILED;
        else
            rc = sum.totals.failed == 0 && sum.totals.canceled == 0 ? EXIT_RUN_OK : EXIT_RUN_FAILED;
        if (mode != EG_LIVE_JSON)
            printf("Records: run %lld in '%s'\n", (long long)run_id, db);
    }
    eg_prod_summary_release(&sum);
done:
    eg_store_close(store);
    eg_plan_free(plan);
    eg_profile_free(profile);
    eg_slots_free(slots);
    ports_free(&p);
    /* A stop asked after the run took its last signal is not a reason to die now. */
    struct timespec none = {0, 0};
    while (sigtimedwait(&sigs, NULL, &none) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int cmd_run(const eg_command *cmd, eg_args *a)
{
    return run_profile(cmd, a, EG_JOB_FLASH);
}

int cmd_verify(const eg_command *cmd, eg_args *a)
{
    return run_profile(cmd, a, EG_JOB_VERIFY);
}

/* profile check PROFILE: the profile validated, its pinned files checked, its plan
 * built and printed. */
int cmd_profile(const eg_command *cmd, eg_args *a)
{
    eg_profile *profile = NULL;
    eg_plan *plan = NULL;
    char size[32];
    int rc = EG_EXIT_FAIL;

    if (strcmp(a->pos[0], "check") != 0)
        return eg_cli_usage(cmd, "%s: unknown action '%s' (check)", cmd->name, a->pos[0]);
    if (a->npos != 2)
        return eg_cli_usage(cmd, "%s: usage: espgang profile check PROFILE", cmd->name);
    if (eg_profile_load(&profile, a->pos[1]) < 0 || eg_profile_read_inputs(profile) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    eg_profile_plan_opts ppo = {eg_cli_stub_dir(a), eg_cli_log_events(a)};
    if (eg_profile_plan(&plan, profile, &ppo) < 0) {
        eg_cli_fail("%s", eg_error_msg());
        goto done;
    }
    eg_num_format_size(size, sizeof(size), plan->flash_size);
    printf("Profile '%s' (%s): %s", profile->name, a->pos[1], plan->chip->name);
    if (plan->min_rev_full)
        printf(" from revision v%u.%u", plan->min_rev_full / 100, plan->min_rev_full % 100);
    if (plan->max_rev_full != 0xFFFF)
        printf(" to v%u.%u", plan->max_rev_full / 100, plan->max_rev_full % 100);
    printf(", %s flash or more, %u baud, %s\n", plan->flash_size ? size : "any", profile->baud,
           plan->no_stub ? "ROM loader" : "flasher stub");
    printf("Policy: erase %s, verify %s%s, %s, after: %s\n",
           eg_erase_policy_name(plan->policy.erase), plan->policy.verify_md5 ? "by MD5" : "off",
           plan->policy.verify_readback ? " and read-back" : "",
           plan->policy.skip_same ? "unchanged regions skipped" : "every region written",
           eg_after_name(plan->policy.after));
    printf("%-10s %10s %10s %6s  %-32s  %-64s  %s\n", "offset", "size", "compressed", "ratio",
           "md5", "sha256", "file");
    uint64_t total = 0, ztotal = 0;
    for (size_t i = 0; i < plan->n_regions; i++) {
        const eg_plan_region *r = &plan->regions[i];
        size_t z = plan->level >= 0 ? r->z.z.len : r->len;
        total += r->len;
        ztotal += z;
        printf("0x%08x %10u %10zu %5.1f%%  %s  %s  %s\n", r->addr, r->len, z,
               r->len ? 100.0 * (double)z / r->len : 0, r->md5_hex, r->sha256_hex, r->label);
    }
    printf("%zu regions, %llu bytes, %llu compressed; every pinned file matches\n", plan->n_regions,
           (unsigned long long)total, (unsigned long long)ztotal);
    if (profile->boot_check.enabled)
        printf("Boot check: '%s' within %u ms at %u baud%s%s%s\n", profile->boot_check.expect,
               profile->boot_check.timeout_ms, profile->boot_check.baud,
               profile->boot_check.fail ? ", failing on '" : "",
               profile->boot_check.fail ? profile->boot_check.fail : "",
               profile->boot_check.fail ? "'" : "");
    if (profile->serial.format)
        printf("Serial numbers: '%s' from %u\n", profile->serial.format->text,
               profile->serial.start);
    if (profile->nvs.n_keys)
        printf("NVS data: %zu keys, built for each board into %s at 0x%x (%u bytes)\n",
               profile->nvs.n_keys, profile->nvs.label, profile->nvs.addr, profile->nvs.size);
    rc = EG_EXIT_OK;
done:
    eg_plan_free(plan);
    eg_profile_free(profile);
    return rc;
}
