/* ESP-IDF partition tables: the model, CSV and binary codecs, validation, the default
 * table, and the lookups a flash command needs.
 *
 * Rules follow ESP-IDF v5.5's gen_esp32part.py (and its documentation), so a CSV that
 * gen_esp32part turns into a binary gives the same binary here, byte for byte. Where
 * gen_esp32part is lax this module is stricter, for the device's sake:
 *  - names longer than 16 bytes are refused (gen_esp32part cuts them, which can make
 *    two names equal), as are empty names and names a CSV cannot hold (control
 *    characters, ',', '$', a leading '#' or space, bad UTF-8);
 *  - types 0x04-0x3f (reserved for ESP-IDF) and 0xff, and subtype 0xff (the partition
 *    API's "any"), are refused; bootloader and partition_table rows need one of their
 *    known subtypes;
 *  - a size of zero, a partition ending beyond 4 GiB, readonly on anything but a data
 *    partition (the documentation's rule; gen_esp32part checks only otadata and
 *    coredump, and this module also tee_ota), a flag given twice, unknown flag bits in
 *    a binary (gen_esp32part warns and drops them), a non-empty seventh column
 *    (gen_esp32part ignores it), fewer than five columns, an empty table, more than
 *    94 partitions (gen_esp32part fails only when writing the binary), and
 *    `$VARIABLE` in a row (gen_esp32part expands environment variables; this module
 *    reads no environment and says so instead of taking the text literally);
 *  - in a binary: a second MD5 row or an entry after the MD5 row (the ESP-IDF
 *    bootloader refuses both), an MD5 row whose bytes 2-15 are not 0xff, and no
 *    end-of-table marker within the first 0xc00 bytes;
 *  - the offset and size of rows whose place is fixed (the primary bootloader, the
 *    primary partition table, the recovery bootloader, and the size of every
 *    bootloader and partition_table row) may be blank, "N/A", or the fixed value;
 *    gen_esp32part ignores any other text there, this module refuses it;
 *  - numbers: `0x` hex or decimal, each with an optional K or M suffix, as
 *    gen_esp32part reads them, but no signs (gen_esp32part's undocumented negative
 *    size "up to this address"), no octal, binary or `_` separators;
 *  - control characters in a row (tabs between fields are fine), NUL bytes, and lines
 *    longer than 1024 bytes.
 * Like gen_esp32part, rows must come in increasing offset order (a row placed below
 * the previous row's end is refused even when the two do not overlap), and no
 * partition but the primary bootloader and primary partition table may start below
 * the end of the partition table's sector.
 *
 * Messages name where the fault is: "partitions.csv:7: partition 'factory' at
 * 0x10800: an app partition's offset must be aligned to 0x10000" for a CSV (the
 * source name as the caller gave it, and the line), "partitions.bin: entry 3: ..." for
 * a binary (entries counted from 1).
 *
 * CSV text may start with a UTF-8 byte-order mark and end lines with LF, CRLF or CR.
 *
 * A table is immutable once built and may be shared read-only between threads; every
 * function here is reentrant (messages go to the calling thread's error slot). */
#ifndef EG_PARTITION_PARTITION_H
#define EG_PARTITION_PARTITION_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define EG_PARTITION_NAME_MAX       16     /* bytes; the binary needs no NUL when full */
#define EG_PARTITION_TABLE_OFFSET   0x8000 /* ESP-IDF's default place of the table */
#define EG_PARTITION_TABLE_SECTOR   0x1000 /* the table's sector; partitions start after */
#define EG_PARTITION_BIN_LEN        0xC00  /* a binary table, padded with 0xff */
#define EG_PARTITION_ENTRY_LEN      32
#define EG_PARTITION_MAX            94 /* entries, the MD5 row and the end marker fit */
#define EG_PARTITION_OFFSET_UNKNOWN 0xFFFFFFFFu
/* Largest factory app of the default table (espflash's MAX_PARTITION_SIZE). */
#define EG_PARTITION_DEFAULT_APP_MAX (16u * 1000u * 1024u)

enum {
    EG_PARTITION_TYPE_APP = 0x00,
    EG_PARTITION_TYPE_DATA = 0x01,
    EG_PARTITION_TYPE_BOOTLOADER = 0x02,
    EG_PARTITION_TYPE_PARTITION_TABLE = 0x03,
    EG_PARTITION_TYPE_CUSTOM_MIN = 0x40,
    EG_PARTITION_TYPE_CUSTOM_MAX = 0xFE,
};

enum {
    /* app */
    EG_PARTITION_SUBTYPE_FACTORY = 0x00,
    EG_PARTITION_SUBTYPE_OTA_0 = 0x10, /* ota_0 .. ota_15 are 0x10 .. 0x1f */
    EG_PARTITION_SUBTYPE_TEST = 0x20,
    EG_PARTITION_SUBTYPE_TEE_0 = 0x30, /* tee_0, tee_1 */
    /* data */
    EG_PARTITION_SUBTYPE_OTADATA = 0x00,
    EG_PARTITION_SUBTYPE_PHY = 0x01,
    EG_PARTITION_SUBTYPE_NVS = 0x02,
    EG_PARTITION_SUBTYPE_COREDUMP = 0x03,
    EG_PARTITION_SUBTYPE_NVS_KEYS = 0x04,
    EG_PARTITION_SUBTYPE_EFUSE = 0x05,
    EG_PARTITION_SUBTYPE_UNDEFINED = 0x06,
    EG_PARTITION_SUBTYPE_ESPHTTPD = 0x80,
    EG_PARTITION_SUBTYPE_FAT = 0x81,
    EG_PARTITION_SUBTYPE_SPIFFS = 0x82,
    EG_PARTITION_SUBTYPE_LITTLEFS = 0x83,
    EG_PARTITION_SUBTYPE_TEE_OTA = 0x90,
    /* bootloader and partition_table */
    EG_PARTITION_SUBTYPE_PRIMARY = 0x00,
    EG_PARTITION_SUBTYPE_BOOT_OTA = 0x01,
    EG_PARTITION_SUBTYPE_RECOVERY = 0x02, /* bootloader only */
    /* in lookups: any subtype */
    EG_PARTITION_SUBTYPE_ANY = 0xFF,
};

#define EG_PARTITION_FLAG_ENCRYPTED 0x1u
#define EG_PARTITION_FLAG_READONLY  0x2u

typedef struct eg_partition {
    char name[EG_PARTITION_NAME_MAX + 1]; /* NUL-terminated */
    uint8_t type, subtype;
    uint32_t offset, size;
    uint32_t flags; /* EG_PARTITION_FLAG_* */
    unsigned line;  /* the CSV line it came from; 0 for a binary or the default table */
} eg_partition;

typedef struct eg_partition_table eg_partition_table;

/* Where the table goes and what it must fit. */
typedef struct eg_partition_opts {
    uint32_t table_offset; /* EG_PARTITION_TABLE_OFFSET unless the project moved it */
    uint32_t flash_size;   /* bytes; 0 = unknown, not checked */
    /* The chip's second-stage bootloader offset (eg_chip.bootloader_offset) and the
     * recovery bootloader's: needed only by bootloader rows; EG_PARTITION_OFFSET_UNKNOWN
     * when not known. */
    uint32_t bootloader_offset;
    uint32_t recovery_offset;
} eg_partition_opts;

/* Table at 0x8000, flash size and bootloader offsets unknown. */
void eg_partition_opts_default(eg_partition_opts *out);

/* Parses CSV text (len bytes, need not be NUL-terminated) and validates the table.
 * source names the text in messages ("partitions.csv"), NULL for none; opts NULL means
 * the defaults. *out is the table, or NULL on error (EG_EINVAL, EG_ENOMEM). */
int eg_partition_parse_csv(eg_partition_table **out, const char *text, size_t len,
                           const char *source, const eg_partition_opts *opts);

/* Parses a binary table (what gen_esp32part writes, or a flash sector read back: bytes
 * after the end-of-table marker are ignored) and validates it. A table without the MD5
 * row is accepted; a wrong MD5 is EG_EMISMATCH, other faults EG_EINVAL. */
int eg_partition_parse_bin(eg_partition_table **out, const uint8_t *data, size_t len,
                           const char *source, const eg_partition_opts *opts);

/* Reads path and parses it as a binary when it starts with an entry's magic (AA 50),
 * else as CSV (a UTF-8 byte-order mark is skipped), as gen_esp32part decides. */
int eg_partition_load(eg_partition_table **out, const char *path, const eg_partition_opts *opts);

/* ESP-IDF's "single factory app, no OTA" layout placed after the table the way
 * partitions_singleapp.csv is (nvs 0x6000, phy_init 0x1000, then factory at the next
 * 64 KiB boundary: 0x9000, 0xf000, 0x10000 for a table at 0x8000), with the factory app
 * sized as espflash sizes it: the rest of the flash, at most
 * EG_PARTITION_DEFAULT_APP_MAX (ESP-IDF's CSV says 1M whatever the flash; espflash
 * fills the flash, which is what cargo-espflash users get). opts->flash_size must be
 * known and leave room for the app (EG_EINVAL otherwise). */
int eg_partition_default(eg_partition_table **out, const eg_partition_opts *opts);

/* Frees t; NULL is a no-op. */
void eg_partition_table_free(eg_partition_table *t);

/* The entries in table order (CSV row order, binary order); *count gets their number.
 * Valid as long as t. */
const eg_partition *eg_partition_entries(const eg_partition_table *t, size_t *count);

/* Appends the 0xc00-byte binary (entries, MD5 row, 0xff padding) to out. On error out
 * keeps its previous length. */
int eg_partition_to_bin(eg_buf *out, const eg_partition_table *t);

/* Appends CSV text as gen_esp32part writes it when converting a binary: two comment
 * lines, then `name,type,subtype,0xoffset,size,flags` rows, sizes as 24K or 1M where
 * exact, else hex. The text is NUL-terminated after out->len (the NUL not counted).
 * On error out keeps its previous length. */
int eg_partition_to_csv(eg_buf *out, const eg_partition_table *t);

/* Appends an aligned table for people (Name, Type, SubType, Offset, Size, Flags; sizes
 * as "24KB", "1MB"), one line per partition after a header line, NUL-terminated like
 * eg_partition_to_csv. */
int eg_partition_render(eg_buf *out, const eg_partition_table *t);

/* The partition named name (exact match), or NULL. */
const eg_partition *eg_partition_find_name(const eg_partition_table *t, const char *name);

/* The first partition of this type and subtype (EG_PARTITION_SUBTYPE_ANY: any), or
 * NULL. */
const eg_partition *eg_partition_find_type(const eg_partition_table *t, uint8_t type,
                                           uint8_t subtype);

/* The app partition to flash an app to: the one named name when name is not NULL
 * (EG_ENOTFOUND when there is none, EG_EINVAL when it is not an app partition); else
 * factory, else ota_0, else the first app partition that is not a TEE slot
 * (EG_ENOTFOUND when there is none). *out is NULL on error. */
int eg_partition_app_target(const eg_partition **out, const eg_partition_table *t,
                            const char *name);

/* The data partitions whose subtype is in list, a comma-separated list of data subtype
 * names or numbers ("ota,nvs", "fat, 0x99"), in table order, each once. *out is an
 * array the caller frees with free(); *count its length. No match is not an error
 * (*out NULL, *count 0); an unknown name is (EG_EINVAL). */
int eg_partition_select_data(const eg_partition ***out, size_t *count, const eg_partition_table *t,
                             const char *list);

/* The partitions names lists ("nvs, otadata": comma-separated, spaces around a name
 * and empty items ignored), in the list's order: an array the caller frees with
 * free(), *count its length. EG_ENOTFOUND naming the first name the table does not
 * have; every name is looked up before anything is returned. */
int eg_partition_select_names(const eg_partition ***out, size_t *count, const eg_partition_table *t,
                              const char *names);

/* Parses a type as the CSV holds it: a name (any case) or a number (0x00-0x03 or
 * 0x40-0xfe). */
int eg_partition_type_parse(uint8_t *out, const char *s);

/* Parses a subtype of type: a name the type knows (any case) or a number (0x00-0xfe;
 * bootloader and partition_table only their known values). Empty is undefined (0x06)
 * except for app, bootloader and partition_table rows, which need one. */
int eg_partition_subtype_parse(uint8_t *out, uint8_t type, const char *s);

/* "app", "data", "bootloader", "partition_table", or NULL for other types. */
const char *eg_partition_type_name(uint8_t type);

/* The subtype's name for that type ("factory", "ota_3", "nvs"), or NULL. */
const char *eg_partition_subtype_name(uint8_t type, uint8_t subtype);

#endif
