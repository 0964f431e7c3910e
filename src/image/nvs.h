/* ESP-IDF NVS partitions, format version 2 (multi-page blobs): the partition image that
 * ESP-IDF's nvs_partition_gen (esp-idf-nvs-partition-gen 0.2.0) writes for a list of
 * namespaced keys, byte for byte, and the CSV that tool reads.
 *
 * The image is a run of 4 KiB pages. A used page starts with a 32-byte header (state,
 * sequence number, version 0xFE, CRC32), then a 32-byte bitmap (2 bits per entry) and
 * 126 entries of 32 bytes. Namespace names live in namespace 0 as u8 entries whose value
 * is the namespace's index (1 to 254, in order of first use). Numbers take one entry;
 * a string takes a header entry and its bytes (with the NUL) in the entries after it, on
 * one page; a blob is cut into chunks that fill the pages, followed by a blob index
 * entry. Pages after the data stay erased (0xFF): at least one, which the app's NVS
 * needs free for its garbage collection.
 *
 * Where nvs_partition_gen is lax this module is stricter: keys and namespaces are checked
 * for length in bytes, duplicate keys, values out of range and strings holding a NUL are
 * refused, and partitions under 0x3000 (the tool's read-only variant) are refused.
 * Differences, all where the tool writes nothing usable: a string of 3969 to 4000 bytes
 * with its NUL (the tool stops with a traceback: it will not fill a page's last entry
 * with a string) is written at the start of a new page, which it fills, as the app's own
 * nvs_set_str would; keys named sta.ssid, sta.pswd and ap.* get no hidden Wi-Fi entries
 * (the tool adds sta.apinfo, sta.pmk, sta.apsw and ap.pmk_info for them). Encrypted
 * partitions and format version 1 are not made. */
#ifndef EG_IMAGE_NVS_H
#define EG_IMAGE_NVS_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define EG_NVS_PAGE_SIZE      4096
#define EG_NVS_MIN_SIZE       0x3000 /* two pages of data and the one kept free */
#define EG_NVS_KEY_MAX        15     /* bytes of a key or a namespace name */
#define EG_NVS_NAMESPACES_MAX 254
#define EG_NVS_STRING_MAX     3999   /* bytes of a string, without its NUL */
#define EG_NVS_BLOB_MAX       508000 /* 127 chunks of 4000 bytes: the app's v2 limit */

typedef enum eg_nvs_type {
    EG_NVS_U8,
    EG_NVS_I8,
    EG_NVS_U16,
    EG_NVS_I16,
    EG_NVS_U32,
    EG_NVS_I32,
    EG_NVS_U64,
    EG_NVS_I64,
    EG_NVS_STRING,
    EG_NVS_BLOB,
} eg_nvs_type;

/* One key. Signed types take their value from i, unsigned ones from u; a string (its
 * bytes without the NUL) and a blob from data and len. An entry whose key is NULL
 * stands for a namespace row of the CSV: it writes the namespace's entry if the
 * namespace is new, and nothing else. The caller owns every pointer. */
typedef struct eg_nvs_entry {
    const char *ns;
    const char *key;
    eg_nvs_type type;
    int64_t i;
    uint64_t u;
    const uint8_t *data;
    size_t len;
} eg_nvs_entry;

/* Parses a type name: "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "string",
 * "blob", and the CSV's blob encodings "binary", "hex2bin", "base64" (all EG_NVS_BLOB;
 * eg_nvs_decode turns hex2bin and base64 text into bytes). EG_EINVAL naming the text
 * and listing the names otherwise. */
int eg_nvs_type_parse(eg_nvs_type *out, const char *name);

/* "u8" ... "string", "blob"; "?" for a value outside the enum. Static storage. */
const char *eg_nvs_type_name(eg_nvs_type type);

/* Decodes len bytes of text in the CSV encoding "hex2bin" (hex digits, either case,
 * after stripping white space at both ends) or "base64" (white space and line breaks
 * allowed) into out, which must be empty. EG_EINVAL with the reason (and out left
 * empty) for text that is not in that encoding or an unknown encoding. */
int eg_nvs_decode(eg_buf *out, const char *encoding, const uint8_t *text, size_t len);

/* Builds the whole NVS partition image of partition_size bytes into out, which must be
 * empty: the entries in the order given, namespaces numbered from 1 in order of first
 * use, the pages laid out as nvs_partition_gen lays them, the rest 0xFF. Nothing is
 * kept of entries. EG_EINVAL with a one-line message, and out left empty, for: a
 * partition size that is not a multiple of 4096 or under 0x3000; a missing or empty
 * namespace or key, or one longer than 15 bytes; more than 254 namespaces; a number out
 * of its type's range; a string longer than 3999 bytes or holding a NUL; a blob longer
 * than 508000 bytes; a key twice in one namespace; data that does not fit, naming the
 * partition size it needs. EG_ENOMEM when memory runs out. */
int eg_nvs_build(eg_buf *out, const eg_nvs_entry *entries, size_t n, uint32_t partition_size);

/* A CSV file of nvs_partition_gen read into entries (namespace rows are entries whose
 * key is NULL); lines[i] is the line entries[i] starts on. The struct owns every string
 * and byte the entries point at. */
typedef struct eg_nvs_csv {
    eg_nvs_entry *entries;
    unsigned *lines;
    size_t n;
    void **owned; /* what eg_nvs_csv_free releases */
    size_t n_owned;
} eg_nvs_csv;

/* Reads nvs_partition_gen's CSV: a header row naming the columns key, type, encoding and
 * value (any order); lines starting with '#' and blank lines skipped; fields quoted as
 * CSV quotes them. Rows are namespace rows (key, "namespace"), data rows (encoding
 * u8...i64 with a decimal value, string, hex2bin, base64 or binary with the value's
 * text) and file rows (encoding string, hex2bin, base64 or binary, the value a path
 * relative to dir, or to the current folder when dir is NULL). name is used in messages
 * ("NAME:LINE: ..."). EG_EINVAL with the line for anything else: an unknown column,
 * type or encoding, a key too long or empty, a data row before any namespace row, a
 * namespace row going back to an earlier namespace (nvs_partition_gen would put the keys
 * after it in the namespace it made last), a number out of range, bad hex or base64, an
 * unterminated quote; EG_ENOTFOUND or EG_EIO naming a file that cannot be read. *out is
 * NULL on error; free it with eg_nvs_csv_free. */
int eg_nvs_parse_csv(eg_nvs_csv **out, const char *text, size_t len, const char *name,
                     const char *dir);

void eg_nvs_csv_free(eg_nvs_csv *csv);

#endif
