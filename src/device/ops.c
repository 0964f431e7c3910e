#include "device/ops.h"

#include "core/cancel.h"
#include "core/error.h"

#include <string.h>

#define SPI_CMD_USR     (1u << 18)
#define SPI_USR_COMMAND (1u << 31)
#define SPI_USR_ADDR    (1u << 30)
#define SPI_USR_DUMMY   (1u << 29)
#define SPI_USR_MISO    (1u << 28)
#define SPI_USR_MOSI    (1u << 27)
#define SPI_POLLS       10

int eg_device_security_info(eg_security_info *sec, eg_session *s)
{
    uint8_t raw[32];
    size_t len = 0;
    int rc;

    memset(sec, 0, sizeof(*sec));
    rc = eg_session_security_info(raw, &len, s);
    /* ESP32's ROM does not know the command: it answers "unsupported", or refuses it
     * as an invalid message. */
    if (rc == EG_EUNSUPPORTED || (rc == EG_EDEVICE && s->last_error == EG_ROM_INVALID_RECV) ||
        (rc == 0 && len < 12))
        return 0;
    if (rc < 0)
        return rc;
    sec->present = 1;
    sec->flags = eg_get_u32le(raw);
    sec->flash_crypt_cnt = raw[4];
    memcpy(sec->key_purposes, raw + 5, 7);
    if (len >= 20) {
        sec->has_chip_id = 1;
        sec->chip_id = eg_get_u32le(raw + 12);
        sec->api_version = eg_get_u32le(raw + 16);
    }
    return 0;
}

int eg_device_detect(const eg_chip **out, eg_security_info *sec, eg_session *s)
{
    const eg_chip *chip = NULL;
    uint32_t magic = 0;
    int rc;

    *out = NULL;
    rc = eg_device_security_info(sec, s);
    if (rc < 0)
        return eg_error_prefix(rc, "detecting the chip: ");
    if (sec->has_chip_id) {
        chip = eg_chip_by_image_id(sec->chip_id);
        if (chip && !chip->uses_magic) {
            *out = chip;
            return 0;
        }
    }
    rc = eg_session_read_reg(&magic, s, EG_CHIP_MAGIC_REG);
    if (rc < 0)
        return eg_error_prefix(rc, "detecting the chip: ");
    chip = eg_chip_by_magic(magic);
    if (!chip) {
        if (sec->has_chip_id)
            return eg_error_set(EG_EUNSUPPORTED,
                                "unsupported chip: chip id %u, magic value 0x%08x (supported: %s)",
                                sec->chip_id, magic, eg_chip_names());
        return eg_error_set(EG_EUNSUPPORTED, "unsupported chip: magic value 0x%08x (supported: %s)",
                            magic, eg_chip_names());
    }
    *out = chip;
    return 0;
}

int eg_device_read_mac(uint8_t mac[6], eg_session *s, const eg_chip *chip)
{
    uint32_t lo, hi;
    int rc;

    if ((rc = eg_session_read_reg(&lo, s, chip->mac_reg)) < 0 ||
        (rc = eg_session_read_reg(&hi, s, chip->mac_reg + 4)) < 0)
        return eg_error_prefix(rc, "reading the MAC address: ");
    mac[0] = (uint8_t)(hi >> 8);
    mac[1] = (uint8_t)hi;
    mac[2] = (uint8_t)(lo >> 24);
    mac[3] = (uint8_t)(lo >> 16);
    mac[4] = (uint8_t)(lo >> 8);
    mac[5] = (uint8_t)lo;
    return 0;
}

int eg_device_session_reader(uint32_t *out, void *session, uint32_t addr)
{
    return eg_session_read_reg(out, session, addr);
}

int eg_device_read_revision(unsigned *major, unsigned *minor, eg_session *s, const eg_chip *chip)
{
    int rc = eg_chip_revision_decode(major, minor, chip, eg_device_session_reader, s);
    if (rc < 0)
        return eg_error_prefix(rc, "reading the chip revision: ");
    return 0;
}

int eg_device_spi_command(uint32_t *out, eg_session *s, const eg_chip *chip, uint8_t cmd,
                          const uint8_t *data, size_t len, unsigned read_bits, uint32_t addr,
                          unsigned addr_len, unsigned dummy_len)
{
    const uint32_t base = chip->spi_base;
    uint32_t old_usr = 0, old_usr2 = 0, flags = SPI_USR_COMMAND, usr1 = 0, v = 0;
    unsigned data_bits = (unsigned)len * 8;
    int rc, restore = 0;

    *out = 0;
    if (read_bits > 32 || len > 64)
        return eg_error_set(EG_EINVAL, "SPI command 0x%02x: at most 32 bits in and 64 bytes out",
                            cmd);
    if ((rc = eg_session_read_reg(&old_usr, s, base + chip->spi_usr)) < 0 ||
        (rc = eg_session_read_reg(&old_usr2, s, base + chip->spi_usr2)) < 0)
        goto done;
    restore = 1;
    if (read_bits)
        flags |= SPI_USR_MISO;
    if (data_bits)
        flags |= SPI_USR_MOSI;
    if (addr_len)
        flags |= SPI_USR_ADDR;
    if (dummy_len)
        flags |= SPI_USR_DUMMY;
    if (data_bits && (rc = eg_session_write_reg(s, base + chip->spi_mosi_dlen, data_bits - 1,
                                                0xFFFFFFFF, 0)) < 0)
        goto done;
    if (read_bits && (rc = eg_session_write_reg(s, base + chip->spi_miso_dlen, read_bits - 1,
                                                0xFFFFFFFF, 0)) < 0)
        goto done;
    if (dummy_len)
        usr1 |= dummy_len - 1;
    if (addr_len)
        usr1 |= (addr_len - 1) << 26;
    if (usr1 && (rc = eg_session_write_reg(s, base + chip->spi_usr1, usr1, 0xFFFFFFFF, 0)) < 0)
        goto done;
    if ((rc = eg_session_write_reg(s, base + chip->spi_usr, flags, 0xFFFFFFFF, 0)) < 0 ||
        (rc = eg_session_write_reg(s, base + chip->spi_usr2, 7u << 28 | cmd, 0xFFFFFFFF, 0)) < 0)
        goto done;
    if (addr_len) {
        uint32_t a = chip->spi_addr_msb ? addr << (32 - addr_len) : addr;
        if ((rc = eg_session_write_reg(s, base + 4, a, 0xFFFFFFFF, 0)) < 0)
            goto done;
    }
    if (!data_bits) {
        rc = eg_session_write_reg(s, base + chip->spi_w0, 0, 0xFFFFFFFF, 0);
    } else {
        for (size_t i = 0; i < len && rc == 0; i += 4) {
            uint8_t w[4] = {0};
            memcpy(w, data + i, len - i < 4 ? len - i : 4);
            rc = eg_session_write_reg(s, base + chip->spi_w0 + (uint32_t)i, eg_get_u32le(w),
                                      0xFFFFFFFF, 0);
        }
    }
    if (rc < 0 || (rc = eg_session_write_reg(s, base, SPI_CMD_USR, 0xFFFFFFFF, 0)) < 0)
        goto done;
    for (int i = 0;; i++) {
        uint32_t c;
        if ((rc = eg_session_read_reg(&c, s, base)) < 0)
            goto done;
        if (!(c & SPI_CMD_USR))
            break;
        if (i + 1 == SPI_POLLS) {
            rc = eg_error_set(EG_ETIMEDOUT, "SPI command did not complete");
            goto done;
        }
    }
    if ((rc = eg_session_read_reg(&v, s, base + chip->spi_w0)) < 0)
        goto done;
    *out = read_bits == 32 ? v : v & ((1u << read_bits) - 1);
done:
    if (restore) {
        int r2 = eg_session_write_reg(s, base + chip->spi_usr, old_usr, 0xFFFFFFFF, 0);
        if (r2 == 0)
            r2 = eg_session_write_reg(s, base + chip->spi_usr2, old_usr2, 0xFFFFFFFF, 0);
        if (rc == 0)
            rc = r2;
    }
    if (rc < 0)
        return eg_error_prefix(rc, "SPI flash command 0x%02x: ", cmd);
    return 0;
}

int eg_device_flash_id(uint32_t *out, eg_session *s, const eg_chip *chip)
{
    return eg_device_spi_command(out, s, chip, 0x9F, NULL, 0, 24, 0, 0, 0);
}

int eg_device_watchdog_reset(eg_session *s, const eg_chip *chip)
{
    int rc;

    if (!chip->wdt_config0)
        return eg_error_set(EG_EUNSUPPORTED,
                            "%s cannot be reset by its watchdog; use --after "
                            "hard-reset",
                            chip->name);
    if ((rc = eg_session_write_reg(s, chip->wdt_wprotect, EG_WDT_KEY, 0xFFFFFFFF, 0)) < 0 ||
        (rc = eg_session_write_reg(s, chip->wdt_config1, 2000, 0xFFFFFFFF, 0)) < 0 ||
        (rc = eg_session_write_reg(s, chip->wdt_config0, 1u << 31 | 5u << 28 | 1u << 8 | 2,
                                   0xFFFFFFFF, 0)) < 0 ||
        (rc = eg_session_write_reg(s, chip->wdt_wprotect, 0, 0xFFFFFFFF, 0)) < 0)
        return eg_error_prefix(rc, "watchdog reset: ");
    /* The chip restarts when the watchdog fires; give it the time. */
    return eg_cancel_sleep(s->t->cancel, 500);
}

int eg_device_crystal_mhz(unsigned *out, eg_session *s, const eg_chip *chip)
{
    int rc = eg_chip_crystal_decode(out, chip, s->t->baud, eg_device_session_reader, s);
    if (rc < 0)
        return eg_error_prefix(rc, "reading the crystal frequency: ");
    return 0;
}

/* Register words read over a session, each address once (eFuse words hold several
 * fields, and the decoders read a word once per field). */
typedef struct reg_cache {
    eg_session *s;
    unsigned n;
    uint32_t addr[16], val[16];
} reg_cache;

static int cached_read(uint32_t *out, void *ctx, uint32_t addr)
{
    reg_cache *c = ctx;
    int rc;

    for (unsigned i = 0; i < c->n; i++)
        if (c->addr[i] == addr) {
            *out = c->val[i];
            return 0;
        }
    if ((rc = eg_session_read_reg(out, c->s, addr)) < 0)
        return rc;
    if (c->n < sizeof(c->addr) / sizeof(c->addr[0])) {
        c->addr[c->n] = addr;
        c->val[c->n++] = *out;
    }
    return 0;
}

int eg_device_read_chip_info(unsigned *major, unsigned *minor, eg_chip_info *info, eg_session *s,
                             const eg_chip *chip)
{
    reg_cache c = {.s = s};
    unsigned mhz;
    int rc;

    memset(info, 0, sizeof(*info));
    if ((rc = eg_chip_revision_decode(major, minor, chip, cached_read, &c)) < 0) {
        rc = eg_error_prefix(rc, "reading the chip revision: ");
        goto done;
    }
    if ((rc = eg_chip_info_decode(info, chip, *major, cached_read, &c)) < 0) {
        rc = eg_error_prefix(rc, "reading the chip's package and features: ");
        goto done;
    }
    if ((rc = eg_chip_crystal_decode(&mhz, chip, s->t->baud, cached_read, &c)) < 0) {
        rc = eg_error_prefix(rc, "reading the crystal frequency: ");
        goto done;
    }
    info->crystal_mhz = mhz;
done:
    if (rc < 0)
        memset(info, 0, sizeof(*info));
    return rc;
}

int eg_device_rom_baud(uint32_t *out, eg_session *s, const eg_chip *chip, uint32_t baud)
{
    int rc;

    *out = baud;
    switch (chip->rom_baud) {
    case EG_ROM_BAUD_EXACT:
        return 0;
    case EG_ROM_BAUD_RTC_ESTIMATE: {
        uint32_t cali, ck8m;
        if ((rc = eg_session_read_reg(&cali, s, chip->rtc_cali_reg)) < 0 ||
            (rc = eg_session_read_reg(&ck8m, s, chip->ck8m_reg)) < 0)
            return eg_error_prefix(rc, "reading the ROM's clock estimate: ");
        uint64_t est = (uint64_t)((cali >> 7) & 0x1FFFFFF) * 15625 * (ck8m & 0xFF) / 40;
        uint64_t valid = est > 33000000 ? 40000000 : 26000000;
        if (est)
            *out = (uint32_t)((uint64_t)baud * est / valid);
        return 0;
    }
    case EG_ROM_BAUD_ASSUMES_40MHZ: {
        unsigned mhz;
        if ((rc = eg_device_crystal_mhz(&mhz, s, chip)) < 0)
            return rc;
        if (mhz == 26)
            *out = (uint32_t)((uint64_t)baud * 40 / 26);
        return 0;
    }
    }
    return 0;
}
