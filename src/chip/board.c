#include "chip/board.h"

#include "core/error.h"
#include "proto/stub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Uploads the chip's flasher stub and switches to it. */
static int run_stub(eg_board *b, const char *dir)
{
    char name[32];
    eg_stub stub;
    int rc;

    if (b->chip->stub_rev1_below_major && b->rev_major < b->chip->stub_rev1_below_major)
        snprintf(name, sizeof(name), "%s-rev1", b->chip->id);
    else
        snprintf(name, sizeof(name), "%s", b->chip->id);
    rc = eg_stub_load(&stub, dir ? dir : ".", name);
    if (rc < 0)
        return rc;
    rc = eg_session_run_stub(b->s, &stub);
    if (rc == 0)
        eg_events_log(&b->s->ev, EG_LOG_DEBUG, "running the flasher stub '%s'", name);
    eg_stub_release(&stub);
    return rc;
}

int eg_board_open(eg_board **out, const eg_board_options *o)
{
    eg_transport *t = NULL;
    eg_board *b = NULL;
    uint32_t baud = o->baud ? o->baud : EG_ROM_BAUD;
    int rc;

    *out = NULL;
    b = calloc(1, sizeof(*b));
    if (!b)
        return eg_error_set(EG_ENOMEM, "out of memory");
    b->after = o->after;
    b->flash_size_given = o->flash_size;
    rc = eg_transport_open(&t, o->port, baud < EG_ROM_BAUD ? baud : EG_ROM_BAUD);
    if (rc < 0)
        goto fail;
    rc = eg_session_new(&b->s, t);
    if (rc < 0)
        goto fail;
    b->s->ev = o->ev;
    if (o->connect_attempts)
        b->s->connect_attempts = o->connect_attempts;
    rc = eg_session_connect(b->s, o->before);
    if (rc < 0)
        goto fail;
    if (b->s->sync_saw_stub) {
        rc = eg_error_set(EG_EUNSUPPORTED,
                          "the board still runs a flasher stub from an earlier session; reset it "
                          "into its ROM loader (--before default-reset, or the reset button with "
                          "BOOT held)");
        goto fail;
    }
    rc = eg_chip_detect(&b->chip, &b->sec, b->s);
    if (rc < 0)
        goto fail;
    if (o->expect && o->expect != b->chip) {
        rc = eg_error_set(EG_EMISMATCH, "this board is an %s, not the %s given with --chip",
                          b->chip->name, o->expect->name);
        goto fail;
    }
    b->s->flash_begin_words = b->chip->rom_flash_begin_words;
    if ((rc = eg_chip_read_mac(b->mac, b->s, b->chip)) < 0 ||
        (rc = eg_chip_read_revision(&b->rev_major, &b->rev_minor, b->s, b->chip)) < 0)
        goto fail;
    if (!o->no_stub && (rc = run_stub(b, o->stub_dir)) < 0)
        goto fail;
    if (baud > EG_ROM_BAUD) {
        uint32_t told = baud;
        if (!b->s->stub && (rc = eg_chip_rom_baud(&told, b->s, b->chip, baud)) < 0)
            goto fail;
        if (told != baud)
            eg_events_log(&b->s->ev, EG_LOG_DEBUG,
                          "asking the %s ROM for %u baud to get %u (its clock estimate is off)",
                          b->chip->name, told, baud);
        if ((rc = eg_session_change_baud(b->s, baud, told)) < 0)
            goto fail;
    }
    *out = b;
    return 0;
fail:
    eg_error_prefix(rc, "port '%s': ", o->port);
    eg_board_free(b);
    return rc;
}

int eg_board_attach_flash(eg_board *b)
{
    int rc;

    if (b->flash_ready)
        return 0;
    uint32_t pins = 0;
    /* The stub attaches the flash itself; the ROM must be told (esptool does the same). */
    if (!b->s->stub &&
        (rc = eg_chip_spi_attach_arg(&pins, b->chip, eg_chip_session_reader, b->s)) < 0)
        goto fail;
    if (pins)
        eg_events_log(&b->s->ev, EG_LOG_INFO,
                      "attaching the flash on the pins the eFuses name (clk %u, q %u, d %u, "
                      "hd %u, cs %u)",
                      pins & 0x3F, (pins >> 6) & 0x3F, (pins >> 12) & 0x3F, (pins >> 24) & 0x3F,
                      (pins >> 18) & 0x3F);
    if (!b->s->stub && (rc = eg_session_spi_attach(b->s, pins)) < 0)
        goto fail;
    if ((rc = eg_chip_flash_id(&b->flash_id, b->s, b->chip)) < 0)
        goto fail;
    b->flash_size =
        b->flash_size_given ? b->flash_size_given : eg_flash_size_from_jedec(b->flash_id);
    if (b->flash_id == 0 || b->flash_id == 0xFFFFFF)
        return eg_error_set(EG_EDEVICE,
                            "port '%s': the flash answers JEDEC id 0x%06x: is a flash chip "
                            "connected?",
                            b->s->t->name, b->flash_id);
    if (b->flash_size && (rc = eg_session_spi_set_params(b->s, b->flash_size)) < 0)
        goto fail;
    b->flash_ready = 1;
    return 0;
fail:
    return eg_error_prefix(rc, "port '%s': attaching the flash: ", b->s->t->name);
}

int eg_board_finish(eg_board *b)
{
    int rc;

    if (b->after == EG_AFTER_WATCHDOG_RESET) {
        if (!b->chip->wdt_config0) {
            eg_events_log(&b->s->ev, EG_LOG_INFO,
                          "%s has no watchdog reset: using a hard reset instead", b->chip->name);
            rc = eg_session_after(b->s, EG_AFTER_HARD_RESET);
        } else {
            rc = eg_chip_watchdog_reset(b->s, b->chip);
        }
    } else {
        rc = eg_session_after(b->s, b->after);
    }
    if (rc < 0)
        return eg_error_prefix(rc, "port '%s': resetting after the work: ", b->s->t->name);
    return 0;
}

void eg_board_free(eg_board *b)
{
    if (!b)
        return;
    eg_session_free(b->s);
    free(b);
}
