/* Transports: a byte pipe to a board, with optional modem lines and baud rate.
 *
 * One vtable, several kinds: serial ports through libserialport, terminals that
 * libserialport does not handle (pseudo-terminals) through termios, TCP
 * (socket://HOST:PORT), and RFC 2217 (rfc2217://HOST:PORT, which also carries the baud
 * rate and DTR/RTS). The kind is chosen from what the name designates.
 *
 * A transport belongs to one thread. Every wait it makes (reads, writes, the pauses
 * of reset sequences) watches its cancel token: a stop asked from another thread ends
 * it with EG_ECANCELED, the running step's deadline with EG_ETIMEDOUT. Serial ports
 * are opened exclusively (TIOCEXCL and flock): a port another program holds is
 * EG_EBUSY, "port '...' is in use". Writing to a closed socket never raises SIGPIPE. */
#ifndef EG_TRANSPORT_TRANSPORT_H
#define EG_TRANSPORT_TRANSPORT_H

#include "core/cancel.h"

#include <stddef.h>
#include <stdint.h>

typedef struct eg_transport eg_transport;

enum {
    EG_TRANSPORT_CAP_LINES = 1 << 0, /* DTR and RTS reach the board */
    EG_TRANSPORT_CAP_BAUD = 1 << 1,  /* the baud rate can be changed */
};

typedef struct eg_transport_ops {
    const char *kind;
    /* Reads up to len bytes, waiting at most timeout_ms for the first one. Returns
     * the count (> 0), 0 on timeout, or a negative code (EG_EIO when the device
     * went away, EG_ECANCELED / EG_ETIMEDOUT from the cancel token). */
    int (*read)(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms);
    /* Writes all len bytes or fails; gives up after timeout_ms. */
    int (*write)(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms);
    int (*set_baud)(eg_transport *t, uint32_t baud);
    /* Sets DTR and RTS together; a value of -1 leaves that line unchanged. */
    int (*set_lines)(eg_transport *t, int dtr, int rts);
    /* NULL when every rate works; else says whether baud does. */
    int (*supports_baud)(eg_transport *t, uint32_t baud);
    /* Discards bytes received but not yet read. */
    int (*flush_input)(eg_transport *t);
    void (*free)(eg_transport *t);
} eg_transport_ops;

struct eg_transport {
    const eg_transport_ops *ops;
    char name[256];
    unsigned caps;
    uint32_t baud;
    uint16_t usb_vid; /* 0 when unknown or not USB */
    uint16_t usb_pid;
    char usb_serial[128];  /* "" when unknown */
    char usb_location[64]; /* the USB port path ("1-2.3"), "" when unknown */
    eg_cancel *cancel;     /* the owner's token; NULL: never canceled */
};

/* Opens the transport that name designates: "socket://HOST:PORT",
 * "rfc2217://HOST:PORT", or a device path, with cancel as its token (NULL: none). The
 * baud rate applies to serial ports. *out is NULL on error. */
int eg_transport_open(eg_transport **out, const char *name, uint32_t baud, eg_cancel *cancel);

void eg_transport_free(eg_transport *t);

int eg_transport_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms);
int eg_transport_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms);
int eg_transport_set_baud(eg_transport *t, uint32_t baud);
int eg_transport_set_lines(eg_transport *t, int dtr, int rts);
int eg_transport_flush_input(eg_transport *t);

/* Constructors of each kind; eg_transport_open() picks one. */
int eg_transport_open_socket(eg_transport **out, const char *hostport, eg_cancel *cancel);
int eg_transport_open_rfc2217(eg_transport **out, const char *hostport, uint32_t baud,
                              eg_cancel *cancel);

#define EG_SOCKET_WRITE_MS 5000
int eg_transport_open_tty(eg_transport **out, const char *path, uint32_t baud);
int eg_transport_open_serial(eg_transport **out, const char *path, uint32_t baud);

/* The USB port path ("1-2.3": bus 1, hub port 2, its port 3) of the USB device behind
 * the terminal at path, as sysfs names it; "" when it is not a USB device. */
void eg_usb_location(char *dst, size_t len, const char *path);
/* The same from a device's sysfs path ("" when it is not under a USB port). */
void eg_usb_location_in(char *dst, size_t len, const char *syspath);

/* True when path (after following links) is a pseudo-terminal. */
int eg_transport_is_pty(const char *path);

/* A serial port as enumeration sees it. */
typedef struct eg_port_info {
    char name[256];
    char description[256];
    char serial[128];
    char manufacturer[128], product[128]; /* USB strings, "" when unknown */
    char location[64];                    /* USB port path ("1-2.3", as sysfs names it), or "" */
    uint16_t vid, pid;                    /* 0 when not USB */
    int usb;
} eg_port_info;

/* True when vid:pid is Espressif's (its chips' own USB) or a USB-UART bridge that
 * development boards and fixtures carry (Silicon Labs CP210x, WCH CH34x/CH910x, FTDI,
 * Prolific). */
int eg_port_known(uint16_t vid, uint16_t pid);

/* Lists the serial ports of this machine. *out is an array of *count entries, freed
 * with free(). */
int eg_port_list(eg_port_info **out, size_t *count);

#endif
