/* Lookups that workers make while the writer runs: on a read-only connection of their
 * own (WAL lets it read beside the writer). */
#include "core/error.h"
#include "store/priv.h"

#include <sqlite3.h>

int eg_store_passed_before(eg_store *s, const char *mac, const char *profile_sha256,
                           int64_t *run_id)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    *run_id = 0;
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = eg_error_set(EG_EIO, "records store '%s': cannot open it to read: %s", s->path,
                          db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_prepare_v2(db,
                           "SELECT a.run_id FROM attempts a JOIN runs r ON r.id = a.run_id "
                           "WHERE a.mac = ?1 AND a.result = 'pass' AND a.kind = 'flash' "
                           "AND r.profile_sha256 = ?2 ORDER BY a.id DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = eg_error_set(EG_EIO, "records store '%s': cannot look the device up: %s", s->path,
                          sqlite3_errmsg(db));
        sqlite3_close(db);
        return rc;
    }
    sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, profile_sha256, -1, SQLITE_STATIC);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        *run_id = sqlite3_column_int64(st, 0);
        rc = 1;
        break;
    case SQLITE_DONE:
        rc = 0;
        break;
    default:
        rc = eg_error_set(EG_EIO, "records store '%s': cannot look the device up: %s", s->path,
                          sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
