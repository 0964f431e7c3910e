/* One virtual board: the protocol state machine of a chip's serial loader. It knows
 * nothing about file descriptors: the transport (io.h) hands it the bytes a client
 * sent and sends whatever it appends to the output buffer.
 *
 * A board lives as long as the process; its flash persists across connections. Each
 * connection starts a session: the chip has just been reset with BOOT held, so it is
 * in the ROM loader waiting for SYNC. */
#ifndef ESPSIM_BOARD_H
#define ESPSIM_BOARD_H

#include "chip/chip.h"
#include "core/buf.h"
#include "proto/slip.h"

#include "app.h"
#include "chipdata.h"
#include "flash.h"
#include "regs.h"

#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

typedef enum sim_fault_kind {
    SIM_FAULT_NONE,
    SIM_FAULT_SILENT,           /* reads and ignores everything */
    SIM_FAULT_GARBAGE,          /* answers nothing, streams random bytes */
    SIM_FAULT_WRONG_BOOT,       /* prints an application boot log, answers nothing */
    SIM_FAULT_DISCONNECT_AFTER, /* unplugged when data block number arg arrives */
    SIM_FAULT_BAD_FLASH_WRITE,  /* flash data blocks fail with a flash write error */
    SIM_FAULT_FLASH_FAIL_AT,    /* a flash write that covers address arg fails */
    SIM_FAULT_UNPLUG_AFTER,     /* unplugged once arg bytes of flash data arrived */
    SIM_FAULT_STALL,            /* every response leaves arg milliseconds late */
    SIM_FAULT_BAUD_STUCK,       /* the ROM acknowledges CHANGE_BAUDRATE, its UART stays */
    SIM_FAULT_BOOT_PANIC,       /* the application panics after arg lines and reboots */
    SIM_FAULT_KINDS
} sim_fault_kind;

typedef struct sim_fault {
    sim_fault_kind kind;
    uint64_t arg;
} sim_fault;

/* The faults one board has: any number of kinds, one of each. */
typedef struct sim_faults {
    unsigned set; /* bit k: kind k is on */
    uint64_t arg[SIM_FAULT_KINDS];
} sim_faults;

/* Parses "silent", "garbage", "wrong-boot", "disconnect-after=N", "bad-flash-write",
 * "flash-fail-at=ADDR", "unplug-after=BYTES", "stall=MS", "baud-stuck", "boot-panic",
 * "boot-panic=N". */
int sim_fault_parse(sim_fault *out, const char *text);
/* Writes the fault as the command line spells it. */
void sim_fault_format(const sim_fault *f, char *dst, size_t dstlen);
/* Adds f to s, replacing one of the same kind. */
void sim_faults_add(sim_faults *s, const sim_fault *f);
/* 1 when s has a fault of kind k. */
int sim_faults_has(const sim_faults *s, sim_fault_kind k);

#define SIM_HOLDS_MAX 16

/* Which program answers: the ROM loader, or (later) the flasher stub it ran. */
typedef enum sim_personality {
    SIM_PERSONALITY_ROM,
    SIM_PERSONALITY_STUB,
} sim_personality;

typedef struct sim_board_config {
    unsigned index;
    const eg_chip *chip;
    uint8_t mac[6];
    unsigned major, minor; /* chip revision */
    uint32_t flash_size;
    uint32_t jedec_id;          /* what RDID reports */
    uint32_t crystal_hz;        /* 0: the chip's usual crystal */
    const sim_package *package; /* NULL: the chip's usual package */
    const sim_reg_init *efuse;  /* more eFuse bits (--efuse), n_efuse of them */
    size_t n_efuse;
    uint32_t security_flags; /* GET_SECURITY_INFO's flags word */
    uint8_t flash_crypt_cnt; /* ... and its flash_crypt_cnt (odd: encryption on) */
    int ck8m_drift_pct;      /* ESP32: how far the ROM's clock estimate is off (percent) */
    int spi_pads_set;        /* ESP32: the flash is on the pads the eFuses name */
    unsigned spi_pads[5];    /* clk, q, d, hd, cs */
    const char *flash_path;  /* NULL: the flash lives in memory */
    sim_faults faults;
    FILE *log; /* NULL: no command log */
    uint64_t seed;
    const struct sim_stubs *stubs; /* the flasher stubs it can run; NULL: none */
    int flash_timing;              /* erase and program take a real NOR flash's time */
    int boot_model;                /* DTR/RTS reset the chip (RFC 2217): power-on runs the app */
    const sim_app_output *app;     /* --app-output: what the application prints; NULL: ticks */
    const struct sim_fw *fw;       /* --app-elf / --app: the firmware's application; NULL: none */
} sim_board_config;

/* What the CPU runs. */
typedef enum sim_cpu {
    SIM_CPU_LOADER, /* the ROM's serial loader (download mode), or the flasher stub */
    SIM_CPU_RESET,  /* held in reset: EN low */
    SIM_CPU_GONE,   /* left the loader for RAM code espsim cannot play: silent */
    SIM_CPU_RETRY,  /* the ROM found no image: reads the header again until its watchdog fires */
    SIM_CPU_STUCK,  /* stopped after a boot error: a reset is due at reset_at */
    SIM_CPU_APP,    /* the application runs */
} sim_cpu;

/* A block of RAM uploaded with MEM_BEGIN / MEM_DATA. */
typedef struct sim_segment {
    uint32_t addr, size;
    uint32_t written; /* bytes received so far (highest end) */
    uint8_t *data;
} sim_segment;

/* A FLASH_BEGIN or FLASH_DEFL_BEGIN in progress. */
typedef struct sim_flash_write {
    int active, compressed;
    uint32_t offset, size, blocks, block_size, next_seq;
    uint32_t erase_end; /* end of the range FLASH_BEGIN erased */
    uint32_t cursor;    /* compressed: where the next inflated byte goes */
    uint64_t erased_to; /* flash timing: how far the stub has erased ahead */
    z_stream z;
    int z_ready, z_done, z_broken;
    int failed; /* a block could not be written: the write is over */
} sim_flash_write;

typedef struct sim_mem_write {
    int active;
    size_t seg; /* index into segs */
    uint32_t blocks, block_size, next_seq;
} sim_mem_write;

typedef struct sim_board {
    unsigned index;
    uint32_t security_flags;
    uint8_t flash_crypt_cnt;
    const eg_chip *chip;
    sim_faults faults;
    FILE *log;
    sim_regs_config regs_cfg;
    sim_regs regs;
    sim_flash flash;
    eg_slip_decoder slip;
    uint64_t rng;
    unsigned data_blocks; /* FLASH_DATA / FLASH_DEFL_DATA frames seen, for the fault */
    uint64_t data_bytes;  /* their data bytes, for the fault unplug-after */
    uint32_t flash_pins;  /* the SPI_ATTACH argument that finds the flash */
    int connected;
    int unplugged;

    /* The session: reset on each connection. */
    sim_personality personality;
    uint8_t stub_pending_error; /* a block's write failed: the stub says so on the next command */
    unsigned status_len;        /* status bytes after the data: ROM 4, stub 2 */
    int synced;
    int in_loader;      /* 0 once FLASH_END made the ROM leave the loader */
    int flash_attached; /* the ROM got SPI_ATTACH with the flash's pins (the stub attaches) */
    uint8_t hung_op;    /* a flash command without the flash hung the loader: its opcode */
    uint32_t baud;
    uint32_t uart_baud;   /* the rate the chip's UART runs at */
    uint32_t line_baud;   /* the rate the client's port runs at, when it says (RFC 2217) */
    uint32_t params_size; /* flash size from SPI_SET_PARAMS, 0 until sent */
    sim_flash_write wr;
    sim_mem_write mem;
    sim_segment *segs;
    size_t n_segs;
    int entry_set; /* MEM_END received: entry is where the RAM code starts */
    uint32_t entry;
    int64_t next_garbage;
    const struct sim_stubs *stubs;
    int flash_timing;
    int64_t flash_busy_us; /* --flash-timing: when the flash finishes its work */
    int64_t reply_at_us;   /* this command's reply goes out no sooner (0: at once) */
    int reply_fixed;       /* this command's reply time is set */
    /* Replies that must wait, from sim_board_input: from index at of its output on,
     * nothing leaves before until_us. In the order they were appended. */
    struct {
        size_t at;
        int64_t until_us;
    } holds[SIM_HOLDS_MAX];
    size_t n_holds;
    /* --rfc2217: the boot strapping of a development board's auto-reset circuit. */
    int boot_model;
    int dtr, rts;
    int in_reset;    /* EN held low */
    int64_t boot_at; /* EN released: the chip boots at this time (ms), 0 = not pending */
    /* Booting from flash and what runs then (every transport). */
    const sim_chip_data *cd;
    const sim_app_output *app;
    const struct sim_fw *fw; /* --app-elf: a connection over TCP or the pty resets into it */
    char mac[24];
    sim_cpu cpu;
    uint8_t left_by;            /* SIM_CPU_GONE: the opcode that left the loader */
    int64_t reset_at;           /* a watchdog or the software resets the chip then (ms), or 0 */
    sim_reset_reason reset_why; /* ... for this reason */
    int reset_strap;            /* ... and the reset samples IO0 again (else: a flash boot) */
    int wdt_armed;              /* reset_at is the RTC watchdog a client set */
    int64_t line_at;            /* when the ROM or the application prints its next line */
    unsigned line_no;           /* the application's lines printed since it started */
    unsigned retry_left;        /* SIM_CPU_RETRY: invalid header lines still to come */
    unsigned retry_every;       /* ... one every this many ms */
    uint32_t retry_word;
    int64_t app_started; /* when the application started (ms) */
    unsigned boots;
    int garbling; /* what the chip prints reaches a client at another rate (logged once) */
    /* This connection's traffic and its time on the wire at the rates in force. */
    uint64_t rx_bytes, tx_bytes;
    int64_t rx_wire_us, tx_wire_us;
    struct {
        int active;
        uint32_t offset, len, packet, sent;
    } rd; /* the stub's READ_FLASH in progress */
} sim_board;

enum {
    SIM_BOARD_UNPLUG = 1, /* sim_board_input: the board must vanish for good */
};

#define SIM_GARBAGE_BYTES    2048
#define SIM_EN_RISE_MS       5
#define SIM_GARBAGE_EVERY_MS 20

/* Opens the flash and sets the power-on state. Sets a message on failure; release
 * b with sim_board_release() either way. */
int sim_board_init(sim_board *b, const sim_board_config *cfg);
void sim_board_release(sim_board *b);

/* A client opened the port: reset with BOOT held. Appends what the chip prints. */
int sim_board_connect(sim_board *b, eg_buf *out, int64_t now);
void sim_board_disconnect(sim_board *b);

/* Feeds bytes the client sent; appends the responses to out. Replies that must not
 * leave yet (flash timing, the stall fault) are listed in b->holds (n_holds, cleared
 * first): positions in out, times in microseconds on the eg_clock_ms clock times 1000;
 * when more replies wait than fit, the last hold covers them. Returns 0,
 * SIM_BOARD_UNPLUG, or a negative code (out of memory). */
int sim_board_input(sim_board *b, const uint8_t *data, size_t len, eg_buf *out);

/* Timed behaviour (the garbage stream). pending is how many output bytes are still
 * unsent; *next is lowered to when the board wants the next tick (ms clock). */
int sim_board_tick(sim_board *b, int64_t now, size_t pending, eg_buf *out, int64_t *next);

/* 1 when the board has timed work while no client is connected (it boots, prints, or
 * waits for a watchdog): call sim_board_tick() anyway, its output is lost. */
int sim_board_busy(const sim_board *b);

/* DTR and RTS as the client set them (RFC 2217). On a development board RTS pulls EN
 * low and DTR pulls IO0 low, each only while the other is not asserted; releasing EN
 * boots the chip: into the ROM's download mode if IO0 is low, else into the
 * application. Appends what the chip prints. */
int sim_board_lines(sim_board *b, int dtr, int rts, eg_buf *out, int64_t now);

/* The client's port now runs at baud (RFC 2217 SET-BAUDRATE); so does the line. */
void sim_board_line_baud(sim_board *b, uint32_t baud);

/* Appends "board <i>: " and the line to the --log file (nothing without one). */
void sim_board_log(const sim_board *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "24:0a:c4:00:00:01" */
void sim_mac_format(const uint8_t mac[6], char *dst, size_t dstlen);

#endif
