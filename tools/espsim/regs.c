#include "regs.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define SPI_CMD_USR (1u << 18) /* SPI_CMD: start the user command */

/* SPI flash commands the model answers; every other command is accepted and ignored. */
#define FLASH_CMD_RDSR   0x05
#define FLASH_CMD_RDID   0x9F
#define FLASH_CMD_RDSFDP 0x5A

static sim_reg *find(const sim_regs *r, uint32_t addr)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->r[i].addr == addr)
            return &r->r[i];
    return NULL;
}

int sim_regs_set(sim_regs *r, uint32_t addr, uint32_t value)
{
    sim_reg *reg = find(r, addr);

    if (!reg) {
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 64;
            sim_reg *grown = realloc(r->r, cap * sizeof(*grown));
            if (!grown)
                return eg_error_set(EG_ENOMEM, "out of memory for registers");
            r->r = grown;
            r->cap = cap;
        }
        reg = &r->r[r->n++];
        reg->addr = addr;
    }
    reg->value = value;
    return 0;
}

static int set_or(sim_regs *r, uint32_t addr, uint32_t bits)
{
    return sim_regs_set(r, addr, sim_regs_read(r, addr) | bits);
}

uint32_t sim_regs_read(const sim_regs *r, uint32_t addr)
{
    const sim_reg *reg = find(r, addr);
    return reg ? reg->value : 0;
}

/* Writes value into the fields of v, the first field taking the most significant
 * bits; with r NULL only checks that it fits. */
static int encode_value(sim_regs *r, const eg_efuse_value *v, unsigned value)
{
    unsigned total = 0;
    int n = 0, rc;

    while (n < 3 && v->part[n].width) {
        total += v->part[n].width;
        n++;
    }
    if (total < 32 && (value >> total) != 0)
        return EG_EINVAL;
    for (int i = n - 1; i >= 0; i--) {
        const eg_bitfield *p = &v->part[i];
        uint32_t field = value & ((1u << p->width) - 1);
        value >>= p->width;
        if (r && (rc = set_or(r, p->addr, field << p->shift)) < 0)
            return rc;
    }
    return 0;
}

/* The raw major value that the chip decodes as major (ESP32 maps raw values). */
static int raw_major(const eg_chip *chip, unsigned major, unsigned *out)
{
    if (!chip->major_map) {
        *out = major;
        return 0;
    }
    for (unsigned i = 0; i < chip->major_map_len; i++) {
        if (chip->major_map[i] == major) {
            *out = i;
            return 0;
        }
    }
    return EG_EINVAL;
}

int sim_regs_check_revision(const eg_chip *chip, unsigned major, unsigned minor)
{
    unsigned raw = 0;

    if (raw_major(chip, major, &raw) < 0 || encode_value(NULL, &chip->major, raw) < 0)
        return eg_error_set(EG_EINVAL, "%s cannot have major revision %u", chip->id, major);
    if (encode_value(NULL, &chip->minor, minor) < 0)
        return eg_error_set(EG_EINVAL, "%s cannot have minor revision %u", chip->id, minor);
    return 0;
}

/* A JEDEC SFDP table: header, the basic flash parameter table at 0x30 and a vendor
 * table at 0x90 whose id is the RDID manufacturer (an XMC part shows 0x20 at 0x10,
 * which is what flashers test for). */
static void build_sfdp(sim_regs *r)
{
    uint8_t *t = r->sfdp;
    uint64_t bits = (uint64_t)r->flash_size * 8;
    static const uint8_t header[] = {
        'S',  'F',  'D',  'P',  0x06, 0x01, 0x01, 0xFF, /* rev 1.6, two parameter headers */
        0x00, 0x06, 0x01, 0x10, 0x30, 0x00, 0x00, 0xFF, /* basic table, 16 words at 0x30 */
    };
    static const uint8_t bfpt_rest[] = {
        /* words 3-9 of a common 3-byte-address part: fast reads, 4K/32K/64K erases */
        0x44, 0xEB, 0x08, 0x6B, 0x08, 0x3B, 0x42, 0xBB, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x00, 0xFF, 0xFF, 0x20, 0xEB, 0x0C, 0x20, 0x0F, 0x52, 0x10, 0xD8, 0x00, 0x00,
    };

    memset(t, 0xFF, SIM_SFDP_LEN);
    memcpy(t, header, sizeof(header));
    /* vendor parameter header: id = manufacturer, 3 words at 0x90 */
    t[0x10] = (uint8_t)(r->jedec_id & 0xFF);
    t[0x11] = 0x00;
    t[0x12] = 0x01;
    t[0x13] = 0x03;
    t[0x14] = 0x90;
    t[0x15] = 0x00;
    t[0x16] = 0x00;
    t[0x17] = 0xFF;
    /* word 1: 4 KiB erase with opcode 0x20, 3-byte addresses */
    t[0x30] = 0xE5;
    t[0x31] = 0x20;
    t[0x32] = 0xF1;
    t[0x33] = 0xFF;
    /* word 2: density in bits - 1 */
    t[0x34] = (uint8_t)(bits - 1);
    t[0x35] = (uint8_t)((bits - 1) >> 8);
    t[0x36] = (uint8_t)((bits - 1) >> 16);
    t[0x37] = (uint8_t)((bits - 1) >> 24);
    memcpy(t + 0x38, bfpt_rest, sizeof(bfpt_rest));
    memset(t + 0x90, 0x00, 12);
}

int sim_regs_power_on(sim_regs *r, const sim_regs_config *cfg)
{
    const eg_chip *chip = cfg->chip;
    const uint8_t *m = cfg->mac;
    unsigned raw = 0;
    int rc;

    r->n = 0;
    if ((rc = sim_regs_check_revision(chip, cfg->major, cfg->minor)) < 0)
        return rc;
    raw_major(chip, cfg->major, &raw);
    /* Every word is built by OR-ing its fields: on ESP32-C2 the revision shares the
     * word that holds the MAC's first two bytes. */
    if ((rc = set_or(r, EG_CHIP_MAGIC_REG, chip->magic[0])) < 0 ||
        (rc = set_or(r, chip->mac_reg,
                     (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5])) <
            0 ||
        (rc = set_or(r, chip->mac_reg + 4, (uint32_t)m[0] << 8 | m[1])) < 0 ||
        (rc = encode_value(r, &chip->major, raw)) < 0 ||
        (rc = encode_value(r, &chip->minor, cfg->minor)) < 0)
        return rc;
    if (chip->uart_clkdiv_reg &&
        (rc = set_or(r, chip->uart_clkdiv_reg, cfg->crystal_hz / SIM_ROM_BAUD)) < 0)
        return rc;
    /* ESP32's ROM estimates its clock as cali * 15625 * ck8m / 40 from the RTC
     * calibration and an eFuse; with ck8m 128 a cali of crystal / 50000 makes the
     * estimate exact. */
    if (chip->rom_baud == EG_ROM_BAUD_RTC_ESTIMATE) {
        /* A drifting 8 MHz oscillator moves the estimate by its drift. */
        uint64_t cali =
            (uint64_t)cfg->crystal_hz * (uint64_t)(100 + cfg->ck8m_drift_pct) / 100 / 50000;
        if ((rc = set_or(r, chip->rtc_cali_reg, (uint32_t)cali << 7)) < 0 ||
            (rc = set_or(r, chip->ck8m_reg, 128)) < 0)
            return rc;
    }
    for (int i = 0; cfg->spi_pads_set && i < 5 && chip->spi_pads[i].width; i++) {
        const eg_bitfield *f = &chip->spi_pads[i];
        uint32_t mask = f->width >= 32 ? 0xFFFFFFFFu : (1u << f->width) - 1;
        if ((rc = set_or(r, f->addr, (cfg->spi_pads[i] & mask) << f->shift)) < 0)
            return rc;
    }
    for (size_t i = 0; i < cfg->n_extra; i++)
        if ((rc = set_or(r, cfg->extra[i].addr, cfg->extra[i].value)) < 0)
            return rc;
    for (size_t i = 0; i < cfg->n_efuse; i++)
        if (cfg->efuse[i].addr && (rc = set_or(r, cfg->efuse[i].addr, cfg->efuse[i].value)) < 0)
            return rc;
    for (size_t i = 0; i < cfg->n_efuse_more; i++)
        if ((rc = set_or(r, cfg->efuse_more[i].addr, cfg->efuse_more[i].value)) < 0)
            return rc;
    if (cfg->xtal_reg &&
        (rc = set_or(r, cfg->xtal_reg, cfg->crystal_hz / 1000000 << cfg->xtal_shift)) < 0)
        return rc;
    return 0;
}

int sim_regs_init(sim_regs *r, const sim_regs_config *cfg)
{
    int rc;

    memset(r, 0, sizeof(*r));
    r->chip = cfg->chip;
    r->jedec_id = cfg->jedec_id & 0xFFFFFF;
    r->flash_size = cfg->flash_size;
    build_sfdp(r);
    if ((rc = sim_regs_power_on(r, cfg)) < 0)
        sim_regs_release(r);
    return rc;
}

void sim_regs_release(sim_regs *r)
{
    free(r->r);
    r->r = NULL;
    r->n = r->cap = 0;
}

/* Runs the user command set up in the SPI registers; results land in W0.. */
static int spi_run(sim_regs *r, int *spi_cmd)
{
    const eg_chip *c = r->chip;
    uint32_t base = c->spi_base;
    uint8_t cmd = (uint8_t)(sim_regs_read(r, base + c->spi_usr2) & 0xFF);
    int rc = 0;

    *spi_cmd = cmd;
    if (!r->flash_attached) {
        /* Nothing drives the data line: whatever the command reads is all ones. */
        unsigned bits = (sim_regs_read(r, base + c->spi_miso_dlen) & 0xFFFFFF) + 1;
        for (unsigned w = 0; w < (bits + 31) / 32 && w < 16 && rc == 0; w++)
            rc = sim_regs_set(r, base + c->spi_w0 + 4 * w, 0xFFFFFFFFu);
    } else if (cmd == FLASH_CMD_RDID) {
        rc = sim_regs_set(r, base + c->spi_w0, r->jedec_id);
    } else if (cmd == FLASH_CMD_RDSR) {
        rc = sim_regs_set(r, base + c->spi_w0, 0);
    } else if (cmd == FLASH_CMD_RDSFDP) {
        uint32_t addr = sim_regs_read(r, base + 4);
        unsigned bits = (sim_regs_read(r, base + c->spi_miso_dlen) & 0xFFFFFF) + 1;
        unsigned bytes;
        uint8_t data[64] = {0}; /* W0..W15 */

        if (c->spi_addr_msb)
            addr >>= 8;
        if (bits > 8 * sizeof(data))
            bits = 8 * sizeof(data);
        bytes = (bits + 7) / 8;
        for (unsigned i = 0; i < bytes; i++) {
            uint32_t a = (addr + i) & 0xFFFFFF;
            data[i] = a < SIM_SFDP_LEN ? r->sfdp[a] : 0xFF;
        }
        if (bits % 8)
            data[bytes - 1] &= (uint8_t)((1u << (bits % 8)) - 1);
        for (unsigned w = 0; w < (bytes + 3) / 4 && rc == 0; w++) {
            const uint8_t *p = data + 4 * w;
            rc = sim_regs_set(r, base + c->spi_w0 + 4 * w,
                              (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                  (uint32_t)p[3] << 24);
        }
    }
    if (rc == 0)
        rc = sim_regs_set(r, base, sim_regs_read(r, base) & ~SPI_CMD_USR);
    return rc;
}

int sim_regs_write(sim_regs *r, uint32_t addr, uint32_t value, uint32_t mask, int *spi_cmd)
{
    uint32_t old = sim_regs_read(r, addr);
    int rc;

    *spi_cmd = -1;
    if ((rc = sim_regs_set(r, addr, (old & ~mask) | (value & mask))) < 0)
        return rc;
    if (r->chip->spi_base && addr == r->chip->spi_base && (sim_regs_read(r, addr) & SPI_CMD_USR))
        return spi_run(r, spi_cmd);
    return 0;
}
