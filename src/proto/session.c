#include "proto/session.h"

#include "core/cancel.h"
#include "core/deflate.h"
#include "core/error.h"
#include "core/hash.h"
#include "transport/reset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STRAY_RESPONSES 100
#define SYNC_TRIES          5
#define WRITE_ATTEMPTS      3

int eg_session_new(eg_session **out, eg_transport *t)
{
    eg_session *s;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s) {
        eg_transport_free(t);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    s->t = t;
    s->status_len = EG_ROM_STATUS_LEN;
    s->flash_begin_words = 5;
    s->connect_attempts = EG_CONNECT_ATTEMPTS;
    rc = eg_slip_decoder_init(&s->dec, EG_SESSION_MAX_FRAME);
    if (rc < 0) {
        eg_session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void eg_session_free(eg_session *s)
{
    if (!s)
        return;
    eg_transport_free(s->t);
    eg_slip_decoder_release(&s->dec);
    eg_buf_release(&s->tx);
    free(s);
}

/* The session's time, on its transport's clock. */
static int64_t now_ms(const eg_session *s)
{
    return eg_cancel_now(s->t->cancel);
}

static unsigned left_ms(const eg_session *s, int64_t deadline)
{
    int64_t left = deadline - now_ms(s);
    return left > 0 ? (unsigned)left : 0;
}

/* Pauses on the session's clock; a stop or the step's deadline ends it early. */
static int pause_ms(eg_session *s, unsigned ms)
{
    return eg_cancel_sleep(s->t->cancel, ms);
}

/* Drops everything received so far, buffered or in flight. */
static void flush_input(eg_session *s)
{
    s->rx_pos = s->rx_len = 0;
    eg_transport_flush_input(s->t);
    eg_slip_decoder_reset(&s->dec);
}

/* Waits for the next complete frame until deadline. Returns 1 with the frame, 0 on
 * timeout, or a negative transport error. Frames dropped by the decoder (bad
 * escapes, oversized) are skipped. */
static int next_frame(eg_session *s, int64_t deadline, const uint8_t **frame, size_t *len)
{
    for (;;) {
        while (s->rx_pos < s->rx_len) {
            size_t used = 0;
            int r = eg_slip_decode(&s->dec, s->rx + s->rx_pos, s->rx_len - s->rx_pos, &used);
            s->rx_pos += used;
            if (r == EG_SLIP_FRAME) {
                *frame = eg_slip_frame(&s->dec, len);
                return 1;
            }
        }
        unsigned left = left_ms(s, deadline);
        if (left == 0)
            return 0;
        int n = eg_transport_read(s->t, s->rx, sizeof(s->rx), left);
        if (n < 0)
            return n;
        if (n == 0)
            continue; /* a driver may return early: wait out the whole deadline */
        s->rx_pos = 0;
        s->rx_len = (size_t)n;
    }
}

/* Adds what the device sent outside frames to the current message. */
static int with_noise(eg_session *s, int code)
{
    char text[EG_SLIP_NOISE_MAX * 4 + 1];

    if (s->dec.noise_len == 0 && s->dec.bad_frames == 0)
        return code;
    eg_slip_noise_text(&s->dec, text, sizeof(text));
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", eg_error_msg());
    if (s->dec.noise_len)
        return eg_error_set(code, "%s; the device sent %zu bytes that are not loader frames: '%s'",
                            msg, s->dec.noise_total, text);
    return eg_error_set(code, "%s; the device sent %zu malformed frames", msg, s->dec.bad_frames);
}

/* Sends one request: the 8-byte header, then up to three pieces as its data (a
 * block's 16-byte header, the block, its padding), encoded straight into the transmit
 * buffer. */
static int send_pieces(eg_session *s, uint8_t op, const eg_slip_piece *data, size_t n, uint32_t chk)
{
    uint8_t hdr[EG_CODEC_HEADER_LEN] = {0, op};
    eg_slip_piece pieces[4] = {{hdr, sizeof(hdr), 0}};
    size_t total = 0;
    int rc;

    for (size_t i = 0; i < n && i < 3; i++) {
        pieces[i + 1] = data[i];
        total += data[i].len;
    }
    eg_put_u16le(hdr + 2, (uint16_t)total);
    eg_put_u32le(hdr + 4, chk);
    eg_buf_clear(&s->tx);
    if ((rc = eg_slip_encode_pieces(&s->tx, pieces, (n < 3 ? n : 3) + 1)) < 0)
        return rc;
    /* Time for the bytes at the line's rate (10 bits a byte), with a margin. */
    uint64_t wire_ms = s->t->baud ? (uint64_t)s->tx.len * 10 * 1000 / s->t->baud : 0;
    return eg_transport_write(s->t, s->tx.data, s->tx.len,
                              (unsigned)(wire_ms * 2 + EG_TIMEOUT_DEFAULT_MS));
}

/* Waits for the response to op until timeout_ms: see eg_session_command(). */
static int await_response(eg_response *out, eg_session *s, uint8_t op, unsigned timeout_ms);

int eg_session_command(eg_response *out, eg_session *s, uint8_t op, const uint8_t *data, size_t len,
                       uint32_t chk, unsigned timeout_ms)
{
    int rc;

    eg_slip_piece piece = {data, len, 0};

    memset(out, 0, sizeof(*out));
    rc = send_pieces(s, op, &piece, 1, chk);
    if (rc < 0)
        return eg_error_prefix(rc, "%s: ", eg_codec_op_name(op));
    return await_response(out, s, op, timeout_ms);
}

static int await_response(eg_response *out, eg_session *s, uint8_t op, unsigned timeout_ms)
{
    int64_t deadline;
    int rc, stray = 0;

    deadline = now_ms(s) + timeout_ms;
    s->dec.noise_len = 0;
    s->dec.noise_total = 0;
    s->dec.bad_frames = 0;
    for (;;) {
        const uint8_t *frame;
        size_t flen;
        eg_response r;

        rc = next_frame(s, deadline, &frame, &flen);
        if (rc < 0)
            return eg_error_prefix(rc, "%s: ", eg_codec_op_name(op));
        if (rc == 0) {
            eg_error_set(EG_ETIMEDOUT, "%s: no response within %u ms", eg_codec_op_name(op),
                         timeout_ms);
            return with_noise(s, EG_ETIMEDOUT);
        }
        if (eg_codec_response(&r, frame, flen) < 0) {
            s->dec.bad_frames++;
            continue;
        }
        if (r.op == op) {
            *out = r;
            return 0;
        }
        if (eg_codec_is_unsupported(&r)) {
            /* The ROM repeats this answer; let the repeats arrive, then drop them. */
            if ((rc = pause_ms(s, 50)) < 0)
                return rc;
            flush_input(s);
            return eg_error_set(EG_EUNSUPPORTED, "%s: the loader does not support this command",
                                eg_codec_op_name(op));
        }
        if (++stray > MAX_STRAY_RESPONSES)
            return eg_error_set(EG_EPROTO, "%s: the device keeps answering other commands",
                                eg_codec_op_name(op));
    }
}

int eg_session_await_raw(eg_session *s, const uint8_t *want, size_t len, unsigned timeout_ms)
{
    int64_t deadline = now_ms(s) + timeout_ms;
    const uint8_t *frame;
    size_t flen;
    int rc;

    s->dec.noise_len = 0;
    s->dec.noise_total = 0;
    while ((rc = next_frame(s, deadline, &frame, &flen)) > 0) {
        if (flen == len && memcmp(frame, want, len) == 0)
            return 0;
    }
    if (rc < 0)
        return rc;
    eg_error_set(EG_ETIMEDOUT, "no '%.*s' within %u ms", (int)len, (const char *)want, timeout_ms);
    return with_noise(s, EG_ETIMEDOUT);
}

/* Sends data as one frame of its own (no command header). */
static int send_raw(eg_session *s, const uint8_t *data, size_t len)
{
    eg_buf_clear(&s->tx);
    int rc = eg_slip_encode(&s->tx, data, len);
    if (rc == 0)
        rc = eg_transport_write(s->t, s->tx.data, s->tx.len, EG_TIMEOUT_DEFAULT_MS);
    return rc;
}

int eg_session_check(eg_response *out, eg_session *s, uint8_t op, const uint8_t *data, size_t len,
                     uint32_t chk, size_t data_len, unsigned timeout_ms)
{
    eg_response local;
    eg_response *r = out ? out : &local;
    uint8_t err = 0;
    int rc = eg_session_command(r, s, op, data, len, chk, timeout_ms);
    if (rc < 0)
        return rc;
    if (eg_codec_status(r, data_len, &err) == EG_EDEVICE)
        s->last_error = err;
    return eg_codec_check_status(r, data_len, eg_codec_op_name(op));
}

static int sync_once(eg_session *s)
{
    uint8_t payload[36] = {0x07, 0x07, 0x12, 0x20};
    eg_response r;
    int rc;

    memset(payload + 4, 0x55, 32);
    rc = eg_session_command(&r, s, EG_OP_SYNC, payload, sizeof(payload), 0, EG_TIMEOUT_SYNC_MS);
    if (rc < 0)
        return rc;
    s->sync_saw_stub = r.val == 0;
    /* The ROM answers a SYNC several times; collect the echoes so they do not pass
     * for answers to the next command. */
    int64_t deadline = now_ms(s) + EG_TIMEOUT_SYNC_MS;
    for (int i = 0; i < 7; i++) {
        const uint8_t *frame;
        size_t flen;
        if (next_frame(s, deadline, &frame, &flen) <= 0)
            break;
    }
    return 0;
}

/* What the device printed outside loader frames while we tried to connect: the
 * newest bytes, and how many there were in all. */
typedef struct seen_text {
    uint8_t bytes[EG_SLIP_NOISE_MAX];
    size_t len, total;
} seen_text;

static void seen_add(seen_text *seen, const eg_slip_decoder *d)
{
    for (size_t i = 0; i < d->noise_len; i++) {
        if (seen->len == sizeof(seen->bytes)) {
            memmove(seen->bytes, seen->bytes + 1, seen->len - 1);
            seen->len--;
        }
        seen->bytes[seen->len++] = d->noise[i];
    }
    seen->total += d->noise_total;
}

/* Reads what the device has already sent (a boot log, say) for up to ms, keeping the
 * bytes that are not frames. */
static int capture_pending(eg_session *s, seen_text *seen, unsigned ms)
{
    int64_t deadline = now_ms(s) + ms;
    const uint8_t *frame;
    size_t flen;
    int rc;

    s->dec.noise_len = 0;
    s->dec.noise_total = 0;
    while ((rc = next_frame(s, deadline, &frame, &flen)) > 0) {
    }
    seen_add(seen, &s->dec);
    return rc;
}

static void seen_string(const seen_text *seen, char *dst, size_t len)
{
    eg_slip_decoder d = {0};
    memcpy(d.noise, seen->bytes, seen->len);
    d.noise_len = seen->len;
    eg_slip_noise_text(&d, dst, len);
}

/* True when what the device printed reads as lines of text (an application's log)
 * rather than noise. */
static int looks_like_text(const seen_text *seen)
{
    size_t printable = 0;
    if (seen->len < 16)
        return 0;
    for (size_t i = 0; i < seen->len; i++) {
        uint8_t c = seen->bytes[i];
        printable += (c >= 0x20 && c < 0x7F) || c == '\r' || c == '\n' || c == '\t';
    }
    return printable * 100 >= seen->len * 95;
}

/* Looks for the ROM's boot message in what the device printed. */
static int boot_mode_error(const seen_text *seen)
{
    char text[EG_SLIP_NOISE_MAX * 4 + 1];
    const char *p;

    seen_string(seen, text, sizeof(text));
    p = strstr(text, "boot:0x");
    if (!p)
        return 0;
    char mode[16];
    size_t n = strspn(p + 5, "0123456789abcdefABCDEFx");
    snprintf(mode, sizeof(mode), "%.*s", (int)(n < 12 ? n : 12), p + 5);
    if (strstr(p, "waiting for download"))
        return eg_error_set(EG_ETIMEDOUT,
                            "the chip is in download mode (boot:%s) but does not answer SYNC: "
                            "the serial TX path seems to be down",
                            mode);
    return eg_error_set(EG_ETIMEDOUT,
                        "wrong boot mode (boot:%s): the chip is not in download mode; hold "
                        "BOOT/IO0 low while resetting, or use --before default-reset",
                        mode);
}

static int do_reset(eg_session *s, eg_before before, unsigned attempt)
{
    eg_transport *t = s->t;
    int usb = before == EG_BEFORE_USB_RESET ||
              (t->usb_vid == EG_ESPRESSIF_VID && t->usb_pid == EG_USB_JTAG_SERIAL_PID);

    if (before == EG_BEFORE_NO_RESET || !(t->caps & EG_TRANSPORT_CAP_LINES))
        return 0;
    if (usb)
        return eg_reset_usb_jtag(t);
    /* The order esptool uses on Unix: tight then classic, each with the short and
     * the long release delay. */
    switch (attempt % 4) {
    case 0:
        return eg_reset_tight(t, 50);
    case 1:
        return eg_reset_tight(t, 550);
    case 2:
        return eg_reset_classic(t, 50);
    default:
        return eg_reset_classic(t, 550);
    }
}

int eg_session_connect(eg_session *s, eg_before before)
{
    seen_text seen = {{0}, 0, 0};
    int rc = 0;

    if (before == EG_BEFORE_NO_RESET_NO_SYNC)
        return 0;
    if (before != EG_BEFORE_NO_RESET && !(s->t->caps & EG_TRANSPORT_CAP_LINES))
        eg_events_log(&s->ev, EG_LOG_DEBUG,
                      "port '%s' has no DTR/RTS lines: not resetting, the board must already "
                      "be in download mode",
                      s->t->name);
    /* Whatever the device printed before we came is worth quoting if we fail. */
    if ((rc = capture_pending(s, &seen, 20)) < 0)
        return rc;
    for (unsigned attempt = 0; attempt < s->connect_attempts; attempt++) {
        flush_input(s);
        rc = do_reset(s, before, attempt);
        if (rc < 0)
            return eg_error_prefix(rc, "reset: ");
        for (int i = 0; i < SYNC_TRIES; i++) {
            rc = sync_once(s);
            seen_add(&seen, &s->dec);
            if (rc == 0) {
                eg_events_log(&s->ev, EG_LOG_DEBUG, "port '%s': synced (attempt %u)", s->t->name,
                              attempt + 1);
                return 0;
            }
            /* A board that went away, a stop or the step's deadline ends it here. */
            if (rc == EG_EIO || rc == EG_EGONE || rc == EG_ECANCELED ||
                (rc = eg_cancel_check(s->t->cancel)) < 0)
                return rc;
            if ((rc = pause_ms(s, 50)) < 0)
                return rc;
        }
    }
    if (boot_mode_error(&seen) < 0)
        return EG_ETIMEDOUT;
    if (looks_like_text(&seen)) {
        char text[EG_SLIP_NOISE_MAX * 4 + 1];
        seen_string(&seen, text, sizeof(text));
        return eg_error_set(EG_ETIMEDOUT,
                            "failed to connect: the board prints text rather than answering SYNC: "
                            "it seems to run its application (last: '%.100s'); reset it into "
                            "download mode (--before default-reset, or BOOT held while resetting)",
                            text + (strlen(text) > 100 ? strlen(text) - 100 : 0));
    }
    if (seen.total > 0) {
        char text[EG_SLIP_NOISE_MAX * 4 + 1];
        seen_string(&seen, text, sizeof(text));
        return eg_error_set(EG_EPROTO,
                            "failed to connect: no answer to SYNC after %u attempts; the device "
                            "sent %zu bytes that are not loader frames (last: '%.120s')",
                            s->connect_attempts, seen.total, text);
    }
    return eg_error_set(EG_ETIMEDOUT,
                        "failed to connect: no answer to SYNC after %u attempts (is the board "
                        "connected, powered and in download mode?)",
                        s->connect_attempts);
}

int eg_session_read_reg(uint32_t *out, eg_session *s, uint32_t addr)
{
    uint8_t p[4];
    eg_response r;
    int rc;

    *out = 0;
    eg_put_u32le(p, addr);
    rc = eg_session_check(&r, s, EG_OP_READ_REG, p, 4, 0, 0, EG_TIMEOUT_DEFAULT_MS);
    if (rc < 0)
        return eg_error_prefix(rc, "reading register 0x%08x: ", addr);
    *out = r.val;
    return 0;
}

int eg_session_write_reg(eg_session *s, uint32_t addr, uint32_t value, uint32_t mask,
                         uint32_t delay_us)
{
    uint8_t p[16];
    int rc;

    eg_put_u32le(p, addr);
    eg_put_u32le(p + 4, value);
    eg_put_u32le(p + 8, mask);
    eg_put_u32le(p + 12, delay_us);
    rc = eg_session_check(NULL, s, EG_OP_WRITE_REG, p, 16, 0, 0, EG_TIMEOUT_DEFAULT_MS);
    if (rc < 0)
        return eg_error_prefix(rc, "writing register 0x%08x: ", addr);
    return 0;
}

int eg_session_security_info(uint8_t out[32], size_t *len, eg_session *s)
{
    eg_response r;
    int rc;

    *len = 0;
    rc = eg_session_command(&r, s, EG_OP_GET_SECURITY_INFO, NULL, 0, 0, EG_TIMEOUT_DEFAULT_MS);
    if (rc < 0)
        return rc;
    /* 20 bytes of payload, or 12 on ESP32-S2; then the status bytes. */
    size_t payload = r.len >= 20 + 2 ? 20 : r.len >= 12 + 2 ? 12 : 0;
    uint8_t err = 0;
    if (eg_codec_status(&r, payload, &err) == EG_EDEVICE)
        s->last_error = err;
    rc = eg_codec_check_status(&r, payload, "GET_SECURITY_INFO");
    if (rc < 0)
        return rc;
    memcpy(out, r.data, payload);
    *len = payload;
    return 0;
}

int eg_session_spi_attach(eg_session *s, uint32_t pins)
{
    uint8_t p[8] = {0};
    eg_put_u32le(p, pins);
    /* The ROM takes 8 bytes (pins and a legacy word), the stub 4. */
    return eg_session_check(NULL, s, EG_OP_SPI_ATTACH, p, s->stub ? 4 : 8, 0, 0,
                            EG_TIMEOUT_DEFAULT_MS);
}

int eg_session_spi_set_params(eg_session *s, uint32_t flash_size)
{
    uint8_t p[24];
    eg_put_u32le(p, 0);
    eg_put_u32le(p + 4, flash_size);
    eg_put_u32le(p + 8, 64 * 1024);
    eg_put_u32le(p + 12, 4 * 1024);
    eg_put_u32le(p + 16, 256);
    eg_put_u32le(p + 20, 0xFFFF);
    return eg_session_check(NULL, s, EG_OP_SPI_SET_PARAMS, p, sizeof(p), 0, 0,
                            EG_TIMEOUT_DEFAULT_MS);
}

int eg_session_change_baud(eg_session *s, uint32_t baud, uint32_t told)
{
    uint8_t p[8];
    int rc;

    if (s->t->ops->supports_baud && !s->t->ops->supports_baud(s->t, baud))
        return eg_error_set(EG_EINVAL, "this port cannot run at %u baud", baud);
    eg_put_u32le(p, told ? told : baud);
    eg_put_u32le(p + 4, s->stub ? s->t->baud : 0);
    rc = eg_session_check(NULL, s, EG_OP_CHANGE_BAUDRATE, p, 8, 0, 0, EG_TIMEOUT_DEFAULT_MS);
    if (rc < 0)
        return eg_error_prefix(rc, "changing baud rate to %u: ", baud);
    rc = eg_transport_set_baud(s->t, baud);
    if (rc < 0)
        return eg_error_prefix(rc,
                               "changing baud rate to %u: the board changed, the port did "
                               "not: ",
                               baud);
    if ((rc = pause_ms(s, 50)) < 0)
        return rc;
    flush_input(s);
    return 0;
}

int eg_session_change_baud_local(eg_session *s, uint32_t baud)
{
    int rc = eg_transport_set_baud(s->t, baud);
    if (rc < 0)
        return eg_error_prefix(rc, "changing our baud rate to %u: ", baud);
    flush_input(s);
    return 0;
}

static unsigned timeout_per_mb(unsigned ms_per_mb, uint64_t size)
{
    uint64_t t = ms_per_mb * size / 1000000;
    return t < EG_TIMEOUT_DEFAULT_MS ? EG_TIMEOUT_DEFAULT_MS : (unsigned)t;
}

/* FLASH_BEGIN or FLASH_DEFL_BEGIN. */
static int flash_begin(eg_session *s, uint8_t op, uint32_t size, uint32_t blocks, uint32_t bs,
                       uint32_t offset)
{
    uint8_t p[20];
    unsigned timeout =
        s->stub ? EG_TIMEOUT_DEFAULT_MS : timeout_per_mb(EG_ROM_BEGIN_MS_PER_MB, size);
    unsigned words = s->stub ? 5 : s->flash_begin_words;

    eg_put_u32le(p, size);
    eg_put_u32le(p + 4, blocks);
    eg_put_u32le(p + 8, bs);
    eg_put_u32le(p + 12, offset);
    eg_put_u32le(p + 16, 0); /* not encrypted */
    return eg_session_check(NULL, s, op, p, words * 4, 0, 0, timeout);
}

/* True when r is a failure for a bad checksum (ROM 0x07, stub 0xC1). */
static int refused_checksum(const eg_response *r)
{
    if (r->len < 2 || r->data[0] == 0)
        return 0;
    uint8_t err = r->data[0] == 1 ? r->data[1] : r->data[0];
    return err == 0x07 || err == 0xC1;
}

uint32_t eg_session_block_size(const eg_session *s)
{
    return s->stub ? EG_STUB_FLASH_BLOCK : EG_ROM_FLASH_BLOCK;
}

/* Sends one data block; plain is how many bytes it writes to the flash (more than len
 * for a compressed block), which sets how long the loader may take. A plain block
 * shorter than the block size is padded with 0xFF (pad bytes). */
static int flash_block(eg_session *s, uint8_t op, const uint8_t *block, size_t len, size_t pad,
                       size_t plain, uint32_t seq)
{
    uint8_t head[16];
    eg_slip_piece pieces[3] = {{head, sizeof(head), 0}, {block, len, 0}, {NULL, pad, 0xFF}};
    int rc = 0, bad_checksum = 0;

    eg_put_u32le(head, (uint32_t)(len + pad));
    eg_put_u32le(head + 4, seq);
    eg_put_u32le(head + 8, 0);
    eg_put_u32le(head + 12, 0);
    /* The checksum runs over the block and its padding: an odd run of 0xFF flips it. */
    uint32_t chk = eg_codec_checksum(block, len) ^ (pad % 2 ? 0xFF : 0);
    for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        eg_response r;
        rc = send_pieces(s, op, pieces, 3, chk);
        if (rc < 0) {
            rc = eg_error_prefix(rc, "%s: ", eg_codec_op_name(op));
            break;
        }
        rc = await_response(&r, s, op, timeout_per_mb(EG_ERASE_MS_PER_MB, plain));
        if (rc < 0)
            break;
        rc = eg_codec_check_status(&r, 0, eg_codec_op_name(op));
        if (rc == EG_EDEVICE) {
            uint8_t err = 0;
            eg_codec_status(&r, 0, &err);
            s->last_error = err;
        }
        /* Resend only a block refused for its checksum: the loader did not take it.
         * Any other failure may have consumed it (and with compression, advanced the
         * inflater), so a resend could write the wrong bytes. */
        if (rc == 0 || !(bad_checksum = refused_checksum(&r)))
            break;
    }
    if (rc == EG_EDEVICE && s->stub && seq > 0 && !bad_checksum)
        /* The stub answers a block before writing it; a failed write shows on the next. */
        return eg_error_prefix(rc, "block %u or %u: ", seq - 1, seq);
    if (rc < 0)
        return eg_error_prefix(rc, "block %u: ", seq);
    return 0;
}

int eg_session_flash_write(eg_session *s, uint32_t offset, const uint8_t *data, size_t len,
                           const eg_zblocks *z)
{
    uint32_t bs = eg_session_block_size(s);
    char step[64];
    int rc;

    if (len > UINT32_MAX - offset)
        return eg_error_set(EG_EINVAL, "region at 0x%x of %zu bytes is beyond 4 GiB", offset, len);
    snprintf(step, sizeof(step), "writing at 0x%08x", offset);
    eg_events_progress(&s->ev, step, 0, len);
    if (z) {
        if (z->block_size > bs) {
            rc =
                eg_error_set(EG_EINVAL, "blocks of %u bytes were prepared, the %s takes at most %u",
                             z->block_size, s->stub ? "stub" : "ROM loader", bs);
            goto done;
        }
        bs = z->block_size;
        /* The stub wants the plain size; the ROM erases that size rounded up to
         * whole blocks. */
        uint32_t size = s->stub ? (uint32_t)len : (uint32_t)((len + bs - 1) / bs * bs);
        rc = flash_begin(s, EG_OP_FLASH_DEFL_BEGIN, size, z->n_blocks, bs, offset);
        if (rc < 0)
            goto done;
        for (uint32_t seq = 0; seq < z->n_blocks; seq++) {
            size_t at = (size_t)seq * bs;
            size_t n = z->z.len - at < bs ? z->z.len - at : bs;
            /* A block of zeros or 0xFF can inflate a thousandfold: the loader gets the
             * time that writing what it inflates to takes. */
            rc = flash_block(s, EG_OP_FLASH_DEFL_DATA, z->z.data + at, n, 0, z->plain[seq], seq);
            if (rc < 0)
                goto done;
            /* Report progress in plain bytes, proportional to compressed ones sent. */
            eg_events_progress(&s->ev, step, (uint64_t)len * (at + n) / z->z.len, len);
        }
    } else {
        uint32_t blocks = (uint32_t)((len + bs - 1) / bs);
        rc = flash_begin(s, EG_OP_FLASH_BEGIN, (uint32_t)len, blocks, bs, offset);
        if (rc < 0)
            goto done;
        for (uint32_t seq = 0; seq < blocks; seq++) {
            size_t at = (size_t)seq * bs;
            size_t n = len - at < bs ? len - at : bs;
            rc = flash_block(s, EG_OP_FLASH_DATA, data + at, n, bs - n, bs, seq);
            if (rc < 0)
                goto done;
            eg_events_progress(&s->ev, step, at + n, len);
        }
    }
    if (len == 0)
        eg_events_progress(&s->ev, step, 0, 0);
    if (s->stub) {
        /* The stub acknowledges a block before writing it, and reports a failure on
         * the next command: wait, with a command that answers once all is written. */
        uint8_t p[4];
        eg_put_u32le(p, 0x40001000);
        rc = eg_session_check(NULL, s, EG_OP_READ_REG, p, 4, 0, 0,
                              timeout_per_mb(EG_ERASE_MS_PER_MB, bs));
    }
done:
    if (rc < 0)
        return eg_error_prefix(rc, "writing flash at 0x%08x: ", offset);
    return 0;
}

int eg_session_flash_erase(eg_session *s, uint32_t offset, uint32_t size)
{
    int rc;

    if (size > UINT32_MAX - offset)
        return eg_error_set(EG_EINVAL, "erase region 0x%x+0x%x is beyond 4 GiB", offset, size);
    if (offset % 4096 || size % 4096)
        return eg_error_set(EG_EINVAL, "erase region 0x%x+0x%x is not aligned to 4 KiB sectors",
                            offset, size);
    if (s->stub) {
        uint8_t p[8];
        eg_put_u32le(p, offset);
        eg_put_u32le(p + 4, size);
        rc = eg_session_check(NULL, s, EG_OP_ERASE_REGION, p, 8, 0, 0,
                              timeout_per_mb(EG_ERASE_MS_PER_MB, size));
    } else {
        uint32_t bs = EG_ROM_FLASH_BLOCK;
        rc = flash_begin(s, EG_OP_FLASH_BEGIN, size, (size + bs - 1) / bs, bs, offset);
    }
    if (rc < 0)
        return eg_error_prefix(rc, "erasing 0x%x+0x%x: ", offset, size);
    return 0;
}

int eg_session_flash_erase_all(eg_session *s, uint32_t size)
{
    int rc;

    if (!s->stub)
        return eg_session_flash_erase(s, 0, size);
    rc = eg_session_check(NULL, s, EG_OP_ERASE_FLASH, NULL, 0, 0, 0, EG_CHIP_ERASE_MS);
    if (rc < 0)
        return eg_error_prefix(rc, "erasing the flash: ");
    return 0;
}

int eg_session_flash_md5(uint8_t out[16], eg_session *s, uint32_t offset, uint32_t size)
{
    uint8_t p[16] = {0};
    eg_response r;
    int rc;

    if (size > UINT32_MAX - offset)
        return eg_error_set(EG_EINVAL, "MD5 region 0x%x+0x%x is beyond 4 GiB", offset, size);
    eg_put_u32le(p, offset);
    eg_put_u32le(p + 4, size);
    rc = eg_session_check(&r, s, EG_OP_SPI_FLASH_MD5, p, 16, 0, s->stub ? 16 : 32,
                          timeout_per_mb(EG_MD5_MS_PER_MB, size));
    if (rc < 0)
        return eg_error_prefix(rc, "MD5 of 0x%x+0x%x: ", offset, size);
    if (s->stub) {
        memcpy(out, r.data, 16);
        return 0;
    }
    rc = eg_unhex(out, 16, (const char *)r.data, 32);
    if (rc < 0)
        return eg_error_set(EG_EPROTO, "MD5 of 0x%x+0x%x: the device sent a malformed digest",
                            offset, size);
    return 0;
}

#define EG_READ_PACKET    0x1000
#define EG_READ_IN_FLIGHT 64

/* The stub's READ_FLASH: it streams packets of EG_READ_PACKET bytes, each
 * acknowledged with the total received so far, then the MD5 of all it read. */
static int read_windowed(eg_session *s, uint32_t offset, uint32_t len, eg_read_sink sink, void *ctx,
                         const char *step)
{
    uint8_t p[16], ack[4], md5[16];
    uint32_t got = 0;
    eg_md5_ctx *hash = NULL;
    int rc;

    eg_put_u32le(p, offset);
    eg_put_u32le(p + 4, len);
    eg_put_u32le(p + 8, EG_READ_PACKET);
    eg_put_u32le(p + 12, EG_READ_IN_FLIGHT);
    if ((rc = eg_md5_begin(&hash)) < 0)
        return rc;
    rc = eg_session_check(NULL, s, EG_OP_READ_FLASH, p, 16, 0, 0, EG_TIMEOUT_DEFAULT_MS);
    while (rc == 0 && got < len) {
        const uint8_t *frame;
        size_t flen;
        rc = next_frame(s, now_ms(s) + EG_TIMEOUT_DEFAULT_MS, &frame, &flen);
        if (rc < 0)
            break;
        if (rc == 0) {
            eg_error_set(EG_ETIMEDOUT, "READ_FLASH: no data after %u of %u bytes", got, len);
            rc = with_noise(s, EG_ETIMEDOUT);
            break;
        }
        if (flen > len - got || (flen < EG_READ_PACKET && got + flen < len) || flen == 0) {
            rc = eg_error_set(EG_EPROTO, "READ_FLASH: a packet of %zu bytes after %u of %u bytes",
                              flen, got, len);
            break;
        }
        eg_md5_update(hash, frame, flen);
        if ((rc = sink(ctx, offset + got, frame, flen)) < 0)
            break;
        got += (uint32_t)flen;
        eg_put_u32le(ack, got);
        if ((rc = send_raw(s, ack, 4)) < 0)
            break;
        if (got % 0x10000 == 0 || got == len)
            eg_events_progress(&s->ev, step, got, len);
    }
    if (rc < 0) {
        eg_md5_free(hash);
        return rc;
    }
    rc = eg_md5_end(hash, md5);
    if (rc < 0)
        return rc;
    const uint8_t *frame;
    size_t flen;
    rc = next_frame(s, now_ms(s) + EG_TIMEOUT_DEFAULT_MS, &frame, &flen);
    if (rc <= 0)
        return rc < 0 ? rc : eg_error_set(EG_ETIMEDOUT, "READ_FLASH: no MD5 after the data");
    if (flen != 16)
        return eg_error_set(EG_EPROTO, "READ_FLASH: the MD5 frame has %zu bytes", flen);
    if (memcmp(md5, frame, 16) != 0)
        return eg_error_set(EG_EMISMATCH, "READ_FLASH: the data does not match the MD5 the stub "
                                          "sent (corrupted on the line?)");
    return 0;
}

int eg_session_flash_read_to(eg_session *s, uint32_t offset, uint32_t len, eg_read_sink sink,
                             void *ctx)
{
    char step[64];
    uint32_t done = 0;
    int rc;

    if (len > UINT32_MAX - offset)
        return eg_error_set(EG_EINVAL, "read of 0x%x bytes at 0x%x is beyond 4 GiB", len, offset);
    snprintf(step, sizeof(step), "reading at 0x%08x", offset);
    eg_events_progress(&s->ev, step, 0, len);
    if (s->stub) {
        rc = read_windowed(s, offset, len, sink, ctx, step);
        if (rc < 0)
            return eg_error_prefix(rc, "reading flash at 0x%08x: ", offset);
        return 0;
    }
    while (done < len) {
        uint8_t p[8];
        eg_response r;
        uint32_t n = len - done < EG_READ_SLOW_BLOCK ? len - done : EG_READ_SLOW_BLOCK;
        eg_put_u32le(p, offset + done);
        eg_put_u32le(p + 4, n);
        rc = eg_session_check(&r, s, EG_OP_READ_FLASH_SLOW, p, 8, 0, EG_READ_SLOW_BLOCK,
                              EG_TIMEOUT_DEFAULT_MS);
        if (rc == 0)
            rc = sink(ctx, offset + done, r.data, n);
        if (rc < 0)
            return eg_error_prefix(rc, "reading flash at 0x%08x: ", offset + done);
        done += n;
        if (done % 4096 == 0 || done == len)
            eg_events_progress(&s->ev, step, done, len);
    }
    return 0;
}

static int append_sink(void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
    (void)offset;
    return eg_buf_append(ctx, data, len);
}

int eg_session_flash_read(eg_buf *out, eg_session *s, uint32_t offset, uint32_t len)
{
    int rc = eg_buf_reserve(out, len);
    if (rc < 0)
        return rc;
    return eg_session_flash_read_to(s, offset, len, append_sink, out);
}

int eg_session_flash_end(eg_session *s, int reboot)
{
    uint8_t p[4];
    eg_put_u32le(p, reboot ? 0 : 1);
    return eg_session_check(NULL, s, EG_OP_FLASH_END, p, 4, 0, 0, EG_TIMEOUT_DEFAULT_MS);
}

/* Hands a running stub back to the ROM loader: an empty FLASH_BEGIN, then FLASH_END
 * with "reboot", on which the stub resets the chip by software and the ROM loader, as
 * the chip was strapped, listens again (as espflash's --after no-reset). The stub may
 * reset before its answer is out: a missing answer is no failure. */
static int stub_to_rom(eg_session *s)
{
    uint8_t p[4];
    int rc;

    if ((rc = flash_begin(s, EG_OP_FLASH_BEGIN, 0, 0, EG_STUB_FLASH_BLOCK, 0)) < 0)
        return rc;
    eg_put_u32le(p, 0);
    rc = eg_session_check(NULL, s, EG_OP_FLASH_END, p, 4, 0, 0, EG_STUB_REBOOT_MS);
    if (rc == EG_ETIMEDOUT)
        rc = 0;
    if (rc == 0)
        s->stub = 0;
    return rc;
}

int eg_session_after(eg_session *s, eg_after after)
{
    switch (after) {
    case EG_AFTER_HARD_RESET:
        if (!(s->t->caps & EG_TRANSPORT_CAP_LINES)) {
            eg_events_log(&s->ev, EG_LOG_INFO,
                          "port '%s' has no DTR/RTS lines: reset the board by hand to run the "
                          "application",
                          s->t->name);
            return 0;
        }
        return eg_reset_hard(s->t);
    case EG_AFTER_NO_RESET:
        return s->stub ? stub_to_rom(s) : 0;
    case EG_AFTER_NO_RESET_NO_STUB:
        /* The stub is left at 115200, where the next connection finds it. */
        if (s->stub && s->t->baud != EG_LOADER_BAUD && (s->t->caps & EG_TRANSPORT_CAP_BAUD))
            return eg_session_change_baud(s, EG_LOADER_BAUD, 0);
        return 0;
    case EG_AFTER_WATCHDOG_RESET:
        return eg_error_set(EG_EUNSUPPORTED, "watchdog reset needs the chip layer");
    }
    return 0;
}

int eg_session_mem_write(eg_session *s, const uint8_t *bytes, size_t len, uint32_t addr)
{
    uint8_t p[16];
    eg_buf pkt = EG_BUF_INIT;
    uint32_t blocks = (uint32_t)((len + EG_RAM_BLOCK - 1) / EG_RAM_BLOCK);
    int rc;

    eg_put_u32le(p, (uint32_t)len);
    eg_put_u32le(p + 4, blocks);
    eg_put_u32le(p + 8, EG_RAM_BLOCK);
    eg_put_u32le(p + 12, addr);
    rc = eg_session_check(NULL, s, EG_OP_MEM_BEGIN, p, 16, 0, 0, EG_TIMEOUT_DEFAULT_MS);
    for (uint32_t seq = 0; rc == 0 && seq < blocks; seq++) {
        size_t at = (size_t)seq * EG_RAM_BLOCK;
        size_t n = len - at < EG_RAM_BLOCK ? len - at : EG_RAM_BLOCK;
        eg_buf_clear(&pkt);
        if ((rc = eg_buf_append_u32le(&pkt, (uint32_t)n)) < 0 ||
            (rc = eg_buf_append_u32le(&pkt, seq)) < 0 || (rc = eg_buf_append_u32le(&pkt, 0)) < 0 ||
            (rc = eg_buf_append_u32le(&pkt, 0)) < 0 ||
            (rc = eg_buf_append(&pkt, bytes + at, n)) < 0)
            break;
        rc = eg_session_check(NULL, s, EG_OP_MEM_DATA, pkt.data, pkt.len,
                              eg_codec_checksum(bytes + at, n), 0, EG_TIMEOUT_DEFAULT_MS);
    }
    eg_buf_release(&pkt);
    if (rc < 0)
        return eg_error_prefix(rc, "at 0x%08x: ", addr);
    return 0;
}

int eg_session_mem_run(eg_session *s, uint32_t entry)
{
    uint8_t p[8];
    eg_put_u32le(p, entry == 0);
    eg_put_u32le(p + 4, entry);
    return eg_session_check(NULL, s, EG_OP_MEM_END, p, 8, 0, 0, EG_TIMEOUT_DEFAULT_MS);
}
