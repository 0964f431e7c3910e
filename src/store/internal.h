/* Inside the records store: the migrations compiled in from db/ (store_sql.c, which
 * CMake generates from db/schema.sql and db/migrations/NNNN-*.sql) and the runner that
 * applies them. Tests use the runner with migrations of their own. */
#ifndef EG_STORE_INTERNAL_H
#define EG_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct eg_store_migration {
    int version;      /* the user_version the database has once this has run */
    const char *name; /* "db/schema.sql", "db/migrations/0002-name.sql" */
    const char *sql;
} eg_store_migration;

/* Every migration of this espgang, versions 1, 2, ... in order (generated). */
extern const eg_store_migration eg_store_migrations[];
extern const size_t eg_store_n_migrations;

/* Brings db (an open connection to path, used for messages) to the last of the n
 * migrations m, in one IMMEDIATE transaction: a database at user_version 0 must be
 * empty (else it is not ours), one newer than m's last is refused, and any failure
 * rolls everything back. *out_from (may be NULL) gets the version found. */
int eg_store_migrate(int *out_from, sqlite3 *db, const char *path, const eg_store_migration *m,
                     size_t n);

#endif
