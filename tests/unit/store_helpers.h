/* Helpers shared by test_store.c and test_report.c: a temporary folder per test, SQL
 * run directly on a store's file, and attempts with deterministic contents. */
#ifndef EG_TEST_STORE_HELPERS_H
#define EG_TEST_STORE_HELPERS_H

#include "core/error.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct tdir {
    char path[64];
    char (*file)[128]; /* 8 scratch paths for in_dir() */
    int next;
} tdir;

static inline int tdir_setup(void **state)
{
    tdir *d = calloc(1, sizeof(*d));
    if (!d || !(d->file = calloc(8, sizeof(*d->file))))
        return -1;
    snprintf(d->path, sizeof(d->path), "/tmp/eg_store_XXXXXX");
    if (!mkdtemp(d->path))
        return -1;
    *state = d;
    return 0;
}

static inline int tdir_teardown(void **state)
{
    tdir *d = *state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", d->path, d->path);
    int rc = system(cmd);
    free(d->file);
    free(d);
    return rc == 0 ? 0 : -1;
}

/* "<tmp>/name", valid for the next 7 calls. */
static inline const char *in_dir(tdir *d, const char *name)
{
    char *p = d->file[d->next++ % 8];
    snprintf(p, 128, "%s/%s", d->path, name);
    return p;
}

/* Runs sql on the file at path (a connection of its own) and returns the first column
 * of its first row as an integer (-999 when there is no row). */
static inline int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -999;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "sql_int: cannot open %s\n", path);
        sqlite3_close(db);
        return -1000;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sql_int: %s: %s\n", sql, sqlite3_errmsg(db));
        v = -1001;
    } else if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Runs sql (statements without results); 0 or -1. */
static inline int sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc =
        sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
            ? 0
            : -1;
    if (rc < 0)
        fprintf(stderr, "sql_exec: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

/* The text of PRAGMA integrity_check's first row ("ok"). */
static inline const char *integrity(const char *path)
{
    static char text[256];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(text, sizeof(text), "cannot check");
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(text, sizeof(text), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return text;
}

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static inline int64_t wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lowercase hex of n digits made from seed (the same seed gives the same digits). */
static inline void fake_hex(char *dst, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345;
        dst[i] = "0123456789abcdef"[(x >> 16) & 15];
    }
    dst[n] = '\0';
}

static inline void fake_mac(char mac[18], unsigned seq)
{
    snprintf(mac, 18, "24:0a:c4:%02x:%02x:%02x", (seq >> 16) & 0xff, (seq >> 8) & 0xff, seq & 0xff);
}

/* Region i of attempt seq: offsets 0x0, 0x8000, 0x10000, ...; contents that differ by
 * i only (every attempt writes the same images), the device's MD5 the expected one. */
static inline void fake_region(eg_store_region *g, unsigned seq, unsigned i)
{
    static const char *const labels[] = {"bootloader", "partition-table", "app", "nvs"};
    (void)seq;
    memset(g, 0, sizeof(*g));
    g->offset = i == 0 ? 0 : 0x8000u << (i - 1);
    g->size = 0x1000u * (i + 1);
    g->label = labels[i % 4];
    fake_hex(g->sha256, 64, 100 + i);
    fake_hex(g->md5_expected, 32, 200 + i);
    memcpy(g->md5_device, g->md5_expected, 33);
    g->outcome = i % 2 ? "skipped" : "written";
}

static inline eg_store_run_info fake_run(const char *lot, int64_t started_ms)
{
    eg_store_run_info info = {0};
    info.station = "station-1";
    info.operator_name = "op";
    info.lot = lot;
    info.profile_name = "demo";
    info.kind = "flash";
    info.version = "0.1.0";
    info.started_ms = started_ms;
    return info;
}

#endif
