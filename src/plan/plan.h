/* The plan: everything about a flashing job that does not depend on the board, built
 * once before any board is touched and then shared read-only by every worker.
 *
 * It holds the regions to write (each one's bytes, MD5, SHA-256 and its zlib stream
 * cut into the blocks the loader takes, so workers compress nothing), what to erase,
 * what the board must be (chip, revision range, least flash size, security), the
 * policy (erase, verify, retries, deadlines, reset), and the flasher stubs. All
 * patching (the bootloader's flash settings) happens here, never on a worker's data.
 *
 * Building: eg_plan_new(), then the layout functions and eg_plan_add_*(), then
 * eg_plan_finish(), after which the plan is immutable. Free it with eg_plan_free(). */
#ifndef EG_PLAN_PLAN_H
#define EG_PLAN_PLAN_H

#include "chip/chip.h"
#include "core/buf.h"
#include "core/deflate.h"
#include "core/events.h"
#include "core/program.h"
#include "image/elf.h"
#include "image/idf_build.h"
#include "image/image.h"
#include "partition/partition.h"
#include "plan/policy.h"

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

/* zlib level 6, by measurement on a 1 MiB application-like image (README, "Speed"):
 * level 9 saves 0.6% more (2.5 KB, 0.03 s of wire at 921600 baud) for 276 ms more CPU,
 * a loss from 921600 baud up and break-even at 115200; level 1 sends 9% more bytes
 * (0.4 s at 921600) to save 43 ms. */
#define EG_PLAN_DEFLATE_LEVEL 6
#define EG_PLAN_NO_IMAGE      (-1) /* a region that is not an app image */

typedef struct eg_plan_region {
    uint32_t addr, len;
    char *label; /* a file's path, "bootloader", "partition table" */
    uint8_t *data;
    uint8_t md5[16], sha256[32];
    char md5_hex[33], sha256_hex[65];
    eg_zblocks z; /* the compressed blocks (none when the plan writes plain blocks) */
    /* Erased before writing when the policy says "regions": the whole partition the
     * region sits in, else its sectors. */
    uint32_t erase_addr, erase_len;
    /* An app image (or bootloader): the chip id in its header, and for the app the
     * revisions it accepts; image_chip_id is EG_PLAN_NO_IMAGE otherwise. */
    int image_chip_id;
    int is_app;
    uint16_t min_rev_full, max_rev_full;
    int per_device; /* one board's own data (eg_plan_for_device) */
    /* The app's partition (name and size), for what flash says; "" and 0 when the
     * region is no app or its partition is not known. */
    char part_name[17];
    uint32_t part_size;
} eg_plan_region;

typedef struct eg_plan_erase {
    uint32_t addr, size;
    char *label; /* "partition 'nvs'", "0x9000+0x6000" */
} eg_plan_erase;

/* A flasher stub file, loaded. */
typedef struct eg_plan_stub {
    char name[32]; /* "esp32c3", "esp32p4-rev1" */
    eg_buf text, data;
    eg_ram_segment segs[2];
    eg_ram_program prog;
} eg_plan_stub;

/* The boot check: after the final reset the board's console (at baud) must print a
 * line matching expect within timeout_ms, and no line matching fail before it. */
typedef struct eg_plan_boot {
    int enabled;
    uint32_t baud;
    unsigned timeout_ms;
    char *expect, *fail; /* POSIX extended regular expressions; fail NULL: none */
    regex_t re_expect, re_fail;
} eg_plan_boot;

typedef struct eg_plan {
    char *name;              /* the profile's name, or the command's */
    const eg_chip *chip;     /* every board must be this chip; NULL: any */
    const char *chip_from;   /* where that comes from, for messages ("given with --chip") */
    char rev_what[256];      /* what sets the revisions, for messages ("the app") */
    uint16_t min_rev_full;   /* boards below are refused (0: any) */
    uint16_t max_rev_full;   /* boards above are refused (0xFFFF: any) */
    int ignore_revision;     /* --force: the revision is not checked */
    uint32_t flash_size;     /* the least flash a board must have (0: none) */
    int allow_unknown_flash; /* a flash of unknown size is fine (info, RAM loads) */
    eg_plan_region *regions; /* in address order */
    size_t n_regions;
    eg_plan_erase *erases; /* erased first, in this order (erase-region, erase-parts) */
    size_t n_erases;
    int erase_all; /* erase-flash */
    /* Partitions to erase by name from the table the board holds (erase-parts without
     * a table): read at table_offset when the job runs. */
    char *erase_names;
    uint32_t table_offset;
    /* No bootloader is written: the board's own (at the chip's bootloader offset, up
     * to table_offset) must be a valid image for its chip. */
    int keep_board_bootloader;
    eg_ram_program ram; /* flash --ram: loaded and run (n_segs > 0); flash untouched */
    eg_policy policy;
    eg_plan_boot boot;
    eg_events ev;        /* where building notes go */
    int level;           /* zlib level of the blocks; -1: plain FLASH_DATA */
    int no_stub;         /* stay with the ROM loader */
    uint32_t block_size; /* the blocks are cut for this loader */
    char *stub_dir;
    eg_plan_stub *stubs; /* for chip (all its variants); none when chip is NULL */
    size_t n_stubs;
    /* Owned bits: the RAM program's segments and the table erase_names refers to. */
    eg_ram_segment *ram_segs;
    eg_partition_table *table;
    int finished;
    /* A board's own plan (eg_plan_for_device): everything is base's but the regions. */
    const struct eg_plan *base;
} eg_plan;

/* What a plan is made with before its layout: the chip (NULL: any), the loader it is
 * for (no_stub, stub_dir), the compression level (-1: plain), the policy. */
typedef struct eg_plan_opts {
    const char *name;
    const eg_chip *chip;
    int no_stub;
    const char *stub_dir; /* NULL: the stubs built in */
    int level;
    const eg_policy *policy; /* NULL: eg_policy_default() */
    eg_events ev;            /* notes while building (a signed bootloader left as it is) */
} eg_plan_opts;

int eg_plan_new(eg_plan **out, const eg_plan_opts *o);
void eg_plan_free(eg_plan *p);

/* One board's plan: base (finished, shared, left as it is) with one more region of the
 * board's own data (its NVS partition), which takes data's bytes. The region must not
 * overlap base's (EG_EINVAL naming both). Freed with eg_plan_free(), which frees only
 * what is the board's. */
int eg_plan_for_device(eg_plan **out, const eg_plan *base, uint32_t addr, const char *label,
                       eg_buf *data);

/* Sets the boot check (before the plan is finished). EG_EINVAL saying what is wrong
 * with a pattern. */
int eg_plan_set_boot(eg_plan *p, uint32_t baud, unsigned timeout_ms, const char *expect,
                     const char *fail);

/* Compiles a boot check pattern into re (POSIX extended, case-sensitive): 0, or
 * EG_EINVAL with regcomp's reason. */
int eg_plan_boot_regex(regex_t *re, const char *pattern);

/* Adds a region of bytes at addr (4 KiB aligned), taking data over (it is left
 * empty, also on error). */
int eg_plan_add_region(eg_plan *p, uint32_t addr, const char *label, eg_buf *data);

/* Adds an erase of [addr, addr+size) (4 KiB aligned) done before any write. */
int eg_plan_add_erase(eg_plan *p, uint32_t addr, uint32_t size, const char *label);

/* An app's layout: the bootloader (patched with the flash settings), the partition
 * table and the app image in its partition. */
typedef struct eg_plan_app {
    uint32_t flash_size; /* for the default table and the least flash a board needs */
    /* The app: an ELF (converted with opts), or an app image's bytes. */
    const eg_elf *elf;
    const uint8_t *image;
    size_t image_len;
    const char *app_path; /* for labels and messages */
    eg_image_opts opts;   /* flash mode/size/frequency codes; revisions; descriptor */
    /* Which header fields the bootloader gets (-1: keep its own). */
    int boot_mode, boot_size, boot_freq;
    const uint8_t *bootloader; /* NULL: keep the board's (it must be valid) */
    size_t bootloader_len;
    const char *bootloader_path;
    const uint8_t *table; /* CSV or binary; NULL: ESP-IDF's default single-app table */
    size_t table_len;
    const char *table_path;
    uint32_t table_offset;
    const char *target_app_partition; /* NULL: factory, else ota_0 */
} eg_plan_app;

/* Lays an app out for p->chip (which must be set). Checks that the bootloader is a
 * valid image for the chip that ends before the table, that the table parses and
 * fits flash_size, that the app fits its partition, and that nothing overlaps. The
 * app's revision range and flash size become the plan's. */
int eg_plan_layout_app(eg_plan *p, const eg_plan_app *app);

/* The files an ESP-IDF build lists, at their offsets, with the bootloader's flash
 * settings patched (mode, size code, freq code; -1 keeps): checks every image against
 * p->chip (when set), the table and that the app sits at an app partition that holds
 * it, and the bootloader's offset. Takes the files' bytes from build. */
int eg_plan_layout_idf(eg_plan *p, eg_idf_build *build, uint32_t table_offset, int mode, int size,
                       int freq);

/* Erase partitions of the plan's table (names comma-separated, or the data partitions
 * of the subtypes data_types lists); every name is looked up now. Needs a layout. */
int eg_plan_erase_parts(eg_plan *p, const char *names, const char *data_types);

/* Erase partitions by name from the board's own table, read when the job runs (or
 * from table when given, which the plan then owns). */
int eg_plan_erase_parts_of(eg_plan *p, const char *names, uint32_t table_offset,
                           eg_partition_table *table);

/* A RAM-only ELF to load and run (flash --ram): refused when a section is mapped from
 * flash or the ELF is for another CPU. */
int eg_plan_ram(eg_plan *p, const eg_elf *elf, const char *path);

/* Checks overlaps, computes every region's MD5 and SHA-256 and its blocks, the
 * regions' erase extents, loads the stubs for the plan's chip. Then the plan is
 * immutable. */
int eg_plan_finish(eg_plan *p);

/* The flasher stub for chip at major revision rev_major: from the plan when it loaded
 * it, else loaded into *spare (released by the caller with eg_plan_stub_release()). */
int eg_plan_stub_for(const eg_ram_program **out, const eg_plan *p, const eg_chip *chip,
                     unsigned rev_major, eg_plan_stub *spare);
void eg_plan_stub_release(eg_plan_stub *s);

/* Loads the stub NAME: the file dir/NAME.json, or with dir NULL the one built in
 * (esptool-js's format: entry, text, text_start, data, data_start, base64).
 * EG_ENOTFOUND naming --no-stub and --stub-dir when absent. */
int eg_plan_stub_load(eg_plan_stub *out, const char *dir, const char *name);

/* The largest region end, or 0. */
uint32_t eg_plan_end(const eg_plan *p);

/* The bytes the regions make from address 0 (0xFF between), padded to pad_to. */
int eg_plan_merge(eg_buf *out, const eg_plan *p, uint32_t pad_to);

#endif
