/* The session against a scripted loader on the fake transport: sync, commands,
 * stray and malformed frames, short reads, timeouts, garbage, unplugging, and the
 * flash operations' packets. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/deflate.h"
#include "core/error.h"
#include "core/hash.h"
#include "device/ops.h"
#include "fake_transport.h"
#include "proto/session.h"
#include "proto/stub.h"

#include <stdlib.h>
#include <string.h>

/* A small loader that answers what the tests need. */
typedef struct rom {
    eg_slip_decoder dec;
    int silent;
    int garbage;        /* answer every write with noise */
    int boot_log;       /* print an application boot log instead of answering */
    int byte_chunks;    /* deliver each reply one byte per read */
    int stray_first;    /* send an unrelated response before each answer */
    int unsupported_14; /* GET_SECURITY_INFO unknown, as on ESP32 */
    int eio_after;      /* after this many requests the device is unplugged (0 = never) */
    int refuse_once;    /* refuse the next data block for its checksum */
    int write_error;    /* every data block fails with "flash write error" */
    int data_blocks;    /* data blocks received */
    int stub;           /* answer as the flasher stub: 2 status bytes, its commands */
    int late_error_at;  /* stub: the block with this seq + 1 fails on the next command */
    int late_pending;   /* stub: the next command reports the failed write */
    int bad_read_md5;   /* stub: READ_FLASH ends with a wrong MD5 */
    uint32_t erase_args[2];
    int requests;
    uint32_t reg_value; /* what READ_REG answers for an address not in the map */
    uint32_t reg_addr[16], reg_val[16];
    int n_regs;
    int reg_reads;          /* READ_REG requests answered */
    uint32_t reg_fail_addr; /* READ_REG of this address fails (0: none) */
    const char *md5_text;
    eg_buf flash_payload; /* FLASH_DEFL_DATA payloads, concatenated */
    uint32_t begin_words[5];
    int begin_len;
    int seen_ops[256];
} rom;

static void reply(eg_transport *t, rom *r, uint8_t op, uint32_t val, const uint8_t *data,
                  size_t len, uint8_t status, uint8_t err)
{
    eg_buf raw = EG_BUF_INIT, enc = EG_BUF_INIT;
    size_t st_len = r->stub ? 2 : 4;
    uint8_t hdr[8] = {1, op, (uint8_t)(len + st_len), (uint8_t)((len + st_len) >> 8)};
    uint8_t st[4] = {status, err, 0, 0};
    eg_put_u32le(hdr + 4, val);
    eg_buf_append(&raw, hdr, 8);
    eg_buf_append(&raw, data, len);
    eg_buf_append(&raw, st, st_len);
    eg_slip_encode(&enc, raw.data, raw.len);
    if (r->byte_chunks)
        for (size_t i = 0; i < enc.len; i++)
            fake_push(t, enc.data + i, 1);
    else
        fake_push(t, enc.data, enc.len);
    eg_buf_release(&raw);
    eg_buf_release(&enc);
}

static void answer(eg_transport *t, rom *r, const uint8_t *f, size_t len)
{
    uint8_t op = f[1];
    const uint8_t *d = f + 8;
    size_t dlen = len - 8;

    r->seen_ops[op]++;
    if (r->stray_first)
        reply(t, r, 0x55, 0, NULL, 0, 0, 0);
    if (r->late_pending) {
        /* The stub found the last block's write bad: this command says so. */
        r->late_pending = 0;
        reply(t, r, op, 0, NULL, 0, 1, 0xC4);
        return;
    }
    switch (op) {
    case EG_OP_ERASE_REGION:
        r->erase_args[0] = eg_get_u32le(d);
        r->erase_args[1] = eg_get_u32le(d + 4);
        reply(t, r, op, 0, NULL, 0, 0, 0);
        break;
    case EG_OP_READ_FLASH: {
        uint32_t addr = eg_get_u32le(d), n = eg_get_u32le(d + 4), pkt = eg_get_u32le(d + 8);
        uint8_t *all = malloc(n), md5[16];
        eg_buf enc = EG_BUF_INIT;
        for (uint32_t i = 0; i < n; i++)
            all[i] = (uint8_t)((addr + i) * 3);
        reply(t, r, op, 0, NULL, 0, 0, 0);
        for (uint32_t at = 0; at < n; at += pkt) {
            eg_buf_clear(&enc);
            eg_slip_encode(&enc, all + at, n - at < pkt ? n - at : pkt);
            fake_push(t, enc.data, enc.len);
        }
        eg_md5(md5, all, n);
        if (r->bad_read_md5)
            md5[0] ^= 1;
        eg_buf_clear(&enc);
        eg_slip_encode(&enc, md5, 16);
        fake_push(t, enc.data, enc.len);
        eg_buf_release(&enc);
        free(all);
        break;
    }
    case EG_OP_SYNC:
        for (int i = 0; i < 8; i++)
            reply(t, r, op, 0x20120707, NULL, 0, 0, 0);
        break;
    case EG_OP_READ_REG: {
        uint32_t addr = eg_get_u32le(d), v = r->reg_value;
        r->reg_reads++;
        if (r->reg_fail_addr && addr == r->reg_fail_addr) {
            reply(t, r, op, 0, NULL, 0, 1, 0x05);
            break;
        }
        for (int i = 0; i < r->n_regs; i++)
            if (r->reg_addr[i] == addr)
                v = r->reg_val[i];
        reply(t, r, op, v, NULL, 0, 0, 0);
        break;
    }
    case EG_OP_GET_SECURITY_INFO:
        if (r->unsupported_14) {
            for (int i = 0; i < 8; i++)
                reply(t, r, 0x00, 0, NULL, 0, 1, 0x05);
        } else {
            uint8_t info[20] = {0};
            eg_put_u32le(info + 12, 5);
            reply(t, r, op, 0, info, 20, 0, 0);
        }
        break;
    case EG_OP_SPI_FLASH_MD5:
        reply(t, r, op, 0, (const uint8_t *)r->md5_text, strlen(r->md5_text), 0, 0);
        break;
    case EG_OP_FLASH_DEFL_BEGIN:
    case EG_OP_FLASH_BEGIN:
        r->begin_len = (int)dlen;
        for (size_t i = 0; i < dlen / 4 && i < 5; i++)
            r->begin_words[i] = eg_get_u32le(d + 4 * i);
        reply(t, r, op, 0, NULL, 0, 0, 0);
        break;
    case EG_OP_FLASH_DATA:
    case EG_OP_FLASH_DEFL_DATA: {
        uint32_t n = eg_get_u32le(d);
        r->data_blocks++;
        if (r->stub && r->late_error_at == r->data_blocks) {
            /* Answered at once; the write fails afterwards. */
            r->late_pending = 1;
            reply(t, r, op, 0, NULL, 0, 0, 0);
            break;
        }
        if (r->refuse_once) {
            r->refuse_once = 0;
            reply(t, r, op, 0, NULL, 0, 1, 0x07);
            break;
        }
        if (r->write_error) {
            reply(t, r, op, 0, NULL, 0, 1, 0x08);
            break;
        }
        if (eg_get_u32le(f + 4) != eg_codec_checksum(d + 16, n)) {
            reply(t, r, op, 0, NULL, 0, 1, 0x07);
            break;
        }
        eg_buf_append(&r->flash_payload, d + 16, n);
        reply(t, r, op, 0, NULL, 0, 0, 0);
        break;
    }
    case EG_OP_READ_FLASH_SLOW: {
        uint8_t block[64];
        uint32_t addr = eg_get_u32le(d);
        for (int i = 0; i < 64; i++)
            block[i] = (uint8_t)(addr + (uint32_t)i);
        reply(t, r, op, 0, block, 64, 0, 0);
        break;
    }
    default:
        reply(t, r, op, 0, NULL, 0, 0, 0);
    }
}

static void responder(eg_transport *t, const uint8_t *w, size_t len, void *ctx)
{
    rom *r = ctx;
    if (r->silent)
        return;
    if (r->garbage) {
        uint8_t junk[97];
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (uint8_t)(i * 37 + len);
        fake_push(t, junk, sizeof(junk));
        return;
    }
    if (r->boot_log) {
        const char *log = "ESP-ROM:esp32c3-api1-20210207\r\nrst:0x1 (POWERON),boot:0xc "
                          "(SPI_FAST_FLASH_BOOT)\r\n";
        fake_push(t, log, strlen(log));
        return;
    }
    while (len > 0) {
        size_t used;
        int rc = eg_slip_decode(&r->dec, w, len, &used);
        w += used;
        len -= used;
        if (rc == EG_SLIP_FRAME) {
            size_t flen;
            const uint8_t *f = eg_slip_frame(&r->dec, &flen);
            r->requests++;
            if (r->eio_after && r->requests >= r->eio_after) {
                fake_push_eio(t);
                continue;
            }
            if (flen >= 8)
                answer(t, r, f, flen);
        }
    }
}

typedef struct fixture {
    rom r;
    eg_transport *t;
    eg_session *s;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    eg_slip_decoder_init(&fx->r.dec, 0x8000);
    fx->r.md5_text = "0123456789abcdef0123456789abcdef";
    fx->t = fake_transport_new();
    fake_set_responder(fx->t, responder, &fx->r);
    assert_int_equal(eg_session_new(&fx->s, fx->t), 0);
    fx->s->connect_attempts = 2;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    eg_session_free(fx->s);
    eg_slip_decoder_release(&fx->r.dec);
    eg_buf_release(&fx->r.flash_payload);
    free(fx);
    return 0;
}

static void test_connect_syncs(void **state)
{
    fixture *fx = *state;
    assert_int_equal(eg_session_connect(fx->s, EG_BEFORE_DEFAULT_RESET), 0);
    assert_int_equal(fx->r.seen_ops[EG_OP_SYNC], 1);
    assert_false(fx->s->sync_saw_stub);
    /* The SYNC echoes were consumed: the next command gets its own answer. */
    uint32_t v;
    fx->r.reg_value = 0xABCD1234;
    assert_int_equal(eg_session_read_reg(&v, fx->s, 0x40001000), 0);
    assert_int_equal(v, 0xABCD1234);
}

static void test_connect_silent_is_bounded(void **state)
{
    fixture *fx = *state;
    fx->r.silent = 1;
    int64_t t0 = fake_now(fx->t);
    assert_int_equal(eg_session_connect(fx->s, EG_BEFORE_NO_RESET), EG_ETIMEDOUT);
    /* 20 ms for what the board printed first, then 2 attempts of 5 SYNCs: 100 ms
     * waiting and 50 ms pausing each. */
    assert_int_equal(fake_now(fx->t) - t0, 20 + 2 * 5 * 150);
    assert_non_null(strstr(eg_error_msg(), "no answer to SYNC after 2 attempts"));
    assert_int_equal(fx->r.seen_ops[EG_OP_SYNC], 0);
}

static void test_connect_garbage_is_reported(void **state)
{
    fixture *fx = *state;
    fx->r.garbage = 1;
    int64_t t0 = fake_now(fx->t);
    assert_int_equal(eg_session_connect(fx->s, EG_BEFORE_DEFAULT_RESET), EG_EPROTO);
    assert_true(fake_now(fx->t) - t0 <= 20 + 2 * 5 * 150);
    assert_non_null(strstr(eg_error_msg(), "not loader frames"));
}

static void test_connect_wrong_boot_mode(void **state)
{
    fixture *fx = *state;
    fx->r.boot_log = 1;
    assert_int_equal(eg_session_connect(fx->s, EG_BEFORE_DEFAULT_RESET), EG_ETIMEDOUT);
    assert_non_null(strstr(eg_error_msg(), "wrong boot mode (boot:0xc)"));
}

static void test_no_reset_no_sync_sends_nothing(void **state)
{
    fixture *fx = *state;
    assert_int_equal(eg_session_connect(fx->s, EG_BEFORE_NO_RESET_NO_SYNC), 0);
    assert_int_equal(fake_written(fx->t)->len, 0);
}

static void test_replies_in_single_bytes_and_strays(void **state)
{
    fixture *fx = *state;
    uint32_t v;
    fx->r.byte_chunks = 1;
    fx->r.stray_first = 1;
    fx->r.reg_value = 0x00F01D83;
    assert_int_equal(eg_session_read_reg(&v, fx->s, 0x40001000), 0);
    assert_int_equal(v, 0x00F01D83);
}

static void test_unsupported_command(void **state)
{
    fixture *fx = *state;
    uint8_t info[32];
    size_t len = 99;
    fx->r.unsupported_14 = 1;
    assert_int_equal(eg_session_security_info(info, &len, fx->s), EG_EUNSUPPORTED);
    assert_int_equal(len, 0);
    assert_non_null(strstr(eg_error_msg(), "GET_SECURITY_INFO"));
    /* The repeated refusals do not leak into the next command. */
    uint32_t v;
    fx->r.unsupported_14 = 0;
    fx->r.reg_value = 7;
    assert_int_equal(eg_session_read_reg(&v, fx->s, 0x3FF5A004), 0);
    assert_int_equal(v, 7);
}

static void test_security_info(void **state)
{
    fixture *fx = *state;
    uint8_t info[32];
    size_t len;
    assert_int_equal(eg_session_security_info(info, &len, fx->s), 0);
    assert_int_equal(len, 20);
    assert_int_equal(eg_get_u32le(info + 12), 5);
}

static void test_command_timeout_names_the_command(void **state)
{
    fixture *fx = *state;
    uint32_t v;
    fx->r.silent = 1;
    int64_t t0 = fake_now(fx->t);
    assert_int_equal(eg_session_read_reg(&v, fx->s, 0x60008844), EG_ETIMEDOUT);
    assert_int_equal(fake_now(fx->t) - t0, EG_TIMEOUT_DEFAULT_MS);
    assert_non_null(strstr(eg_error_msg(), "READ_REG: no response within 3000 ms"));
    assert_non_null(strstr(eg_error_msg(), "0x60008844"));
}

static void test_unplugged_mid_command(void **state)
{
    fixture *fx = *state;
    uint32_t v;
    fx->r.eio_after = 1;
    assert_int_equal(eg_session_read_reg(&v, fx->s, 0x1000), EG_EGONE);
    /* The session says which command and register; the transport says the rest. */
    assert_non_null(strstr(eg_error_msg(), "reading register 0x00001000: READ_REG: "));
}

/* The board goes away while a block is being sent. */
static void test_unplugged_mid_write(void **state)
{
    fixture *fx = *state;
    eg_zblocks z;
    uint8_t data[6000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + i / 100);
    assert_int_equal(eg_zblocks_build(&z, data, sizeof(data), 0, EG_ROM_FLASH_BLOCK), 0);
    fake_fail_writes_after(fx->t, 3000);
    assert_int_equal(eg_session_flash_write(fx->s, 0x10000, data, sizeof(data), &z), EG_EGONE);
    assert_non_null(
        strstr(eg_error_msg(), "writing flash at 0x00010000: block 2: FLASH_DEFL_DATA: "));
    assert_int_equal(fake_written(fx->t)->len, 3000);
    eg_zblocks_release(&z);
}

/* A stop asked from another thread ends a wait at once, on any clock. */
static void test_canceled_wait(void **state)
{
    fixture *fx = *state;
    uint32_t v;
    fx->r.silent = 1;
    eg_cancel_request(fake_cancel(fx->t), EG_CANCEL_NOW);
    assert_int_equal(eg_session_read_reg(&v, fx->s, 0x1000), EG_ECANCELED);
    assert_int_equal(fake_now(fx->t), 0);
}

static void test_md5_hex_and_malformed(void **state)
{
    fixture *fx = *state;
    uint8_t md5[16];
    assert_int_equal(eg_session_flash_md5(md5, fx->s, 0, 0x1000), 0);
    assert_int_equal(md5[0], 0x01);
    assert_int_equal(md5[15], 0xef);
    fx->r.md5_text = "0123456789abcdef0123456789abcdeZ";
    assert_int_equal(eg_session_flash_md5(md5, fx->s, 0, 0x1000), EG_EPROTO);
    assert_non_null(strstr(eg_error_msg(), "malformed digest"));
}

static void test_compressed_write_packets(void **state)
{
    fixture *fx = *state;
    size_t len = 5000;
    uint8_t *data = malloc(len);
    eg_buf inflated = EG_BUF_INIT;
    unsigned seed = 1;
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245 + 12345;
        data[i] = (uint8_t)(seed >> 16);
    }
    eg_zblocks z;
    assert_int_equal(eg_zblocks_build(&z, data, len, 9, EG_ROM_FLASH_BLOCK), 0);
    assert_int_equal(eg_session_flash_write(fx->s, 0x10000, data, len, &z), 0);
    eg_zblocks_release(&z);
    /* ROM: 5 words, size rounded up to whole 1 KiB blocks, offset last but one. */
    assert_int_equal(fx->r.begin_len, 20);
    assert_int_equal(fx->r.begin_words[0], 5120);
    assert_int_equal(fx->r.begin_words[2], EG_ROM_FLASH_BLOCK);
    assert_int_equal(fx->r.begin_words[3], 0x10000);
    assert_int_equal(fx->r.begin_words[1],
                     (fx->r.flash_payload.len + EG_ROM_FLASH_BLOCK - 1) / EG_ROM_FLASH_BLOCK);
    assert_int_equal(
        eg_inflate(&inflated, fx->r.flash_payload.data, fx->r.flash_payload.len, 1 << 20), 0);
    assert_int_equal(inflated.len, len);
    assert_memory_equal(inflated.data, data, len);
    /* No FLASH_END: the ROM would leave the loader. */
    assert_int_equal(fx->r.seen_ops[EG_OP_FLASH_DEFL_END], 0);
    eg_buf_release(&inflated);
    free(data);
}

static void test_block_resent_only_after_checksum_refusal(void **state)
{
    fixture *fx = *state;
    uint8_t data[3000];
    eg_buf inflated = EG_BUF_INIT;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13);
    eg_zblocks z;
    assert_int_equal(eg_zblocks_build(&z, data, sizeof(data), 0, EG_ROM_FLASH_BLOCK), 0);
    fx->r.refuse_once = 1;
    assert_int_equal(eg_session_flash_write(fx->s, 0, data, sizeof(data), &z), 0);
    /* One block more than the stream needs: the refused one was sent again. */
    size_t blocks = (fx->r.flash_payload.len + EG_ROM_FLASH_BLOCK - 1) / EG_ROM_FLASH_BLOCK;
    assert_int_equal(fx->r.data_blocks, (int)blocks + 1);
    assert_int_equal(
        eg_inflate(&inflated, fx->r.flash_payload.data, fx->r.flash_payload.len, 1 << 20), 0);
    assert_memory_equal(inflated.data, data, sizeof(data));
    eg_buf_release(&inflated);

    /* A flash write error is final: no resend, and the message says what happened. */
    fx->r.data_blocks = 0;
    fx->r.write_error = 1;
    assert_int_equal(eg_session_flash_write(fx->s, 0x8000, data, sizeof(data), &z), EG_EDEVICE);
    assert_int_equal(fx->r.data_blocks, 1);
    assert_int_equal(fx->s->last_error, 0x08);
    eg_zblocks_release(&z);
    assert_non_null(strstr(eg_error_msg(), "writing flash at 0x00008000"));
    assert_non_null(strstr(eg_error_msg(), "flash write error"));
}

static void test_esp32_rom_gets_four_words(void **state)
{
    fixture *fx = *state;
    fx->s->flash_begin_words = 4;
    assert_int_equal(eg_session_flash_erase(fx->s, 0x2000, 0x3000), 0);
    assert_int_equal(fx->r.begin_len, 16);
    assert_int_equal(fx->r.begin_words[0], 0x3000);
    assert_int_equal(fx->r.begin_words[3], 0x2000);
    assert_int_equal(eg_session_flash_erase(fx->s, 0x2001, 0x1000), EG_EINVAL);
    assert_non_null(strstr(eg_error_msg(), "not aligned"));
}

static void test_read_slow_assembles_blocks(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT;
    assert_int_equal(eg_session_flash_read(&out, fx->s, 0x100, 150), 0);
    assert_int_equal(out.len, 150);
    for (size_t i = 0; i < 150; i++)
        assert_int_equal(out.data[i], (uint8_t)(0x100 + i));
    assert_int_equal(fx->r.seen_ops[EG_OP_READ_FLASH_SLOW], 3);
    eg_buf_release(&out);
}

static void test_rom_baud_quirks(void **state)
{
    fixture *fx = *state;
    uint32_t told;
    /* Every READ_REG answers the same word: cali 1000 (bits 7-31) and ck8m 100 (bits
     * 0-7), so ESP32's ROM believes in 1000 * 15625 * 100 / 40 = 39.0625 MHz. */
    fx->r.reg_value = 1000u << 7 | 100;
    assert_int_equal(eg_device_rom_baud(&told, fx->s, eg_chip_by_name("esp32"), 921600), 0);
    assert_int_equal(told, 900000);
    /* ESP32-C2 with a 26 MHz crystal: divider 226 at 115200 baud. */
    fx->t->baud = 115200;
    fx->r.reg_value = 226;
    assert_int_equal(eg_device_rom_baud(&told, fx->s, eg_chip_by_name("esp32c2"), 921600), 0);
    assert_int_equal(told, 921600u * 40 / 26);
    fx->r.reg_value = 347; /* 40 MHz */
    assert_int_equal(eg_device_rom_baud(&told, fx->s, eg_chip_by_name("esp32c2"), 921600), 0);
    assert_int_equal(told, 921600);
    assert_int_equal(eg_device_rom_baud(&told, fx->s, eg_chip_by_name("esp32c3"), 460800), 0);
    assert_int_equal(told, 460800);
}

static void set_reg(rom *r, uint32_t addr, uint32_t val)
{
    r->reg_addr[r->n_regs] = addr;
    r->reg_val[r->n_regs++] = val;
}

/* Identify's eFuse reads: revision, package, features and crystal of an ESP32-D0WD-V3
 * v3.1 on a 40 MHz crystal, each register read once over the line. */
static void test_chip_info_reads_each_word_once(void **state)
{
    fixture *fx = *state;
    eg_chip_info info;
    unsigned major, minor;

    fx->t->baud = 115200;
    set_reg(&fx->r, 0x3FF6607C, 1u << 31);                      /* APB_CTL_DATE: rev bit 2 */
    set_reg(&fx->r, 0x3FF5A00C, 1u << 15 | 1u << 13 | 1u << 9); /* word 3 */
    set_reg(&fx->r, 0x3FF5A014, 1u << 20 | 1u << 24);           /* word 5 */
    set_reg(&fx->r, 0x3FF5A010, 0x0Au << 8 | 128);              /* word 4: vref, ck8m */
    set_reg(&fx->r, 0x3FF40014, 347);                           /* UART divider */
    assert_int_equal(
        eg_device_read_chip_info(&major, &minor, &info, fx->s, eg_chip_by_name("esp32")), 0);
    assert_int_equal(major, 3);
    assert_int_equal(minor, 1);
    assert_string_equal(info.package, "ESP32-D0WD-V3");
    assert_int_equal(info.crystal_mhz, 40);
    assert_int_equal(info.n_features, 6);
    assert_string_equal(info.features[3], "240MHz");
    assert_string_equal(info.features[4], "Vref calibration in eFuse");
    assert_string_equal(info.features[5], "Coding Scheme None");
    /* APB date, words 3, 4, 5 and 6, the divider: six words, each read once. */
    assert_int_equal(fx->r.reg_reads, 6);

    /* The same divider at 921600 baud (after a rate change) would be 320 MHz: the
     * crystal is measured against the line's current rate. */
    fx->r.reg_reads = 0;
    fx->t->baud = 921600;
    fx->r.reg_addr[4] = 0x3FF40014;
    fx->r.reg_val[4] = 28; /* 26 MHz / 921600 */
    assert_int_equal(
        eg_device_read_chip_info(&major, &minor, &info, fx->s, eg_chip_by_name("esp32")), 0);
    assert_int_equal(info.crystal_mhz, 26);

    /* A word that cannot be read names the step and leaves nothing half-filled. */
    fx->r.reg_fail_addr = 0x3FF5A018;
    assert_int_equal(
        eg_device_read_chip_info(&major, &minor, &info, fx->s, eg_chip_by_name("esp32")),
        EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "reading the chip's package and features: "));
    assert_int_equal(info.n_features, 0);
    assert_string_equal(info.package, "");
    fx->r.reg_fail_addr = 0x3FF40014;
    assert_int_equal(
        eg_device_read_chip_info(&major, &minor, &info, fx->s, eg_chip_by_name("esp32")),
        EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "reading the crystal frequency: "));
    fx->r.reg_fail_addr = 0x3FF6607C;
    assert_int_equal(
        eg_device_read_chip_info(&major, &minor, &info, fx->s, eg_chip_by_name("esp32")),
        EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "reading the chip revision: "));

    /* ESP32-H2's crystal is fixed: no register says it. */
    fx->r.reg_fail_addr = 0x60000014;
    assert_int_equal(
        eg_device_read_chip_info(&major, &minor, &info, fx->s, eg_chip_by_name("esp32h2")), 0);
    assert_int_equal(info.crystal_mhz, 32);
    assert_string_equal(info.package, "ESP32-H2");
}

static void test_before_after_names(void **state)
{
    (void)state;
    eg_before b;
    eg_after a;
    assert_int_equal(eg_before_parse(&b, "no-reset-no-sync"), 0);
    assert_int_equal(b, EG_BEFORE_NO_RESET_NO_SYNC);
    assert_int_equal(eg_before_parse(&b, "default_reset"), 0);
    assert_int_equal(b, EG_BEFORE_DEFAULT_RESET);
    assert_int_equal(eg_before_parse(&b, "reset"), EG_EINVAL);
    assert_non_null(strstr(eg_error_msg(), "usb-reset"));
    assert_int_equal(eg_after_parse(&a, "watchdog-reset"), 0);
    assert_int_equal(a, EG_AFTER_WATCHDOG_RESET);
    assert_int_equal(eg_after_parse(&a, "hard-resetx"), EG_EINVAL);
    assert_string_equal(eg_before_name(EG_BEFORE_USB_RESET), "usb-reset");
    assert_string_equal(eg_after_name(EG_AFTER_NO_RESET), "no-reset");
}

/* Plain blocks: the last one is padded with 0xFF, and its checksum covers the padding
 * (the fake loader refuses a wrong checksum). */
static void test_plain_write_pads_last_block(void **state)
{
    fixture *fx = *state;
    uint8_t data[1500];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 11);
    assert_int_equal(eg_session_flash_write(fx->s, 0x20000, data, sizeof(data), NULL), 0);
    assert_int_equal(fx->r.begin_words[0], sizeof(data));
    assert_int_equal(fx->r.begin_words[1], 2);
    assert_int_equal(fx->r.flash_payload.len, 2 * EG_ROM_FLASH_BLOCK);
    assert_memory_equal(fx->r.flash_payload.data, data, sizeof(data));
    for (size_t i = sizeof(data); i < 2 * EG_ROM_FLASH_BLOCK; i++)
        assert_int_equal(fx->r.flash_payload.data[i], 0xFF);
    assert_int_equal(fx->r.data_blocks, 2);
}

/* The session as the flasher stub's client. */
static void as_stub(fixture *fx)
{
    fx->r.stub = 1;
    fx->s->stub = 1;
    fx->s->status_len = EG_STUB_STATUS_LEN;
}

static void test_stub_windowed_read(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT;
    as_stub(fx);
    assert_int_equal(eg_session_flash_read(&out, fx->s, 0x3000, 0x2800), 0);
    assert_int_equal(out.len, 0x2800);
    for (size_t i = 0; i < out.len; i++)
        assert_int_equal(out.data[i], (uint8_t)((0x3000 + i) * 3));
    assert_int_equal(fx->r.seen_ops[EG_OP_READ_FLASH], 1);
    assert_int_equal(fx->r.seen_ops[EG_OP_READ_FLASH_SLOW], 0);
    eg_buf_release(&out);
}

static void test_stub_read_md5_mismatch(void **state)
{
    fixture *fx = *state;
    eg_buf out = EG_BUF_INIT;
    as_stub(fx);
    fx->r.bad_read_md5 = 1;
    assert_int_equal(eg_session_flash_read(&out, fx->s, 0, 0x1000), EG_EMISMATCH);
    assert_non_null(strstr(eg_error_msg(), "reading flash at 0x00000000: READ_FLASH: the data "
                                           "does not match the MD5"));
    eg_buf_release(&out);
}

/* The stub answers a block before writing it: a failed write shows on the next
 * command, and the message names both blocks it may belong to. */
static void test_stub_late_block_error(void **state)
{
    fixture *fx = *state;
    eg_zblocks z;
    uint8_t *data = malloc(40000);
    unsigned seed = 7;
    for (size_t i = 0; i < 40000; i++) {
        seed = seed * 1103515245 + 12345;
        data[i] = (uint8_t)(seed >> 16);
    }
    as_stub(fx);
    assert_int_equal(eg_zblocks_build(&z, data, 40000, 6, EG_STUB_FLASH_BLOCK), 0);
    assert_true(z.n_blocks >= 3);
    fx->r.late_error_at = 2; /* block 1 fails; block 2's answer says so */
    assert_int_equal(eg_session_flash_write(fx->s, 0x10000, data, 40000, &z), EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "writing flash at 0x00010000: block 1 or 2: "));
    assert_int_equal(fx->s->last_error, 0xC4);
    /* The failure on the last block shows on the READ_REG that waits for the end. */
    fx->r.data_blocks = 0;
    fx->r.late_error_at = (int)z.n_blocks;
    assert_int_equal(eg_session_flash_write(fx->s, 0x10000, data, 40000, &z), EG_EDEVICE);
    assert_non_null(strstr(eg_error_msg(), "READ_REG"));
    eg_zblocks_release(&z);
    free(data);
}

static void test_stub_erase_region(void **state)
{
    fixture *fx = *state;
    as_stub(fx);
    assert_int_equal(eg_session_flash_erase(fx->s, 0x9000, 0x6000), 0);
    assert_int_equal(fx->r.seen_ops[EG_OP_ERASE_REGION], 1);
    assert_int_equal(fx->r.seen_ops[EG_OP_FLASH_BEGIN], 0);
    assert_int_equal(fx->r.erase_args[0], 0x9000);
    assert_int_equal(fx->r.erase_args[1], 0x6000);
    /* Blocks larger than the ROM takes are refused before anything is sent. */
    fx->s->stub = 0;
    fx->r.stub = 0;
    fx->s->status_len = EG_ROM_STATUS_LEN;
    eg_zblocks z;
    uint8_t data[100] = {0};
    assert_int_equal(eg_zblocks_build(&z, data, sizeof(data), 6, EG_STUB_FLASH_BLOCK), 0);
    size_t before = fake_written(fx->t)->len;
    assert_int_equal(eg_session_flash_write(fx->s, 0, data, sizeof(data), &z), EG_EINVAL);
    assert_int_equal(fake_written(fx->t)->len, before);
    eg_zblocks_release(&z);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_connect_syncs),
        T(test_connect_silent_is_bounded),
        T(test_connect_garbage_is_reported),
        T(test_connect_wrong_boot_mode),
        T(test_no_reset_no_sync_sends_nothing),
        T(test_replies_in_single_bytes_and_strays),
        T(test_unsupported_command),
        T(test_security_info),
        T(test_command_timeout_names_the_command),
        T(test_unplugged_mid_command),
        T(test_unplugged_mid_write),
        T(test_canceled_wait),
        T(test_plain_write_pads_last_block),
        T(test_stub_windowed_read),
        T(test_stub_read_md5_mismatch),
        T(test_stub_late_block_error),
        T(test_stub_erase_region),
        T(test_md5_hex_and_malformed),
        T(test_compressed_write_packets),
        T(test_block_resent_only_after_checksum_refusal),
        T(test_esp32_rom_gets_four_words),
        T(test_read_slow_assembles_blocks),
        T(test_rom_baud_quirks),
        T(test_chip_info_reads_each_word_once),
        cmocka_unit_test(test_before_after_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
