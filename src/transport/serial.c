/* Serial ports through libserialport: real UARTs and USB serial adapters. */
#define _GNU_SOURCE /* strverscmp */
#include "core/error.h"
#include "core/path.h"
#include "transport/fdio.h"
#include "transport/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct serial_transport {
    eg_transport base;
    struct sp_port *port;
} serial_transport;

static const char *sp_message(void)
{
    char *m = sp_last_error_message();
    static _Thread_local char copy[256];
    snprintf(copy, sizeof(copy), "%s", m ? m : "unknown error");
    sp_free_error_message(m);
    return copy;
}

/* libserialport opens and configures the port; the bytes go through its file
 * descriptor with poll(), which sees an unplugged adapter at once (a read that returns
 * 0) where libserialport's blocking reads would wait out the timeout. */
static int serial_fd(eg_transport *t)
{
    int fd = -1;
    sp_get_port_handle(((serial_transport *)t)->port, &fd);
    return fd;
}

static int serial_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return eg_fd_read(serial_fd(t), buf, len, timeout_ms, t->cancel);
}

static int serial_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    return eg_fd_write(serial_fd(t), buf, len, timeout_ms, t->cancel, 0);
}

static int serial_set_baud(eg_transport *t, uint32_t baud)
{
    serial_transport *s = (serial_transport *)t;
    if (sp_set_baudrate(s->port, (int)baud) != SP_OK)
        return eg_error_set(EG_EIO, "cannot set baud rate %u: %s", baud, sp_message());
    return 0;
}

static int serial_set_lines(eg_transport *t, int dtr, int rts)
{
    return eg_fd_set_lines(serial_fd(t), dtr, rts);
}

static int serial_flush_input(eg_transport *t)
{
    serial_transport *s = (serial_transport *)t;
    sp_flush(s->port, SP_BUF_INPUT);
    return 0;
}

static void serial_free(eg_transport *t)
{
    serial_transport *s = (serial_transport *)t;
    if (s->port) {
        sp_close(s->port);
        sp_free_port(s->port);
    }
    free(s);
}

static const eg_transport_ops serial_ops = {
    .kind = "serial",
    .read = serial_read,
    .write = serial_write,
    .set_baud = serial_set_baud,
    .set_lines = serial_set_lines,
    .flush_input = serial_flush_input,
    .free = serial_free,
};

int eg_transport_open_serial(eg_transport **out, const char *path, uint32_t baud)
{
    serial_transport *s;
    struct stat st;
    int rc;

    *out = NULL;
    if (stat(path, &st) != 0)
        return errno == ENOENT
                   ? eg_error_set(EG_ENOTFOUND, "no such port (is the board plugged in?)")
                   : eg_error_set(EG_EIO, "%s", eg_strerror(errno));
    s = calloc(1, sizeof(*s));
    if (!s)
        return eg_error_set(EG_ENOMEM, "out of memory");
    s->base.ops = &serial_ops;
    snprintf(s->base.name, sizeof(s->base.name), "%s", path);
    if (sp_get_port_by_name(path, &s->port) != SP_OK) {
        s->port = NULL;
        serial_free(&s->base);
        /* Terminals that libserialport does not know (no sysfs entry) still work
         * through termios. */
        if (S_ISCHR(st.st_mode))
            return eg_transport_open_tty(out, path, baud);
        return eg_error_set(EG_ENOTFOUND, "not a serial port");
    }
    if (sp_open(s->port, SP_MODE_READ_WRITE) != SP_OK) {
        int err = errno;
        if (err == EBUSY) {
            rc = eg_error_set(EG_EBUSY, "port '%s' is in use by another program", path);
        } else if (err == ENOTTY) {
            /* A terminal without a UART's controls (a pseudo-terminal standing in for a
             * device): termios alone. */
            serial_free(&s->base);
            return eg_transport_open_tty(out, path, baud);
        } else {
            rc = eg_error_set(EG_EIO, "cannot open: %s", sp_message());
        }
        goto fail;
    }
    if ((rc = eg_fd_lock_exclusive(serial_fd(&s->base), path)) < 0)
        goto fail;
    if (sp_set_baudrate(s->port, (int)(baud ? baud : 115200)) != SP_OK ||
        sp_set_bits(s->port, 8) != SP_OK || sp_set_parity(s->port, SP_PARITY_NONE) != SP_OK ||
        sp_set_stopbits(s->port, 1) != SP_OK ||
        sp_set_flowcontrol(s->port, SP_FLOWCONTROL_NONE) != SP_OK) {
        rc = eg_error_set(EG_EIO, "cannot configure: %s", sp_message());
        goto fail;
    }
    int fd = serial_fd(&s->base);
    if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        rc = eg_error_set(EG_EIO, "cannot use the port's file descriptor");
        goto fail;
    }
    eg_fd_keep_lines_on_close(fd);
    s->base.baud = baud ? baud : 115200;
    s->base.caps = EG_TRANSPORT_CAP_LINES | EG_TRANSPORT_CAP_BAUD;
    if (sp_get_port_transport(s->port) == SP_TRANSPORT_USB) {
        int vid = 0, pid = 0;
        const char *serial = sp_get_port_usb_serial(s->port);
        if (sp_get_port_usb_vid_pid(s->port, &vid, &pid) == SP_OK) {
            s->base.usb_vid = (uint16_t)vid;
            s->base.usb_pid = (uint16_t)pid;
        }
        snprintf(s->base.usb_serial, sizeof(s->base.usb_serial), "%s", serial ? serial : "");
        eg_usb_location(s->base.usb_location, sizeof(s->base.usb_location), path);
    }
    *out = &s->base;
    return 0;
fail:
    serial_free(&s->base);
    return rc;
}

void eg_usb_location(char *dst, size_t len, const char *path)
{
    char real[PATH_MAX], sys[PATH_MAX + 64], dev[PATH_MAX];
    const char *base;

    dst[0] = '\0';
    /* The terminal's name as given first (/dev/ttyUSB0), then the one its links lead
     * to (/dev/serial/by-path/... -> ../../ttyUSB0). */
    base = strrchr(path, '/');
    snprintf(sys, sizeof(sys), "/sys/class/tty/%s/device", base ? base + 1 : path);
    if (eg_path_resolve(dev, sizeof(dev), sys) != 0) {
        if (eg_path_resolve(real, sizeof(real), path) != 0)
            return;
        base = strrchr(real, '/');
        snprintf(sys, sizeof(sys), "/sys/class/tty/%s/device", base ? base + 1 : real);
        if (eg_path_resolve(dev, sizeof(dev), sys) != 0)
            return;
    }
    eg_usb_location_in(dst, len, dev);
}

void eg_usb_location_in(char *dst, size_t len, const char *syspath)
{
    dst[0] = '\0';
    /* .../usb1/1-2/1-2.3/1-2.3:1.0[/ttyUSB0]: the last component of the form
     * BUS-PORT[.PORT...] is the device's place on the bus. */
    for (const char *c = syspath; c && *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL) {
        size_t clen = strcspn(c, "/"), n = strspn(c, "0123456789");
        if (n == 0 || n + 1 >= clen || c[n] != '-')
            continue;
        size_t rest = strspn(c + n + 1, "0123456789.");
        if (n + 1 + rest == clen)
            snprintf(dst, len, "%.*s", (int)clen, c);
    }
}

int eg_port_known(uint16_t vid, uint16_t pid)
{
    static const struct {
        uint16_t vid, pid; /* pid 0: any of the vendor's */
    } known[] = {
        {0x303A, 0},      /* Espressif: USB-Serial-JTAG, USB-OTG CDC */
        {0x10C4, 0xEA60}, /* Silicon Labs CP2102/CP2104 */
        {0x10C4, 0xEA70}, /* CP2105 */
        {0x10C4, 0xEA71}, /* CP2108 */
        {0x1A86, 0x7523}, /* WCH CH340 */
        {0x1A86, 0x7522}, /* CH340K */
        {0x1A86, 0x55D3}, /* CH343 */
        {0x1A86, 0x55D4}, /* CH9102 */
        {0x1A86, 0x55D2}, /* CH342 */
        {0x0403, 0x6001}, /* FTDI FT232R */
        {0x0403, 0x6010}, /* FT2232 */
        {0x0403, 0x6011}, /* FT4232 */
        {0x0403, 0x6014}, /* FT232H */
        {0x0403, 0x6015}, /* FT231X */
        {0x067B, 0x2303}, /* Prolific PL2303 */
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].vid == vid && (!known[i].pid || known[i].pid == pid))
            return 1;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strverscmp(((const eg_port_info *)a)->name, ((const eg_port_info *)b)->name);
}

int eg_port_list(eg_port_info **out, size_t *count)
{
    struct sp_port **ports = NULL;
    eg_port_info *list = NULL;
    size_t n = 0;

    *out = NULL;
    *count = 0;
    if (sp_list_ports(&ports) != SP_OK)
        return eg_error_set(EG_EIO, "cannot list serial ports: %s", sp_message());
    while (ports[n])
        n++;
    list = calloc(n ? n : 1, sizeof(*list));
    if (!list) {
        sp_free_port_list(ports);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        eg_port_info *p = &list[i];
        const char *v;
        snprintf(p->name, sizeof(p->name), "%s", sp_get_port_name(ports[i]));
        v = sp_get_port_description(ports[i]);
        snprintf(p->description, sizeof(p->description), "%s", v ? v : "");
        if (sp_get_port_transport(ports[i]) == SP_TRANSPORT_USB) {
            int vid = 0, pid = 0, bus = 0, addr = 0;
            p->usb = 1;
            if (sp_get_port_usb_vid_pid(ports[i], &vid, &pid) == SP_OK) {
                p->vid = (uint16_t)vid;
                p->pid = (uint16_t)pid;
            }
            v = sp_get_port_usb_manufacturer(ports[i]);
            snprintf(p->manufacturer, sizeof(p->manufacturer), "%s", v ? v : "");
            v = sp_get_port_usb_product(ports[i]);
            snprintf(p->product, sizeof(p->product), "%s", v ? v : "");
            v = sp_get_port_usb_serial(ports[i]);
            snprintf(p->serial, sizeof(p->serial), "%s", v ? v : "");
            eg_usb_location(p->location, sizeof(p->location), p->name);
            if (!p->location[0] && sp_get_port_usb_bus_address(ports[i], &bus, &addr) == SP_OK)
                snprintf(p->location, sizeof(p->location), "%d-%d", bus, addr);
        }
    }
    sp_free_port_list(ports);
    /* In name order, numbers by value (ttyUSB2 before ttyUSB10): the order slots
     * follow without a slots file. */
    qsort(list, n, sizeof(*list), by_name);
    *out = list;
    *count = n;
    return 0;
}
