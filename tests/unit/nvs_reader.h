/* An NVS partition reader for the tests, written from the format as ESP-IDF's
 * nvs_flash documents and reads it, sharing nothing with src/image/nvs.c: it walks
 * every page and entry, checks every CRC32, state, span, bitmap and blob index, and
 * answers the app's nvs_get_*() calls.
 *
 * Opening refuses (NULL, the reason in err) anything an app could not read back as
 * written: a page header with a bad CRC32, state or version, sequence numbers out of
 * order, an entry header or data with a bad CRC32, a span past the page or over entries
 * not marked written, written entries after an empty one, a type the format does not
 * have, a key without its NUL, an item in a namespace no namespace entry names, a key
 * twice, a blob index whose chunks are missing or do not add up to its size, a chunk no
 * index owns, bytes written in erased places, and a partition without a free page. */
#ifndef EG_TEST_NVS_READER_H
#define EG_TEST_NVS_READER_H

#include <stddef.h>
#include <stdint.h>

/* What the app's nvs_get_*() return (ESP-IDF's esp_err_t values). */
#define NVSR_OK             0
#define NVSR_NOT_FOUND      0x1102 /* ESP_ERR_NVS_NOT_FOUND */
#define NVSR_INVALID_LENGTH 0x110c /* ESP_ERR_NVS_INVALID_LENGTH */

/* Item types on flash. */
#define NVSR_U8        0x01
#define NVSR_I8        0x11
#define NVSR_U16       0x02
#define NVSR_I16       0x12
#define NVSR_U32       0x04
#define NVSR_I32       0x14
#define NVSR_U64       0x08
#define NVSR_I64       0x18
#define NVSR_STR       0x21
#define NVSR_BLOB_DATA 0x42
#define NVSR_BLOB_IDX  0x48

typedef struct nvsr nvsr;

/* Where an item is and what its header says. */
typedef struct nvsr_item {
    unsigned page, entry; /* page index in the partition, entry index on the page */
    uint8_t ns, type, span, chunk;
    char key[17];
    uint32_t size; /* strings and blob chunks: data size; blob index: blob size */
    uint8_t chunk_count, chunk_start;
} nvsr_item;

/* Reads and checks an image (copied). NULL with the reason in err on any fault. */
nvsr *nvsr_open(const uint8_t *image, size_t len, char *err, size_t errlen);
void nvsr_free(nvsr *r);

/* Page states as read: "E" empty, "A" active, "F" full, one letter per page. */
const char *nvsr_states(const nvsr *r);
/* Entries written on page p (0 for an empty page). */
unsigned nvsr_used(const nvsr *r, unsigned page);
/* The number of namespaces, and every item in flash order. */
unsigned nvsr_namespaces(const nvsr *r);
size_t nvsr_items(const nvsr *r, const nvsr_item **out);
/* The item of a namespace (by name; "" for namespace 0) and key, of type type and chunk
 * index chunk (0xFF for anything but blob data); NULL if there is none. */
const nvsr_item *nvsr_find(const nvsr *r, const char *ns, const char *key, uint8_t type,
                           uint8_t chunk);

/* The app's API: NVSR_OK, NVSR_NOT_FOUND (no such namespace, key, or a key of another
 * type). get_str and get_blob as nvs_get_str/nvs_get_blob: with buf NULL, *len gets the
 * size (a string's with its NUL); a buffer smaller than that is NVSR_INVALID_LENGTH. */
int nvsr_get_u8(const nvsr *r, const char *ns, const char *key, uint8_t *out);
int nvsr_get_i8(const nvsr *r, const char *ns, const char *key, int8_t *out);
int nvsr_get_u16(const nvsr *r, const char *ns, const char *key, uint16_t *out);
int nvsr_get_i16(const nvsr *r, const char *ns, const char *key, int16_t *out);
int nvsr_get_u32(const nvsr *r, const char *ns, const char *key, uint32_t *out);
int nvsr_get_i32(const nvsr *r, const char *ns, const char *key, int32_t *out);
int nvsr_get_u64(const nvsr *r, const char *ns, const char *key, uint64_t *out);
int nvsr_get_i64(const nvsr *r, const char *ns, const char *key, int64_t *out);
int nvsr_get_str(const nvsr *r, const char *ns, const char *key, char *buf, size_t *len);
int nvsr_get_blob(const nvsr *r, const char *ns, const char *key, void *buf, size_t *len);

#endif
