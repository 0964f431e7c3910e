#define _POSIX_C_SOURCE 200809L
/* nvs_check IMAGE OFFSET SIZE EXPECTED.csv: reads the NVS partition at OFFSET (SIZE
 * bytes) of a flash image with the tests' own reader (nvs_reader.c, which shares
 * nothing with espgang) and checks, through the app's nvs_get_*() calls, that it holds
 * exactly the keys of EXPECTED.csv, in nvs_partition_gen's CSV form:
 *
 *   key,type,encoding,value
 *   factory,namespace,,
 *   rev,data,u8,3
 *   sn,data,string,WX-0001
 *   cert,file,binary,certs/240ac4000001.pem
 *
 * (no quoting; a file row's path relative to the current folder). Prints one line per
 * mismatch and "N keys ok"; exits 0 when all match. */
#include "nvs_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails;

static void mismatch(const char *ns, const char *key, const char *what)
{
    printf("%s.%s: %s\n", ns, key, what);
    fails++;
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n + 1)) && fread(data, 1, (size_t)n, f) == (size_t)n)
        *len = (size_t)n;
    else {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

static void check_number(const nvsr *r, const char *ns, const char *key, const char *type,
                         const char *value)
{
    int rc = NVSR_NOT_FOUND;
    char got[32] = "";

    if (!strcmp(type, "u8")) {
        uint8_t v;
        if ((rc = nvsr_get_u8(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%u", v);
    } else if (!strcmp(type, "i8")) {
        int8_t v;
        if ((rc = nvsr_get_i8(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%d", v);
    } else if (!strcmp(type, "u16")) {
        uint16_t v;
        if ((rc = nvsr_get_u16(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%u", v);
    } else if (!strcmp(type, "i16")) {
        int16_t v;
        if ((rc = nvsr_get_i16(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%d", v);
    } else if (!strcmp(type, "u32")) {
        uint32_t v;
        if ((rc = nvsr_get_u32(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%" PRIu32, v);
    } else if (!strcmp(type, "i32")) {
        int32_t v;
        if ((rc = nvsr_get_i32(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%" PRId32, v);
    } else if (!strcmp(type, "u64")) {
        uint64_t v;
        if ((rc = nvsr_get_u64(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%" PRIu64, v);
    } else if (!strcmp(type, "i64")) {
        int64_t v;
        if ((rc = nvsr_get_i64(r, ns, key, &v)) == NVSR_OK)
            snprintf(got, sizeof(got), "%" PRId64, v);
    } else {
        mismatch(ns, key, "unknown type in the CSV");
        return;
    }
    if (rc != NVSR_OK)
        mismatch(ns, key, "not found as that type");
    else if (strcmp(got, value) != 0) {
        char what[96];
        snprintf(what, sizeof(what), "holds %s, expected %s", got, value);
        mismatch(ns, key, what);
    }
}

/* A string (data) or a blob or string (file) against the bytes expected. */
static void check_bytes(const nvsr *r, const char *ns, const char *key, int string,
                        const uint8_t *want, size_t want_len)
{
    size_t len = 0;
    char *buf;
    int rc = string ? nvsr_get_str(r, ns, key, NULL, &len) : nvsr_get_blob(r, ns, key, NULL, &len);

    if (rc != NVSR_OK) {
        mismatch(ns, key, string ? "no such string" : "no such blob");
        return;
    }
    buf = malloc(len + 1);
    rc = string ? nvsr_get_str(r, ns, key, buf, &len) : nvsr_get_blob(r, ns, key, buf, &len);
    if (rc != NVSR_OK || len != want_len + (string ? 1 : 0) || memcmp(buf, want, want_len) != 0)
        mismatch(ns, key, "holds other bytes");
    free(buf);
}

int main(int argc, char **argv)
{
    size_t len = 0, csv_len = 0, keys = 0, items = 0;
    uint8_t *image, *csv;
    char err[256], ns[64] = "";
    nvsr *r;

    if (argc != 5) {
        fprintf(stderr, "usage: nvs_check IMAGE OFFSET SIZE EXPECTED.csv\n");
        return 2;
    }
    unsigned long off = strtoul(argv[2], NULL, 0), size = strtoul(argv[3], NULL, 0);
    if (!(image = read_all(argv[1], &len)) || off + size > len ||
        !(csv = read_all(argv[4], &csv_len))) {
        fprintf(stderr, "nvs_check: cannot read the image or the CSV\n");
        return 2;
    }
    if (!(r = nvsr_open(image + off, size, err, sizeof(err)))) {
        printf("not a readable NVS partition: %s\n", err);
        return 1;
    }
    csv[csv_len] = '\0';
    char *save = NULL;
    for (char *line = strtok_r((char *)csv, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {0}, *s = line;
        for (int i = 0; i < 4; i++) {
            f[i] = s;
            s = s ? strchr(s, ',') : NULL;
            if (s)
                *s++ = '\0';
        }
        if (!f[1] || !strcmp(f[0], "key"))
            continue;
        if (!strcmp(f[1], "namespace")) {
            snprintf(ns, sizeof(ns), "%s", f[0]);
            continue;
        }
        keys++;
        if (!strcmp(f[1], "data") && strcmp(f[2], "string") != 0) {
            check_number(r, ns, f[0], f[2], f[3] ? f[3] : "");
        } else if (!strcmp(f[1], "data")) {
            check_bytes(r, ns, f[0], 1, (const uint8_t *)f[3], strlen(f[3]));
        } else {
            size_t flen = 0;
            uint8_t *bytes = read_all(f[3], &flen);
            if (!bytes) {
                mismatch(ns, f[0], "the expected file cannot be read");
                continue;
            }
            check_bytes(r, ns, f[0], !strcmp(f[2], "string"), bytes, flen);
            free(bytes);
        }
    }
    /* Nothing else: every item is a namespace name, a key above, or a blob's chunk. */
    const nvsr_item *it;
    size_t n = nvsr_items(r, &it);
    for (size_t i = 0; i < n; i++)
        items += it[i].ns != 0 && it[i].type != NVSR_BLOB_DATA;
    if (items != keys) {
        printf("the partition holds %zu keys, the CSV %zu\n", items, keys);
        fails++;
    }
    printf("%zu keys %s\n", keys, fails ? "checked, some differ" : "ok");
    nvsr_free(r);
    free(image);
    free(csv);
    return fails ? 1 : 0;
}
