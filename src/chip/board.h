/* A connected board: transport, session and what was learned about the chip. This is
 * what every board-level command (and later every gang worker) starts from. */
#ifndef EG_CHIP_BOARD_H
#define EG_CHIP_BOARD_H

#include "chip/chip.h"
#include "chip/ops.h"
#include "proto/session.h"

#define EG_ROM_BAUD 115200

typedef struct eg_board_options {
    const char *port;      /* device path or socket://HOST:PORT */
    uint32_t baud;         /* rate for the work after connecting (0 = 115200) */
    const eg_chip *expect; /* --chip: NULL to accept any */
    eg_before before;
    eg_after after;
    int no_stub;               /* stay with the ROM loader */
    const char *stub_dir;      /* where the flasher stubs are (required unless no_stub) */
    unsigned connect_attempts; /* 0 = the default */
    uint32_t flash_size;       /* --flash-size: overrides what the JEDEC id says (0 = detect) */
    eg_events ev;
} eg_board_options;

typedef struct eg_board {
    eg_session *s;
    const eg_chip *chip;
    eg_after after;
    uint8_t mac[6];
    unsigned rev_major, rev_minor;
    eg_security_info sec;
    int flash_ready;     /* eg_board_attach_flash() succeeded */
    uint32_t flash_id;   /* JEDEC id */
    uint32_t flash_size; /* detected from the id (or given); 0 when unknown */
    uint32_t flash_size_given;
} eg_board;

/* Opens the port, resets the board into its loader, syncs, detects the chip (checking
 * it against o->expect), reads the MAC and revision, and moves to o->baud. Errors
 * name the port and the step. */
int eg_board_open(eg_board **out, const eg_board_options *o);

/* Attaches the SPI flash, reads its JEDEC id and size, and tells the loader the size.
 * Idempotent. */
int eg_board_attach_flash(eg_board *b);

/* Leaves the board as --after asked. */
int eg_board_finish(eg_board *b);

void eg_board_free(eg_board *b);

/* Formats "24:0a:c4:00:00:01" into dst (18 bytes). */
void eg_mac_format(char dst[18], const uint8_t mac[6]);
/* Parses a MAC in that form; EG_EINVAL otherwise. */
int eg_mac_parse(uint8_t mac[6], const char *s);

#endif
