#include "core/hash.h"

#include "core/error.h"

#include <openssl/evp.h>

static int digest(const EVP_MD *md, uint8_t *out, const void *data, size_t len)
{
    unsigned outlen = 0;
    if (EVP_Digest(data, len, out, &outlen, md, NULL) != 1)
        return eg_error_set(EG_EIO, "digest computation failed");
    return 0;
}

int eg_md5(uint8_t out[EG_MD5_LEN], const void *data, size_t len)
{
    return digest(EVP_md5(), out, data, len);
}

int eg_sha256(uint8_t out[EG_SHA256_LEN], const void *data, size_t len)
{
    return digest(EVP_sha256(), out, data, len);
}

int eg_md5_begin(eg_md5_ctx **out)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    *out = NULL;
    if (!c || EVP_DigestInit_ex(c, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        return eg_error_set(EG_ENOMEM, "cannot start an MD5");
    }
    *out = (eg_md5_ctx *)c;
    return 0;
}

int eg_md5_update(eg_md5_ctx *c, const void *data, size_t len)
{
    if (EVP_DigestUpdate((EVP_MD_CTX *)c, data, len) != 1)
        return eg_error_set(EG_EIO, "digest computation failed");
    return 0;
}

int eg_md5_end(eg_md5_ctx *c, uint8_t out[EG_MD5_LEN])
{
    unsigned len = 0;
    int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)c, out, &len) == 1;
    EVP_MD_CTX_free((EVP_MD_CTX *)c);
    return ok ? 0 : eg_error_set(EG_EIO, "digest computation failed");
}

void eg_md5_free(eg_md5_ctx *c)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)c);
}

void eg_hex(char *dst, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        dst[2 * i] = digits[bytes[i] >> 4];
        dst[2 * i + 1] = digits[bytes[i] & 15];
    }
    dst[2 * len] = '\0';
}

int eg_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int eg_unhex(uint8_t *out, size_t len, const char *hex, size_t hexlen)
{
    if (hexlen != 2 * len)
        return eg_error_set(EG_EINVAL, "expected %zu hex digits, got %zu", 2 * len, hexlen);
    for (size_t i = 0; i < len; i++) {
        int hi = eg_hex_value(hex[2 * i]), lo = eg_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return eg_error_set(EG_EINVAL, "'%.*s' is not hex", (int)hexlen, hex);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
