/* One board over a session, in the steps a worker times and retries one by one:
 * connect (open the port, reset into the loader, sync), identify (chip, revision,
 * MAC, security), set the baud rate, start the flasher stub, attach the flash (its id
 * and size), finish (leave the board as asked). Every board-level command and every
 * gang worker drives a board through these.
 *
 * A device belongs to one thread. Errors start with "port 'NAME': " and name the step,
 * then what the device said. */
#ifndef EG_DEVICE_DEVICE_H
#define EG_DEVICE_DEVICE_H

#include "chip/chip.h"
#include "core/cancel.h"
#include "core/program.h"
#include "device/ops.h"
#include "proto/session.h"

#define EG_ROM_BAUD 115200

typedef struct eg_device_opts {
    const char *port;          /* device path, socket://HOST:PORT or rfc2217://HOST:PORT */
    eg_before before;          /* how to enter the loader */
    unsigned connect_attempts; /* reset-and-sync attempts; 0: the default */
    uint32_t flash_size;       /* overrides what the flash's JEDEC id says (0: detect) */
    eg_events ev;              /* logs and progress */
    eg_cancel *cancel;         /* every wait watches it; NULL: none */
} eg_device_opts;

typedef struct eg_device {
    eg_session *s;
    const eg_chip *chip; /* NULL until identified */
    uint8_t mac[6];
    unsigned rev_major, rev_minor;
    eg_chip_info info; /* package, features and crystal */
    eg_security_info sec;
    int flash_ready;     /* eg_device_attach_flash() succeeded */
    uint32_t flash_id;   /* JEDEC id */
    uint32_t flash_size; /* detected from the id (or given); 0 when unknown */
    uint32_t flash_size_given;
    int baud_fell_back; /* the board did not answer at a raised rate: back at 115200 */
} eg_device;

/* Opens the port at 115200, resets the board into its loader and syncs (connect
 * attempts as o says). A board still running a flasher stub from an earlier session
 * (it answers SYNC with 0) is taken as it is: the session goes on with the stub. */
int eg_device_connect(eg_device **out, const eg_device_opts *o);

/* Detects the chip (GET_SECURITY_INFO's chip id, else the magic register) and reads
 * its revision, package, features, crystal frequency, MAC and security information.
 * Runs at the ROM's first rate (the crystal is measured against it on ESP32 and C2). */
int eg_device_identify(eg_device *d);

/* Moves the line to baud: through the ROM's CHANGE_BAUDRATE (asking for the rate the
 * chip's clock quirk needs to really run at baud) or the stub's. A ROM that does not
 * answer at the new rate is given up on at once: the line goes back to 115200 (which
 * a real ROM's change may still be at), d->baud_fell_back is set, and 0 is returned
 * when the board answers there. */
int eg_device_set_baud(eg_device *d, uint32_t baud);

/* Uploads the flasher stub and starts it. When its greeting does not come at a
 * raised rate, listens at 115200 too before giving up. */
int eg_device_start_stub(eg_device *d, const eg_ram_program *stub);

/* Attaches the SPI flash (the ROM needs SPI_ATTACH, on the pins the eFuses name on
 * ESP32; the stub attaches it itself), reads its JEDEC id and size, and tells the
 * loader the size. Idempotent. */
int eg_device_attach_flash(eg_device *d);

/* Checks that [addr, addr+size) lies inside the attached flash. */
int eg_device_check_range(const eg_device *d, uint32_t addr, uint64_t size);

/* Leaves the board as after says: a hard reset through EN, the chip's watchdog (a
 * hard reset on chips without one), or nothing. */
int eg_device_finish(eg_device *d, eg_after after);

/* The port's name, as given. */
const char *eg_device_port(const eg_device *d);

void eg_device_free(eg_device *d);

/* Formats "24:0a:c4:00:00:01" into dst (18 bytes). */
void eg_mac_format(char dst[18], const uint8_t mac[6]);
/* Parses a MAC in that form; EG_EINVAL otherwise. */
int eg_mac_parse(uint8_t mac[6], const char *s);

#endif
