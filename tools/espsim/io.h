/* espsim's transports: a TCP port on 127.0.0.1 (socket://) or a pseudo-terminal with
 * a symlink to its slave, one client at a time. A port only moves bytes and notices
 * clients coming and going; the board (board.h) decides what the bytes mean. */
#ifndef ESPSIM_IO_H
#define ESPSIM_IO_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef enum sim_port_kind {
    SIM_PORT_TCP,
    SIM_PORT_PTY,
} sim_port_kind;

typedef struct sim_port {
    sim_port_kind kind;
    int listen_fd; /* TCP: the listening socket */
    int fd;        /* TCP: the client's connection; pty: the master */
    int connected; /* a client has the port open */
    int gone;      /* unplugged for good */
    uint16_t tcp_port;
    char *link;     /* pty: the symlink we made (owned) */
    char slave[64]; /* pty: /dev/pts/N */
    int watch_fd;   /* pty: inotify on the slave's opens and closes; -1: probe instead */
    unsigned opens; /* pty: clients holding the slave open */
    unsigned skip_open, skip_close; /* pty: our own opens of the slave, not clients' */
    uint8_t ev[4096];               /* pty: inotify events read but not handled */
    size_t ev_len, ev_off;
    eg_buf out;     /* bytes waiting to be sent */
    size_t out_off; /* how many of out are sent */
    size_t out_end; /* send no further than this index of out (pacing, held replies) */
    int out_limited;
    int blocked;         /* the client took less than it was offered: wait until writable */
    uint64_t sent_total; /* bytes handed to the client since the port opened */
    int telnet;          /* TCP speaking RFC 2217 (the address says rfc2217://) */
} sim_port;

enum {
    SIM_IO_NONE = 0,   /* nothing happened */
    SIM_IO_DATA = 1,   /* bytes were read */
    SIM_IO_CLOSED = 2, /* the client went away */
    SIM_IO_OPENED = 3, /* a client came */
};

/* Without inotify, how often a closed pty is checked for a new client. */
#define SIM_PTY_PROBE_MS 10
#define SIM_OUT_MAX      (1u << 20)

/* Listens on 127.0.0.1:port (0 = any free port; the chosen one in p->tcp_port). */
int sim_port_open_tcp(sim_port *p, uint16_t port);
/* Creates a pty in raw mode and the symlink link -> its slave (replacing a symlink
 * already there, refusing anything else). */
int sim_port_open_pty(sim_port *p, const char *link);
/* Closes everything and removes the symlink; p may be zeroed or closed already. */
void sim_port_close(sim_port *p);
/* "socket://127.0.0.1:PORT" or the link path. */
void sim_port_address(const sim_port *p, char *dst, size_t dstlen);

/* TCP: takes a waiting connection; 1 when there is a new client (an old one is
 * dropped first: *replaced set to 1), 0 when none was waiting. */
int sim_port_accept(sim_port *p, int *replaced);
/* Pty: reports what clients did to the slave, one change per call, oldest first:
 * SIM_IO_OPENED (the first client opened it), SIM_IO_CLOSED (the last one closed it:
 * the port is then not connected) or SIM_IO_NONE (nothing more). With inotify it reads
 * the events waiting on sim_port_watch_fd(); without, it checks whether a client has
 * the slave open (call it every SIM_PTY_PROBE_MS while not connected). */
int sim_port_watch(sim_port *p);
/* The fd to poll for sim_port_watch(), or -1 when it must be called on a timer. */
int sim_port_watch_fd(const sim_port *p);
/* Pty, after SIM_IO_CLOSED: when nobody has the slave open, reads bytes the last
 * client sent before it closed (SIM_IO_DATA), until SIM_IO_NONE. Reads nothing once
 * a new client is there, as its bytes cannot be told from the old one's. */
int sim_port_read_leftover(sim_port *p, uint8_t *buf, size_t cap, size_t *n);

/* Reads what the client sent into buf: SIM_IO_DATA with *n bytes, SIM_IO_NONE, or
 * SIM_IO_CLOSED (the port is then not connected). */
int sim_port_read(sim_port *p, uint8_t *buf, size_t cap, size_t *n);
/* Sends as much of out as the client takes (up to out_end when out_limited); sets
 * blocked when the client took less than it could be given. SIM_IO_CLOSED when it went
 * away. */
int sim_port_flush(sim_port *p);
size_t sim_port_pending(const sim_port *p);
/* Drops the client (TCP: closes the connection) and any unsent bytes. */
void sim_port_drop(sim_port *p);
/* The board is unplugged: everything closes, the link goes, the port stays gone. */
void sim_port_unplug(sim_port *p);

#endif
