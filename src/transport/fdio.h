/* Internal: poll-based reads and writes on a non-blocking file descriptor, shared by
 * the termios and socket transports. */
#ifndef EG_TRANSPORT_FDIO_H
#define EG_TRANSPORT_FDIO_H

#include "core/cancel.h"

#include <stddef.h>
#include <stdint.h>

/* Returns bytes read (> 0), 0 on timeout, EG_EIO on failure or end of stream,
 * EG_ECANCELED / EG_ETIMEDOUT when cancel says so (it may be NULL). */
int eg_fd_read(int fd, uint8_t *buf, size_t len, unsigned timeout_ms, eg_cancel *cancel);
/* Writes all of buf; a socket is written with MSG_NOSIGNAL (no SIGPIPE). */
int eg_fd_write(int fd, const uint8_t *buf, size_t len, unsigned timeout_ms, eg_cancel *cancel,
                int socket);
/* Takes fd (a terminal at path) for this process alone: TIOCEXCL, and an exclusive
 * flock that other espgang processes see. EG_EBUSY with "port 'PATH' is in use ..."
 * (naming the holder when it can be found) when another process has it. */
int eg_fd_lock_exclusive(int fd, const char *path);
/* Sets DTR and RTS together (one TIOCMSET); -1 leaves a line as it is. */
int eg_fd_set_lines(int fd, int dtr, int rts);
/* Keeps the lines as they are when the port closes (clears HUPCL), so a board held in
 * reset stays there after the program ends. */
int eg_fd_keep_lines_on_close(int fd);
/* Reads and drops whatever is waiting. */
void eg_fd_drain(int fd);

#endif
