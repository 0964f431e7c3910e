/* The serial loader's command packets (client side): request encoding, response
 * decoding, status bytes and error-code messages. Not used by espsim, which decodes
 * requests with its own code. */
#ifndef EG_PROTO_CODEC_H
#define EG_PROTO_CODEC_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

enum eg_op {
    EG_OP_FLASH_BEGIN = 0x02,
    EG_OP_FLASH_DATA = 0x03,
    EG_OP_FLASH_END = 0x04,
    EG_OP_MEM_BEGIN = 0x05,
    EG_OP_MEM_END = 0x06,
    EG_OP_MEM_DATA = 0x07,
    EG_OP_SYNC = 0x08,
    EG_OP_WRITE_REG = 0x09,
    EG_OP_READ_REG = 0x0A,
    EG_OP_SPI_SET_PARAMS = 0x0B,
    EG_OP_SPI_ATTACH = 0x0D,
    EG_OP_READ_FLASH_SLOW = 0x0E,
    EG_OP_CHANGE_BAUDRATE = 0x0F,
    EG_OP_FLASH_DEFL_BEGIN = 0x10,
    EG_OP_FLASH_DEFL_DATA = 0x11,
    EG_OP_FLASH_DEFL_END = 0x12,
    EG_OP_SPI_FLASH_MD5 = 0x13,
    EG_OP_GET_SECURITY_INFO = 0x14,
    EG_OP_ERASE_FLASH = 0xD0,
    EG_OP_ERASE_REGION = 0xD1,
    EG_OP_READ_FLASH = 0xD2,
    EG_OP_RUN_USER_CODE = 0xD3,
};

#define EG_CHECKSUM_SEED    0xEF
#define EG_ROM_STATUS_LEN   4
#define EG_STUB_STATUS_LEN  2
#define EG_ROM_INVALID_RECV 0x05
#define EG_CODEC_HEADER_LEN 8

/* The loader's XOR checksum of data, seeded with 0xEF. */
uint32_t eg_codec_checksum(const uint8_t *data, size_t len);

/* Appends the unframed request (direction 0, op, length, checksum, data) to out. */
int eg_codec_request(eg_buf *out, uint8_t op, const uint8_t *data, size_t len, uint32_t chk);

/* A decoded response; data points into the frame it was parsed from. */
typedef struct eg_response {
    uint8_t op;
    uint32_t val;
    const uint8_t *data; /* everything after the 8-byte header, status bytes included */
    size_t len;
} eg_response;

/* Decodes a frame as a response; EG_EPROTO when it is shorter than a header or its
 * direction byte is not 1. */
int eg_codec_response(eg_response *out, const uint8_t *frame, size_t len);

/* Reads the status bytes that follow data_len bytes of payload (or a bare status, when
 * the command failed before producing its data): 0 for success, EG_EDEVICE with the
 * device's error code in *err, EG_EPROTO when the response has no place for them. Sets
 * no message. */
int eg_codec_status(const eg_response *r, size_t data_len, uint8_t *err);

/* Checks the status bytes that follow data_len bytes of payload. Returns 0 when the
 * status says success, EG_EDEVICE (message: what the device reported, with the step
 * named by what) on failure, EG_EPROTO when the response is too short. */
int eg_codec_check_status(const eg_response *r, size_t data_len, const char *what);

/* True when r is the ROM's answer to a command it does not know. */
int eg_codec_is_unsupported(const eg_response *r);

/* Messages for error codes; never NULL. */
const char *eg_codec_error_text(uint8_t code);
/* The opcode's name ("FLASH_BEGIN") or "0x??". Not thread-safe for unknown codes. */
const char *eg_codec_op_name(uint8_t op);

#endif
