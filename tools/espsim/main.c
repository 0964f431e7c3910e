/* espsim: virtual Espressif boards that answer like each chip's ROM serial loader,
 * served over TCP (socket://) or pseudo-terminals, many boards from one poll() loop.
 *
 * stdout carries only one ready line per board; everything else goes to stderr or
 * to the --log file. */
#define _GNU_SOURCE /* getopt_long, ppoll */
#include "chip/chip.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/num.h"

#include "app.h"
#include "board.h"
#include "chipdata.h"
#include "fwapp.h"
#include "io.h"
#include "stubs.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_BOARDS     256
#define MAX_FLASH_SIZE (256u << 20)
#define MIN_FLASH_SIZE (256u << 10)
#define READ_CHUNK     0x10000
#define DEFAULT_MAC    0x240AC4000001ull
#define DEFAULT_FLASH  (4u << 20)
#define JEDEC_VENDOR   0xC8 /* GigaDevice */
#define JEDEC_TYPE     0x40
#define MAX_STUB_DIRS  8
#define NODE_HOLDS     64
#define MAX_EFUSE      8

enum {
    OPT_CHIP = 256,
    OPT_TCP,
    OPT_RFC2217,
    OPT_PTY,
    OPT_MAC,
    OPT_FLASH_SIZE,
    OPT_FLASH_FILE,
    OPT_REVISION,
    OPT_BOARDS,
    OPT_LOG,
    OPT_FLASH_ID,
    OPT_CRYSTAL,
    OPT_PACKAGE,
    OPT_EFUSE,
    OPT_FLASH_CHIP,
    OPT_SECURITY,
    OPT_CK8M_DRIFT,
    OPT_SPI_PADS,
    OPT_STUB_DIR,
    OPT_PACE,
    OPT_FLASH_TIMING,
    OPT_FAULT,
    OPT_APP_OUTPUT,
    OPT_LINE_DELAY,
    OPT_APP_ELF,
    OPT_APP,
    OPT_HELP,
};

/* The option spec: getopt's table and --help are both made from it. */
static const struct opt_spec {
    int id;
    const char *name;
    const char *arg; /* NULL: a flag */
    const char *help;
} opt_specs[] = {
    {OPT_CHIP, "chip", "CHIP", "chip to play (required): "},
    {OPT_RFC2217, "rfc2217", "PORT",
     "like --tcp, speaking RFC 2217: DTR/RTS reset the board as on a development board "
     "(power-on and hard resets run the application)"},
    {OPT_TCP, "tcp", "PORT",
     "listen on 127.0.0.1:PORT (0 = a free port); boards use PORT..PORT+N-1"},
    {OPT_PTY, "pty", "LINK",
     "serve a pseudo-terminal, LINK a symlink to it (LINK-0.. with --boards)"},
    {OPT_MAC, "mac", "MAC", "MAC address of board 0, the next boards count up (24:0a:c4:00:00:01)"},
    {OPT_FLASH_SIZE, "flash-size", "SIZE", "flash size, a power of two from 256KB to 256MB (4MB)"},
    {OPT_FLASH_FILE, "flash-file", "PATH",
     "keep the flash in PATH (PATH.0.. with --boards), created erased"},
    {OPT_REVISION, "revision", "vX.Y", "chip revision; defaults: "},
    {OPT_BOARDS, "boards", "N", "serve N boards from this process (1)"},
    {OPT_LOG, "log", "FILE", "append one line per received command to FILE"},
    {OPT_FLASH_ID, "flash-id", "ID",
     "JEDEC id RDID reports, manufacturer in the low byte (0xC8 0x40 + log2(size) above it: "
     "a GigaDevice GD25Q part)"},
    {OPT_EFUSE, "efuse", "ADDR=VALUE",
     "OR VALUE into the register word at ADDR at power-on (an eFuse word the package "
     "variants do not set; repeatable, up to 8)"},
    {OPT_FLASH_CHIP, "flash-chip", "PART",
     "the flash is this part, with its JEDEC id and size (--flash-size must agree): "},
    {OPT_CRYSTAL, "crystal", "MHZ",
     "crystal frequency; the chips have (the first is the default): "},
    {OPT_PACKAGE, "package", "NAME",
     "the package variant the eFuses name (embedded flash and PSRAM with it; ESP32 below "
     "v3 is ESP32-D0WD unless told); defaults: "},
    {OPT_SECURITY, "security", "FLAGS[:CRYPT]",
     "what GET_SECURITY_INFO reports: the flags word (bit 0 secure boot, bit 2 secure "
     "download) and flash_crypt_cnt (odd: flash encryption on); 0:0 by default"},
    {OPT_CK8M_DRIFT, "ck8m-drift", "PCT",
     "ESP32: the ROM's clock estimate is PCT percent off (-10..10, 0), as a drifting 8 MHz "
     "oscillator makes it; the ROM's baud changes follow the estimate"},
    {OPT_SPI_PADS, "spi-pads", "CLK,Q,D,HD,CS",
     "ESP32: the flash sits on these pads and the eFuses say so (an in-package flash); "
     "SPI_ATTACH must name them"},
    {OPT_PACE, "pace", NULL, "run the line at the board's baud rate (10 bits a byte), both ways"},
    {OPT_FLASH_TIMING, "flash-timing", NULL,
     "erase and program take a W25Q32JV's typical time (45 ms a sector, 0.4 ms a page)"},
    {OPT_STUB_DIR, "stub-dir", "DIR",
     "flasher stubs it can run after MEM_END (default: \"stub\" next to espsim); "
     "repeatable, each directory's stubs are recognised"},
    {OPT_APP_OUTPUT, "app-output", "FILE",
     "the lines the application prints after each boot from flash, one a line, 100 ms apart "
     "or '@MS text' MS after the one before; '{mac}' becomes the MAC (default: a started line, "
     "then a tick a second)"},
    {OPT_APP_ELF, "app-elf", "FILE",
     "the board's application is the firmware FILE (an ELF for the chip): it prints ESP-IDF's "
     "start-up and what --app says, with FILE's real addresses; an erased flash starts as if "
     "FILE had been flashed; a TCP or pty connection resets the board into it (through EN, "
     "as a monitor does) instead of into the loader"},
    {OPT_APP, "app", "KIND",
     "with --app-elf: hello (a counter, for ever; the default), panic (a panic with a "
     "backtrace of FILE's functions, then a reboot, again and again) or defmt (the defmt "
     "fixture's log calls as esp-println's defmt logger frames them, FILE's table)"},
    {OPT_LINE_DELAY, "line-delay", "MS",
     "--rfc2217: after each DTR/RTS change the server reads nothing more from the client, "
     "and acknowledges the change, only MS ms later (0), as a slow network or a client that "
     "waits for each acknowledgement spaces them"},
    {OPT_FAULT, "fault", "[B:]KIND",
     "misbehave, on board B only or on all (repeatable; a board given its own faults takes "
     "only those): silent, garbage, wrong-boot, disconnect-after=N (unplugged at the Nth "
     "flash data block), bad-flash-write, flash-fail-at=ADDR (a write covering ADDR fails), "
     "unplug-after=BYTES (unplugged once BYTES of flash data arrived), stall=MS (every "
     "response MS late), baud-stuck, boot-panic[=N] (the application panics after N lines "
     "and reboots, again and again)"},
    {OPT_HELP, "help", NULL, "show this help"},
};

#define N_OPTS (sizeof(opt_specs) / sizeof(opt_specs[0]))

typedef struct options {
    const eg_chip *chip;
    int tcp; /* -1: no TCP */
    uint16_t tcp_port;
    const char *pty;
    uint64_t mac;
    uint32_t flash_size;
    const char *flash_file;
    int rev_set;
    unsigned major, minor;
    unsigned boards;
    const char *log;
    int flash_id_set;
    uint32_t flash_id;
    int flash_size_set;
    const char *flash_chip;
    uint32_t crystal_hz;
    const char *package_name;
    const sim_package *package;
    sim_reg_init efuse[MAX_EFUSE];
    size_t n_efuse;
    uint32_t security_flags;
    uint8_t flash_crypt_cnt;
    int ck8m_drift_pct;
    int spi_pads_set;
    unsigned spi_pads[5];
    const char *stub_dirs[MAX_STUB_DIRS];
    size_t n_stub_dirs;
    int pace, flash_timing, rfc2217;
    unsigned line_delay_ms;
    const char *app_output;
    sim_app_output app;
    const char *app_elf, *app_kind;
    sim_fw fw;
    int fw_loaded;
    sim_stubs stubs;
    sim_faults fault_all;
    sim_faults *faults; /* per board, used instead of fault_all where fault_set */
    int *fault_set;
} options;

typedef struct node {
    sim_board board;
    sim_port port;
    int64_t next_probe;
    /* --pace: the line carries 10 bits a byte at the board's current rate. */
    int pace;
    eg_buf in; /* bytes received from the client, not yet on the board */
    size_t in_off;
    int64_t rx_done_us; /* when the last received byte has crossed the line */
    int64_t tx_free_us; /* when the line is free for the next byte to the client */
    int64_t wake_us;    /* when held or paced output may go on (0: nothing waits) */
    /* Replies that wait (flash timing, the stall fault): nothing from stream position
     * pos on leaves before until_us. A position counts the bytes put into port.out
     * since the port opened (port.sent_total, then the unsent ones). In stream order. */
    struct {
        uint64_t pos;
        int64_t until_us;
    } holds[NODE_HOLDS];
    size_t n_holds;
    uint64_t sent_counted; /* port.sent_total already counted on the board */
    /* RFC 2217: the telnet parser's state and the subnegotiation being read. */
    int tn_state;
    uint8_t tn_verb;
    uint8_t tn_sb[16];
    size_t tn_sb_len;
    uint8_t tn_local[256], tn_remote[256]; /* options in force: 1 on, 2 off */
    int tn_suspended;                      /* FLOWCONTROL-SUSPEND: send nothing */
    int tn_comport;                        /* COM-PORT-OPTION agreed one way or both */
    uint8_t tn_linestate_mask, tn_modemstate_mask;
    uint8_t tn_datasize, tn_parity, tn_stopsize, tn_break;
    /* RFC 2217: what the client sent and the telnet parser has not taken yet; after a
     * DTR/RTS change (--line-delay) it waits until raw_resume_us. */
    eg_buf raw;
    size_t raw_off;
    int64_t raw_resume_us;
    unsigned line_delay_ms;
    /* DTR and RTS as the client asked for them, and the reset into download mode that
     * the server runs itself (as Espressif's esp_rfc2217_server does). */
    int cl_dtr, cl_rts;
    int cl_held;        /* this client put the chip in reset: DTR off, RTS on */
    int rs_step;        /* the server's reset: 0 none, 1 EN low, 2 IO0 low and EN released */
    int64_t rs_next_us; /* when its next step comes */
} node;

static void node_unplug(node *n);
static int tn_escape_from(node *n, size_t from);

static int64_t clock_us(void)
{
    return eg_clock_ms() * 1000;
}

/* Microseconds the line needs for n bytes at the board's rate. */
static int64_t wire_us(const node *n, size_t bytes)
{
    uint32_t baud = n->board.baud ? n->board.baud : 115200;
    return (int64_t)bytes * 10 * 1000000 / baud;
}

/* Flash parts found on Espressif boards and modules, by their datasheets' JEDEC ids
 * (manufacturer, memory type, capacity), held as RDID reports them: manufacturer in
 * the low byte. */
static const struct flash_part {
    const char *name;
    uint32_t jedec_id;
} flash_parts[] = {
    {"GD25Q16C", 0x1540C8},  {"GD25Q32C", 0x1640C8},   {"GD25Q64C", 0x1740C8},
    {"GD25Q128C", 0x1840C8}, {"W25Q16JV", 0x1540EF},   {"W25Q32JV", 0x1640EF},
    {"W25Q64JV", 0x1740EF},  {"W25Q128JV", 0x1840EF},  {"XM25QH32C", 0x164020},
    {"XM25QH64C", 0x174020}, {"XM25QH128C", 0x184020}, {"MX25L3233F", 0x1620C2},
    {"BY25Q32", 0x164068},   {"ZB25VQ32", 0x16405E},
};
#define N_FLASH_PARTS (sizeof(flash_parts) / sizeof(flash_parts[0]))

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: espsim --chip CHIP (--tcp PORT | --rfc2217 PORT | --pty LINK) [options]\n\n"
               "A virtual Espressif board answering like the chip's ROM serial loader.\n"
               "For each board one line goes to stdout:\n"
               "  espsim: board <i> <chip> ready on <address> mac <mac>\n\n"
               "options:\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const struct opt_spec *o = &opt_specs[i];
        char left[48];

        snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-20s %s", left, o->help);
        if (o->id == OPT_CHIP)
            fputs(eg_chip_names(), f);
        if (o->id == OPT_REVISION || o->id == OPT_CRYSTAL || o->id == OPT_PACKAGE) {
            size_t count;
            const eg_chip *chips = eg_chip_all(&count);
            for (size_t k = 0; k < count; k++) {
                const sim_chip_data *cd = sim_chip_data_for(&chips[k]);
                fprintf(f, "%s%s ", k ? ", " : "", chips[k].id);
                if (o->id == OPT_REVISION)
                    fprintf(f, "v%u.%u", cd->major, cd->minor);
                else if (o->id == OPT_PACKAGE)
                    fputs(cd->packages[0].name, f);
                else if (cd->crystal_alt_mhz)
                    fprintf(f, "%u or %u", cd->crystal_mhz, cd->crystal_alt_mhz);
                else
                    fprintf(f, "%u", cd->crystal_mhz);
            }
        }
        if (o->id == OPT_FLASH_CHIP)
            for (size_t k = 0; k < N_FLASH_PARTS; k++)
                fprintf(f, "%s%s", k ? ", " : "", flash_parts[k].name);
        fputc('\n', f);
    }
}

static int parse_mac(uint64_t *out, const char *s)
{
    uint64_t v = 0;
    const char *p = s;

    for (int i = 0; i < 6; i++) {
        char *end;
        unsigned long byte;

        if (!((p[0] >= '0' && p[0] <= '9') || (p[0] >= 'a' && p[0] <= 'f') ||
              (p[0] >= 'A' && p[0] <= 'F')))
            return eg_error_set(EG_EINVAL, "bad MAC address '%s'", s);
        byte = strtoul(p, &end, 16);
        if (end - p > 2 || byte > 0xFF)
            return eg_error_set(EG_EINVAL, "bad MAC address '%s'", s);
        v = v << 8 | byte;
        p = end;
        if (i < 5) {
            if (*p != ':' && *p != '-')
                return eg_error_set(EG_EINVAL, "bad MAC address '%s'", s);
            p++;
        }
    }
    if (*p)
        return eg_error_set(EG_EINVAL, "bad MAC address '%s'", s);
    *out = v;
    return 0;
}

static int parse_revision(unsigned *major, unsigned *minor, const char *s)
{
    const char *p = s;
    char *end;
    unsigned long a, b;

    if (*p == 'v' || *p == 'V')
        p++;
    if (*p < '0' || *p > '9')
        goto bad;
    a = strtoul(p, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9')
        goto bad;
    b = strtoul(end + 1, &end, 10);
    if (*end || a > 99 || b > 99)
        goto bad;
    *major = (unsigned)a;
    *minor = (unsigned)b;
    return 0;
bad:
    return eg_error_set(EG_EINVAL, "bad revision '%s' (expected vMAJOR.MINOR, e.g. v0.4)", s);
}

static int parse_fault(options *o, const char *s)
{
    const char *colon = strchr(s, ':');
    sim_fault f;
    int rc;

    if (colon && colon > s && strspn(s, "0123456789") == (size_t)(colon - s)) {
        unsigned long board = strtoul(s, NULL, 10);
        if (board >= MAX_BOARDS)
            return eg_error_set(EG_EINVAL, "fault '%s': no board %lu", s, board);
        if ((rc = sim_fault_parse(&f, colon + 1)) < 0)
            return rc;
        sim_faults_add(&o->faults[board], &f);
        o->fault_set[board] = 1;
        return 0;
    }
    if ((rc = sim_fault_parse(&f, s)) < 0)
        return rc;
    sim_faults_add(&o->fault_all, &f);
    return 0;
}

/* "CLK,Q,D,HD,CS": five pad numbers as ESP32's eFuses hold them (0-31). */
static int parse_pads(options *o, const char *s)
{
    const char *p = s;

    for (int i = 0; i < 5; i++) {
        char *end;
        unsigned long v;

        if (*p < '0' || *p > '9')
            goto bad;
        v = strtoul(p, &end, 10);
        if (v > 31 || (i < 4 ? *end != ',' : *end != '\0'))
            goto bad;
        o->spi_pads[i] = (unsigned)v;
        p = end + 1;
    }
    o->spi_pads_set = 1;
    return 0;
bad:
    return eg_error_set(EG_EINVAL, "--spi-pads: '%s' is not five pad numbers CLK,Q,D,HD,CS (0-31)",
                        s);
}

static int parse_number(uint64_t *out, const char *opt, const char *s, uint64_t max)
{
    int rc = eg_num_parse(out, s, max);
    return rc < 0 ? eg_error_prefix(rc, "--%s: ", opt) : 0;
}

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static unsigned log2u(uint64_t v)
{
    unsigned n = 0;
    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

/* "ADDR=VALUE", both numbers as eg_num_parse takes them; ADDR word-aligned. */
static int parse_efuse(options *o, const char *s)
{
    const char *eq = strchr(s, '=');
    char addr[32];
    uint64_t a, v;
    int rc;

    if (!eq || (size_t)(eq - s) >= sizeof(addr))
        return eg_error_set(EG_EINVAL, "'%s' is not ADDR=VALUE", s);
    memcpy(addr, s, (size_t)(eq - s));
    addr[eq - s] = '\0';
    if ((rc = eg_num_parse(&a, addr, 0xFFFFFFFC)) < 0 ||
        (rc = eg_num_parse(&v, eq + 1, 0xFFFFFFFF)) < 0)
        return eg_error_prefix(rc, "'%s': ", s);
    if (a == 0 || a % 4)
        return eg_error_set(EG_EINVAL, "'%s': the address is not a word's", s);
    if (o->n_efuse == MAX_EFUSE)
        return eg_error_set(EG_EINVAL, "at most %d words", MAX_EFUSE);
    o->efuse[o->n_efuse].addr = (uint32_t)a;
    o->efuse[o->n_efuse++].value = (uint32_t)v;
    return 0;
}

/* --flash-chip: the part's JEDEC id, and its size (which --flash-size must agree with). */
static int set_flash_chip(options *o)
{
    for (size_t i = 0; i < N_FLASH_PARTS; i++) {
        const struct flash_part *p = &flash_parts[i];
        if (strcasecmp(p->name, o->flash_chip) != 0)
            continue;
        uint32_t size = 1u << ((p->jedec_id >> 16) & 0xFF);
        if (o->flash_id_set)
            return eg_error_set(EG_EINVAL, "give --flash-chip or --flash-id, not both");
        if (o->flash_size_set && o->flash_size != size)
            return eg_error_set(EG_EINVAL, "%s holds %u MB, --flash-size says %u MB", p->name,
                                size >> 20, o->flash_size >> 20);
        o->flash_id = p->jedec_id;
        o->flash_id_set = 1;
        o->flash_size = size;
        return 0;
    }
    return eg_error_set(EG_EINVAL, "unknown part '%s'", o->flash_chip);
}

/* Returns 0 to run, 1 when --help was shown, negative on a usage error. */
static int parse_args(options *o, int argc, char **argv)
{
    struct option lopts[N_OPTS + 1];
    uint64_t v;
    int c, rc;

    memset(lopts, 0, sizeof(lopts));
    for (size_t i = 0; i < N_OPTS; i++) {
        lopts[i].name = opt_specs[i].name;
        lopts[i].has_arg = opt_specs[i].arg ? required_argument : no_argument;
        lopts[i].val = opt_specs[i].id;
    }
    o->tcp = -1;
    o->mac = DEFAULT_MAC;
    o->flash_size = DEFAULT_FLASH;
    o->boards = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case OPT_CHIP:
            o->chip = eg_chip_by_name(optarg);
            if (!o->chip)
                return eg_error_set(EG_EINVAL, "unknown chip '%s' (%s)", optarg, eg_chip_names());
            break;
        case OPT_TCP:
        case OPT_RFC2217:
            if ((rc = parse_number(&v, c == OPT_TCP ? "tcp" : "rfc2217", optarg, 65535)) < 0)
                return rc;
            if (o->tcp > 0)
                return eg_error_set(EG_EINVAL, "give one of --tcp and --rfc2217");
            o->tcp = 1;
            o->tcp_port = (uint16_t)v;
            o->rfc2217 = c == OPT_RFC2217;
            break;
        case OPT_PTY:
            if (!*optarg)
                return eg_error_set(EG_EINVAL, "--pty: empty link path");
            o->pty = optarg;
            break;
        case OPT_MAC:
            if ((rc = parse_mac(&o->mac, optarg)) < 0)
                return eg_error_prefix(rc, "--mac: ");
            break;
        case OPT_FLASH_SIZE:
            if ((rc = parse_number(&v, "flash-size", optarg, MAX_FLASH_SIZE)) < 0)
                return rc;
            if (!is_pow2(v) || v < MIN_FLASH_SIZE)
                return eg_error_set(EG_EINVAL,
                                    "--flash-size: '%s' is not a power of two from 256KB "
                                    "to 256MB",
                                    optarg);
            o->flash_size = (uint32_t)v;
            o->flash_size_set = 1;
            break;
        case OPT_FLASH_FILE:
            if (!*optarg)
                return eg_error_set(EG_EINVAL, "--flash-file: empty path");
            o->flash_file = optarg;
            break;
        case OPT_REVISION:
            if ((rc = parse_revision(&o->major, &o->minor, optarg)) < 0)
                return rc;
            o->rev_set = 1;
            break;
        case OPT_BOARDS:
            if ((rc = parse_number(&v, "boards", optarg, MAX_BOARDS)) < 0)
                return rc;
            if (v == 0)
                return eg_error_set(EG_EINVAL, "--boards: at least 1");
            o->boards = (unsigned)v;
            break;
        case OPT_LOG:
            o->log = optarg;
            break;
        case OPT_FLASH_ID:
            if ((rc = parse_number(&v, "flash-id", optarg, 0xFFFFFF)) < 0)
                return rc;
            o->flash_id = (uint32_t)v;
            o->flash_id_set = 1;
            break;
        case OPT_SECURITY: {
            char *colon = strchr(optarg, ':');
            if (colon)
                *colon = '\0';
            if ((rc = parse_number(&v, "security", optarg, 0xFFFFFFFF)) < 0)
                return rc;
            o->security_flags = (uint32_t)v;
            if (colon) {
                if ((rc = parse_number(&v, "security", colon + 1, 0xFF)) < 0)
                    return rc;
                o->flash_crypt_cnt = (uint8_t)v;
            }
            break;
        }
        case OPT_CRYSTAL:
            if ((rc = parse_number(&v, "crystal", optarg, 1000)) < 0)
                return rc;
            o->crystal_hz = (uint32_t)v * 1000000;
            break;
        case OPT_PACKAGE:
            o->package_name = optarg;
            break;
        case OPT_FLASH_CHIP:
            o->flash_chip = optarg;
            break;
        case OPT_EFUSE:
            if ((rc = parse_efuse(o, optarg)) < 0)
                return eg_error_prefix(rc, "--efuse: ");
            break;
        case OPT_CK8M_DRIFT: {
            const char *d = optarg + (optarg[0] == '-' || optarg[0] == '+');
            if ((rc = parse_number(&v, "ck8m-drift", d, 10)) < 0)
                return rc;
            o->ck8m_drift_pct = optarg[0] == '-' ? -(int)v : (int)v;
            break;
        }
        case OPT_SPI_PADS:
            if ((rc = parse_pads(o, optarg)) < 0)
                return rc;
            break;
        case OPT_STUB_DIR:
            if (o->n_stub_dirs == MAX_STUB_DIRS)
                return eg_error_set(EG_EINVAL, "--stub-dir: at most %d directories", MAX_STUB_DIRS);
            o->stub_dirs[o->n_stub_dirs++] = optarg;
            break;
        case OPT_PACE:
            o->pace = 1;
            break;
        case OPT_FLASH_TIMING:
            o->flash_timing = 1;
            break;
        case OPT_FAULT:
            if ((rc = parse_fault(o, optarg)) < 0)
                return eg_error_prefix(rc, "--fault: ");
            break;
        case OPT_APP_OUTPUT:
            if (!*optarg)
                return eg_error_set(EG_EINVAL, "--app-output: empty path");
            o->app_output = optarg;
            break;
        case OPT_APP_ELF:
            if (!*optarg)
                return eg_error_set(EG_EINVAL, "--app-elf: empty path");
            o->app_elf = optarg;
            break;
        case OPT_APP:
            o->app_kind = optarg;
            break;
        case OPT_LINE_DELAY:
            if ((rc = parse_number(&v, "line-delay", optarg, 10000)) < 0)
                return rc;
            o->line_delay_ms = (unsigned)v;
            break;
        case OPT_HELP:
            usage(stdout);
            return 1;
        default:
            if (optopt && optopt >= OPT_CHIP)
                return eg_error_set(EG_EINVAL, "option '%s' needs a value", argv[optind - 1]);
            return eg_error_set(EG_EINVAL, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return eg_error_set(EG_EINVAL, "unexpected argument '%s'", argv[optind]);
    if (!o->chip)
        return eg_error_set(EG_EINVAL, "--chip is required (%s)", eg_chip_names());
    if ((o->tcp < 0) == !o->pty)
        return eg_error_set(EG_EINVAL, "give one of --tcp PORT, --rfc2217 PORT or --pty LINK");
    if (o->tcp > 0 && o->tcp_port && (unsigned)o->tcp_port + o->boards - 1 > 65535)
        return eg_error_set(EG_EINVAL, "--tcp %u: not enough ports for %u boards",
                            (unsigned)o->tcp_port, o->boards);
    if (o->mac + o->boards - 1 > 0xFFFFFFFFFFFFull)
        return eg_error_set(EG_EINVAL, "--mac: the MACs of %u boards overflow", o->boards);
    for (unsigned i = o->boards; i < MAX_BOARDS; i++)
        if (o->fault_set[i])
            return eg_error_set(EG_EINVAL, "--fault: there is no board %u", i);
    if (!o->rev_set) {
        const sim_chip_data *cd = sim_chip_data_for(o->chip);
        o->major = cd->major;
        o->minor = cd->minor;
    }
    if ((rc = sim_regs_check_revision(o->chip, o->major, o->minor)) < 0)
        return eg_error_prefix(rc, "--revision: ");
    if (o->ck8m_drift_pct && o->chip->rom_baud != EG_ROM_BAUD_RTC_ESTIMATE)
        return eg_error_set(EG_EINVAL, "--ck8m-drift: %s's ROM does not estimate its clock",
                            o->chip->name);
    if (o->spi_pads_set && !o->chip->spi_pads[0].width)
        return eg_error_set(EG_EINVAL, "--spi-pads: %s's eFuses name no flash pads", o->chip->name);
    if (o->crystal_hz && (rc = sim_chip_check_crystal(sim_chip_data_for(o->chip), o->chip,
                                                      o->crystal_hz / 1000000)) < 0)
        return eg_error_prefix(rc, "--crystal: ");
    if (o->package_name && !(o->package = sim_chip_package(sim_chip_data_for(o->chip), o->chip,
                                                           o->package_name, o->major)))
        return eg_error_prefix(EG_EINVAL, "--package: ");
    if (!o->package_name)
        o->package = sim_chip_default_package(sim_chip_data_for(o->chip), o->major);
    if (o->flash_chip && (rc = set_flash_chip(o)) < 0)
        return eg_error_prefix(rc, "--flash-chip: ");
    if (!o->flash_id_set)
        o->flash_id = JEDEC_VENDOR | JEDEC_TYPE << 8 | log2u(o->flash_size) << 16;
    if (o->line_delay_ms && !o->rfc2217)
        return eg_error_set(EG_EINVAL, "--line-delay: only with --rfc2217 (DTR and RTS cross "
                                       "only RFC 2217)");
    if (o->app_output && (rc = sim_app_output_load(&o->app, o->app_output)) < 0)
        return rc;
    if (o->app_kind || o->app_elf) {
        sim_fw_kind kind = SIM_FW_HELLO;
        if (o->app_kind && (rc = sim_fw_kind_parse(&kind, o->app_kind)) < 0)
            return rc;
        if (!o->app_elf)
            return eg_error_set(EG_EINVAL,
                                "--app %s: the application needs its firmware: "
                                "--app-elf FILE",
                                o->app_kind);
        if (o->app_output)
            return eg_error_set(EG_EINVAL, "--app-output and --app-elf both say what the "
                                           "application prints: give one");
        if ((rc = sim_fw_load(&o->fw, o->app_elf, kind, o->chip)) < 0)
            return rc;
        o->fw_loaded = 1;
    }
    return 0;
}

/* Opens board i and its port; prints the ready line. */
static int node_open(node *n, const options *o, unsigned i, FILE *log)
{
    sim_board_config cfg;
    char path[4096], addr[4200], mac[24];
    const char *flash_path = o->flash_file;
    uint64_t m = o->mac + i;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg.index = i;
    cfg.chip = o->chip;
    for (int k = 0; k < 6; k++)
        cfg.mac[k] = (uint8_t)(m >> (8 * (5 - k)));
    cfg.major = o->major;
    cfg.minor = o->minor;
    cfg.flash_size = o->flash_size;
    cfg.jedec_id = o->flash_id;
    cfg.crystal_hz = o->crystal_hz;
    cfg.package = o->package;
    cfg.efuse = o->efuse;
    cfg.n_efuse = o->n_efuse;
    cfg.security_flags = o->security_flags;
    cfg.flash_crypt_cnt = o->flash_crypt_cnt;
    cfg.ck8m_drift_pct = o->ck8m_drift_pct;
    cfg.spi_pads_set = o->spi_pads_set;
    memcpy(cfg.spi_pads, o->spi_pads, sizeof(cfg.spi_pads));
    cfg.stubs = &o->stubs;
    cfg.flash_timing = o->flash_timing;
    cfg.boot_model = o->rfc2217;
    cfg.app = o->app_output ? &o->app : NULL;
    cfg.fw = o->fw_loaded ? &o->fw : NULL;
    n->pace = o->pace;
    n->line_delay_ms = o->line_delay_ms;
    cfg.faults = o->fault_set[i] ? o->faults[i] : o->fault_all;
    cfg.log = log;
    cfg.seed = ((uint64_t)time(NULL) << 20) ^ ((uint64_t)getpid() << 8) ^ (i + 1);
    if (o->flash_file && o->boards > 1) {
        snprintf(path, sizeof(path), "%s.%u", o->flash_file, i);
        flash_path = path;
    }
    cfg.flash_path = flash_path;
    if ((rc = sim_board_init(&n->board, &cfg)) < 0)
        return eg_error_prefix(rc, "board %u: ", i);
    if (o->tcp > 0) {
        rc = sim_port_open_tcp(&n->port, o->tcp_port ? (uint16_t)(o->tcp_port + i) : 0);
        n->port.telnet = o->rfc2217;
    } else if (o->boards > 1) {
        snprintf(path, sizeof(path), "%s-%u", o->pty, i);
        rc = sim_port_open_pty(&n->port, path);
    } else {
        rc = sim_port_open_pty(&n->port, o->pty);
    }
    if (rc < 0)
        return eg_error_prefix(rc, "board %u: ", i);
    sim_port_address(&n->port, addr, sizeof(addr));
    sim_mac_format(cfg.mac, mac, sizeof(mac));
    printf("espsim: board %u %s ready on %s mac %s\n", i, o->chip->id, addr, mac);
    fflush(stdout);
    return 0;
}

static void holds_clear(node *n);

static void node_lost(node *n)
{
    holds_clear(n);
    sim_board_disconnect(&n->board);
}

/* The stream position of index i of port.out. */
static uint64_t out_pos(const node *n, size_t i)
{
    return n->port.sent_total - n->port.out_off + i;
}

/* Output was thrown away unsent: the replies it held are gone too. */
static void holds_clear(node *n)
{
    n->n_holds = 0;
    n->wake_us = 0;
}

static void hold_add(node *n, uint64_t pos, int64_t until_us)
{
    if (n->n_holds > 0 && (n->n_holds == NODE_HOLDS || n->holds[n->n_holds - 1].pos == pos)) {
        /* no room (or the same place): the last hold covers this reply too */
        if (until_us > n->holds[n->n_holds - 1].until_us)
            n->holds[n->n_holds - 1].until_us = until_us;
        return;
    }
    n->holds[n->n_holds].pos = pos;
    n->holds[n->n_holds].until_us = until_us;
    n->n_holds++;
}

/* How far into port.out may go now: not into a reply that must wait, and with --pace
 * not faster than the line. *next_us is lowered to when more may go. */
static size_t send_limit(node *n, int64_t now, int64_t *next_us)
{
    sim_port *p = &n->port;
    size_t end = p->out.len, done = 0;

    while (done < n->n_holds && n->holds[done].until_us <= now)
        done++;
    if (done) {
        n->n_holds -= done;
        memmove(n->holds, n->holds + done, n->n_holds * sizeof(n->holds[0]));
    }
    if (n->n_holds > 0) {
        uint64_t first = out_pos(n, 0), pos = n->holds[0].pos;
        size_t at = pos > first ? (size_t)(pos - first) : 0;
        if (at < end) {
            end = at;
            if (n->holds[0].until_us < *next_us)
                *next_us = n->holds[0].until_us;
        }
    }
    if (n->pace && end > p->out_off) {
        if (n->tx_free_us < now)
            n->tx_free_us = now;
        /* Hand the socket what the line carries in the next 2 ms, no more. */
        int64_t room = now + 2000 - n->tx_free_us;
        size_t can =
            room > 0 ? (size_t)(room * (n->board.baud ? n->board.baud : 115200) / 10000000) : 0;
        if (end - p->out_off > can) {
            end = p->out_off + can;
            int64_t when = n->tx_free_us - 1000;
            if (when < *next_us)
                *next_us = when > now ? when : now + 1;
        }
        n->tx_free_us += wire_us(n, end - p->out_off);
    }
    return end;
}

/* Counts what went to the client since the last call on the board's wire time. */
static void count_sent(node *n)
{
    uint64_t d = n->port.sent_total - n->sent_counted;
    n->sent_counted = n->port.sent_total;
    n->board.tx_bytes += d;
    n->board.tx_wire_us += wire_us(n, (size_t)d);
}

/* Sends what may go now; sets wake_us to when more may. */
static void node_flush(node *n)
{
    int64_t now = clock_us(), next = INT64_MAX;

    n->wake_us = 0;
    if (sim_port_pending(&n->port) > SIM_OUT_MAX) {
        fprintf(stderr, "espsim: board %u: the client reads nothing; output dropped\n",
                n->board.index);
        eg_buf_clear(&n->port.out);
        n->port.out_off = 0;
        holds_clear(n);
    }
    if (n->tn_suspended || sim_port_pending(&n->port) == 0)
        return;
    n->port.out_limited = n->pace || n->n_holds > 0;
    if (n->port.out_limited) {
        size_t before = n->port.out_off;
        n->port.out_end = send_limit(n, now, &next);
        int fr = sim_port_flush(&n->port);
        count_sent(n);
        if (fr == SIM_IO_CLOSED) {
            node_lost(n);
            return;
        }
        /* What the socket did not take goes back on the line's budget. */
        if (n->pace && n->port.out_off < n->port.out_end && n->port.out_off >= before)
            n->tx_free_us -= wire_us(n, n->port.out_end - n->port.out_off);
        if (next != INT64_MAX && sim_port_pending(&n->port) > 0)
            n->wake_us = next;
        return;
    }
    int fr = sim_port_flush(&n->port);
    count_sent(n);
    if (fr == SIM_IO_CLOSED)
        node_lost(n);
}

/* Feeds the board what has crossed the line by now (all of it without --pace), and
 * holds back replies the board wants delayed. */
static void node_feed(node *n)
{
    int64_t now = clock_us();
    size_t avail = n->in.len - n->in_off, due = avail;

    if (n->pace && n->rx_done_us > now) {
        size_t in_flight =
            (size_t)((n->rx_done_us - now) * (n->board.baud ? n->board.baud : 115200) / 10000000);
        due = in_flight >= avail ? 0 : avail - in_flight;
    }
    if (due == 0)
        return;
    size_t out_before = n->port.out.len;
    int rc = sim_board_input(&n->board, n->in.data + n->in_off, due, &n->port.out);
    /* The holds' places, counted before telnet doubles the 0xFF bytes in front of them. */
    size_t scanned = out_before, doubled = 0;
    for (size_t i = 0; i < n->board.n_holds; i++) {
        size_t at = n->board.holds[i].at;
        for (; n->port.telnet && scanned < at; scanned++)
            doubled += n->port.out.data[scanned] == 0xFF;
        hold_add(n, out_pos(n, at + doubled), n->board.holds[i].until_us);
    }
    tn_escape_from(n, out_before);
    n->in_off += due;
    if (n->in_off == n->in.len) {
        eg_buf_clear(&n->in);
        n->in_off = 0;
    }
    if (rc == SIM_BOARD_UNPLUG)
        node_unplug(n);
    else if (rc < 0)
        fprintf(stderr, "espsim: board %u: %s\n", n->board.index, eg_error_msg());
}

/* When node_feed has more to give the board (microseconds), or 0. */
static int64_t feed_due(const node *n)
{
    if (n->in.len == n->in_off)
        return 0;
    return n->rx_done_us;
}

static void node_connected(node *n)
{
    eg_buf_clear(&n->in);
    n->in_off = 0;
    n->rx_done_us = n->tx_free_us = 0;
    holds_clear(n);
    n->tn_state = 0; /* TN_DATA */
    memset(n->tn_local, 0, sizeof(n->tn_local));
    memset(n->tn_remote, 0, sizeof(n->tn_remote));
    n->tn_suspended = 0;
    n->tn_comport = 0;
    n->tn_linestate_mask = 0; /* RFC 2217's defaults */
    n->tn_modemstate_mask = 0xFF;
    n->tn_datasize = 8;
    n->tn_parity = 1; /* none */
    n->tn_stopsize = 1;
    n->tn_break = 0;
    eg_buf_clear(&n->raw);
    n->raw_off = 0;
    n->raw_resume_us = 0;
    /* The lines stay as the last client left them; this one has asserted nothing yet. */
    n->cl_dtr = n->board.dtr;
    n->cl_rts = n->board.rts;
    n->cl_held = 0;
    int rc = sim_board_connect(&n->board, &n->port.out, eg_clock_ms());
    if (rc < 0)
        fprintf(stderr, "espsim: board %u: %s\n", n->board.index, eg_error_msg());
    node_flush(n);
}

static void node_unplug(node *n)
{
    sim_board_disconnect(&n->board);
    sim_port_unplug(&n->port);
    fprintf(stderr, "espsim: board %u unplugged (fault)\n", n->board.index);
}

/* Pty: the last client closed the slave. What it sent just before belongs to its
 * session (the answers go nowhere); then the session ends. */
static void node_closed(node *n, uint8_t *buf)
{
    size_t got;

    while (sim_port_read_leftover(&n->port, buf, READ_CHUNK, &got) == SIM_IO_DATA) {
        if (sim_board_input(&n->board, buf, got, &n->port.out) == SIM_BOARD_UNPLUG) {
            node_unplug(n);
            return;
        }
    }
    eg_buf_clear(&n->port.out);
    n->port.out_off = 0;
    node_lost(n);
}

/* Pty: clients opened or closed the slave. Runs before reading the master, so a new
 * client's first bytes go to a new session. */
static void node_watch(node *n, uint8_t *buf)
{
    int ev;

    while (!n->port.gone && (ev = sim_port_watch(&n->port)) != SIM_IO_NONE) {
        if (ev == SIM_IO_OPENED)
            node_connected(n);
        else if (ev == SIM_IO_CLOSED)
            node_closed(n, buf);
    }
}

/* ---- RFC 2217 --------------------------------------------------------------- */

enum { TN_DATA, TN_IAC, TN_OPT, TN_SB, TN_SB_IAC };
#define TN_IAC_B   255
#define TN_DONT    254
#define TN_DO      253
#define TN_WONT    252
#define TN_WILL    251
#define TN_SB_B    250
#define TN_SE      240
#define TN_COMPORT 44

/* Doubles every 0xFF the board appended to port.out from index from on. */
static int tn_escape_from(node *n, size_t from)
{
    eg_buf *o = &n->port.out;
    size_t extra = 0;

    if (!n->port.telnet)
        return 0;
    for (size_t i = from; i < o->len; i++)
        extra += o->data[i] == TN_IAC_B;
    if (!extra)
        return 0;
    int rc = eg_buf_reserve(o, extra);
    if (rc < 0)
        return rc;
    size_t src = o->len, dst = o->len + extra;
    while (src > from) {
        uint8_t c = o->data[--src];
        o->data[--dst] = c;
        if (c == TN_IAC_B)
            o->data[--dst] = c;
    }
    o->len += extra;
    return 0;
}

static void tn_send(node *n, const uint8_t *b, size_t len)
{
    eg_buf_append(&n->port.out, b, len);
}

/* Sends a COM-PORT-OPTION subnegotiation: cmd, then the value (0xFF doubled). */
static void tn_sb_send(node *n, uint8_t cmd, const uint8_t *v, size_t len)
{
    uint8_t f[24] = {TN_IAC_B, TN_SB_B, TN_COMPORT, cmd};
    size_t o = 4;

    for (size_t i = 0; i < len && o < sizeof(f) - 3; i++) {
        f[o++] = v[i];
        if (v[i] == TN_IAC_B)
            f[o++] = v[i];
    }
    f[o++] = TN_IAC_B;
    f[o++] = TN_SE;
    tn_send(n, f, o);
}

/* What a development board's USB-UART bridge shows the client: CTS, DSR, RI and CD are
 * not wired on such boards, so none is asserted and none changes. */
#define TN_MODEMSTATE 0x00

/* Line state: the UART's transmit registers are empty when nothing waits to go. */
static uint8_t tn_linestate(const node *n)
{
    return sim_port_pending(&n->port) ? 0x00 : 0x60;
}

/* The reset into download mode, run by the server with its own timing (as Espressif's
 * esp_rfc2217_server runs esptool's UnixTightReset): EN low with IO0 high for 100 ms,
 * then EN released with IO0 low, held 50 ms (esptool's DEFAULT_RESET_DELAY), then IO0
 * released. Over a network the client's own changes arrive too far apart for a board's
 * auto-reset circuit: between DTR on and RTS off, EN would be released with IO0 high. */
#define RS_EN_LOW_US  100000
#define RS_IO0_LOW_US 50000

static void rs_step(node *n, int64_t now_us)
{
    sim_board *b = &n->board;
    size_t before = n->port.out.len;

    if (n->rs_step == 1) {
        sim_board_lines(b, 1, 0, &n->port.out, now_us / 1000); /* IO0 low, EN released */
        n->rs_step = 2;
        n->rs_next_us = now_us + RS_IO0_LOW_US;
    } else {
        sim_board_lines(b, 0, 0, &n->port.out, now_us / 1000); /* IO0 released */
        n->rs_step = 0;
        sim_board_log(b,
                      "rfc2217: reset sequence done; lines as the client left them (DTR %s, "
                      "RTS %s)",
                      n->cl_dtr ? "on" : "off", n->cl_rts ? "on" : "off");
        sim_board_lines(b, n->cl_dtr, n->cl_rts, &n->port.out, now_us / 1000);
    }
    tn_escape_from(n, before);
}

/* The client changed DTR or RTS. The chip follows at once (a hard reset, holding it in
 * reset), except that DTR on while this client holds the chip in reset (DTR off, RTS on)
 * starts the server's reset into download mode; changes that arrive while it runs only
 * update what the client asked for. */
static void tn_lines(node *n, int dtr, int rts)
{
    int was_dtr = n->cl_dtr, was_rts = n->cl_rts;
    int64_t now = eg_clock_ms();

    n->cl_dtr = dtr;
    n->cl_rts = rts;
    if (n->rs_step) {
        sim_board_log(&n->board, "rfc2217: %s %s (the reset sequence runs: not passed on)",
                      dtr != was_dtr ? "DTR" : "RTS", (dtr != was_dtr ? dtr : rts) ? "on" : "off");
        return;
    }
    if (dtr && !was_dtr && was_rts && n->cl_held) {
        sim_board_log(&n->board,
                      "rfc2217: DTR on while the client holds EN low: the server runs "
                      "the reset into download mode (EN low %d ms, IO0 low %d ms)",
                      RS_EN_LOW_US / 1000, RS_IO0_LOW_US / 1000);
        n->cl_held = 0;
        n->rs_step = 1;
        n->rs_next_us = now * 1000 + RS_EN_LOW_US;
        sim_board_lines(&n->board, 0, 1, &n->port.out, now); /* EN low, IO0 high */
        return;
    }
    n->cl_held = !dtr && rts;
    sim_board_lines(&n->board, dtr, rts, &n->port.out, now);
}

/* The answer to a SET-CONTROL value (RFC 2217 3.6): requests get the state in force,
 * settings are taken and echoed. */
static uint8_t tn_control(node *n, uint8_t v)
{
    size_t before = n->port.out.len;
    int dtr = n->cl_dtr, rts = n->cl_rts;

    switch (v) {
    case 0:                     /* request the flow control setting */
    case 13:                    /* request the inbound one */
        return v == 0 ? 1 : 14; /* none: the board's UART has no flow control */
    case 4:                     /* request the break state */
        return n->tn_break ? 5 : 6;
    case 5:
    case 6:
        n->tn_break = v == 5;
        return v;
    case 7: /* request DTR */
        return n->cl_dtr ? 8 : 9;
    case 10: /* request RTS */
        return n->cl_rts ? 11 : 12;
    case 8:
    case 9:
        dtr = v == 8;
        break;
    case 11:
    case 12:
        rts = v == 11;
        break;
    default:
        return v; /* flow control settings: taken, without effect on a virtual line */
    }
    tn_lines(n, dtr, rts);
    tn_escape_from(n, before);
    return v;
}

/* A COM-PORT-OPTION subnegotiation from the client. Settings are answered with code
 * + 100 and the value in force; a value of 0 asks for it without changing it. */
static void tn_comport(node *n)
{
    const uint8_t *sb = n->tn_sb, *v = n->tn_sb + 2;
    size_t vlen = n->tn_sb_len >= 2 ? n->tn_sb_len - 2 : 0;
    uint8_t cmd, val;

    if (n->tn_sb_len < 2 || sb[0] != TN_COMPORT)
        return;
    cmd = sb[1];
    switch (cmd) {
    case 1: { /* SET-BAUDRATE, big endian */
        uint8_t cur[4];
        if (vlen < 4)
            return;
        uint32_t baud = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        sim_board_line_baud(&n->board, baud);
        baud = n->board.baud;
        cur[0] = (uint8_t)(baud >> 24);
        cur[1] = (uint8_t)(baud >> 16);
        cur[2] = (uint8_t)(baud >> 8);
        cur[3] = (uint8_t)baud;
        tn_sb_send(n, cmd + 100, cur, 4);
        return;
    }
    case 2: /* SET-DATASIZE 5-8 */
        if (vlen >= 1 && v[0] >= 5 && v[0] <= 8)
            n->tn_datasize = v[0];
        tn_sb_send(n, cmd + 100, &n->tn_datasize, 1);
        return;
    case 3: /* SET-PARITY 1 none .. 5 space */
        if (vlen >= 1 && v[0] >= 1 && v[0] <= 5)
            n->tn_parity = v[0];
        tn_sb_send(n, cmd + 100, &n->tn_parity, 1);
        return;
    case 4: /* SET-STOPSIZE 1, 2 or 3 (1.5) */
        if (vlen >= 1 && v[0] >= 1 && v[0] <= 3)
            n->tn_stopsize = v[0];
        tn_sb_send(n, cmd + 100, &n->tn_stopsize, 1);
        return;
    case 5: { /* SET-CONTROL */
        if (vlen < 1)
            return;
        val = tn_control(n, v[0]);
        size_t at = n->port.out.len;
        tn_sb_send(n, cmd + 100, &val, 1);
        if (n->line_delay_ms && v[0] >= 8 && v[0] <= 12 && v[0] != 10) {
            /* the acknowledgement, and whatever the client sends next, wait */
            int64_t until = clock_us() + (int64_t)n->line_delay_ms * 1000;
            hold_add(n, out_pos(n, at), until);
            n->raw_resume_us = until;
        }
        return;
    }
    case 6: /* NOTIFY-LINESTATE from the client: a poll */
        val = tn_linestate(n);
        tn_sb_send(n, cmd + 100, &val, 1);
        return;
    case 7: /* NOTIFY-MODEMSTATE from the client: a poll */
        val = TN_MODEMSTATE & n->tn_modemstate_mask;
        tn_sb_send(n, cmd + 100, &val, 1);
        return;
    case 8: /* FLOWCONTROL-SUSPEND: hold what goes to the client */
    case 9: /* FLOWCONTROL-RESUME */
        n->tn_suspended = cmd == 8;
        return;
    case 10: /* SET-LINESTATE-MASK */
    case 11: /* SET-MODEMSTATE-MASK */
        if (vlen < 1)
            return;
        if (cmd == 10)
            n->tn_linestate_mask = v[0];
        else
            n->tn_modemstate_mask = v[0];
        tn_sb_send(n, cmd + 100, v, 1);
        return;
    case 12: /* PURGE-DATA: 1 what the board sent, 2 what the client sent, 3 both */
        if (vlen < 1)
            return;
        if (v[0] & 1) {
            /* What may go now goes (the telnet answers before this one among it); the
             * rest, which the client has not yet been given, is dropped. */
            node_flush(n);
            eg_buf_clear(&n->port.out);
            n->port.out_off = 0;
            holds_clear(n);
        }
        if (v[0] & 2) {
            eg_buf_clear(&n->in);
            n->in_off = 0;
        }
        tn_sb_send(n, cmd + 100, v, 1);
        return;
    default:
        return;
    }
}

/* The client agreed to COM-PORT-OPTION: it hears the modem lines once, as RFC 2217
 * servers tell a new client. */
static void tn_comport_on(node *n)
{
    uint8_t val = TN_MODEMSTATE & n->tn_modemstate_mask;
    tn_sb_send(n, 107, &val, 1);
}

/* Takes telnet commands out of what the client sent, in place; returns the data bytes
 * left at the start of buf and sets *used to the bytes taken. It stops before a
 * subnegotiation takes effect while data precedes it (that data goes to the board
 * first), and after a DTR/RTS change that makes the server wait (--line-delay). */
static size_t tn_filter(node *n, uint8_t *buf, size_t len, size_t *used)
{
    size_t o = 0;

    *used = len;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (n->tn_state == TN_SB_IAC && c == TN_SE && o > 0) {
            *used = i;
            return o;
        }
        switch (n->tn_state) {
        case TN_DATA:
            if (c == TN_IAC_B)
                n->tn_state = TN_IAC;
            else
                buf[o++] = c;
            break;
        case TN_IAC:
            n->tn_state = TN_DATA;
            if (c == TN_IAC_B) {
                buf[o++] = c;
            } else if (c >= TN_WILL && c <= TN_DONT) {
                n->tn_verb = c;
                n->tn_state = TN_OPT;
            } else if (c == TN_SB_B) {
                n->tn_sb_len = 0;
                n->tn_state = TN_SB;
            }
            break;
        case TN_OPT: {
            /* Binary, suppress-go-ahead and COM-PORT-OPTION are welcome. */
            int ok = c == 0 || c == 3 || c == TN_COMPORT;
            uint8_t r[3] = {TN_IAC_B, 0, c};
            uint8_t *state = n->tn_verb == TN_WILL ? n->tn_remote : n->tn_local;
            n->tn_state = TN_DATA;
            if (n->tn_verb != TN_WILL && n->tn_verb != TN_DO)
                break;
            if (state[c] == (ok ? 1 : 2))
                break; /* already so: answering again would start an endless exchange */
            state[c] = ok ? 1 : 2;
            if (n->tn_verb == TN_WILL)
                r[1] = ok ? TN_DO : TN_DONT;
            else
                r[1] = ok ? TN_WILL : TN_WONT;
            tn_send(n, r, 3);
            if (c == TN_COMPORT && !n->tn_comport) {
                n->tn_comport = 1;
                tn_comport_on(n);
            }
            break;
        }
        case TN_SB:
            if (c == TN_IAC_B)
                n->tn_state = TN_SB_IAC;
            else if (n->tn_sb_len < sizeof(n->tn_sb))
                n->tn_sb[n->tn_sb_len++] = c;
            break;
        case TN_SB_IAC:
            if (c == TN_IAC_B) {
                if (n->tn_sb_len < sizeof(n->tn_sb))
                    n->tn_sb[n->tn_sb_len++] = c;
                n->tn_state = TN_SB;
            } else {
                n->tn_state = TN_DATA;
                if (c == TN_SE)
                    tn_comport(n);
                if (n->raw_resume_us > clock_us()) {
                    *used = i + 1;
                    return o;
                }
            }
            break;
        }
    }
    return o;
}

/* Data bytes for the board: queued, counted on the wire, fed as the line allows. */
static void node_data(node *n, const uint8_t *data, size_t got)
{
    if (eg_buf_append(&n->in, data, got) < 0) {
        fprintf(stderr, "espsim: board %u: %s\n", n->board.index, eg_error_msg());
        return;
    }
    n->board.rx_bytes += got;
    n->board.rx_wire_us += wire_us(n, got);
    if (n->pace) {
        int64_t now = clock_us();
        n->rx_done_us = (n->rx_done_us > now ? n->rx_done_us : now) + wire_us(n, got);
    }
    node_feed(n);
}

/* RFC 2217: parses what the client sent, as far as the line delay lets it. */
static void node_parse(node *n)
{
    while (n->raw_off < n->raw.len && clock_us() >= n->raw_resume_us && n->port.connected &&
           !n->port.gone) {
        uint8_t *p = n->raw.data + n->raw_off;
        size_t used, got = tn_filter(n, p, n->raw.len - n->raw_off, &used);
        n->raw_off += used;
        if (got)
            node_data(n, p, got);
    }
    if (n->raw_off >= n->raw.len) {
        eg_buf_clear(&n->raw);
        n->raw_off = 0;
    }
}

static void node_read(node *n, uint8_t *buf)
{
    for (int k = 0; k < 16 && n->port.connected; k++) {
        size_t got;
        int r = sim_port_read(&n->port, buf, READ_CHUNK, &got), rc;

        if (r == SIM_IO_CLOSED) {
            node_lost(n);
            return;
        }
        if (r == SIM_IO_NONE)
            break;
        if (n->port.telnet) {
            if ((rc = eg_buf_append(&n->raw, buf, got)) < 0) {
                fprintf(stderr, "espsim: board %u: %s\n", n->board.index, eg_error_msg());
                break;
            }
            node_parse(n);
        } else {
            node_data(n, buf, got);
        }
        if (n->port.gone || !n->port.connected)
            return;
    }
    node_flush(n);
}

static int run(node *nodes, unsigned count)
{
    struct pollfd *fds = calloc(3 * (size_t)count, sizeof(*fds));
    unsigned *owner = calloc(3 * (size_t)count, sizeof(*owner));
    uint8_t *buf = malloc(READ_CHUNK);
    sigset_t block, unblocked;
    int rc = 0;

    if (!fds || !owner || !buf) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &unblocked);
    sigdelset(&unblocked, SIGINT);
    sigdelset(&unblocked, SIGTERM);

    while (!stop_signal) {
        int64_t now = eg_clock_ms(), next = now + 1000;
        struct timespec ts;
        nfds_t nfds = 0;

        for (unsigned i = 0; i < count; i++) {
            node *n = &nodes[i];
            sim_port *p = &n->port;

            if (p->gone)
                continue;
            if (p->kind == SIM_PORT_PTY && sim_port_watch_fd(p) < 0 && !p->connected) {
                if (now >= n->next_probe) {
                    node_watch(n, buf);
                    n->next_probe = now + SIM_PTY_PROBE_MS;
                }
                if (!p->connected && n->next_probe < next)
                    next = n->next_probe;
            }
            if (n->rs_step) {
                int64_t us = clock_us();
                if (us >= n->rs_next_us)
                    rs_step(n, us);
                if (n->rs_step && n->rs_next_us / 1000 + 1 < next)
                    next = n->rs_next_us / 1000 + 1;
            }
            if (p->connected && n->raw_off < n->raw.len) {
                node_parse(n);
                if (n->raw_off < n->raw.len && n->raw_resume_us / 1000 + 1 < next)
                    next = n->raw_resume_us / 1000 + 1;
            }
            if (!p->connected && sim_board_busy(&n->board)) {
                /* A board boots whether anyone listens or not; what it prints then is
                 * lost, as on a real line. */
                eg_buf lost = EG_BUF_INIT;
                sim_board_tick(&n->board, now, 0, &lost, &next);
                eg_buf_release(&lost);
            }
            if (p->connected) {
                size_t before = p->out.len;
                if (sim_board_tick(&n->board, now, sim_port_pending(p), &p->out, &next) < 0)
                    fprintf(stderr, "espsim: board %u: %s\n", i, eg_error_msg());
                tn_escape_from(n, before);
                node_feed(n);
                if (p->gone || !p->connected)
                    continue;
                node_flush(n);
                /* Wake for the next paced input, held reply or paced output. */
                int64_t due = feed_due(n);
                if (due && due / 1000 + 1 < next)
                    next = due / 1000 + 1;
                if (n->wake_us) {
                    int64_t ms = n->wake_us / 1000 + (n->wake_us % 1000 != 0);
                    if (ms < next)
                        next = ms > now ? ms : now + 1;
                }
            }
            if (p->listen_fd >= 0) {
                fds[nfds].fd = p->listen_fd;
                fds[nfds].events = POLLIN;
                owner[nfds++] = i;
            }
            if (p->connected && p->fd >= 0) {
                fds[nfds].fd = p->fd;
                /* Writable matters only while the client holds up what may go now;
                 * output waiting for its time is woken by the timer. */
                fds[nfds].events = POLLIN | (p->blocked ? POLLOUT : 0);
                owner[nfds++] = i;
            }
            if (sim_port_watch_fd(p) >= 0) {
                fds[nfds].fd = sim_port_watch_fd(p);
                fds[nfds].events = POLLIN;
                owner[nfds++] = i;
            }
        }
        now = eg_clock_ms();
        if (next < now)
            next = now;
        ts.tv_sec = (time_t)((next - now) / 1000);
        ts.tv_nsec = (long)((next - now) % 1000) * 1000000L;
        if (ppoll(fds, nfds, &ts, &unblocked) < 0) {
            if (errno == EINTR)
                continue;
            rc = eg_error_set(EG_EIO, "poll failed: %s", strerror(errno));
            break;
        }
        for (nfds_t k = 0; k < nfds; k++) {
            node *n = &nodes[owner[k]];
            sim_port *p = &n->port;

            if (!fds[k].revents || p->gone)
                continue;
            if (fds[k].fd == p->listen_fd) {
                int replaced;
                while (!p->gone && sim_port_accept(p, &replaced)) {
                    if (replaced)
                        node_lost(n);
                    node_connected(n);
                }
            } else if (fds[k].fd == sim_port_watch_fd(p)) {
                node_watch(n, buf);
            } else if (fds[k].fd == p->fd && p->connected) {
                if (sim_port_watch_fd(p) >= 0)
                    node_watch(n, buf);
                if (p->connected && (fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                    node_read(n, buf);
                if (p->connected && (fds[k].revents & POLLOUT))
                    node_flush(n);
            }
        }
    }
done:
    free(fds);
    free(owner);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    node *nodes = NULL;
    FILE *log = NULL;
    struct sigaction sa;
    unsigned opened = 0;
    int rc, status = 1;

    memset(&o, 0, sizeof(o));
    o.faults = calloc(MAX_BOARDS, sizeof(*o.faults));
    o.fault_set = calloc(MAX_BOARDS, sizeof(*o.fault_set));
    if (!o.faults || !o.fault_set) {
        fprintf(stderr, "espsim: out of memory\n");
        goto done;
    }
    rc = parse_args(&o, argc, argv);
    if (rc == 1) {
        status = 0;
        goto done;
    }
    if (rc < 0) {
        fprintf(stderr, "espsim: %s\n(see espsim --help)\n", eg_error_msg());
        status = 2;
        goto done;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (o.log) {
        log = fopen(o.log, "a");
        if (!log) {
            fprintf(stderr, "espsim: cannot open log '%s': %s\n", o.log, strerror(errno));
            goto done;
        }
    }
    {
        char dir[4096];
        if (o.n_stub_dirs == 0) {
            ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 8);
            char *slash = n > 0 ? (dir[n] = '\0', strrchr(dir, '/')) : NULL;
            if (slash) {
                snprintf(slash, sizeof(dir) - (size_t)(slash - dir), "/stub");
                o.stub_dirs[o.n_stub_dirs++] = dir;
            }
        }
        memset(&o.stubs, 0, sizeof(o.stubs));
        for (size_t i = 0; i < o.n_stub_dirs; i++) {
            size_t before = o.stubs.n;
            if (sim_stubs_load(&o.stubs, o.stub_dirs[i], o.chip->id) < 0) {
                fprintf(stderr, "espsim: %s\n", eg_error_msg());
                goto done;
            }
            if (o.stubs.n == before && o.stub_dirs[i] != dir)
                fprintf(stderr, "espsim: no flasher stub for %s in '%s'\n", o.chip->id,
                        o.stub_dirs[i]);
        }
    }
    nodes = calloc(o.boards, sizeof(*nodes));
    if (!nodes) {
        fprintf(stderr, "espsim: out of memory\n");
        goto done;
    }
    for (unsigned i = 0; i < o.boards; i++) {
        nodes[i].port.fd = nodes[i].port.listen_fd = nodes[i].port.watch_fd = -1;
        opened = i + 1;
        if ((rc = node_open(&nodes[i], &o, i, log)) < 0) {
            fprintf(stderr, "espsim: %s\n", eg_error_msg());
            goto done;
        }
        if (stop_signal)
            break;
    }
    if (run(nodes, o.boards) < 0) {
        fprintf(stderr, "espsim: %s\n", eg_error_msg());
        goto done;
    }
    status = 0;
done:
    for (unsigned i = 0; i < opened; i++) {
        sim_port_close(&nodes[i].port);
        sim_board_release(&nodes[i].board);
        eg_buf_release(&nodes[i].in);
        eg_buf_release(&nodes[i].raw);
    }
    free(nodes);
    if (log)
        fclose(log);
    free(o.faults);
    free(o.fault_set);
    sim_app_output_free(&o.app);
    if (o.fw_loaded)
        sim_fw_free(&o.fw);
    return status;
}
