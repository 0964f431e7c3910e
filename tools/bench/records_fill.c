/* Fills a records store through the writer queue as production would, and says how
 * fast it went: THREADS workers each queue started, identified and finished for their
 * share of N attempts (three regions each: bootloader, partition table, app; a slot
 * label, serial number, log file and, when it passed, a boot check; one attempt in 20
 * fails with a cause), and the clock stops when eg_store_writer_stop() has committed
 * everything.
 *
 * usage: records_fill DB N THREADS
 * prints: "attempts N threads T seconds S attempts/s R records/s Q" */
#include "core/error.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct worker {
    eg_store *s;
    int64_t run_id;
    unsigned first, count, slot;
    int rc;
    char msg[512];
} worker;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hex(char *dst, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = "0123456789abcdef"[(seed * 2654435761u + (unsigned)i * 40503u) >> 28];
    dst[n] = '\0';
}

static void *work(void *arg)
{
    static const char *const labels[3] = {"bootloader", "partition-table", "app"};
    static const uint32_t offsets[3] = {0x0, 0x8000, 0x10000};
    static const uint32_t sizes[3] = {0x5000, 0xc00, 0x40000};
    worker *w = arg;
    char port[32], loc[32], label[32], serial[32], log[64];

    snprintf(port, sizeof(port), "/dev/ttyUSB%u", w->slot);
    snprintf(loc, sizeof(loc), "1-1.%u", w->slot);
    snprintf(label, sizeof(label), "A%u", w->slot);
    for (unsigned i = 0; i < w->count && w->rc == 0; i++) {
        unsigned seq = w->first + i;
        int64_t t = wall_ms();
        eg_store_attempt_start a = {w->run_id, seq, (int)w->slot, port, loc, NULL,
                                    "flash",   t,   label};
        eg_store_identity id = {.chip = "ESP32-C3",
                                .rev_major = 0,
                                .rev_minor = 4,
                                .flash_id = 0x164020,
                                .flash_size = 4 << 20};
        snprintf(id.mac, sizeof(id.mac), "24:0a:%02x:%02x:%02x:%02x", (seq >> 24) & 0xff,
                 (seq >> 16) & 0xff, (seq >> 8) & 0xff, seq & 0xff);
        eg_store_region r[3];
        int failed = seq % 20 == 7;
        snprintf(serial, sizeof(serial), "WX-BENCH-%07u", seq + 1);
        snprintf(log, sizeof(log), "logs/%lld/%u.log", (long long)w->run_id, seq);
        for (int k = 0; k < 3; k++) {
            memset(&r[k], 0, sizeof(r[k]));
            r[k].offset = offsets[k];
            r[k].size = sizes[k];
            r[k].label = labels[k];
            hex(r[k].sha256, 64, (unsigned)k);
            hex(r[k].md5_expected, 32, (unsigned)k + 7);
            if (!(failed && k == 2))
                memcpy(r[k].md5_device, r[k].md5_expected, 33);
            r[k].outcome = failed && k == 2 ? "failed" : "written";
        }
        eg_store_attempt_end e = {
            .run_id = w->run_id,
            .seq = seq,
            .result = failed ? EG_RESULT_FAIL : EG_RESULT_PASS,
            .identified = 1,
            .identity = id,
            .failed_step = failed ? (seq % 40 == 7 ? "write" : "verify") : NULL,
            .error_code = failed ? (seq % 40 == 7 ? EG_ETIMEDOUT : EG_EMISMATCH) : 0,
            .message =
                failed ? "writing flash at 0x00010000: block 12: timed out, \"no answer\"" : NULL,
            .device_status = -1,
            .step_ms = {120, 30, 1, -1, 2500, 300, 5, failed ? -1 : 900},
            .ended_ms = t + 2956,
            .regions = r,
            .n_regions = 3,
            .serial_number = serial,
            .log_path = log,
            .boot_result = failed ? NULL : "pass",
            .boot_line = failed ? NULL : "I (312) app: ready",
        };
        if (eg_store_attempt_started(w->s, &a) < 0 ||
            eg_store_attempt_identified(w->s, w->run_id, seq, &id) < 0 ||
            eg_store_attempt_finished(w->s, &e) < 0) {
            w->rc = -1;
            snprintf(w->msg, sizeof(w->msg), "%s", eg_error_msg());
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    eg_store *s = NULL;
    int64_t run_id;
    worker *w;
    pthread_t *th;

    if (argc != 4) {
        fprintf(stderr, "usage: records_fill DB N THREADS\n");
        return 2;
    }
    unsigned n = (unsigned)strtoul(argv[2], NULL, 10), nt = (unsigned)strtoul(argv[3], NULL, 10);
    if (n == 0 || nt == 0 || nt > 256) {
        fprintf(stderr, "records_fill: N and THREADS (1 to 256) must be positive\n");
        return 2;
    }
    w = calloc(nt, sizeof(*w));
    th = calloc(nt, sizeof(*th));
    eg_store_run_info info = {.station = "bench",
                              .lot = "LOT-BENCH",
                              .profile_name = "bench",
                              .kind = "flash",
                              .version = "bench",
                              .started_ms = wall_ms()};
    if (!w || !th || eg_store_open(&s, argv[1]) < 0 || eg_store_run_begin(&run_id, s, &info) < 0 ||
        eg_store_writer_start(s) < 0) {
        fprintf(stderr, "records_fill: %s\n", eg_error_msg());
        return 1;
    }
    double t0 = mono_s();
    for (unsigned i = 0; i < nt; i++) {
        w[i] = (worker){s, run_id, i * (n / nt), n / nt + (i == nt - 1 ? n % nt : 0), i + 1, 0, ""};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    int bad = 0;
    for (unsigned i = 0; i < nt; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc) {
            fprintf(stderr, "records_fill: worker %u: %s\n", i, w[i].msg);
            bad = 1;
        }
    }
    if (eg_store_writer_stop(s, run_id, wall_ms()) < 0) {
        fprintf(stderr, "records_fill: %s\n", eg_error_msg());
        bad = 1;
    }
    double secs = mono_s() - t0;
    eg_store_close(s);
    printf("attempts %u threads %u seconds %.3f attempts/s %.0f records/s %.0f\n", n, nt, secs,
           n / secs, 3 * n / secs);
    free(w);
    free(th);
    return bad;
}
