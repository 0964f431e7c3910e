#include "proto/codec.h"

#include "core/error.h"

#include <stdio.h>

uint32_t eg_codec_checksum(const uint8_t *data, size_t len)
{
    uint8_t c = EG_CHECKSUM_SEED;
    for (size_t i = 0; i < len; i++)
        c ^= data[i];
    return c;
}

int eg_codec_request(eg_buf *out, uint8_t op, const uint8_t *data, size_t len, uint32_t chk)
{
    uint8_t hdr[EG_CODEC_HEADER_LEN];
    int rc;

    if (len > 0xFFFF)
        return eg_error_set(EG_EINVAL, "command payload of %zu bytes is too long", len);
    hdr[0] = 0x00;
    hdr[1] = op;
    eg_put_u16le(hdr + 2, (uint16_t)len);
    eg_put_u32le(hdr + 4, chk);
    rc = eg_buf_append(out, hdr, sizeof(hdr));
    if (rc == 0)
        rc = eg_buf_append(out, data, len);
    return rc;
}

int eg_codec_response(eg_response *out, const uint8_t *frame, size_t len)
{
    if (len < EG_CODEC_HEADER_LEN)
        return eg_error_set(EG_EPROTO, "response of %zu bytes is shorter than a header", len);
    if (frame[0] != 0x01)
        return eg_error_set(EG_EPROTO, "frame with direction byte 0x%02x is not a response",
                            frame[0]);
    out->op = frame[1];
    out->val = eg_get_u32le(frame + 4);
    out->data = frame + EG_CODEC_HEADER_LEN;
    out->len = len - EG_CODEC_HEADER_LEN;
    return 0;
}

const char *eg_codec_error_text(uint8_t code)
{
    switch (code) {
    /* ROM loader codes */
    case 0x00:
        return "undefined error";
    case 0x01:
        return "invalid input parameter";
    case 0x02:
        return "out of memory on the chip";
    case 0x03:
        return "failed to send the reply";
    case 0x04:
        return "failed to receive the message";
    case 0x05:
        return "received message is invalid (bad parameters or length)";
    case 0x06:
        return "failed to act on received message";
    case 0x07:
        return "invalid checksum in message";
    case 0x08:
        return "flash write error (read-back did not match)";
    case 0x09:
        return "flash read error";
    case 0x0A:
        return "flash read length error";
    case 0x0B:
        return "deflate error";
    case 0x0C:
        return "deflate Adler-32 error";
    case 0x0D:
        return "deflate parameter error";
    case 0x0E:
        return "invalid RAM binary size";
    case 0x0F:
        return "invalid RAM binary address";
    case 0x64:
        return "invalid parameter";
    case 0x65:
        return "invalid format";
    case 0x66:
        return "description too long";
    case 0x67:
        return "bad encoding description";
    case 0x69:
        return "insufficient storage";
    /* flasher stub codes */
    case 0xC0:
        return "bad data length";
    case 0xC1:
        return "bad data checksum";
    case 0xC2:
        return "bad block size";
    case 0xC3:
        return "invalid command";
    case 0xC4:
        return "SPI operation failed";
    case 0xC5:
        return "SPI unlock failed";
    case 0xC6:
        return "not in flash mode";
    case 0xC7:
        return "inflate error";
    case 0xC8:
        return "not enough data";
    case 0xC9:
        return "too much data";
    case 0xCA:
        return "NAND program failed";
    case 0xCB:
        return "NAND erase failed";
    case 0xFF:
        return "command not implemented";
    default:
        return "unknown error code";
    }
}

int eg_codec_status(const eg_response *r, size_t data_len, uint8_t *err)
{
    const uint8_t *st;

    *err = 0;
    if (r->len >= data_len + 2)
        st = r->data + data_len;
    else if (r->len == 2 || r->len == 4)
        st = r->data; /* a bare status: the command failed before producing its data */
    else
        return EG_EPROTO;
    if (st[0] == 0)
        return r->len >= data_len + 2 ? 0 : EG_EPROTO;
    /* Espressif's newer flasher stub sends its code in the first status byte; the ROM
     * and the older stub send 1 and then the code. */
    *err = st[0] == 1 ? st[1] : st[0];
    return EG_EDEVICE;
}

int eg_codec_check_status(const eg_response *r, size_t data_len, const char *what)
{
    uint8_t err;
    int rc = eg_codec_status(r, data_len, &err);

    if (rc == EG_EDEVICE)
        return eg_error_set(EG_EDEVICE, "%s: device reported %s (error 0x%02x)", what,
                            eg_codec_error_text(err), err);
    if (rc == EG_EPROTO)
        return eg_error_set(EG_EPROTO, "%s: response carries %zu bytes, expected %zu", what, r->len,
                            data_len + 2);
    return 0;
}

int eg_codec_is_unsupported(const eg_response *r)
{
    return r->len >= 2 && r->data[0] != 0 && r->data[1] == EG_ROM_INVALID_RECV;
}

const char *eg_codec_op_name(uint8_t op)
{
    static _Thread_local char unknown[8];
    switch (op) {
    case EG_OP_FLASH_BEGIN:
        return "FLASH_BEGIN";
    case EG_OP_FLASH_DATA:
        return "FLASH_DATA";
    case EG_OP_FLASH_END:
        return "FLASH_END";
    case EG_OP_MEM_BEGIN:
        return "MEM_BEGIN";
    case EG_OP_MEM_END:
        return "MEM_END";
    case EG_OP_MEM_DATA:
        return "MEM_DATA";
    case EG_OP_SYNC:
        return "SYNC";
    case EG_OP_WRITE_REG:
        return "WRITE_REG";
    case EG_OP_READ_REG:
        return "READ_REG";
    case EG_OP_SPI_SET_PARAMS:
        return "SPI_SET_PARAMS";
    case EG_OP_SPI_ATTACH:
        return "SPI_ATTACH";
    case EG_OP_READ_FLASH_SLOW:
        return "READ_FLASH_SLOW";
    case EG_OP_CHANGE_BAUDRATE:
        return "CHANGE_BAUDRATE";
    case EG_OP_FLASH_DEFL_BEGIN:
        return "FLASH_DEFL_BEGIN";
    case EG_OP_FLASH_DEFL_DATA:
        return "FLASH_DEFL_DATA";
    case EG_OP_FLASH_DEFL_END:
        return "FLASH_DEFL_END";
    case EG_OP_SPI_FLASH_MD5:
        return "SPI_FLASH_MD5";
    case EG_OP_GET_SECURITY_INFO:
        return "GET_SECURITY_INFO";
    case EG_OP_ERASE_FLASH:
        return "ERASE_FLASH";
    case EG_OP_ERASE_REGION:
        return "ERASE_REGION";
    case EG_OP_READ_FLASH:
        return "READ_FLASH";
    case EG_OP_RUN_USER_CODE:
        return "RUN_USER_CODE";
    default:
        snprintf(unknown, sizeof(unknown), "0x%02x", op);
        return unknown;
    }
}
