#include "device/device.h"

#include "core/error.h"
#include "proto/stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STUB_GREETING_MS 3000

void eg_mac_format(char dst[18], const uint8_t mac[6])
{
    snprintf(dst, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

int eg_mac_parse(uint8_t mac[6], const char *s)
{
    for (int i = 0; i < 6; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = *s++;
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return eg_error_set(EG_EINVAL,
                                    "malformed MAC address (expected aa:bb:cc:dd:ee:ff)");
            v = v * 16 + d;
        }
        mac[i] = (uint8_t)v;
        if (i < 5 && *s++ != ':')
            return eg_error_set(EG_EINVAL, "malformed MAC address (expected aa:bb:cc:dd:ee:ff)");
    }
    if (*s)
        return eg_error_set(EG_EINVAL, "malformed MAC address (expected aa:bb:cc:dd:ee:ff)");
    return 0;
}

const char *eg_device_port(const eg_device *d)
{
    return d->s->t->name;
}

/* Puts "port 'NAME': " in front of the message, unless it names the port already (a
 * busy port says "port 'NAME' is in use"). */
static int port_error(const char *port, int rc, const char *step)
{
    if (strncmp(eg_error_msg(), "port '", 6) == 0)
        return rc;
    return eg_error_prefix(rc, "port '%s': %s", port, step);
}

int eg_device_connect(eg_device **out, const eg_device_opts *o)
{
    eg_transport *t = NULL;
    eg_device *d = NULL;
    int rc;

    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return eg_error_set(EG_ENOMEM, "out of memory");
    d->flash_size_given = o->flash_size;
    if ((rc = eg_transport_open(&t, o->port, EG_ROM_BAUD, o->cancel)) < 0)
        goto fail;
    if ((rc = eg_session_new(&d->s, t)) < 0)
        goto fail;
    d->s->ev = o->ev;
    if (o->connect_attempts)
        d->s->connect_attempts = o->connect_attempts;
    if ((rc = eg_session_connect(d->s, o->before)) < 0)
        goto fail;
    if (d->s->sync_saw_stub) {
        /* Left running by an earlier session (--after no-reset-no-stub): go on with it. */
        d->s->stub = 1;
        d->s->status_len = EG_STUB_STATUS_LEN;
        eg_events_log(&d->s->ev, EG_LOG_INFO,
                      "the flasher stub is already running on the board: no upload needed");
    }
    *out = d;
    return 0;
fail:
    port_error(o->port, rc, "");
    eg_device_free(d);
    return rc;
}

int eg_device_identify(eg_device *d)
{
    int rc;

    if ((rc = eg_device_detect(&d->chip, &d->sec, d->s)) < 0)
        return port_error(eg_device_port(d), rc, "");
    d->s->flash_begin_words = d->chip->rom_flash_begin_words;
    if ((rc = eg_device_read_mac(d->mac, d->s, d->chip)) < 0 ||
        (rc = eg_device_read_chip_info(&d->rev_major, &d->rev_minor, &d->info, d->s, d->chip)) < 0)
        return port_error(eg_device_port(d), rc, "");
    return 0;
}

/* True when the loader answers a register read at the current rate. */
static int answers(eg_device *d)
{
    uint32_t v;
    return eg_session_read_reg(&v, d->s, EG_CHIP_MAGIC_REG) == 0;
}

int eg_device_set_baud(eg_device *d, uint32_t baud)
{
    uint32_t told = baud;
    int rc;

    if (baud == d->s->t->baud)
        return 0;
    if (!d->s->stub && (rc = eg_device_rom_baud(&told, d->s, d->chip, baud)) < 0)
        return port_error(eg_device_port(d), rc, "");
    if (told != baud)
        eg_events_log(&d->s->ev, EG_LOG_DEBUG,
                      "asking the %s ROM for %u baud to get %u (its clock estimate is off)",
                      d->chip->name, told, baud);
    if ((rc = eg_session_change_baud(d->s, baud, told)) < 0)
        return port_error(eg_device_port(d), rc, "");
    if (d->s->stub || !(d->s->t->caps & EG_TRANSPORT_CAP_BAUD) || answers(d))
        return 0;
    /* A real ROM's change is less forgiving than the stub's: if the board is not heard
     * at the new rate, go back to where it was and carry on there. */
    rc = eg_cancel_check(d->s->t->cancel);
    if (rc == 0)
        rc = eg_session_change_baud_local(d->s, EG_ROM_BAUD);
    if (rc == 0 && !answers(d))
        rc = eg_error_set(EG_ETIMEDOUT,
                          "changing baud rate to %u: the board answers neither at %u nor at %u",
                          baud, baud, EG_ROM_BAUD);
    if (rc < 0)
        return port_error(eg_device_port(d), rc, "");
    d->baud_fell_back = 1;
    eg_events_log(&d->s->ev, EG_LOG_WARN,
                  "port '%s': the ROM did not answer at %u baud: going on at %u", eg_device_port(d),
                  baud, EG_ROM_BAUD);
    return 0;
}

int eg_device_start_stub(eg_device *d, const eg_ram_program *stub)
{
    int rc = eg_session_run_stub(d->s, stub);

    if (rc == EG_ETIMEDOUT && d->s->t->baud != EG_ROM_BAUD &&
        eg_cancel_check(d->s->t->cancel) == 0) {
        /* The greeting may have gone out at the ROM's first rate: listen there. */
        uint32_t raised = d->s->t->baud;
        if ((rc = eg_session_change_baud_local(d->s, EG_ROM_BAUD)) == 0 &&
            (rc = eg_session_connect(d->s, EG_BEFORE_NO_RESET)) == 0 && !d->s->sync_saw_stub)
            rc = eg_error_set(EG_EPROTO, "the ROM loader answers where the stub should");
        if (rc == 0) {
            d->s->stub = 1;
            d->s->status_len = EG_STUB_STATUS_LEN;
            eg_events_log(&d->s->ev, EG_LOG_WARN,
                          "port '%s': the flasher stub was not heard at %u baud, only at %u",
                          eg_device_port(d), raised, EG_ROM_BAUD);
        } else {
            rc = eg_error_prefix(rc,
                                 "starting the flasher stub '%s' (not heard at %u or %u "
                                 "baud): ",
                                 stub->name, raised, EG_ROM_BAUD);
        }
    }
    if (rc < 0)
        return port_error(eg_device_port(d), rc, "");
    eg_events_log(&d->s->ev, EG_LOG_DEBUG, "running the flasher stub '%s'", stub->name);
    return 0;
}

int eg_device_attach_flash(eg_device *d)
{
    int rc;

    if (d->flash_ready)
        return 0;
    uint32_t pins = 0;
    /* The stub attaches the flash itself; the ROM must be told (esptool does the same). */
    if (!d->s->stub &&
        (rc = eg_chip_spi_attach_arg(&pins, d->chip, eg_device_session_reader, d->s)) < 0)
        goto fail;
    if (pins)
        eg_events_log(&d->s->ev, EG_LOG_INFO,
                      "attaching the flash on the pins the eFuses name (clk %u, q %u, d %u, "
                      "hd %u, cs %u)",
                      pins & 0x3F, (pins >> 6) & 0x3F, (pins >> 12) & 0x3F, (pins >> 24) & 0x3F,
                      (pins >> 18) & 0x3F);
    if (!d->s->stub && (rc = eg_session_spi_attach(d->s, pins)) < 0)
        goto fail;
    if ((rc = eg_device_flash_id(&d->flash_id, d->s, d->chip)) < 0)
        goto fail;
    if (d->flash_id == 0 || d->flash_id == 0xFFFFFF) {
        rc = eg_error_set(EG_EDEVICE,
                          "the flash answers JEDEC id 0x%06x: is a flash chip "
                          "connected?",
                          d->flash_id);
        goto fail;
    }
    d->flash_size =
        d->flash_size_given ? d->flash_size_given : eg_flash_size_from_jedec(d->flash_id);
    if (d->flash_size && (rc = eg_session_spi_set_params(d->s, d->flash_size)) < 0)
        goto fail;
    d->flash_ready = 1;
    return 0;
fail:
    return port_error(eg_device_port(d), rc, "attaching the flash: ");
}

int eg_device_check_range(const eg_device *d, uint32_t addr, uint64_t size)
{
    if (!d->flash_size)
        return eg_error_set(EG_EINVAL,
                            "the flash's size is unknown (JEDEC id 0x%06x): give it with "
                            "--flash-size so regions can be checked",
                            d->flash_id);
    if ((uint64_t)addr + size > d->flash_size)
        return eg_error_set(EG_EINVAL,
                            "region 0x%x+0x%llx ends beyond the %u MB flash (0x%x bytes)", addr,
                            (unsigned long long)size, d->flash_size >> 20, d->flash_size);
    return 0;
}

int eg_device_finish(eg_device *d, eg_after after)
{
    int rc;

    if (after == EG_AFTER_WATCHDOG_RESET && (!d->chip || !d->chip->wdt_config0)) {
        eg_events_log(&d->s->ev, EG_LOG_INFO,
                      "%s has no watchdog reset: using a hard reset instead",
                      d->chip ? d->chip->name : "this chip");
        after = EG_AFTER_HARD_RESET;
    }
    if (after == EG_AFTER_WATCHDOG_RESET)
        rc = eg_device_watchdog_reset(d->s, d->chip);
    else
        rc = eg_session_after(d->s, after);
    if (rc < 0)
        return port_error(eg_device_port(d), rc, "resetting after the work: ");
    return 0;
}

void eg_device_free(eg_device *d)
{
    if (!d)
        return;
    eg_session_free(d->s);
    free(d);
}
