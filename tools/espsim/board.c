#include "board.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/num.h"

#include "boot.h"
#include "chipdata.h"
#include "fwapp.h"
#include "stubs.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Request opcodes (the serial protocol's command numbers). */
enum {
    OP_FLASH_BEGIN = 0x02,
    OP_FLASH_DATA = 0x03,
    OP_FLASH_END = 0x04,
    OP_MEM_BEGIN = 0x05,
    OP_MEM_END = 0x06,
    OP_MEM_DATA = 0x07,
    OP_SYNC = 0x08,
    OP_WRITE_REG = 0x09,
    OP_READ_REG = 0x0A,
    OP_SPI_SET_PARAMS = 0x0B,
    OP_SPI_ATTACH = 0x0D,
    OP_READ_FLASH_SLOW = 0x0E,
    OP_CHANGE_BAUDRATE = 0x0F,
    OP_FLASH_DEFL_BEGIN = 0x10,
    OP_FLASH_DEFL_DATA = 0x11,
    OP_FLASH_DEFL_END = 0x12,
    OP_SPI_FLASH_MD5 = 0x13,
    OP_GET_SECURITY_INFO = 0x14,
    OP_ERASE_FLASH = 0xD0,
    OP_ERASE_REGION = 0xD1,
    OP_READ_FLASH = 0xD2,
    OP_RUN_USER_CODE = 0xD3,
};

/* ROM error codes (the second status byte). */
enum {
    ROM_OK = 0x00,
    ROM_EINVALID = 0x05,       /* the format of the received message is invalid */
    ROM_EFAILED = 0x06,        /* message ok, but the result is wrong */
    ROM_ECHECKSUM = 0x07,      /* checksum error */
    ROM_EWRITE = 0x08,         /* flash write error */
    ROM_EREAD = 0x09,          /* flash read error */
    ROM_EREADLEN = 0x0A,       /* flash read length error */
    ROM_EINFLATE = 0x0B,       /* deflate failed */
    STUB_EINVALID_CMD = 0xC3,  /* the stub does not know the command */
    STUB_ENOT_FLASHING = 0xC6, /* the stub: FLASH_END without a write in progress */
    STUB_ENOT_ENOUGH = 0xC8,   /* the stub: FLASH_END while announced bytes are owed */
};

#define SYNC_VAL        0x20120707u
#define SYNC_REPLIES    8
#define UNSUPP_REPLIES  8
#define UNSUPP_OP       0x00 /* a reply op that differs from the request's */
#define CHECKSUM_SEED   0xEF
#define MAX_FRAME       (0x10000 + 64)
#define MAX_BLOCK       0x10000
#define MAX_RAM_SEGMENT 0x200000
#define SLOW_READ_LEN   64
#define GARBAGE_LIMIT   0x10000 /* no more garbage while this much is unsent */

/* One request and what to answer. */
typedef enum reply_kind {
    REPLY_ONE,         /* one response: op, val, data, status */
    REPLY_SYNC,        /* SYNC_REPLIES responses to SYNC */
    REPLY_UNSUPPORTED, /* the ROM's unsupported-command answer */
    REPLY_NONE,
} reply_kind;

typedef struct cmd {
    uint8_t op;
    const uint8_t *data;
    size_t len;
    uint32_t chk;
    /* reply */
    reply_kind kind;
    uint32_t val;
    uint8_t out[SLOW_READ_LEN];
    size_t out_len;
    uint8_t error;
    int leave_loader; /* after the reply the ROM stops listening */
    int stub_reboot;  /* after the reply the stub resets the chip back into the ROM loader */
    int start_stub;   /* after the reply the uploaded stub says OHAI and takes over */
    int start_read;   /* after the reply the stub starts streaming READ_FLASH data */
    int hangs;        /* no reply: the loader waits for an unattached flash forever */
    /* log */
    char args[384];
    size_t args_len;
    char note[160];
} cmd;

static const struct {
    uint8_t op;
    const char *name;
} op_names[] = {
    {OP_FLASH_BEGIN, "FLASH_BEGIN"},
    {OP_FLASH_DATA, "FLASH_DATA"},
    {OP_FLASH_END, "FLASH_END"},
    {OP_MEM_BEGIN, "MEM_BEGIN"},
    {OP_MEM_END, "MEM_END"},
    {OP_MEM_DATA, "MEM_DATA"},
    {OP_SYNC, "SYNC"},
    {OP_WRITE_REG, "WRITE_REG"},
    {OP_READ_REG, "READ_REG"},
    {OP_SPI_SET_PARAMS, "SPI_SET_PARAMS"},
    {OP_SPI_ATTACH, "SPI_ATTACH"},
    {OP_READ_FLASH_SLOW, "READ_FLASH_SLOW"},
    {OP_CHANGE_BAUDRATE, "CHANGE_BAUDRATE"},
    {OP_FLASH_DEFL_BEGIN, "FLASH_DEFL_BEGIN"},
    {OP_FLASH_DEFL_DATA, "FLASH_DEFL_DATA"},
    {OP_FLASH_DEFL_END, "FLASH_DEFL_END"},
    {OP_SPI_FLASH_MD5, "SPI_FLASH_MD5"},
    {OP_GET_SECURITY_INFO, "GET_SECURITY_INFO"},
    {OP_ERASE_FLASH, "ERASE_FLASH"},
    {OP_ERASE_REGION, "ERASE_REGION"},
    {OP_READ_FLASH, "READ_FLASH"},
    {OP_RUN_USER_CODE, "RUN_USER_CODE"},
};

static const char *const rom_error_names[] = {
    [ROM_EINVALID] = "invalid message", [ROM_EFAILED] = "failed to act",
    [ROM_ECHECKSUM] = "checksum error", [ROM_EWRITE] = "flash write error",
    [ROM_EREAD] = "flash read error",   [ROM_EREADLEN] = "flash read length error",
    [ROM_EINFLATE] = "deflate error",
};

/* The command's name, NULL for an opcode no loader knows. */
static const char *op_name(uint8_t op)
{
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
        if (op_names[i].op == op)
            return op_names[i].name;
    return NULL;
}

static const char *rom_error_name(uint8_t e)
{
    if (e == STUB_EINVALID_CMD)
        return "invalid command";
    size_t n = sizeof(rom_error_names) / sizeof(rom_error_names[0]);
    return e < n && rom_error_names[e] ? rom_error_names[e] : "error";
}

/* ---- faults ---------------------------------------------------------------- */

static const struct {
    const char *name; /* "name", or "name=" for a fault with a value */
    sim_fault_kind kind;
    uint64_t min, max;
} fault_names[] = {
    {"silent", SIM_FAULT_SILENT, 0, 0},
    {"garbage", SIM_FAULT_GARBAGE, 0, 0},
    {"wrong-boot", SIM_FAULT_WRONG_BOOT, 0, 0},
    {"disconnect-after=", SIM_FAULT_DISCONNECT_AFTER, 1, 0xFFFFFFFFu},
    {"bad-flash-write", SIM_FAULT_BAD_FLASH_WRITE, 0, 0},
    {"flash-fail-at=", SIM_FAULT_FLASH_FAIL_AT, 0, 0xFFFFFFFFu},
    {"unplug-after=", SIM_FAULT_UNPLUG_AFTER, 1, 0xFFFFFFFFu},
    {"stall=", SIM_FAULT_STALL, 1, 600000},
    {"baud-stuck", SIM_FAULT_BAUD_STUCK, 0, 0},
    {"boot-panic", SIM_FAULT_BOOT_PANIC, 0, 0},
    {"boot-panic=", SIM_FAULT_BOOT_PANIC, 0, 100000},
};

#define N_FAULT_NAMES (sizeof(fault_names) / sizeof(fault_names[0]))

int sim_fault_parse(sim_fault *out, const char *text)
{
    out->kind = SIM_FAULT_NONE;
    out->arg = 0;
    for (size_t i = 0; i < N_FAULT_NAMES; i++) {
        const char *name = fault_names[i].name;
        size_t n = strlen(name);
        uint64_t v;

        if (name[n - 1] != '=') {
            if (strcmp(text, name) != 0)
                continue;
            out->kind = fault_names[i].kind;
            return 0;
        }
        if (strncmp(text, name, n) != 0)
            continue;
        if (eg_num_parse(&v, text + n, fault_names[i].max) < 0 || v < fault_names[i].min)
            return eg_error_set(EG_EINVAL, "bad value in fault '%s' (%llu to %llu)", text,
                                (unsigned long long)fault_names[i].min,
                                (unsigned long long)fault_names[i].max);
        out->kind = fault_names[i].kind;
        out->arg = v;
        return 0;
    }
    return eg_error_set(EG_EINVAL,
                        "unknown fault '%s' (silent, garbage, wrong-boot, disconnect-after=N, "
                        "bad-flash-write, flash-fail-at=ADDR, unplug-after=BYTES, stall=MS, "
                        "baud-stuck, boot-panic[=LINES])",
                        text);
}

void sim_fault_format(const sim_fault *f, char *dst, size_t dstlen)
{
    for (size_t i = 0; i < N_FAULT_NAMES; i++) {
        const char *name = fault_names[i].name;
        if (fault_names[i].kind != f->kind)
            continue;
        if (f->kind == SIM_FAULT_BOOT_PANIC && (f->arg != 0) != (name[strlen(name) - 1] == '='))
            continue; /* boot-panic, or boot-panic=N */
        if (name[strlen(name) - 1] != '=')
            snprintf(dst, dstlen, "%s", name);
        else if (f->kind == SIM_FAULT_FLASH_FAIL_AT)
            snprintf(dst, dstlen, "%s0x%llx", name, (unsigned long long)f->arg);
        else
            snprintf(dst, dstlen, "%s%llu", name, (unsigned long long)f->arg);
        return;
    }
    snprintf(dst, dstlen, "none");
}

void sim_faults_add(sim_faults *s, const sim_fault *f)
{
    if (f->kind == SIM_FAULT_NONE || f->kind >= SIM_FAULT_KINDS)
        return;
    s->set |= 1u << f->kind;
    s->arg[f->kind] = f->arg;
}

int sim_faults_has(const sim_faults *s, sim_fault_kind k)
{
    return k < SIM_FAULT_KINDS && (s->set >> k & 1u);
}

static int has_fault(const sim_board *b, sim_fault_kind k)
{
    return sim_faults_has(&b->faults, k);
}

static uint64_t fault_arg(const sim_board *b, sim_fault_kind k)
{
    return b->faults.arg[k];
}

/* Writes "fault KIND" for the fault of kind k as the command line spells it. */
static void fault_why(const sim_board *b, sim_fault_kind k, char *dst, size_t dstlen)
{
    sim_fault f = {k, b->faults.arg[k]};
    int n = snprintf(dst, dstlen, "fault ");
    if (n > 0 && (size_t)n < dstlen)
        sim_fault_format(&f, dst + n, dstlen - (size_t)n);
}

/* The fault that keeps the board from ever answering, or SIM_FAULT_NONE. */
static sim_fault_kind fault_mutes(const sim_board *b)
{
    static const sim_fault_kind mute[] = {SIM_FAULT_SILENT, SIM_FAULT_GARBAGE,
                                          SIM_FAULT_WRONG_BOOT};
    for (size_t i = 0; i < sizeof(mute) / sizeof(mute[0]); i++)
        if (has_fault(b, mute[i]))
            return mute[i];
    return SIM_FAULT_NONE;
}

/* ---- helpers --------------------------------------------------------------- */

void sim_mac_format(const uint8_t mac[6], char *dst, size_t dstlen)
{
    snprintf(dst, dstlen, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

void sim_board_log(const sim_board *b, const char *fmt, ...)
{
    va_list ap;

    if (!b->log)
        return;
    fprintf(b->log, "board %u: ", b->index);
    va_start(ap, fmt);
    vfprintf(b->log, fmt, ap);
    va_end(ap);
    fputc('\n', b->log);
    fflush(b->log);
}

#define logline sim_board_log

static void args_add(cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void args_add(cmd *c, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (c->args_len >= sizeof(c->args) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(c->args + c->args_len, sizeof(c->args) - c->args_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->args_len += (size_t)n;
    if (c->args_len >= sizeof(c->args))
        c->args_len = sizeof(c->args) - 1;
}

/* Marks the command failed with a ROM error code and says why in the log. */
static void fail(cmd *c, uint8_t error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(cmd *c, uint8_t error, const char *fmt, ...)
{
    va_list ap;

    c->error = error;
    va_start(ap, fmt);
    vsnprintf(c->note, sizeof(c->note), fmt, ap);
    va_end(ap);
}

static void note(cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(cmd *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->note, sizeof(c->note), fmt, ap);
    va_end(ap);
}

static uint32_t word(const cmd *c, size_t i)
{
    return eg_get_u32le(c->data + 4 * i);
}

static uint8_t data_checksum(const uint8_t *p, size_t len)
{
    uint8_t x = CHECKSUM_SEED;
    for (size_t i = 0; i < len; i++)
        x ^= p[i];
    return x;
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* The flasher stub's code for what the ROM would call error. */
static uint8_t stub_error(uint8_t error)
{
    switch (error) {
    case ROM_OK:
        return 0;
    case ROM_ECHECKSUM:
        return 0xC1; /* bad data checksum */
    case ROM_EINFLATE:
        return 0xC7; /* inflate error */
    case ROM_EINVALID:
    case ROM_EREADLEN:
        return 0xC0; /* bad data length */
    case STUB_EINVALID_CMD:
    case STUB_ENOT_FLASHING:
    case STUB_ENOT_ENOUGH:
        return error; /* stub-only codes */
    default:
        return 0xC4; /* SPI operation failed */
    }
}

/* Appends one SLIP-framed response: header, data, then the personality's status. */
static int emit(const sim_board *b, eg_buf *out, uint8_t op, uint32_t val, const uint8_t *data,
                size_t len, uint8_t error)
{
    uint8_t f[8 + SLOW_READ_LEN + 4];
    size_t n = 8 + len + b->status_len;

    if (len > SLOW_READ_LEN)
        return eg_error_set(EG_EINVAL, "response data too long");
    f[0] = 0x01;
    f[1] = op;
    eg_put_u16le(f + 2, (uint16_t)(len + b->status_len));
    eg_put_u32le(f + 4, val);
    if (len)
        memcpy(f + 8, data, len);
    if (b->personality == SIM_PERSONALITY_ROM) {
        /* ROM: status, error, two reserved bytes */
        f[8 + len] = error ? 1 : 0;
        f[9 + len] = error;
        f[10 + len] = 0;
        f[11 + len] = 0;
    } else {
        /* stub: two bytes, the error code first (C1 00), 00 00 on success */
        f[8 + len] = stub_error(error);
        f[9 + len] = 0;
    }
    return eg_slip_encode(out, f, n);
}

/* ---- flash timing ------------------------------------------------------------ */

/* Typical times of a Winbond W25Q32JV (datasheet rev. I, AC characteristics): sector
 * erase (4 KiB) tSE 45 ms, block erase (64 KiB) tBE2 150 ms, page program (256 B) tPP
 * 0.4 ms, chip erase tCE 10 s (for its 4 MB; scaled by size here). */
#define T_SECTOR_ERASE_US 45000
#define T_BLOCK_ERASE_US  150000
#define T_PAGE_PROGRAM_US 400
#define T_CHIP_ERASE_US   10000000

static int64_t now_us(void)
{
    return eg_clock_ms() * 1000;
}

/* Time to erase [off, off+len): 64 KiB blocks where aligned, 4 KiB sectors elsewhere. */
static int64_t erase_cost_us(uint32_t off, uint32_t len)
{
    uint32_t start = off & ~0xFFFu, end = (off + len + 0xFFF) & ~0xFFFu;
    int64_t us = 0;

    while (start < end) {
        if (start % 0x10000 == 0 && end - start >= 0x10000) {
            us += T_BLOCK_ERASE_US;
            start += 0x10000;
        } else {
            us += T_SECTOR_ERASE_US;
            start += 0x1000;
        }
    }
    return us;
}

/* The flash works for cost_us after what it is already doing. The ROM answers when it
 * is done; the stub answers a data block at once and writes it while the next one
 * arrives, so its reply waits only for the work before (done_after_previous). */
static void flash_work(sim_board *b, int64_t cost_us, int answer_after_previous)
{
    if (!b->flash_timing || cost_us <= 0)
        return;
    int64_t now = now_us();
    int64_t start = b->flash_busy_us > now ? b->flash_busy_us : now;
    b->flash_busy_us = start + cost_us;
    /* The stub answers once the work from before this command is done: its first piece
     * of work in a command fixes the time. The ROM answers when all of it is done. */
    if (answer_after_previous) {
        if (!b->reply_fixed && start > b->reply_at_us)
            b->reply_at_us = start;
        b->reply_fixed = 1;
    } else if (b->flash_busy_us > b->reply_at_us) {
        b->reply_at_us = b->flash_busy_us;
    }
}

/* The stub erases ahead of what it writes: whole 64 KiB blocks while the write goes on
 * past them, 4 KiB sectors otherwise. Returns the time for erasing up to end. */
static int64_t stub_erase_ahead(sim_board *b, uint64_t end)
{
    sim_flash_write *wr = &b->wr;
    uint64_t write_end = (uint64_t)wr->offset + wr->size;
    int64_t us = 0;

    if (b->personality != SIM_PERSONALITY_STUB)
        return 0;
    if (wr->erased_to < wr->offset)
        wr->erased_to = wr->offset & ~0xFFFu;
    while (wr->erased_to < end) {
        if (wr->erased_to % 0x10000 == 0 && write_end - wr->erased_to >= 0x10000) {
            us += T_BLOCK_ERASE_US;
            wr->erased_to += 0x10000;
        } else {
            us += T_SECTOR_ERASE_US;
            wr->erased_to += 0x1000;
        }
    }
    return us;
}

static int64_t program_cost_us(size_t len)
{
    return (int64_t)((len + 255) / 256) * T_PAGE_PROGRAM_US;
}

/* ---- session --------------------------------------------------------------- */

static void write_end(sim_flash_write *wr)
{
    if (wr->z_ready)
        inflateEnd(&wr->z);
    memset(wr, 0, sizeof(*wr));
}

static void segments_free(sim_board *b)
{
    for (size_t i = 0; i < b->n_segs; i++)
        free(b->segs[i].data);
    free(b->segs);
    b->segs = NULL;
    b->n_segs = 0;
    memset(&b->mem, 0, sizeof(b->mem));
    b->entry_set = 0;
    b->entry = 0;
}

/* Whether the loader can reach the flash; the SPI registers follow (an unattached flash
 * reads as all ones: its data line floats high). */
static void set_attached(sim_board *b, int attached)
{
    b->flash_attached = attached;
    b->regs.flash_attached = attached;
}

static void session_clear(sim_board *b)
{
    write_end(&b->wr);
    segments_free(b);
    eg_slip_decoder_reset(&b->slip);
    b->personality = SIM_PERSONALITY_ROM;
    b->status_len = 4;
    memset(&b->rd, 0, sizeof(b->rd));
    b->stub_pending_error = 0;
    b->flash_busy_us = 0;
    b->reply_at_us = 0;
    b->synced = 0;
    b->in_loader = 1;
    set_attached(b, 0); /* the ROM leaves the flash alone until SPI_ATTACH */
    b->hung_op = 0;
    b->baud = SIM_ROM_BAUD;
    b->uart_baud = SIM_ROM_BAUD; /* the client's port keeps its rate (line_baud) */
    b->params_size = 0;
}

int sim_board_init(sim_board *b, const sim_board_config *cfg)
{
    const sim_chip_data *cd = sim_chip_data_for(cfg->chip);
    int rc;

    memset(b, 0, sizeof(*b));
    b->index = cfg->index;
    b->chip = cfg->chip;
    b->faults = cfg->faults;
    b->log = cfg->log;
    b->rng = cfg->seed ? cfg->seed : 0x9E3779B97F4A7C15ull;
    b->regs_cfg.chip = cfg->chip;
    b->stubs = cfg->stubs;
    b->flash_timing = cfg->flash_timing;
    b->boot_model = cfg->boot_model;
    b->cd = cd;
    b->app = cfg->app;
    b->fw = cfg->fw;
    sim_mac_format(cfg->mac, b->mac, sizeof(b->mac));
    memcpy(b->regs_cfg.mac, cfg->mac, 6);
    b->regs_cfg.major = cfg->major;
    b->regs_cfg.minor = cfg->minor;
    b->regs_cfg.jedec_id = cfg->jedec_id;
    b->regs_cfg.flash_size = cfg->flash_size;
    b->regs_cfg.crystal_hz = cfg->crystal_hz ? cfg->crystal_hz : cd->crystal_mhz * 1000000u;
    b->security_flags = cfg->security_flags;
    b->flash_crypt_cnt = cfg->flash_crypt_cnt;
    b->regs_cfg.ck8m_drift_pct = cfg->ck8m_drift_pct;
    b->regs_cfg.spi_pads_set = cfg->spi_pads_set;
    memcpy(b->regs_cfg.spi_pads, cfg->spi_pads, sizeof(b->regs_cfg.spi_pads));
    /* SPI_ATTACH's pin word (clk, q, d, hd, cs in 6-bit fields): 0 names the chip's
     * usual flash pins; a flash elsewhere (ESP32's in-package flash, on the pads its
     * eFuses name) is found only with its own pins. */
    if (cfg->spi_pads_set)
        b->flash_pins = cfg->spi_pads[0] | cfg->spi_pads[1] << 6 | cfg->spi_pads[2] << 12 |
                        cfg->spi_pads[3] << 24 | cfg->spi_pads[4] << 18;
    b->regs_cfg.extra = cd->regs;
    b->regs_cfg.n_extra = cd->n_regs;
    {
        const sim_package *pkg = cfg->package ? cfg->package : cd->packages;
        b->regs_cfg.efuse = pkg ? pkg->efuse : NULL;
        b->regs_cfg.n_efuse = pkg ? SIM_PACKAGE_WORDS : 0;
    }
    b->regs_cfg.efuse_more = cfg->efuse;
    b->regs_cfg.n_efuse_more = cfg->n_efuse;
    b->regs_cfg.xtal_reg = cd->xtal_reg;
    b->regs_cfg.xtal_shift = cd->xtal_shift;
    if ((rc = eg_slip_decoder_init(&b->slip, MAX_FRAME)) < 0)
        return rc;
    if ((rc = sim_regs_init(&b->regs, &b->regs_cfg)) < 0)
        return rc;
    if ((rc = sim_flash_open(&b->flash, cfg->flash_size, cfg->flash_path)) < 0)
        return rc;
    /* An application given and nothing flashed: the board comes as if it had been. */
    if (b->fw && cfg->chip->bootloader_offset + 4 <= b->flash.size &&
        eg_get_u32le(b->flash.mem + cfg->chip->bootloader_offset) == 0xFFFFFFFF) {
        if ((rc = sim_fw_preflash(b->fw, cfg->chip, b->flash.mem, b->flash.size)) < 0)
            return rc;
        logline(b,
                "app: '%s' put into the erased flash (bootloader, partition table, factory "
                "app at 0x10000)",
                b->fw->path);
    }
    session_clear(b);
    b->cpu = SIM_CPU_LOADER;
    /* A development board powers on with IO0 high: it boots from its flash (no one
     * hears it). Over TCP and ptys each connection resets it into the loader. */
    if (b->boot_model) {
        b->in_reset = 1;
        b->cpu = SIM_CPU_RESET;
        b->boot_at = eg_clock_ms();
    }
    return 0;
}

void sim_board_release(sim_board *b)
{
    write_end(&b->wr);
    segments_free(b);
    eg_slip_decoder_release(&b->slip);
    sim_regs_release(&b->regs);
    sim_flash_close(&b->flash);
}

/* What the CPU does, for the log. */
static const char *cpu_name(const sim_board *b)
{
    switch (b->cpu) {
    case SIM_CPU_LOADER:
        return "in the loader";
    case SIM_CPU_RESET:
        return "held in reset";
    case SIM_CPU_GONE:
        return "running RAM code";
    case SIM_CPU_RETRY:
        return "the ROM finds no bootloader";
    case SIM_CPU_STUCK:
        return "stopped after a boot error";
    case SIM_CPU_APP:
        return "running the application";
    }
    return "?";
}

static void boot_chip(const sim_board *b, sim_boot_chip *c)
{
    c->chip = b->chip;
    c->cd = b->cd;
    c->major = b->regs_cfg.major;
    c->minor = b->regs_cfg.minor;
    c->flash = b->flash.mem;
    c->flash_size = b->flash.size;
}

static int chip_reset(sim_board *b, sim_reset_reason why, int download, eg_buf *out, int64_t now);

int sim_board_connect(sim_board *b, eg_buf *out, int64_t now)
{
    int rc;

    if (b->boot_model) {
        /* Opening an RFC 2217 port resets nothing: the chip goes on as it was. */
        b->connected = 1;
        b->rx_bytes = b->tx_bytes = 0;
        b->rx_wire_us = b->tx_wire_us = 0;
        logline(b, "connected (%s)", cpu_name(b));
        return 0;
    }
    session_clear(b);
    if ((rc = sim_regs_power_on(&b->regs, &b->regs_cfg)) < 0)
        return rc;
    b->cpu = SIM_CPU_LOADER;
    b->reset_at = 0;
    b->wdt_armed = 0;
    b->line_at = 0;
    b->connected = 1;
    b->next_garbage = now;
    b->rx_bytes = b->tx_bytes = 0;
    b->rx_wire_us = b->tx_wire_us = 0;
    if (b->fw) {
        /* A board running its application: the connection is a monitor's reset through
         * EN, and the chip boots from its flash. */
        logline(b, "connected (the application's board: reset through EN)");
        return chip_reset(b, SIM_RST_POWERON, 0, out, now);
    }
    logline(b, "connected");
    if (has_fault(b, SIM_FAULT_WRONG_BOOT)) {
        sim_boot_chip c;
        boot_chip(b, &c);
        return sim_boot_banner(out, &c, SIM_RST_POWERON, 0, 0);
    }
    return 0;
}

void sim_board_disconnect(sim_board *b)
{
    if (!b->connected)
        return;
    b->connected = 0;
    if (!b->boot_model)
        session_clear(b);
    logline(b, "disconnected: received %llu bytes (%.3f s on the wire), sent %llu bytes (%.3f s)",
            (unsigned long long)b->rx_bytes, b->rx_wire_us / 1e6, (unsigned long long)b->tx_bytes,
            b->tx_wire_us / 1e6);
}

/* ---- commands -------------------------------------------------------------- */

/* A command that needs the flash, before SPI_ATTACH found it: the loader's flash
 * routines wait for the flash to say it is idle, and an unattached flash's data line
 * floats high (status 0xFF: busy), so the loader waits forever. Returns 1 when c hangs
 * the board. */
static int hangs_without_flash(sim_board *b, cmd *c)
{
    if (b->flash_attached)
        return 0;
    b->hung_op = c->op;
    c->kind = REPLY_NONE;
    c->hangs = 1;
    return 1;
}

static int need_len(cmd *c, size_t want)
{
    if (c->len == want)
        return 1;
    fail(c, ROM_EINVALID, "%zu data bytes, expected %zu", c->len, want);
    return 0;
}

static void do_read_reg(sim_board *b, cmd *c)
{
    uint32_t addr;

    if (!need_len(c, 4))
        return;
    addr = word(c, 0);
    c->val = sim_regs_read(&b->regs, addr);
    args_add(c, " addr=0x%08x value=0x%08x", addr, c->val);
}

static void watchdog_write(sim_board *b, cmd *c);

static int do_write_reg(sim_board *b, cmd *c)
{
    int rc;

    if (c->len == 0 || c->len % 16) {
        fail(c, ROM_EINVALID, "%zu data bytes, expected 16 per register", c->len);
        return 0;
    }
    for (size_t i = 0; i < c->len / 16; i++) {
        uint32_t addr = word(c, 4 * i), value = word(c, 4 * i + 1);
        uint32_t mask = word(c, 4 * i + 2), delay = word(c, 4 * i + 3);
        int spi_cmd, wdt = b->chip->wdt_config0 &&
                           (addr == b->chip->wdt_config0 || addr == b->chip->wdt_config1);

        args_add(c, " addr=0x%08x value=0x%08x mask=0x%08x delay_us=%u", addr, value, mask, delay);
        if (wdt && sim_regs_read(&b->regs, b->chip->wdt_wprotect) != EG_WDT_KEY) {
            args_add(c, " (write-protected: ignored)");
            continue;
        }
        if ((rc = sim_regs_write(&b->regs, addr, value, mask, &spi_cmd)) < 0)
            return rc;
        if (spi_cmd >= 0)
            args_add(c, " spi_cmd=0x%02x", (unsigned)spi_cmd);
        if (wdt)
            watchdog_write(b, c);
    }
    return 0;
}

static void do_spi_set_params(sim_board *b, cmd *c)
{
    if (!need_len(c, 24))
        return;
    args_add(c, " id=%u size=0x%x block=0x%x sector=0x%x page=0x%x status_mask=0x%x", word(c, 0),
             word(c, 1), word(c, 2), word(c, 3), word(c, 4), word(c, 5));
    b->params_size = word(c, 1);
}

static void do_spi_attach(sim_board *b, cmd *c)
{
    /* The ROM takes the pins and a legacy flag, the stub the pins alone. */
    int rom = b->personality == SIM_PERSONALITY_ROM;
    if (!need_len(c, rom ? 8 : 4))
        return;
    uint32_t pins = word(c, 0);
    args_add(c, " pins=0x%08x", pins);
    if (rom)
        args_add(c, " legacy=%u", word(c, 1));
    set_attached(b, pins == b->flash_pins);
    if (!b->flash_attached)
        note(c, "no flash on these pins (it answers on 0x%08x): flash commands will hang",
             b->flash_pins);
}

static void do_change_baud(sim_board *b, cmd *c)
{
    uint32_t baud;

    if (!need_len(c, 8))
        return;
    baud = word(c, 0);
    args_add(c, " baud=%u old=%u", baud, word(c, 1));
    if (baud == 0) {
        fail(c, ROM_EFAILED, "baud rate 0");
        return;
    }
    /* The ROM reprograms its UART divider for the new rate, from the clock it believes
     * it has: ESP32-C2's ROM believes in 40 MHz whatever the crystal. */
    uint32_t crystal = b->regs_cfg.crystal_hz, believed = crystal;
    if (b->personality == SIM_PERSONALITY_ROM && b->chip->rom_baud == EG_ROM_BAUD_ASSUMES_40MHZ)
        believed = 40000000;
    /* ESP32's ROM takes its clock from an estimate: the RTC calibration against the
     * 8 MHz oscillator, cali * 15625 * ck8m / 40 (ck8m from an eFuse). */
    if (b->personality == SIM_PERSONALITY_ROM && b->chip->rom_baud == EG_ROM_BAUD_RTC_ESTIMATE) {
        uint64_t cali = (sim_regs_read(&b->regs, b->chip->rtc_cali_reg) >> 7) & 0x1FFFFFF;
        uint64_t ck8m = sim_regs_read(&b->regs, b->chip->ck8m_reg) & 0xFF;
        uint64_t est = cali * 15625 * ck8m / 40;
        if (est > 0 && est <= 0xFFFFFFFFu)
            believed = (uint32_t)est;
    }
    uint32_t divider = believed / baud; /* integer part; the UART adds a fraction */
    if (divider == 0) {
        fail(c, ROM_EFAILED, "baud rate %u is above the clock", baud);
        return;
    }
    if (b->personality == SIM_PERSONALITY_ROM && has_fault(b, SIM_FAULT_BAUD_STUCK)) {
        /* Acknowledged at the old rate; the UART never changes. */
        args_add(c, " (stuck: the UART stays at %u)", b->uart_baud);
        return;
    }
    b->baud = (uint32_t)((uint64_t)baud * crystal / believed);
    b->uart_baud = b->baud;
    if (b->baud != baud)
        args_add(c, " effective=%u", b->baud);
    if (b->chip->uart_clkdiv_reg)
        sim_regs_set(&b->regs, b->chip->uart_clkdiv_reg, divider);
}

static void do_security_info(sim_board *b, cmd *c)
{
    unsigned n = b->chip->security_info_len;

    if (n == 0) {
        c->kind = REPLY_UNSUPPORTED;
        note(c, "unsupported by this ROM");
        return;
    }
    memset(c->out, 0, n);
    /* flags, flash_crypt_cnt, key purposes 0; then chip id and API version 0 */
    eg_put_u32le(c->out, b->security_flags);
    c->out[4] = b->flash_crypt_cnt;
    if (n >= 16)
        eg_put_u32le(c->out + 12, b->chip->image_chip_id);
    c->out_len = n;
}

/* FLASH_BEGIN and FLASH_DEFL_BEGIN: the ROM erases the whole region up front. */
static void do_flash_begin(sim_board *b, cmd *c, int compressed)
{
    static const char *const names[] = {"size", "blocks", "block_size", "offset", "encrypted"};
    /* The ROM takes exactly its chip's count; Espressif's flasher stub takes the
     * encrypted word or not (esptool 5 sends it, esptool-js 0.7 does not). */
    unsigned words = b->chip->rom_flash_begin_words;
    if (b->personality == SIM_PERSONALITY_STUB)
        words = c->len == 16 ? 4 : 5;
    uint32_t size, blocks, block_size, offset;

    /* log what came, also when the length is wrong */
    for (size_t i = 0; i < c->len / 4 && i < 5; i++) {
        if (i == 1 || i == 4)
            args_add(c, " %s=%u", names[i], word(c, i));
        else
            args_add(c, " %s=0x%x", names[i], word(c, i));
    }
    if (!need_len(c, 4u * words))
        return;
    size = word(c, 0);
    blocks = word(c, 1);
    block_size = word(c, 2);
    offset = word(c, 3);
    write_end(&b->wr);
    if (block_size > MAX_BLOCK || (blocks && !block_size)) {
        fail(c, ROM_EINVALID, "block size 0x%x", block_size);
        return;
    }
    if (hangs_without_flash(b, c))
        return;
    if (!sim_flash_fits(&b->flash, offset, size)) {
        fail(c, ROM_EFAILED, "0x%x+0x%x is beyond the 0x%x-byte flash", offset, size,
             b->flash.size);
        return;
    }
    if (words > 4 && word(c, 4))
        note(c, "encryption is not modelled: written in plain text");
    if (compressed) {
        if (inflateInit(&b->wr.z) != Z_OK) {
            fail(c, ROM_EFAILED, "zlib initialisation failed");
            return;
        }
        b->wr.z_ready = 1;
    }
    b->wr.erase_end = sim_flash_erase(&b->flash, offset, size);
    /* The ROM erases the whole region before it answers; the stub erases as it goes. */
    if (b->personality == SIM_PERSONALITY_ROM)
        flash_work(b, erase_cost_us(offset, size), 0);
    b->wr.active = 1;
    b->wr.compressed = compressed;
    b->wr.offset = offset;
    b->wr.size = size;
    b->wr.blocks = blocks;
    b->wr.block_size = block_size;
    b->wr.next_seq = 0;
    b->wr.cursor = offset;
    b->wr.erased_to = 0;
}

/* Checks the (len, seq, 0, 0) header and the data checksum shared by MEM_DATA,
 * FLASH_DATA and FLASH_DEFL_DATA; logs seq and len. */
static int data_header(cmd *c, uint32_t *len, uint32_t *seq)
{
    if (c->len < 16) {
        fail(c, ROM_EINVALID, "%zu data bytes, expected at least 16", c->len);
        return 0;
    }
    *len = word(c, 0);
    *seq = word(c, 1);
    args_add(c, " seq=%u len=%u", *seq, *len);
    if (c->len - 16 != *len) {
        fail(c, ROM_EINVALID, "%zu bytes follow the header, it announces %u", c->len - 16, *len);
        return 0;
    }
    if (c->chk != data_checksum(c->data + 16, *len)) {
        fail(c, ROM_ECHECKSUM, "checksum 0x%02x, data gives 0x%02x", c->chk,
             data_checksum(c->data + 16, *len));
        return 0;
    }
    return 1;
}

/* The ROM writes a block before it answers; the stub answers first and reports a failed
 * write on the next command. why names the fault. */
static void block_write_failed(sim_board *b, cmd *c, sim_fault_kind why)
{
    char f[64];

    fault_why(b, why, f, sizeof(f));
    if (b->personality == SIM_PERSONALITY_STUB) {
        b->stub_pending_error = ROM_EWRITE;
        note(c, "%s: the write failed, the next command says so", f);
        return;
    }
    fail(c, ROM_EWRITE, "%s", f);
}

/* flash-fail-at: how many of the len bytes at addr can be programmed before the
 * failing address (len when it is not among them). */
static uint32_t writable_before_fault(const sim_board *b, uint64_t addr, uint32_t len)
{
    uint64_t at = fault_arg(b, SIM_FAULT_FLASH_FAIL_AT);

    if (!has_fault(b, SIM_FAULT_FLASH_FAIL_AT) || at < addr || at >= addr + len)
        return len;
    return (uint32_t)(at - addr);
}

static void do_flash_data(sim_board *b, cmd *c)
{
    sim_flash_write *wr = &b->wr;
    uint32_t len, seq;
    uint64_t addr;

    if (!data_header(c, &len, &seq))
        return;
    if (!wr->active || wr->compressed) {
        fail(c, ROM_EINVALID, "no FLASH_BEGIN before");
        return;
    }
    if (len != wr->block_size) {
        fail(c, ROM_EINVALID, "length %u is not the block size 0x%x", len, wr->block_size);
        return;
    }
    if (seq != wr->next_seq) {
        fail(c, ROM_EINVALID, "sequence %u, expected %u", seq, wr->next_seq);
        return;
    }
    addr = (uint64_t)wr->offset + (uint64_t)seq * wr->block_size;
    args_add(c, " addr=0x%llx", (unsigned long long)addr);
    if (!sim_flash_fits(&b->flash, addr, len)) {
        fail(c, ROM_EFAILED, "beyond the end of the flash");
        return;
    }
    if (has_fault(b, SIM_FAULT_BAD_FLASH_WRITE)) {
        block_write_failed(b, c, SIM_FAULT_BAD_FLASH_WRITE);
        return;
    }
    /* A flash that fails at an address programs up to it, and no further. */
    uint32_t good = writable_before_fault(b, addr, len);
    sim_flash_program(&b->flash, (uint32_t)addr, c->data + 16, good);
    flash_work(b, program_cost_us(good) + stub_erase_ahead(b, addr + good),
               b->personality == SIM_PERSONALITY_STUB);
    if (good < len) {
        block_write_failed(b, c, SIM_FAULT_FLASH_FAIL_AT);
        return;
    }
    wr->next_seq++;
    if (seq >= wr->blocks)
        note(c, "block %u is beyond the %u announced", seq, wr->blocks);
}

static void do_flash_defl_data(sim_board *b, cmd *c)
{
    sim_flash_write *wr = &b->wr;
    uint8_t chunk[4096];
    uint32_t len, seq;
    int zr;

    if (!data_header(c, &len, &seq))
        return;
    if (!wr->active || !wr->compressed) {
        fail(c, ROM_EINVALID, "no FLASH_DEFL_BEGIN before");
        return;
    }
    if (len > wr->block_size) {
        fail(c, ROM_EINVALID, "length %u is more than the block size 0x%x", len, wr->block_size);
        return;
    }
    if (seq != wr->next_seq) {
        fail(c, ROM_EINVALID, "sequence %u, expected %u", seq, wr->next_seq);
        return;
    }
    if (has_fault(b, SIM_FAULT_BAD_FLASH_WRITE)) {
        block_write_failed(b, c, SIM_FAULT_BAD_FLASH_WRITE);
        return;
    }
    if (wr->failed) {
        fail(c, ROM_EWRITE, "an earlier block of this write failed");
        return;
    }
    if (wr->z_broken) {
        fail(c, ROM_EINFLATE, "the stream is already broken");
        return;
    }
    wr->next_seq++;
    if (wr->z_done) {
        note(c, "data after the end of the zlib stream ignored");
        return;
    }
    wr->z.next_in = (Bytef *)(c->data + 16);
    wr->z.avail_in = len;
    do {
        size_t produced;

        wr->z.next_out = chunk;
        wr->z.avail_out = sizeof(chunk);
        zr = inflate(&wr->z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            wr->z_broken = 1;
            fail(c, ROM_EINFLATE, "inflate: %s", wr->z.msg ? wr->z.msg : "error");
            return;
        }
        produced = sizeof(chunk) - wr->z.avail_out;
        if (produced) {
            if ((uint64_t)wr->cursor + produced > wr->erase_end ||
                !sim_flash_fits(&b->flash, wr->cursor, produced)) {
                wr->z_broken = 1;
                fail(c, ROM_EFAILED, "inflated data passes the erased end 0x%x", wr->erase_end);
                return;
            }
            uint32_t good = writable_before_fault(b, wr->cursor, (uint32_t)produced);
            sim_flash_program(&b->flash, wr->cursor, chunk, good);
            flash_work(b, program_cost_us(good) + stub_erase_ahead(b, wr->cursor + good),
                       b->personality == SIM_PERSONALITY_STUB);
            wr->cursor += good;
            if (good < produced) {
                wr->failed = 1;
                block_write_failed(b, c, SIM_FAULT_FLASH_FAIL_AT);
                return;
            }
        }
        if (zr == Z_STREAM_END) {
            wr->z_done = 1;
            break;
        }
        if (zr == Z_BUF_ERROR)
            break;
    } while (wr->z.avail_in > 0 || wr->z.avail_out == 0);
    args_add(c, " written=0x%x", wr->cursor - wr->offset);
}

static void do_flash_end(sim_board *b, cmd *c)
{
    if (!need_len(c, 4))
        return;
    args_add(c, " flag=%u (%s)", word(c, 0), word(c, 0) ? "run user code" : "reboot");
    if (b->personality == SIM_PERSONALITY_STUB) {
        /* The stub stays, and refuses to end a write that is not whole. */
        const sim_flash_write *wr = &b->wr;
        if (!wr->active)
            fail(c, STUB_ENOT_FLASHING, "no write in progress");
        else if (wr->compressed ? !wr->z_done && wr->size > 0 : wr->next_seq < wr->blocks)
            fail(c, STUB_ENOT_ENOUGH, "the write ends before the announced data arrived");
        else if (word(c, 0) == 0) {
            /* "reboot": a software reset, after which the ROM loader listens again as
             * the chip was strapped (espflash's --after no-reset). */
            c->stub_reboot = 1;
            note(c, "the stub resets the chip into the ROM loader");
        }
        write_end(&b->wr);
        return;
    }
    write_end(&b->wr);
    c->leave_loader = 1;
    note(c, "the ROM leaves the loader");
}

static void do_md5(sim_board *b, cmd *c)
{
    uint8_t digest[EG_MD5_LEN];
    char hex[2 * EG_MD5_LEN + 1];
    uint32_t addr, size;

    if (!need_len(c, 16))
        return;
    addr = word(c, 0);
    size = word(c, 1);
    args_add(c, " addr=0x%x size=0x%x", addr, size);
    if (hangs_without_flash(b, c))
        return;
    if (!sim_flash_fits(&b->flash, addr, size)) {
        fail(c, ROM_EFAILED, "beyond the end of the flash");
        return;
    }
    if (eg_md5(digest, b->flash.mem + addr, size) < 0) {
        fail(c, ROM_EFAILED, "md5 failed");
        return;
    }
    if (b->personality == SIM_PERSONALITY_STUB) {
        memcpy(c->out, digest, EG_MD5_LEN); /* the stub sends the 16 bytes */
        c->out_len = EG_MD5_LEN;
        return;
    }
    eg_hex(hex, digest, EG_MD5_LEN);
    memcpy(c->out, hex, 2 * EG_MD5_LEN);
    c->out_len = 2 * EG_MD5_LEN;
}

static void do_read_flash_slow(sim_board *b, cmd *c)
{
    uint32_t addr, len;

    if (!need_len(c, 8))
        return;
    addr = word(c, 0);
    len = word(c, 1);
    args_add(c, " addr=0x%x len=%u", addr, len);
    if (len > SLOW_READ_LEN) {
        fail(c, ROM_EREADLEN, "more than %u bytes", SLOW_READ_LEN);
        return;
    }
    if (hangs_without_flash(b, c))
        return;
    if (!sim_flash_fits(&b->flash, addr, len)) {
        fail(c, ROM_EREAD, "beyond the end of the flash");
        return;
    }
    memset(c->out, 0, SLOW_READ_LEN);
    memcpy(c->out, b->flash.mem + addr, len);
    c->out_len = SLOW_READ_LEN;
}

static void do_mem_begin(sim_board *b, cmd *c)
{
    uint32_t size, blocks, block_size, addr;
    sim_segment *segs;

    if (!need_len(c, 16))
        return;
    size = word(c, 0);
    blocks = word(c, 1);
    block_size = word(c, 2);
    addr = word(c, 3);
    args_add(c, " size=0x%x blocks=%u block_size=0x%x addr=0x%08x", size, blocks, block_size, addr);
    b->mem.active = 0;
    if (size > MAX_RAM_SEGMENT || block_size > MAX_BLOCK || (blocks && !block_size)) {
        fail(c, ROM_EINVALID, "segment size 0x%x or block size 0x%x out of range", size,
             block_size);
        return;
    }
    segs = realloc(b->segs, (b->n_segs + 1) * sizeof(*segs));
    if (!segs) {
        fail(c, ROM_EFAILED, "out of memory");
        return;
    }
    b->segs = segs;
    segs[b->n_segs].addr = addr;
    segs[b->n_segs].size = size;
    segs[b->n_segs].written = 0;
    segs[b->n_segs].data = calloc(1, size ? size : 1);
    if (!segs[b->n_segs].data) {
        fail(c, ROM_EFAILED, "out of memory");
        return;
    }
    b->mem.seg = b->n_segs++;
    b->mem.active = 1;
    b->mem.blocks = blocks;
    b->mem.block_size = block_size;
    b->mem.next_seq = 0;
}

static void do_mem_data(sim_board *b, cmd *c)
{
    sim_segment *s;
    uint32_t len, seq;
    uint64_t off;

    if (!data_header(c, &len, &seq))
        return;
    if (!b->mem.active) {
        fail(c, ROM_EINVALID, "no MEM_BEGIN before");
        return;
    }
    s = &b->segs[b->mem.seg];
    if (len > b->mem.block_size) {
        fail(c, ROM_EINVALID, "length %u is more than the block size 0x%x", len, b->mem.block_size);
        return;
    }
    if (seq != b->mem.next_seq) {
        fail(c, ROM_EINVALID, "sequence %u, expected %u", seq, b->mem.next_seq);
        return;
    }
    off = (uint64_t)seq * b->mem.block_size;
    if (off + len > s->size) {
        fail(c, ROM_EINVALID, "data passes the 0x%x-byte segment", s->size);
        return;
    }
    memcpy(s->data + off, c->data + 16, len);
    if (off + len > s->written)
        s->written = (uint32_t)(off + len);
    b->mem.next_seq++;
    args_add(c, " addr=0x%08llx", (unsigned long long)(s->addr + off));
}

static void do_mem_end(sim_board *b, cmd *c)
{
    if (!need_len(c, 8))
        return;
    args_add(c, " flag=%u entry=0x%08x", word(c, 0), word(c, 1));
    b->mem.active = 0;
    b->entry_set = word(c, 0) == 0;
    b->entry = word(c, 1);
    if (!b->entry_set)
        return;
    /* The ROM jumps to the entry: espsim can play the flasher stubs it knows, and
     * nothing else. */
    const sim_segment *text = NULL, *data = NULL;
    if (b->n_segs > 0)
        text = &b->segs[0]; /* uploaded in this order: text, then data */
    if (b->n_segs > 1)
        data = &b->segs[1];
    const sim_stub_image *stub =
        b->stubs && text ? sim_stubs_match(b->stubs, b->entry, text->addr, text->data,
                                           text->written, data ? data->addr : 0,
                                           data ? data->data : NULL, data ? data->written : 0)
                         : NULL;
    if (stub) {
        c->start_stub = 1;
        note(c, "running the flasher stub %s", stub->name);
    } else {
        c->leave_loader = 1;
        note(c, "unknown RAM code at 0x%08x: the chip runs it and stops answering", b->entry);
    }
}

static void do_erase(sim_board *b, cmd *c)
{
    uint32_t off = 0, size = b->flash.size;

    if (c->op == OP_ERASE_REGION) {
        if (!need_len(c, 8))
            return;
        off = word(c, 0);
        size = word(c, 1);
        args_add(c, " addr=0x%x size=0x%x", off, size);
        if (off % 0x1000 || size % 0x1000) {
            fail(c, ROM_EINVALID, "not aligned to 4 KiB sectors");
            return;
        }
    }
    if (hangs_without_flash(b, c))
        return;
    if (!sim_flash_fits(&b->flash, off, size)) {
        fail(c, ROM_EFAILED, "beyond the end of the flash");
        return;
    }
    sim_flash_erase(&b->flash, off, size);
    if (c->op == OP_ERASE_FLASH)
        flash_work(b, (int64_t)T_CHIP_ERASE_US * (b->flash.size >> 20) / 4, 0);
    else
        flash_work(b, erase_cost_us(off, size), 0);
}

/* The stub's READ_FLASH (offset, length, packet size, packets in flight): the status
 * reply, then packets of data, one at a time, each sent once the client acknowledged
 * the previous one; finally the MD5 of the whole range. */
static void do_read_flash(sim_board *b, cmd *c)
{
    uint32_t off, len, packet;

    if (!need_len(c, 16))
        return;
    off = word(c, 0);
    len = word(c, 1);
    packet = word(c, 2);
    args_add(c, " addr=0x%x size=0x%x packet=0x%x in_flight=%u", off, len, packet, word(c, 3));
    if (packet == 0 || packet > 0x4000 || len == 0) {
        fail(c, ROM_EINVALID, "packet size 0x%x, length 0x%x", packet, len);
        return;
    }
    if (hangs_without_flash(b, c))
        return;
    if (!sim_flash_fits(&b->flash, off, len)) {
        fail(c, ROM_EFAILED, "beyond the end of the flash");
        return;
    }
    b->rd.active = 1;
    b->rd.offset = off;
    b->rd.len = len;
    b->rd.packet = packet;
    b->rd.sent = 0;
    c->start_read = 1;
}

/* Sends the next READ_FLASH packet, or the closing MD5 once all went. */
static int read_next(sim_board *b, eg_buf *out)
{
    if (b->rd.sent < b->rd.len) {
        uint32_t n = b->rd.len - b->rd.sent < b->rd.packet ? b->rd.len - b->rd.sent : b->rd.packet;
        int rc = eg_slip_encode(out, b->flash.mem + b->rd.offset + b->rd.sent, n);
        b->rd.sent += n;
        return rc;
    }
    uint8_t md5[EG_MD5_LEN];
    eg_md5(md5, b->flash.mem + b->rd.offset, b->rd.len);
    b->rd.active = 0;
    return eg_slip_encode(out, md5, sizeof(md5));
}

static int flash_boot(sim_board *b, eg_buf *out, int64_t now);

/* Runs one synced request; fills the reply in c. */
static int dispatch(sim_board *b, cmd *c)
{
    switch (c->op) {
    case OP_READ_REG:
        do_read_reg(b, c);
        return 0;
    case OP_WRITE_REG:
        return do_write_reg(b, c);
    case OP_SPI_SET_PARAMS:
        do_spi_set_params(b, c);
        return 0;
    case OP_SPI_ATTACH:
        do_spi_attach(b, c);
        return 0;
    case OP_CHANGE_BAUDRATE:
        do_change_baud(b, c);
        return 0;
    case OP_GET_SECURITY_INFO:
        do_security_info(b, c);
        return 0;
    case OP_FLASH_BEGIN:
        do_flash_begin(b, c, 0);
        return 0;
    case OP_FLASH_DEFL_BEGIN:
        do_flash_begin(b, c, 1);
        return 0;
    case OP_FLASH_DATA:
        do_flash_data(b, c);
        return 0;
    case OP_FLASH_DEFL_DATA:
        do_flash_defl_data(b, c);
        return 0;
    case OP_FLASH_END:
    case OP_FLASH_DEFL_END:
        do_flash_end(b, c);
        return 0;
    case OP_SPI_FLASH_MD5:
        do_md5(b, c);
        return 0;
    case OP_READ_FLASH_SLOW:
        if (b->personality == SIM_PERSONALITY_STUB) {
            c->kind = REPLY_UNSUPPORTED; /* the stub has the windowed READ_FLASH instead */
            return 0;
        }
        do_read_flash_slow(b, c);
        return 0;
    case OP_MEM_BEGIN:
        do_mem_begin(b, c);
        return 0;
    case OP_MEM_DATA:
        do_mem_data(b, c);
        return 0;
    case OP_MEM_END:
        do_mem_end(b, c);
        return 0;
    case OP_ERASE_FLASH:
    case OP_ERASE_REGION:
    case OP_READ_FLASH:
        if (b->personality == SIM_PERSONALITY_STUB) {
            if (c->op == OP_READ_FLASH)
                do_read_flash(b, c);
            else
                do_erase(b, c);
            return 0;
        }
        c->kind = REPLY_UNSUPPORTED;
        note(c, "unsupported by the ROM");
        return 0;
    default:
        /* stub-only commands and everything else the ROM does not know */
        c->kind = REPLY_UNSUPPORTED;
        note(c, "unsupported by the ROM");
        return 0;
    }
}

static int is_sync(const cmd *c)
{
    static const uint8_t head[4] = {0x07, 0x07, 0x12, 0x20};

    if (c->len != 36 || memcmp(c->data, head, 4) != 0)
        return 0;
    for (size_t i = 4; i < 36; i++)
        if (c->data[i] != 0x55)
            return 0;
    return 1;
}

static void log_cmd(const sim_board *b, const cmd *c, const char *ignored)
{
    const char *name = op_name(c->op);
    char opbuf[16];

    if (!b->log)
        return;
    if (!name) {
        snprintf(opbuf, sizeof(opbuf), "OP_0x%02x", c->op);
        name = opbuf;
    }
    if (ignored)
        logline(b, "%s len=%zu (ignored: %s)", name, c->len, ignored);
    else if (c->hangs)
        logline(b,
                "%s%s (hangs: the flash is not attached, no SPI_ATTACH found it; the %s "
                "waits for it until reset)",
                name, c->args, b->personality == SIM_PERSONALITY_STUB ? "stub" : "ROM");
    else if (c->error)
        logline(b, "%s%s -> error 0x%02x (%s: %s)", name, c->args, c->error,
                rom_error_name(c->error), c->note);
    else if (c->kind == REPLY_UNSUPPORTED)
        logline(b, "%s len=%zu -> unsupported", name, c->len);
    else if (c->note[0])
        logline(b, "%s%s (%s)", name, c->args, c->note);
    else
        logline(b, "%s%s", name, c->args);
}

static int send_reply(sim_board *b, const cmd *c, eg_buf *out)
{
    int rc = 0;

    switch (c->kind) {
    case REPLY_ONE:
        rc = emit(b, out, c->op, c->val, c->out, c->error ? 0 : c->out_len, c->error);
        break;
    case REPLY_SYNC:
        /* The ROM answers eight times; the stub too, as a ROM would, but with val 0
         * (which tells clients that the stub runs). */
        for (int i = 0; i < SYNC_REPLIES && rc == 0; i++)
            rc = emit(b, out, OP_SYNC, b->personality == SIM_PERSONALITY_STUB ? 0 : SYNC_VAL, NULL,
                      0, ROM_OK);
        break;
    case REPLY_UNSUPPORTED:
        if (b->personality == SIM_PERSONALITY_STUB) {
            rc = emit(b, out, c->op, 0, NULL, 0, STUB_EINVALID_CMD);
            break;
        }
        for (int i = 0; i < UNSUPP_REPLIES && rc == 0; i++)
            rc = emit(b, out, UNSUPP_OP, 0, NULL, 0, ROM_EINVALID);
        break;
    case REPLY_NONE:
        break;
    }
    return rc;
}

/* Unplugs the board when a fault says this data block is its last. */
static int data_block_unplugs(sim_board *b, const cmd *c)
{
    char why[96];

    b->data_blocks++;
    b->data_bytes += c->len > 16 ? c->len - 16 : 0;
    if (has_fault(b, SIM_FAULT_DISCONNECT_AFTER) &&
        b->data_blocks >= fault_arg(b, SIM_FAULT_DISCONNECT_AFTER))
        fault_why(b, SIM_FAULT_DISCONNECT_AFTER, why, sizeof(why));
    else if (has_fault(b, SIM_FAULT_UNPLUG_AFTER) &&
             b->data_bytes >= fault_arg(b, SIM_FAULT_UNPLUG_AFTER))
        fault_why(b, SIM_FAULT_UNPLUG_AFTER, why, sizeof(why));
    else
        return 0;
    snprintf(why + strlen(why), sizeof(why) - strlen(why), ": unplugged");
    log_cmd(b, c, why);
    b->unplugged = 1;
    return 1;
}

/* The reply to the command just handled, from index at of out on, waits for the flash
 * (reply_at_us) and for the stall fault. */
static void hold_reply(sim_board *b, size_t at)
{
    int64_t now = now_us(), until = b->reply_at_us;

    if (has_fault(b, SIM_FAULT_STALL))
        until = (until > now ? until : now) + (int64_t)fault_arg(b, SIM_FAULT_STALL) * 1000;
    if (until <= now)
        return;
    if (b->n_holds == SIM_HOLDS_MAX) {
        /* no room: the last hold covers this reply too */
        if (until > b->holds[b->n_holds - 1].until_us)
            b->holds[b->n_holds - 1].until_us = until;
        return;
    }
    b->holds[b->n_holds].at = at;
    b->holds[b->n_holds].until_us = until;
    b->n_holds++;
}

static int frame(sim_board *b, const uint8_t *f, size_t flen, eg_buf *out);

static int handle_frame(sim_board *b, const uint8_t *f, size_t flen, eg_buf *out)
{
    size_t at = out->len;
    int rc;

    b->reply_at_us = 0;
    b->reply_fixed = 0;
    rc = frame(b, f, flen, out);
    if (rc == 0 && out->len > at)
        hold_reply(b, at);
    return rc;
}

static int frame(sim_board *b, const uint8_t *f, size_t flen, eg_buf *out)
{
    cmd c;
    int rc;

    if (b->rd.active && flen == 4 && !fault_mutes(b)) {
        uint32_t acked = eg_get_u32le(f);
        if (acked != b->rd.sent) {
            logline(b, "READ_FLASH ack=0x%x, sent 0x%x: stream stopped", acked, b->rd.sent);
            b->rd.active = 0;
            return 0;
        }
        return read_next(b, out);
    }
    if (flen < 8 || f[0] != 0x00)
        return 0; /* not a request */
    memset(&c, 0, sizeof(c));
    c.op = f[1];
    c.chk = eg_get_u32le(f + 4);
    c.data = f + 8;
    c.len = flen - 8;
    c.kind = REPLY_ONE;
    if (fault_mutes(b)) {
        char why[48];
        fault_why(b, fault_mutes(b), why, sizeof(why));
        log_cmd(b, &c, why);
        return 0;
    }
    if (!b->in_loader) {
        char why[64];
        snprintf(why, sizeof(why), "not in the loader since %s", op_name(b->left_by));
        log_cmd(b, &c, why);
        return 0;
    }
    if (b->hung_op) {
        char why[80];
        snprintf(why, sizeof(why), "hung since %s without the flash", op_name(b->hung_op));
        log_cmd(b, &c, why);
        return 0;
    }
    if (c.op == OP_SYNC) {
        if (eg_get_u16le(f + 2) != c.len || !is_sync(&c)) {
            log_cmd(b, &c, "malformed SYNC");
            return 0;
        }
        b->synced = 1;
        c.kind = REPLY_SYNC;
        log_cmd(b, &c, NULL);
        return send_reply(b, &c, out);
    }
    if (!b->synced) {
        log_cmd(b, &c, "not synced");
        return 0;
    }
    if ((c.op == OP_FLASH_DATA || c.op == OP_FLASH_DEFL_DATA) && data_block_unplugs(b, &c))
        return SIM_BOARD_UNPLUG;
    if (eg_get_u16le(f + 2) != c.len)
        fail(&c, ROM_EINVALID, "header says %u data bytes, frame has %zu", eg_get_u16le(f + 2),
             c.len);
    else if (b->stub_pending_error) {
        fail(&c, b->stub_pending_error, "a block written before failed");
        b->stub_pending_error = 0;
        write_end(&b->wr);
    } else if ((rc = dispatch(b, &c)) < 0)
        return rc;
    log_cmd(b, &c, NULL);
    if ((rc = send_reply(b, &c, out)) < 0)
        return rc;
    if (c.stub_reboot) {
        logline(b, "reset: software (the stub's FLASH_END reboot): the ROM loader");
        if ((rc = chip_reset(b, SIM_RST_SW_SYS, 1, out, eg_clock_ms())) < 0)
            return rc;
    }
    if (c.leave_loader) {
        /* FLASH_END: "run user code" (1) jumps to the flash boot, "reboot" (0) resets by
         * software first; MEM_END: RAM code espsim cannot play. */
        int64_t now = eg_clock_ms();
        b->in_loader = 0;
        if (c.op == OP_MEM_END) {
            b->cpu = SIM_CPU_GONE;
            b->left_by = c.op;
        } else if (word(&c, 0) == 0) {
            rc = chip_reset(b, SIM_RST_SW_SYS, b->boot_model && b->dtr && !b->rts, out, now);
        } else {
            logline(b, "reset: none (FLASH_END runs the user code): booting from flash");
            rc = flash_boot(b, out, now);
        }
        if (rc < 0)
            return rc;
    }
    if (c.start_stub) {
        b->personality = SIM_PERSONALITY_STUB;
        b->status_len = 2;
        set_attached(b, 1); /* the stub attaches the flash as it starts */
        if ((rc = eg_slip_encode(out, (const uint8_t *)"OHAI", 4)) < 0)
            return rc;
    }
    if (c.start_read && !c.error)
        return read_next(b, out);
    return 0;
}

/* ---- booting ------------------------------------------------------------------ */

#define BOOTLOADER_RESTART_MS 300 /* a bootloader that gives up resets this long after reset */
#define APP_MIN_PANIC_MS      50  /* boot-panic: the app runs at least this long */
#define TICK_MS               1000

/* Schedules a reset of the chip at the given time. */
static void reset_due(sim_board *b, int64_t at, sim_reset_reason why, int strap)
{
    b->reset_at = at;
    b->reset_why = why;
    b->reset_strap = strap;
    b->wdt_armed = 0;
}

/* The application starts: the default one prints a line at once and a tick every
 * second; --app-output's lines follow their delays. */
static int app_start(sim_board *b, const sim_boot *boot, eg_buf *out, int64_t now)
{
    char line[160];
    int rc = 0;

    b->cpu = SIM_CPU_APP;
    b->app_started = now;
    b->line_no = 0;
    if (b->fw) {
        rc = sim_fw_start(b->fw, out, b->chip, boot->ms);
        b->line_at = now + SIM_FW_LINE_MS;
    } else if (b->app) {
        snprintf(line, sizeof(line), "I (%u) main_task: Calling app_main()\r\n", boot->ms + 30);
        rc = eg_buf_append(out, line, strlen(line));
        b->line_at = now + (b->app->n ? b->app->lines[0].delay_ms : SIM_APP_LINE_MS);
    } else if (has_fault(b, SIM_FAULT_BOOT_PANIC) && fault_arg(b, SIM_FAULT_BOOT_PANIC) == 0) {
        b->line_at = now + SIM_APP_LINE_MS; /* it panics before it says anything */
    } else {
        snprintf(line, sizeof(line), "I (312) app: espsim application started on %s\r\n",
                 b->chip->name);
        rc = eg_buf_append(out, line, strlen(line));
        b->line_no = 1;
        b->line_at = now + TICK_MS;
    }
    if (has_fault(b, SIM_FAULT_BOOT_PANIC) && b->line_at < now + APP_MIN_PANIC_MS &&
        b->line_no >= fault_arg(b, SIM_FAULT_BOOT_PANIC))
        b->line_at = now + APP_MIN_PANIC_MS;
    return rc;
}

/* Boots from the flash: the ROM checks the image at the bootloader offset, the
 * bootloader finds the application. */
static int flash_boot(sim_board *b, eg_buf *out, int64_t now)
{
    sim_boot_chip c;
    sim_boot boot;
    unsigned cycle = sim_chip_wdt_ms(b->cd, b->cd->wdt_hold0);
    int rc;

    boot_chip(b, &c);
    session_clear(b);
    b->in_loader = 0;
    b->boots++;
    if ((rc = sim_boot_flash(&boot, out, &c)) < 0)
        return rc;
    logline(b, "boot: %s", boot.why);
    switch (boot.end) {
    case SIM_BOOT_RETRY: {
        /* The ROM's flash boot watchdog (the RTC watchdog at its reset value) ends
         * each attempt; until then it reads the header again and again. */
        unsigned lines = sim_boot_retry_lines(&c, cycle);
        b->cpu = SIM_CPU_RETRY;
        b->retry_word = boot.word;
        b->retry_every = cycle / lines;
        b->retry_left = lines - 1;
        b->line_at = now + b->retry_every;
        reset_due(b, now + cycle, SIM_RST_RTCWDT, 1);
        return sim_boot_invalid_header(out, &c, boot.word);
    }
    case SIM_BOOT_STUCK:
        b->cpu = SIM_CPU_STUCK;
        reset_due(b, now + cycle, boot.reset, boot.reset == SIM_RST_RTCWDT);
        return 0;
    case SIM_BOOT_RESTART:
        b->cpu = SIM_CPU_STUCK;
        reset_due(b, now + BOOTLOADER_RESTART_MS, SIM_RST_SW_SYS, 0);
        return 0;
    case SIM_BOOT_APP:
        break;
    }
    return app_start(b, &boot, out, now);
}

/* The chip resets for why: the ROM prints its banner, then the download mode (IO0 low
 * when it samples it) or a boot from flash. */
static int chip_reset(sim_board *b, sim_reset_reason why, int download, eg_buf *out, int64_t now)
{
    sim_boot_chip c;
    uint32_t pc = b->cpu == SIM_CPU_APP ? sim_boot_ram_pc(b->chip) : sim_boot_rom_pc(b->chip);
    int rc;

    boot_chip(b, &c);
    session_clear(b);
    b->reset_at = 0;
    b->wdt_armed = 0;
    b->line_at = 0;
    if ((rc = sim_regs_power_on(&b->regs, &b->regs_cfg)) < 0)
        return rc;
    if ((rc = sim_boot_banner(out, &c, why, download, pc)) < 0)
        return rc;
    if (download) {
        b->cpu = SIM_CPU_LOADER;
        logline(b, "reset: rst:0x%x (%s): download mode (IO0 low)", sim_reset_code(why),
                sim_reset_name(b->cd, why));
        return 0;
    }
    logline(b, "reset: rst:0x%x (%s): booting from flash", sim_reset_code(why),
            sim_reset_name(b->cd, why));
    return flash_boot(b, out, now);
}

/* The application's next line is due: a line of --app-output, a tick, or the panic. */
static int app_line(sim_board *b, eg_buf *out, int64_t now)
{
    char text[SIM_APP_LINE_MAX + 64];

    if (has_fault(b, SIM_FAULT_BOOT_PANIC) && b->line_no >= fault_arg(b, SIM_FAULT_BOOT_PANIC)) {
        sim_boot_chip c;
        boot_chip(b, &c);
        logline(b, "app: panic (fault %s)", "boot-panic");
        int rc = sim_boot_panic(out, &c, (unsigned)(now - b->app_started) + 312, NULL);
        return rc < 0 ? rc : chip_reset(b, SIM_RST_SW_CPU, 0, out, now);
    }
    if (b->fw) {
        sim_boot_chip c;
        unsigned next = 0;
        int rc = sim_fw_line(b->fw, out, b->chip, b->line_no++,
                             (unsigned)(now - b->app_started) + 312, &next);
        if (rc <= 0) {
            b->line_at = now + next;
            return rc;
        }
        sim_panic_frames f = {{0}, (unsigned)b->fw->n_frames, b->fw->sha256};
        for (size_t i = 0; i < b->fw->n_frames; i++)
            f.pc[i] = b->fw->frames[i].addr;
        boot_chip(b, &c);
        logline(b, "app: panic at 0x%08x (%s)%s%s%s%s", f.pc[0], b->fw->frames[0].name,
                f.n > 1 ? ", called from " : "", f.n > 1 ? b->fw->frames[1].name : "",
                f.n > 2 ? ", called from " : "", f.n > 2 ? b->fw->frames[2].name : "");
        rc = sim_boot_panic(out, &c, (unsigned)(now - b->app_started) + 312, &f);
        return rc < 0 ? rc : chip_reset(b, SIM_RST_SW_CPU, 0, out, now);
    }
    if (!b->app) {
        snprintf(text, sizeof(text), "I (%u) app: tick %u\r\n", 312 + TICK_MS * b->line_no,
                 b->line_no);
        b->line_no++;
        b->line_at = now + TICK_MS;
        return eg_buf_append(out, text, strlen(text));
    }
    if (b->line_no >= b->app->n) {
        b->line_at = 0; /* it has said everything */
        return 0;
    }
    const sim_app_line *l = &b->app->lines[b->line_no++];
    b->line_at = b->line_no < b->app->n ? now + b->app->lines[b->line_no].delay_ms : 0;
    if (has_fault(b, SIM_FAULT_BOOT_PANIC) && b->line_no >= fault_arg(b, SIM_FAULT_BOOT_PANIC)) {
        /* the panic comes where the next line would */
        if (!b->line_at)
            b->line_at = now + SIM_APP_LINE_MS;
        if (b->line_at < b->app_started + APP_MIN_PANIC_MS)
            b->line_at = b->app_started + APP_MIN_PANIC_MS;
    }
    if (!l->text)
        return 0;
    sim_app_line_format(l, b->mac, text, sizeof(text) - 2);
    size_t n = strlen(text);
    text[n++] = '\r';
    text[n++] = '\n';
    return eg_buf_append(out, text, n);
}

/* A WRITE_REG reached the RTC watchdog's registers: a client arms it to reset the chip
 * (--after watchdog-reset). Writes while the write-protect register does not hold the
 * key are ignored, as the hardware ignores them. */
static void watchdog_write(sim_board *b, cmd *c)
{
    const eg_chip *chip = b->chip;
    uint32_t cfg0 = sim_regs_read(&b->regs, chip->wdt_config0);
    uint32_t hold = sim_regs_read(&b->regs, chip->wdt_config1);
    unsigned stage0 = (cfg0 >> 28) & 7;
    int chip_reset_en = (cfg0 >> 8) & 1;

    if (!(cfg0 >> 31) || stage0 < 2) {
        if (b->wdt_armed) {
            b->reset_at = 0;
            b->wdt_armed = 0;
            args_add(c, " (RTC watchdog off)");
        }
        return;
    }
    unsigned ms = sim_chip_wdt_ms(b->cd, hold);
    b->reset_at = eg_clock_ms() + ms;
    b->reset_why = chip_reset_en ? SIM_RST_POWERON : SIM_RST_RTCWDT;
    b->reset_strap = 1;
    b->wdt_armed = 1;
    args_add(c, " (RTC watchdog: %s reset in %u ms, %u ticks x2 at %u Hz)",
             chip_reset_en ? "chip" : "system", ms, hold, b->cd->rc_slow_hz);
}

void sim_board_line_baud(sim_board *b, uint32_t baud)
{
    if (baud == 0)
        return;
    b->line_baud = baud;
    if (baud == b->baud)
        return;
    b->baud = baud;
    logline(b, "line: %u baud (set by the client's port)", baud);
}

/* True when the client's port and the chip's UART run at rates too far apart (over
 * 5%) for a byte to arrive whole: then neither side understands the other. */
static int rates_mismatch(const sim_board *b)
{
    if (!b->line_baud || !b->uart_baud)
        return 0;
    uint64_t hi = b->line_baud > b->uart_baud ? b->line_baud : b->uart_baud;
    uint64_t lo = b->line_baud > b->uart_baud ? b->uart_baud : b->line_baud;
    return (hi - lo) * 20 > hi;
}

int sim_board_lines(sim_board *b, int dtr, int rts, eg_buf *out, int64_t now)
{
    if (dtr >= 0)
        b->dtr = dtr;
    if (rts >= 0)
        b->rts = rts;
    if (!b->boot_model)
        return 0;
    (void)out;
    int en_low = b->rts && !b->dtr;
    if (en_low) {
        b->boot_at = 0;
        if (!b->in_reset) {
            b->in_reset = 1;
            b->cpu = SIM_CPU_RESET;
            b->reset_at = 0; /* a chip in reset runs no watchdog */
            b->wdt_armed = 0;
            b->line_at = 0;
            logline(b, "EN low: held in reset");
        }
        return 0;
    }
    /* The RC network on EN rises slowly: the chip boots, and samples IO0, once EN has
     * stayed released for a few milliseconds. Lines set one after the other (as RFC
     * 2217 sends them) pass through states too short to matter. */
    if (b->in_reset && !b->boot_at)
        b->boot_at = now + SIM_EN_RISE_MS;
    return 0;
}

int sim_board_input(sim_board *b, const uint8_t *data, size_t len, eg_buf *out)
{
    b->n_holds = 0;
    if (b->fw && b->cpu == SIM_CPU_APP && !b->in_reset) {
        /* What a monitor's user typed reaches the application (which reads none of it). */
        char shown[4 * 64 + 1];
        size_t o = 0;
        for (size_t i = 0; i < len && i < 64; i++) {
            if (data[i] >= 0x20 && data[i] < 0x7F && data[i] != '\\')
                shown[o++] = (char)data[i];
            else
                o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", data[i]);
        }
        shown[o] = '\0';
        logline(b, "app: %zu bytes from the client: %s%s", len, shown, len > 64 ? "..." : "");
        return 0;
    }
    if (b->in_reset || b->cpu == SIM_CPU_RESET || b->cpu == SIM_CPU_RETRY ||
        b->cpu == SIM_CPU_STUCK || b->cpu == SIM_CPU_APP)
        return 0; /* in reset, or code that does not speak the protocol */
    if (rates_mismatch(b)) {
        /* The bytes arrive as noise: the frame in progress is lost. */
        logline(b, "%zu bytes at %u baud, the UART runs at %u: lost", len, b->line_baud,
                b->uart_baud);
        eg_slip_decoder_reset(&b->slip);
        return 0;
    }
    while (len > 0 && !b->unplugged) {
        size_t used = 0;
        int rc = eg_slip_decode(&b->slip, data, len, &used);

        data += used;
        len -= used;
        if (rc == EG_SLIP_FRAME) {
            size_t flen;
            const uint8_t *f = eg_slip_frame(&b->slip, &flen);
            if ((rc = handle_frame(b, f, flen, out)) != 0)
                return rc;
        }
        /* EG_EPROTO: a broken frame was dropped, as a ROM would; go on */
    }
    return 0;
}

int sim_board_busy(const sim_board *b)
{
    return b->boot_at || b->reset_at || b->line_at;
}

static void lower(int64_t *next, int64_t at)
{
    if (at && at < *next)
        *next = at;
}

/* What the chip printed from index from of out on, as a client whose port runs at another
 * rate (RFC 2217) receives it: framing errors, not text. */
static void garble(sim_board *b, eg_buf *out, size_t from)
{
    if (out->len == from)
        return;
    if (!rates_mismatch(b)) {
        b->garbling = 0;
        return;
    }
    if (!b->garbling)
        logline(b, "the chip prints at %u baud, the client's port runs at %u: garbled",
                b->uart_baud, b->line_baud);
    b->garbling = 1;
    for (size_t i = from; i < out->len; i++)
        out->data[i] = (uint8_t)(rng_next(&b->rng) | 0x80);
}

static int tick(sim_board *b, int64_t now, size_t pending, eg_buf *out, int64_t *next);

int sim_board_tick(sim_board *b, int64_t now, size_t pending, eg_buf *out, int64_t *next)
{
    size_t from = out->len;
    int rc = tick(b, now, pending, out, next);
    if (!has_fault(b, SIM_FAULT_GARBAGE))
        garble(b, out, from);
    return rc;
}

static int tick(sim_board *b, int64_t now, size_t pending, eg_buf *out, int64_t *next)
{
    int rc;

    if (b->boot_at) {
        if (now >= b->boot_at) {
            int io0_low = b->dtr && !b->rts;
            b->boot_at = 0;
            b->in_reset = 0;
            if ((rc = chip_reset(b, SIM_RST_POWERON, io0_low, out, now)) < 0)
                return rc;
        }
        lower(next, b->boot_at);
    }
    /* What the ROM or the application prints until the next reset, then the reset. */
    for (int guard = 0; guard < 64 && !b->in_reset; guard++) {
        int64_t line = b->line_at, reset = b->reset_at;
        if (line && line <= now && (!reset || line <= reset)) {
            if (b->cpu == SIM_CPU_RETRY) {
                sim_boot_chip c;
                boot_chip(b, &c);
                if (!b->retry_left) {
                    b->line_at = 0;
                    continue;
                }
                b->retry_left--;
                b->line_at = b->retry_left ? line + b->retry_every : 0;
                if ((rc = sim_boot_invalid_header(out, &c, b->retry_word)) < 0)
                    return rc;
            } else if (b->cpu == SIM_CPU_APP) {
                if ((rc = app_line(b, out, line)) < 0)
                    return rc;
            } else {
                b->line_at = 0;
            }
            continue;
        }
        if (reset && reset <= now) {
            int io0_low = b->reset_strap && b->boot_model && b->dtr && !b->rts;
            if (b->wdt_armed)
                logline(b, "RTC watchdog fired");
            if ((rc = chip_reset(b, b->reset_why, io0_low, out, reset)) < 0)
                return rc;
            continue;
        }
        break;
    }
    lower(next, b->line_at);
    lower(next, b->reset_at);
    if (!b->connected || b->unplugged || !has_fault(b, SIM_FAULT_GARBAGE))
        return 0;
    if (now >= b->next_garbage) {
        if (pending < GARBAGE_LIMIT) {
            uint8_t noise[SIM_GARBAGE_BYTES];
            for (size_t i = 0; i < sizeof(noise); i += 8) {
                uint64_t r = rng_next(&b->rng);
                memcpy(noise + i, &r, 8);
            }
            int rc2 = eg_buf_append(out, noise, sizeof(noise));
            if (rc2 < 0)
                return rc2;
        }
        b->next_garbage = now + SIM_GARBAGE_EVERY_MS;
    }
    if (b->next_garbage < *next)
        *next = b->next_garbage;
    return 0;
}
