/* The records store's handle, shared by its files (open.c, writer.c, query.c). */
#ifndef EG_STORE_PRIV_H
#define EG_STORE_PRIV_H

#include "store/internal.h"
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

struct eg_store_rec;

struct eg_store {
    char *path;
    sqlite3 *db; /* used by the owning thread, or by the writer thread while it runs */
    char host[256];
    int mu_ok, cv_ok;

    /* The writer's statements (prepared by eg_store_writer_start). */
    sqlite3_stmt *ins_attempt, *upd_ident, *ups_device, *upd_end, *ins_region, *sel_content,
        *ins_content;
    pthread_t thread;
    int thread_on; /* the owning thread's view: a writer thread was started */

    pthread_mutex_t mu;
    pthread_cond_t cv;  /* the writer waits on it */
    pthread_cond_t scv; /* serial number allocations wait on it (serial.c) */
    int scv_ok;
    /* Under mu. */
    struct eg_store_rec *head, *tail; /* the queue, oldest first */
    int accepting;                    /* the attempt calls may queue */
    int stopping;                     /* the writer ends once the queue is empty */
    int werr;                         /* the writer's first error, 0 when none */
    char werr_msg[768];
    size_t lost;        /* records that could not be written */
    int serial_waiting; /* serial number allocations waiting for the file */
    /* Turns between the writer and allocations: batches the writer has taken, and
     * that count when the last allocation ended. */
    unsigned long batches_taken, serial_turn;
    int serial_queued; /* allocations waiting for their turn: the writer's batches shrink */

    /* Serial numbers (serial.c): a connection of their own, opened at the first
     * allocation, used by the allocation being served (tickets under mu: one at a
     * time, in the order they came). */
    unsigned long serial_next, serial_serving;
    sqlite3 *sdb;
};

/* Sets a message "records store 'PATH': WHAT: <SQLite's message> (<errno text>)" and
 * returns EG_EIO. */
int eg_store_db_error(const eg_store *s, const char *what);
/* sqlite3_exec with that message on failure. */
int eg_store_exec(eg_store *s, const char *sql, const char *what);

/* Writes what is queued and ends the writer thread, if one runs (writer.c). */
void eg_store_writer_join(eg_store *s);
/* Finalizes the writer's statements and frees anything left queued. */
void eg_store_writer_free(eg_store *s);
/* Closes the serial numbers' connection (serial.c). */
void eg_store_serial_close(eg_store *s);

/* 0 when mac is "aa:bb:cc:dd:ee:ff" in lowercase hex, else EG_EINVAL naming it. */
int eg_store_check_mac(const char *mac);

#endif
