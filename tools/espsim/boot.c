#include "boot.h"

#include "core/error.h"
#include "core/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define IMAGE_MAGIC      0xE9
#define IMAGE_HEADER_LEN 24 /* 8-byte header, 16-byte extended header */
#define IMAGE_MAX_SEGS   16 /* what ESP-IDF's bootloader accepts */
#define CHECKSUM_SEED    0xEF
#define PART_MAGIC       0x50AA
#define PART_MD5_MAGIC   0xEBEB
#define PART_ENTRY_LEN   32
#define PART_MAX_ENTRIES 95
#define PART_TYPE_APP    0x00
#define PART_APP_FACTORY 0x00
#define PART_APP_OTA_0   0x10
#define IDF_VERSION      "v5.3"

int sim_put(eg_buf *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return eg_error_set(EG_EINVAL, "bad text to print");
    return eg_buf_append(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* An ESP-IDF log line: "I (ms) tag: text". The uptime moves on a little per line. */
static int idf_log(eg_buf *out, unsigned *ms, char level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int idf_log(eg_buf *out, unsigned *ms, char level, const char *tag, const char *fmt, ...)
{
    char text[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    *ms += 3;
    return sim_put(out, "%c (%u) %s: %s\r\n", level, *ms, tag, text);
}

static uint32_t region_start(const eg_chip *chip, const char *kind, uint32_t fallback)
{
    for (unsigned i = 0; i < chip->memory_map_len; i++)
        if (strcmp(chip->memory_map[i].kind, kind) == 0)
            return chip->memory_map[i].start;
    return fallback;
}

uint32_t sim_boot_rom_pc(const eg_chip *chip)
{
    return region_start(chip, "IROM_MASK", 0x40000000) + 0x1f3a;
}

uint32_t sim_boot_ram_pc(const eg_chip *chip)
{
    return region_start(chip, "IRAM", 0x40380000) + 0x0d6a;
}

/* True when [addr, addr+len) lies in the chip's internal RAM, where the ROM can load a
 * segment (not the flash-mapped ranges, which only the cache reaches). */
static int in_ram(const eg_chip *chip, uint32_t addr, uint32_t len)
{
    static const char *const ram[] = {"IRAM",     "DRAM",       "RTC_IRAM",  "RTC_DRAM",
                                      "RTC_DATA", "DIRAM_DRAM", "DIRAM_IRAM"};
    for (unsigned i = 0; i < chip->memory_map_len; i++) {
        const eg_mem_region *r = &chip->memory_map[i];
        for (size_t k = 0; k < sizeof(ram) / sizeof(ram[0]); k++)
            if (strcmp(r->kind, ram[k]) == 0 && addr >= r->start && (uint64_t)addr + len <= r->end)
                return 1;
    }
    return 0;
}

int sim_boot_banner(eg_buf *out, const sim_boot_chip *c, sim_reset_reason r, int download,
                    uint32_t saved_pc)
{
    const sim_chip_data *cd = c->cd;
    const char *banner = sim_chip_rom_banner(cd, c->major);
    int rc;

    if ((rc = eg_buf_append(out, banner, strlen(banner))) < 0)
        return rc;
    if (download)
        rc = sim_put(out, "rst:0x%x (%s),%s\r\n", sim_reset_code(r), sim_reset_name(cd, r),
                     cd->download);
    else
        rc = sim_put(out, "rst:0x%x (%s),boot:0x%x (SPI_FAST_FLASH_BOOT)\r\n", sim_reset_code(r),
                     sim_reset_name(cd, r), cd->flash_boot);
    if (rc == 0 && cd->style != SIM_ROM_ETS && r != SIM_RST_POWERON)
        rc = sim_put(out, "Saved PC:0x%08x\r\n", saved_pc);
    if (rc == 0 && download)
        rc = sim_put(out, "waiting for download\r\n");
    return rc;
}

int sim_boot_invalid_header(eg_buf *out, const sim_boot_chip *c, uint32_t word)
{
    /* ESP32's first ROM (before v3) reports a flash read error instead */
    if (c->cd->style == SIM_ROM_ETS && c->cd->rom_banner_v3 && c->major < 3)
        return sim_put(out, "flash read err, %x\r\nets_main.c 371 \r\n",
                       c->chip->bootloader_offset);
    return sim_put(out, "invalid header: 0x%08x\r\n", word);
}

unsigned sim_boot_retry_lines(const sim_boot_chip *c, unsigned cycle_ms)
{
    if (c->cd->style == SIM_ROM_ETS)
        return c->cd->rom_banner_v3 && c->major < 3 ? 1 : 8;
    unsigned n = c->cd->retry_ms ? cycle_ms / c->cd->retry_ms : 1;
    return n ? n : 1;
}

/* ---- images ------------------------------------------------------------------ */

typedef struct image {
    uint32_t off;
    uint8_t n_segs, mode, size_freq;
    uint32_t entry;
    uint16_t chip_id;
    int hash_appended;
    uint32_t seg_addr[IMAGE_MAX_SEGS], seg_len[IMAGE_MAX_SEGS], seg_off[IMAGE_MAX_SEGS];
    unsigned parsed;      /* segments whose header and data lie in the flash */
    int beyond;           /* a segment passes the end of the flash */
    uint8_t calc, stored; /* checksum: computed, and the byte in the image */
    uint32_t end;         /* the image's end (after the checksum and the digest) */
} image;

/* Reads the header and walks the segments of the image at off. Returns 0 when the magic
 * byte is there (the rest is for the caller to judge), -1 when it is not. */
static int image_read(image *m, const sim_boot_chip *c, uint32_t off)
{
    const uint8_t *f = c->flash;
    uint32_t pos;

    memset(m, 0, sizeof(*m));
    m->off = off;
    if ((uint64_t)off + IMAGE_HEADER_LEN > c->flash_size || f[off] != IMAGE_MAGIC)
        return -1;
    m->n_segs = f[off + 1];
    m->mode = f[off + 2];
    m->size_freq = f[off + 3];
    m->entry = eg_get_u32le(f + off + 4);
    m->chip_id = eg_get_u16le(f + off + 12);
    m->hash_appended = f[off + 23] == 1;
    m->calc = CHECKSUM_SEED;
    pos = off + IMAGE_HEADER_LEN;
    for (unsigned i = 0; i < m->n_segs && i < IMAGE_MAX_SEGS; i++) {
        if ((uint64_t)pos + 8 > c->flash_size) {
            m->beyond = 1;
            return 0;
        }
        m->seg_addr[i] = eg_get_u32le(f + pos);
        m->seg_len[i] = eg_get_u32le(f + pos + 4);
        m->seg_off[i] = pos + 8;
        if ((uint64_t)pos + 8 + m->seg_len[i] > c->flash_size) {
            m->beyond = 1;
            m->parsed = i;
            return 0;
        }
        for (uint32_t k = 0; k < m->seg_len[i]; k++)
            m->calc ^= f[pos + 8 + k];
        pos += 8 + m->seg_len[i];
        m->parsed = i + 1;
    }
    /* The checksum byte ends a 16-byte block counted from the image's start. */
    pos += 15 - (pos - off) % 16;
    if (pos >= c->flash_size) {
        m->beyond = 1;
        return 0;
    }
    m->stored = f[pos];
    m->end = pos + 1 + (m->hash_appended ? EG_SHA256_LEN : 0);
    if (m->end > c->flash_size)
        m->beyond = 1;
    return 0;
}

static const char *flash_mode_name(uint8_t mode)
{
    static const char *const names[] = {"QIO", "QOUT", "DIO", "DOUT"};
    return mode < 4 ? names[mode] : "DIO";
}

/* The SPI clock divider the ROM reports: 80 MHz over the header's frequency. */
static unsigned clock_div(const eg_chip *chip, uint8_t size_freq)
{
    for (int i = 0; i < 5 && chip->flash_freqs[i].name; i++) {
        if (chip->flash_freqs[i].code != (size_freq & 0xF))
            continue;
        unsigned mhz = 0;
        sscanf(chip->flash_freqs[i].name, "%u", &mhz);
        return mhz && mhz <= 80 ? 80 / mhz : 1;
    }
    return 1;
}

/* The ROM loads the bootloader: prints its load lines, checks the checksum. Returns 1
 * when it jumps to the entry, 0 when it stopped (b says how it ends). */
static int rom_load(sim_boot *b, eg_buf *out, const sim_boot_chip *c, const image *m, int *rc)
{
    int ets = c->cd->style == SIM_ROM_ETS;

    if (ets)
        *rc = sim_put(out,
                      "configsip: 0, SPIWP:0xee\r\nclk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,"
                      "hd_drv:0x00,wp_drv:0x00\r\nmode:%s, clock div:%u\r\n",
                      flash_mode_name(m->mode), clock_div(c->chip, m->size_freq));
    else
        *rc = sim_put(out, "SPIWP:0xee\r\nmode:%s, clock div:%u\r\n", flash_mode_name(m->mode),
                      clock_div(c->chip, m->size_freq));
    for (unsigned i = 0; *rc == 0 && i < m->n_segs; i++) {
        int readable = i < m->parsed;
        uint32_t addr = readable ? m->seg_addr[i] : 0xFFFFFFFF;
        uint32_t len = readable ? m->seg_len[i] : 0xFFFFFFFF;
        if (ets)
            *rc = sim_put(out, "load:0x%08x,len:%d\r\n", addr, (int32_t)len);
        else
            *rc = sim_put(out, "load:0x%08x,len:0x%x\r\n", addr, len);
        if (*rc < 0)
            return 0;
        if (readable && i < IMAGE_MAX_SEGS && in_ram(c->chip, addr, len))
            continue;
        /* The ROM can load only into internal RAM: ESP32's ROM hangs there until the RTC
         * watchdog fires; the ESP-ROM stops with an error and its TG0 watchdog fires. */
        b->end = SIM_BOOT_STUCK;
        b->reset = ets ? SIM_RST_RTCWDT : SIM_RST_TG0WDT;
        snprintf(b->why, sizeof(b->why),
                 "bootloader segment %u (0x%08x, %u bytes) cannot be loaded into RAM", i, addr,
                 len);
        if (!ets)
            *rc = sim_put(out, "ets_loader.c 78 \r\n");
        return 0;
    }
    if (*rc < 0)
        return 0;
    if (m->beyond || m->calc != m->stored) {
        b->end = SIM_BOOT_STUCK;
        b->reset = SIM_RST_RTCWDT;
        snprintf(b->why, sizeof(b->why), "bootloader checksum 0x%02x, the image says 0x%02x",
                 m->calc, m->stored);
        if (ets)
            *rc =
                sim_put(out, "csum err:0x%02x!=0x%02x\r\nets_main.c 371 \r\n", m->calc, m->stored);
        else
            *rc = sim_put(
                out, "Checksum failure. Calculated 0x%02x stored 0x%02x\r\nets_main.c 329 \r\n",
                m->calc, m->stored);
        return 0;
    }
    *rc = sim_put(out, "entry 0x%08x\r\n", m->entry);
    return *rc == 0;
}

/* The second-stage bootloader's verdict on an app image: "" when it boots, else the
 * esp_image error it logs. */
static int app_check(const sim_boot_chip *c, uint32_t off, char *err, size_t errlen)
{
    image m;
    uint8_t digest[EG_SHA256_LEN];

    err[0] = '\0';
    if (image_read(&m, c, off) < 0) {
        snprintf(err, errlen, "image at 0x%x has invalid magic byte (nothing flashed here?)", off);
        return 0;
    }
    if (m.chip_id != c->chip->image_chip_id) {
        snprintf(err, errlen, "mismatch chip ID, expected %u, found %u", c->chip->image_chip_id,
                 m.chip_id);
        return 0;
    }
    if (m.n_segs > IMAGE_MAX_SEGS || m.beyond) {
        snprintf(err, errlen, "image at 0x%x: segments pass the end of the flash", off);
        return 0;
    }
    if (m.calc != m.stored) {
        snprintf(err, errlen, "Checksum failed. Calculated 0x%x read 0x%x", m.calc, m.stored);
        return 0;
    }
    if (m.hash_appended) {
        if (eg_sha256(digest, c->flash + off, m.end - off - EG_SHA256_LEN) < 0)
            return -1;
        if (memcmp(digest, c->flash + m.end - EG_SHA256_LEN, EG_SHA256_LEN) != 0) {
            snprintf(err, errlen, "Image hash failed - image is corrupt");
            return 0;
        }
    }
    return 0;
}

static const char *part_usage(uint8_t type, uint8_t subtype)
{
    if (type == PART_TYPE_APP)
        return subtype == PART_APP_FACTORY                                  ? "factory app"
               : subtype >= PART_APP_OTA_0 && subtype < PART_APP_OTA_0 + 16 ? "OTA app"
                                                                            : "Unknown app";
    if (type == 1)
        return subtype == 0   ? "OTA data"
               : subtype == 1 ? "RF data"
               : subtype == 2 ? "WiFi data"
                              : "Unknown data";
    return "unknown";
}

/* The bootloader reads the partition table, picks the app (factory, else ota_0) and
 * checks its image. Returns 1 when the app runs. */
static int second_stage(sim_boot *b, eg_buf *out, const sim_boot_chip *c, const image *boot,
                        int *rc)
{
    const uint8_t *t = c->flash + SIM_PARTITION_TABLE_OFFSET;
    unsigned *ms = &b->ms;
    uint32_t app = 0, app_size = 0;
    char err[160];
    int found = 0;

    *ms = 27;
    if ((*rc = idf_log(out, ms, 'I', "boot", "ESP-IDF %s 2nd stage bootloader", IDF_VERSION)) < 0 ||
        (*rc = idf_log(out, ms, 'I', "boot", "compile time Jan  1 2025 00:00:00")) < 0 ||
        (*rc = idf_log(out, ms, 'I', "boot", "chip revision: v%u.%u", c->major, c->minor)) < 0)
        return 0;
    if (boot->chip_id != c->chip->image_chip_id) {
        /* bootloader_init() checks its own header first */
        b->end = SIM_BOOT_RESTART;
        snprintf(b->why, sizeof(b->why), "the bootloader is for chip id %u, not %u", boot->chip_id,
                 c->chip->image_chip_id);
        *rc = idf_log(out, ms, 'E', "boot_comm", "mismatch chip ID, expected %u, found %u",
                      c->chip->image_chip_id, boot->chip_id);
        return 0;
    }
    if (SIM_PARTITION_TABLE_OFFSET + PART_ENTRY_LEN > c->flash_size ||
        eg_get_u16le(t) != PART_MAGIC) {
        b->end = SIM_BOOT_RESTART;
        snprintf(b->why, sizeof(b->why), "no partition table at 0x%x", SIM_PARTITION_TABLE_OFFSET);
        if ((*rc = idf_log(out, ms, 'E', "flash_parts", "partition 0 invalid magic number 0x%x",
                           eg_get_u16le(t))) == 0 &&
            (*rc = idf_log(out, ms, 'E', "boot", "Failed to verify partition table")) == 0)
            *rc = idf_log(out, ms, 'E', "boot", "load partition table error!");
        return 0;
    }
    if ((*rc = idf_log(out, ms, 'I', "boot", "Partition Table:")) < 0 ||
        (*rc = idf_log(out, ms, 'I', "boot",
                       "## Label            Usage          Type ST Offset   Length")) < 0)
        return 0;
    for (unsigned i = 0; i < PART_MAX_ENTRIES; i++) {
        const uint8_t *e = t + i * PART_ENTRY_LEN;
        char label[17];
        if (eg_get_u16le(e) != PART_MAGIC)
            break; /* the MD5 entry (0xEBEB) or the erased end */
        memcpy(label, e + 12, 16);
        label[16] = '\0';
        uint8_t type = e[2], sub = e[3];
        uint32_t off = eg_get_u32le(e + 4), size = eg_get_u32le(e + 8);
        if ((*rc = idf_log(out, ms, 'I', "boot", "%2u %-16s %-16s %02x %02x %08x %08x", i, label,
                           part_usage(type, sub), type, sub, off, size)) < 0)
            return 0;
        if (type == PART_TYPE_APP && !found && (sub == PART_APP_FACTORY || sub == PART_APP_OTA_0)) {
            found = 1;
            app = off;
            app_size = size;
        }
    }
    if ((*rc = idf_log(out, ms, 'I', "boot", "End of partition table")) < 0)
        return 0;
    if (found && (*rc = app_check(c, app, err, sizeof(err))) < 0)
        return 0;
    if (!found || err[0]) {
        b->end = SIM_BOOT_RESTART;
        if (!found) {
            snprintf(b->why, sizeof(b->why), "the partition table has no factory or ota_0 app");
        } else {
            snprintf(b->why, sizeof(b->why), "app at 0x%x: %s", app, err);
            if ((*rc = idf_log(out, ms, 'E', strstr(err, "chip ID") ? "boot_comm" : "esp_image",
                               "%s", err)) < 0 ||
                (*rc = idf_log(out, ms, 'E', "boot", "Factory app partition is not bootable")) < 0)
                return 0;
        }
        *rc = idf_log(out, ms, 'E', "boot", "No bootable app partitions in the partition table");
        return 0;
    }
    (void)app_size;
    image m;
    image_read(&m, c, app);
    for (unsigned i = 0; i < m.parsed; i++) {
        int load = in_ram(c->chip, m.seg_addr[i], m.seg_len[i]);
        if ((*rc = idf_log(out, ms, 'I', "esp_image",
                           "segment %u: paddr=%08x vaddr=%08x size=%05xh (%6u) %s", i, m.seg_off[i],
                           m.seg_addr[i], m.seg_len[i], m.seg_len[i], load ? "load" : "map")) < 0)
            return 0;
    }
    if ((*rc = idf_log(out, ms, 'I', "boot", "Loaded app from partition at offset 0x%x", app)) < 0)
        return 0;
    b->end = SIM_BOOT_APP;
    b->app_offset = app;
    snprintf(b->why, sizeof(b->why), "running the application (app at 0x%x)", app);
    return 1;
}

int sim_boot_flash(sim_boot *out, eg_buf *text, const sim_boot_chip *c)
{
    uint32_t off = c->chip->bootloader_offset;
    image m;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (image_read(&m, c, off) < 0) {
        out->end = SIM_BOOT_RETRY;
        out->word = (uint64_t)off + 4 <= c->flash_size ? eg_get_u32le(c->flash + off) : 0xFFFFFFFF;
        snprintf(out->why, sizeof(out->why),
                 "invalid header 0x%08x at 0x%x: the ROM reads it again until its watchdog fires",
                 out->word, off);
        return 0;
    }
    if (!rom_load(out, text, c, &m, &rc) || rc < 0)
        return rc;
    if (!second_stage(out, text, c, &m, &rc) || rc < 0)
        return rc;
    return 0;
}

int sim_boot_panic(eg_buf *out, const sim_boot_chip *c, unsigned ms, const sim_panic_frames *f)
{
    const eg_chip *chip = c->chip;
    uint32_t pc = chip->irom.start + 0x8b2c, sp = region_start(chip, "DRAM", 0x3FC80000) + 0x18e60;
    /* The frames: pc, then return addresses (made up: further on in the flash, then RAM). */
    uint32_t fr[3] = {pc, pc + 0x5440, sim_boot_ram_pc(chip)};
    unsigned nf = 3;
    uint32_t r[32];
    int rc;

    (void)ms;
    if (f && f->n) {
        nf = f->n > 3 ? 3 : f->n;
        for (unsigned i = 0; i < nf; i++)
            fr[i] = f->pc[i];
        pc = fr[0];
    }
    for (int i = 0; i < 32; i++)
        r[i] = 0;
    if (chip->elf_machine == EG_ELF_MACHINE_XTENSA) {
        static const char *const names[] = {"PC",  "PS",  "A0",  "A1",  "A2",  "A3",      "A4",
                                            "A5",  "A6",  "A7",  "A8",  "A9",  "A10",     "A11",
                                            "A12", "A13", "A14", "A15", "SAR", "EXCCAUSE"};
        static const char *const tail[] = {"EXCVADDR", "LBEG", "LEND", "LCOUNT"};
        uint32_t rom = region_start(chip, "IROM_MASK", 0x40000000);
        r[0] = pc;
        r[1] = 0x00060830;
        /* A0: the return address, with the window call size in its top bits. */
        r[2] = 0x80000000 | ((nf > 1 ? fr[1] : pc) & 0x3FFFFFFF);
        r[3] = sp;
        r[18] = 0x4;
        r[19] = 0x1c; /* LoadProhibited */
        uint32_t t[4] = {0, rom + 0xc2e0, rom + 0xc2f6, 0xffffffff};
        if ((rc =
                 sim_put(out, "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception "
                              "was unhandled.\r\n\r\nCore  0 register dump:\r\n")) < 0)
            return rc;
        for (int i = 0; i < 20; i++)
            if ((rc = sim_put(out, "%-8s: 0x%08x  %s", names[i], r[i], i % 4 == 3 ? "\r\n" : "")) <
                0)
                return rc;
        for (int i = 0; i < 4; i++)
            if ((rc = sim_put(out, "%-8s: 0x%08x  %s", tail[i], t[i], i == 3 ? "\r\n" : "")) < 0)
                return rc;
        /* ESP-IDF prints each return address less 3 (the call instruction); the frames
         * given are where the calls are. */
        if ((rc = sim_put(out, "\r\n\r\nBacktrace:")) < 0)
            return rc;
        for (unsigned i = 0; i < nf; i++)
            if ((rc = sim_put(out, " 0x%08x:0x%08x",
                              f && f->n ? fr[i]
                              : i < 2   ? fr[i] - 3
                                        : fr[i],
                              sp + 0x20 * i)) < 0)
                return rc;
        if ((rc = sim_put(out, "\r\n")) < 0)
            return rc;
    } else {
        static const char *const names[] = {"MEPC",  "RA", "SP",  "GP",  "TP", "T0", "T1", "T2",
                                            "S0/FP", "S1", "A0",  "A1",  "A2", "A3", "A4", "A5",
                                            "A6",    "A7", "S2",  "S3",  "S4", "S5", "S6", "S7",
                                            "S8",    "S9", "S10", "S11", "T3", "T4", "T5", "T6"};
        static const char *const csr[] = {"MSTATUS", "MTVEC", "MCAUSE", "MTVAL", "MHARTID"};
        uint32_t cv[5] = {0x00001881, sim_boot_ram_pc(chip) - 0x0d69, 0x5, 0, 0};
        r[0] = pc;
        r[1] = f && f->n > 1 ? fr[1] : pc - 0xc;
        r[2] = sp;
        r[3] = region_start(chip, "DRAM", 0x3FC80000) + 0xba00;
        r[11] = sp + 0xc;
        if ((rc = sim_put(out,
                          "Guru Meditation Error: Core  0 panic'ed (Load access fault). Exception "
                          "was unhandled.\r\n\r\nCore  0 register dump:\r\n")) < 0)
            return rc;
        for (int i = 0; i < 32; i++)
            if ((rc = sim_put(out, "%-8s: 0x%08x  %s", names[i], r[i], i % 4 == 3 ? "\r\n" : "")) <
                0)
                return rc;
        for (int i = 0; i < 5; i++)
            if ((rc = sim_put(out, "%-8s: 0x%08x  %s", csr[i], cv[i],
                              i == 3 || i == 4 ? "\r\n" : "")) < 0)
                return rc;
        if ((rc = sim_put(out, "\r\nStack memory:\r\n")) < 0)
            return rc;
        for (int line = 0; line < 4; line++) {
            if ((rc = sim_put(out, "%08x:", sp + 32 * line)) < 0)
                return rc;
            for (int k = 0; k < 8; k++) {
                uint32_t w = (line * 8 + k) % 5 == 0 ? pc - 4 * k : 0;
                /* The saved return addresses of the callers further out. */
                if (f && f->n)
                    w = line == 0 && k == 3 && nf > 2   ? fr[2]
                        : line == 1 && k == 3 && nf > 1 ? fr[1]
                        : (line * 8 + k) % 5 == 0       ? sp + 16 * k
                                                        : 0;
                if ((rc = sim_put(out, " 0x%08x", w)) < 0)
                    return rc;
            }
            if ((rc = sim_put(out, "\r\n")) < 0)
                return rc;
        }
    }
    return sim_put(out, "\r\n\r\nELF file SHA256: %.16s\r\n\r\nRebooting...\r\n",
                   f && f->sha256 ? f->sha256 : "5e1d8c3a0f9b2c47");
}
