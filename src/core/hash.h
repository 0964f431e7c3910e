/* MD5 and SHA-256 (OpenSSL), and hex formatting of digests. */
#ifndef EG_CORE_HASH_H
#define EG_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define EG_MD5_LEN    16
#define EG_SHA256_LEN 32

int eg_md5(uint8_t out[EG_MD5_LEN], const void *data, size_t len);
int eg_sha256(uint8_t out[EG_SHA256_LEN], const void *data, size_t len);

/* MD5 over pieces: begin, update as the bytes come, end (which frees the context;
 * eg_md5_free() frees one not ended, and takes NULL). */
typedef struct eg_md5_ctx eg_md5_ctx;
int eg_md5_begin(eg_md5_ctx **out);
int eg_md5_update(eg_md5_ctx *c, const void *data, size_t len);
int eg_md5_end(eg_md5_ctx *c, uint8_t out[EG_MD5_LEN]);
void eg_md5_free(eg_md5_ctx *c);

/* Writes 2*len lowercase hex digits and a NUL into dst (which holds 2*len+1). */
void eg_hex(char *dst, const uint8_t *bytes, size_t len);

/* Parses exactly 2*len hex digits into out; EG_EINVAL otherwise. */
int eg_unhex(uint8_t *out, size_t len, const char *hex, size_t hexlen);
/* A hex digit's value (either case), -1 for anything else. */
int eg_hex_value(int c);

#endif
