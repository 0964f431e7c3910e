/* A session with one board's serial loader: connecting (reset and sync), commands and
 * their responses, registers, and the flash operations.
 *
 * The session owns its transport and belongs to one thread; several sessions may run
 * in parallel threads. It knows nothing about particular chips: the device layer above
 * tells it what differs (eg_session.flash_begin_words). Every wait goes through the
 * transport's cancel token and its clock (t->cancel).
 *
 * Memory: a session holds its receive window (4 KiB), the frame decoder (at most
 * EG_SESSION_MAX_FRAME) and the encoded request (a 16 KiB block, about 16.5 KiB
 * SLIP-encoded; 33 KiB at the very worst), well under 64 KiB. Image-sized data is
 * never copied: flash writes take the caller's bytes or compressed blocks. */
#ifndef EG_PROTO_SESSION_H
#define EG_PROTO_SESSION_H

#include "core/buf.h"
#include "core/deflate.h"
#include "core/events.h"
#include "core/modes.h"
#include "proto/codec.h"
#include "proto/slip.h"
#include "transport/transport.h"

#include <stddef.h>
#include <stdint.h>

#define EG_LOADER_BAUD         115200 /* where a loader listens after a reset */
#define EG_TIMEOUT_DEFAULT_MS  3000
#define EG_TIMEOUT_SYNC_MS     100
#define EG_CONNECT_ATTEMPTS    7
#define EG_ROM_FLASH_BLOCK     0x400
#define EG_STUB_FLASH_BLOCK    0x4000
#define EG_RAM_BLOCK           0x1800
#define EG_READ_SLOW_BLOCK     64
#define EG_ERASE_MS_PER_MB     40000 /* erase and write */
#define EG_ROM_BEGIN_MS_PER_MB 30000 /* the ROM erases in FLASH_BEGIN */
#define EG_MD5_MS_PER_MB       8000
#define EG_CHIP_ERASE_MS       120000
#define EG_STUB_REBOOT_MS      500  /* the stub's answer to FLASH_END "reboot", if any */
#define EG_SESSION_MAX_FRAME   8192 /* the longest response (a 4 KiB READ_FLASH packet) */

typedef struct eg_session {
    eg_transport *t;
    eg_slip_decoder dec;
    eg_buf tx;
    uint8_t rx[4096];
    size_t rx_pos, rx_len;
    int stub;                   /* 1 while the flasher stub runs */
    unsigned status_len;        /* 4 for the ROM, 2 for the stub */
    unsigned flash_begin_words; /* 4 on ESP32's ROM, 5 elsewhere */
    unsigned connect_attempts;
    int sync_saw_stub;  /* the last SYNC was answered with val 0 */
    uint8_t last_error; /* the device's error code of the last EG_EDEVICE */
    eg_events ev;
} eg_session;

/* Creates a session over t, which it takes over (freed with the session, also when
 * this fails). */
int eg_session_new(eg_session **out, eg_transport *t);
void eg_session_free(eg_session *s);

/* Resets the board into its download mode as before says and syncs with the loader,
 * retrying up to s->connect_attempts times. The error tells what the device sent
 * (a boot log in the wrong mode, noise) when it did not answer. */
int eg_session_connect(eg_session *s, eg_before before);

/* Sends one command and waits up to timeout_ms for the response of the same opcode.
 * *out points into the session's buffer until the next call. EG_EUNSUPPORTED when
 * the ROM answered that it does not know the command, EG_ETIMEDOUT when nothing
 * matching came. Does not look at the status bytes. */
int eg_session_command(eg_response *out, eg_session *s, uint8_t op, const uint8_t *data, size_t len,
                       uint32_t chk, unsigned timeout_ms);

/* Waits up to timeout_ms for a raw frame equal to want (the stub's "OHAI"); other
 * frames are skipped. */
int eg_session_await_raw(eg_session *s, const uint8_t *want, size_t len, unsigned timeout_ms);

/* eg_session_command() followed by a status check after data_len bytes of payload. */
int eg_session_check(eg_response *out, eg_session *s, uint8_t op, const uint8_t *data, size_t len,
                     uint32_t chk, size_t data_len, unsigned timeout_ms);

int eg_session_read_reg(uint32_t *out, eg_session *s, uint32_t addr);
int eg_session_write_reg(eg_session *s, uint32_t addr, uint32_t value, uint32_t mask,
                         uint32_t delay_us);

/* GET_SECURITY_INFO: copies the payload (20 bytes, or 12 on ESP32-S2) into out and
 * its length into *len. EG_EUNSUPPORTED when the ROM lacks it (ESP32). */
int eg_session_security_info(uint8_t out[32], size_t *len, eg_session *s);

int eg_session_spi_attach(eg_session *s, uint32_t pins);
int eg_session_spi_set_params(eg_session *s, uint32_t flash_size);
/* Moves the link to baud: tells the loader told (the rate it must be asked for to
 * really run at baud; 0 = baud itself) and switches the transport to baud. */
int eg_session_change_baud(eg_session *s, uint32_t baud, uint32_t told);
/* Moves only our side of the line to baud (the board is believed to be there already)
 * and drops what arrived. */
int eg_session_change_baud_local(eg_session *s, uint32_t baud);

/* The largest data block the running loader takes (16 KiB for the stub, 1 KiB for
 * the ROM). */
uint32_t eg_session_block_size(const eg_session *s);

/* Writes len bytes to flash at offset: the compressed blocks z (FLASH_DEFL_*; made for
 * eg_session_block_size() or smaller) when z is given, else data in plain FLASH_DATA
 * blocks. Reports progress as "writing at 0x...". Does not end the flash mode: the
 * ROM leaves the loader on FLASH_END. The stub reports a failed write one command
 * later; this waits for it before returning. */
int eg_session_flash_write(eg_session *s, uint32_t offset, const uint8_t *data, size_t len,
                           const eg_zblocks *z);

/* Erases [offset, offset+size) (4 KiB aligned): ERASE_REGION with the stub, an empty
 * FLASH_BEGIN over the region with the ROM (which erases what it announces). */
int eg_session_flash_erase(eg_session *s, uint32_t offset, uint32_t size);

/* Erases the whole flash: ERASE_FLASH with the stub, FLASH_BEGIN over size with the
 * ROM. */
int eg_session_flash_erase_all(eg_session *s, uint32_t size);

/* The on-chip MD5 of a flash region. */
int eg_session_flash_md5(uint8_t out[16], eg_session *s, uint32_t offset, uint32_t size);

/* Takes the bytes of a flash read as they arrive: len bytes that belong at offset.
 * A negative return stops the read with that code. */
typedef int (*eg_read_sink)(void *ctx, uint32_t offset, const uint8_t *data, size_t len);

/* Reads len bytes of flash at offset into sink, in order: READ_FLASH_SLOW, 64 bytes a
 * command, from the ROM; the stub's windowed READ_FLASH (4 KiB packets), checked
 * against the MD5 it sends at the end (EG_EMISMATCH when they differ: the data handed
 * to the sink was corrupted on the line). */
int eg_session_flash_read_to(eg_session *s, uint32_t offset, uint32_t len, eg_read_sink sink,
                             void *ctx);

/* The same into out (appended). */
int eg_session_flash_read(eg_buf *out, eg_session *s, uint32_t offset, uint32_t len);

/* FLASH_END: with reboot set the loader runs the application. */
int eg_session_flash_end(eg_session *s, int reboot);

/* Leaves the board as after says (needs the transport's lines for a hard reset).
 * Watchdog resets are done by the device layer. */
int eg_session_after(eg_session *s, eg_after after);

/* Loads len bytes into RAM at addr (MEM_BEGIN, then MEM_DATA blocks). */
int eg_session_mem_write(eg_session *s, const uint8_t *bytes, size_t len, uint32_t addr);

/* MEM_END: runs the code at entry (0: stays in the loader). */
int eg_session_mem_run(eg_session *s, uint32_t entry);

#endif
