/* Internal: poll-based reads and writes on a non-blocking file descriptor, shared by
 * the termios and socket transports. */
#ifndef EG_TRANSPORT_FDIO_H
#define EG_TRANSPORT_FDIO_H

#include <stddef.h>
#include <stdint.h>

/* Returns bytes read (> 0), 0 on timeout, EG_EIO on failure or
 * end of stream. */
int eg_fd_read(int fd, uint8_t *buf, size_t len, unsigned timeout_ms);
int eg_fd_write(int fd, const uint8_t *buf, size_t len, unsigned timeout_ms);
/* Sets DTR and RTS together (one TIOCMSET); -1 leaves a line as it is. */
int eg_fd_set_lines(int fd, int dtr, int rts);
/* Keeps the lines as they are when the port closes (clears HUPCL), so a board held in
 * reset stays there after the program ends. */
int eg_fd_keep_lines_on_close(int fd);
/* Reads and drops whatever is waiting. */
void eg_fd_drain(int fd);

#endif
