/* Serial ports through libserialport: real UARTs and USB serial adapters. */
#define _POSIX_C_SOURCE 200809L
#include "core/error.h"
#include "transport/transport.h"

#include <errno.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct serial_transport {
    eg_transport base;
    struct sp_port *port;
    int dtr, rts;
} serial_transport;

static const char *sp_message(void)
{
    char *m = sp_last_error_message();
    static _Thread_local char copy[256];
    snprintf(copy, sizeof(copy), "%s", m ? m : "unknown error");
    sp_free_error_message(m);
    return copy;
}

static int serial_read(eg_transport *t, uint8_t *buf, size_t len, unsigned timeout_ms)
{
    serial_transport *s = (serial_transport *)t;
    enum sp_return r;

    /* A timeout of 0 means "forever" to libserialport: poll instead. */
    if (timeout_ms == 0)
        r = sp_nonblocking_read(s->port, buf, len);
    else
        r = sp_blocking_read_next(s->port, buf, len, timeout_ms);
    if (r < 0)
        return eg_error_set(EG_EIO, "read failed (unplugged?): %s", sp_message());
    return (int)r;
}

static int serial_write(eg_transport *t, const uint8_t *buf, size_t len, unsigned timeout_ms)
{
    serial_transport *s = (serial_transport *)t;
    enum sp_return r = sp_blocking_write(s->port, buf, len, timeout_ms ? timeout_ms : 1);

    if (r < 0)
        return eg_error_set(EG_EIO, "write failed (unplugged?): %s", sp_message());
    if ((size_t)r < len)
        return eg_error_set(EG_ETIMEDOUT, "write timed out after %d of %zu bytes", (int)r, len);
    return 0;
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
    serial_transport *s = (serial_transport *)t;
    struct sp_port_config *cfg = NULL;
    int rc = 0;

    /* Both lines in one configuration call, so they change as close together as the
     * driver allows (what the "tight" reset sequence needs). */
    if (sp_new_config(&cfg) != SP_OK || sp_get_config(s->port, cfg) != SP_OK) {
        rc = eg_error_set(EG_EIO, "cannot read settings: %s", sp_message());
        goto done;
    }
    if (dtr >= 0)
        sp_set_config_dtr(cfg, dtr ? SP_DTR_ON : SP_DTR_OFF);
    if (rts >= 0)
        sp_set_config_rts(cfg, rts ? SP_RTS_ON : SP_RTS_OFF);
    if (sp_set_config(s->port, cfg) != SP_OK)
        rc = eg_error_set(EG_EIO, "cannot set DTR/RTS: %s", sp_message());
done:
    sp_free_config(cfg);
    return rc;
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
        return eg_error_set(EG_ENOTFOUND, "%s", strerror(errno));
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
        rc = eg_error_set(EG_EIO, "cannot open: %s", sp_message());
        goto fail;
    }
    if (sp_set_baudrate(s->port, (int)(baud ? baud : 115200)) != SP_OK ||
        sp_set_bits(s->port, 8) != SP_OK || sp_set_parity(s->port, SP_PARITY_NONE) != SP_OK ||
        sp_set_stopbits(s->port, 1) != SP_OK ||
        sp_set_flowcontrol(s->port, SP_FLOWCONTROL_NONE) != SP_OK) {
        rc = eg_error_set(EG_EIO, "cannot configure: %s", sp_message());
        goto fail;
    }
    s->base.baud = baud ? baud : 115200;
    s->base.caps = EG_TRANSPORT_CAP_LINES | EG_TRANSPORT_CAP_BAUD;
    if (sp_get_port_transport(s->port) == SP_TRANSPORT_USB) {
        int vid = 0, pid = 0;
        if (sp_get_port_usb_vid_pid(s->port, &vid, &pid) == SP_OK) {
            s->base.usb_vid = (uint16_t)vid;
            s->base.usb_pid = (uint16_t)pid;
        }
    }
    *out = &s->base;
    return 0;
fail:
    serial_free(&s->base);
    return rc;
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
            v = sp_get_port_usb_serial(ports[i]);
            snprintf(p->serial, sizeof(p->serial), "%s", v ? v : "");
            if (sp_get_port_usb_bus_address(ports[i], &bus, &addr) == SP_OK)
                snprintf(p->location, sizeof(p->location), "%d-%d", bus, addr);
        }
    }
    sp_free_port_list(ports);
    *out = list;
    *count = n;
    return 0;
}
