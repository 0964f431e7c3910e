/* Chip operations over a session, as the chip table describes them: detection, MAC,
 * revision, commands to the SPI flash through the SPI controller's registers,
 * security information, the ROM's baud-rate quirks and the watchdog reset. */
#ifndef EG_DEVICE_OPS_H
#define EG_DEVICE_OPS_H

#include "chip/chip.h"
#include "proto/session.h"

typedef struct eg_security_info {
    int present; /* 0 when the chip's ROM cannot tell (ESP32) */
    uint32_t flags;
    uint8_t flash_crypt_cnt;
    uint8_t key_purposes[7];
    int has_chip_id; /* ESP32-S2 does not send one */
    uint32_t chip_id;
    uint32_t api_version;
} eg_security_info;

enum {
    EG_SEC_SECURE_BOOT = 1 << 0,
    EG_SEC_SECURE_BOOT_AGGRESSIVE_REVOKE = 1 << 1,
    EG_SEC_SECURE_DOWNLOAD = 1 << 2,
    EG_SEC_SOFT_DIS_JTAG = 1 << 6,
    EG_SEC_HARD_DIS_JTAG = 1 << 7,
    EG_SEC_DIS_USB = 1 << 8,
    EG_SEC_DIS_DOWNLOAD_DCACHE = 1 << 9,
    EG_SEC_DIS_DOWNLOAD_ICACHE = 1 << 10,
};

/* Asks the loader for its security information; sec->present is 0 when the ROM
 * does not know the command. */
int eg_device_security_info(eg_security_info *sec, eg_session *s);

/* An eg_reg_reader over a session (ctx is the eg_session). */
int eg_device_session_reader(uint32_t *out, void *session, uint32_t addr);

/* Finds which chip answers: the chip id from GET_SECURITY_INFO when the loader sends
 * one, else the magic register. Fills sec as a side effect. */
int eg_device_detect(const eg_chip **out, eg_security_info *sec, eg_session *s);

int eg_device_read_mac(uint8_t mac[6], eg_session *s, const eg_chip *chip);
int eg_device_read_revision(unsigned *major, unsigned *minor, eg_session *s, const eg_chip *chip);

/* Reads the revision and what the eFuses say about the chip (package, features), and
 * its crystal as chip->crystal says (at the line's current baud rate), reading each
 * register once. On error *info is all zero. */
int eg_device_read_chip_info(unsigned *major, unsigned *minor, eg_chip_info *info, eg_session *s,
                             const eg_chip *chip);

/* Runs one command on the SPI flash through the controller's user-command registers:
 * cmd, then up to 64 bytes of data out, addr_len address bits, dummy_len dummy
 * cycles, and read_bits (at most 32) bits in, returned in *out. */
int eg_device_spi_command(uint32_t *out, eg_session *s, const eg_chip *chip, uint8_t cmd,
                          const uint8_t *data, size_t len, unsigned read_bits, uint32_t addr,
                          unsigned addr_len, unsigned dummy_len);

/* The flash's JEDEC id (RDID, 0x9F): manufacturer in bits 0-7. */
int eg_device_flash_id(uint32_t *out, eg_session *s, const eg_chip *chip);

/* The rate to put in the ROM's CHANGE_BAUDRATE so that the UART really runs at baud,
 * given how the chip's ROM misjudges its clock (chip->rom_baud). */
int eg_device_rom_baud(uint32_t *out, eg_session *s, const eg_chip *chip, uint32_t baud);

/* The crystal in MHz (26, 32, 40 or 48) as the chip's rule finds it (chip->crystal):
 * fixed, the UART divider at the line's current rate, or a register. */
int eg_device_crystal_mhz(unsigned *out, eg_session *s, const eg_chip *chip);

/* Restarts the chip through its RTC watchdog (chips whose table row has one). */
int eg_device_watchdog_reset(eg_session *s, const eg_chip *chip);

#endif
