/* One function per subcommand, each in its own cmd_<name>.c. */
#ifndef EG_CLI_CMDS_H
#define EG_CLI_CMDS_H

#include "cli/cli.h"
#include "image/elf.h"
#include "image/image.h"
#include "image/region.h"
#include "partition/partition.h"

int cmd_list_ports(const eg_command *cmd, eg_args *a);
int cmd_board_info(const eg_command *cmd, eg_args *a);
int cmd_checksum_md5(const eg_command *cmd, eg_args *a);
int cmd_read_flash(const eg_command *cmd, eg_args *a);
int cmd_write_bin(const eg_command *cmd, eg_args *a);
int cmd_erase_flash(const eg_command *cmd, eg_args *a);
int cmd_erase_region(const eg_command *cmd, eg_args *a);
int cmd_reset(const eg_command *cmd, eg_args *a);
int cmd_hold_in_reset(const eg_command *cmd, eg_args *a);
int cmd_flash(const eg_command *cmd, eg_args *a);
int cmd_save_image(const eg_command *cmd, eg_args *a);
int cmd_image_info(const eg_command *cmd, eg_args *a);
int cmd_partition_table(const eg_command *cmd, eg_args *a);
int cmd_erase_parts(const eg_command *cmd, eg_args *a);
int cmd_report(const eg_command *cmd, eg_args *a);
/* flash --idf-build DIR (idf_build.c). */
int eg_cli_flash_idf_build(const eg_command *cmd, eg_args *a);

/* Runs work on the board the options name: opens it, attaches the flash when
 * need_flash, runs work, then leaves the board as --after says. Prints the error and
 * returns an exit code. */
int eg_cli_with_board(const eg_args *a, int need_flash, int (*work)(eg_board *b, void *ctx),
                      void *ctx);

/* Checks that [addr, addr+size) lies inside the board's flash. */
int eg_cli_check_range(const eg_board *b, uint32_t addr, uint64_t size);

typedef struct eg_cli_write_opts {
    int level;  /* zlib level, or -1 for plain FLASH_DATA */
    int verify; /* check each region's on-chip MD5 after writing */
    int skip;   /* skip regions whose on-chip MD5 already matches */
} eg_cli_write_opts;

/* -u/--no-compress, --no-verify, --no-skip. */
void eg_cli_write_opts_from_args(eg_cli_write_opts *out, const eg_args *a);

/* Checks that every region fits the flash, then writes each (skipping, verifying as
 * opts say), printing one line per region. */
int eg_cli_write_regions(eg_board *b, const eg_region *r, int n, const eg_cli_write_opts *opts);

/* The image options (-m/-s/-f, --min-chip-rev, --mmu-page-size,
 * --ignore-app-descriptor) for chip (NULL: -f is not checked); flash_size is the size to
 * put in the header when -s is not given. EG_EINVAL with a message on a bad value. */
int eg_cli_image_opts(eg_image_opts *out, const eg_args *a, const eg_chip *chip,
                      uint32_t flash_size);

/* --partition-table-offset (default 0x8000), checked to be 4 KiB aligned; prints a
 * usage error and returns EG_EINVAL on a bad value. */
int eg_cli_table_offset(uint32_t *out, const eg_command *cmd, const eg_args *a);

/* Reads the bootloader image at path into boot and checks it: a valid image for chip
 * that ends before the partition table. Patches its flash settings to opts's. */
int eg_cli_bootloader_load(eg_buf *boot, const char *path, const eg_chip *chip,
                           uint32_t table_offset, const eg_image_opts *opts);

/* Writes the flash settings into a bootloader image's header (negative: keep); a
 * signed bootloader is left as it is, with a note. */
int eg_cli_patch_bootloader(const char *label, uint8_t *data, size_t len, int mode, int size,
                            int freq);

/* What an app puts in flash: the bootloader (when --bootloader is given), the
 * partition table (--partition-table, or the default one for the flash size) and the
 * app image in its partition (--target-app-partition), in address order. */
typedef struct eg_cli_layout {
    eg_partition_table *table;
    const eg_partition *app_part;
    eg_buf boot, table_bin, app;
    eg_region regions[3];
    int n;
} eg_cli_layout;

/* Builds the layout of elf for chip and a flash of flash_size bytes. Checks that the
 * app fits its partition and nothing overlaps. Free with eg_cli_layout_free() also on
 * error. */
int eg_cli_layout_build(eg_cli_layout *l, const eg_args *a, const eg_chip *chip,
                        uint32_t flash_size, const eg_elf *elf, const char *elf_path,
                        const eg_image_opts *opts, uint32_t table_offset);
void eg_cli_layout_free(eg_cli_layout *l);

/* Erases the partitions of t named in names (comma-separated) and the data partitions
 * whose subtypes data_types lists (either may be NULL). Every name is looked up before
 * anything is erased. */
int eg_cli_erase_parts(eg_board *b, const eg_partition_table *t, const char *names,
                       const char *data_types);

/* The chip the ELF's metadata names into *out (NULL when it names none); an error
 * naming path when espgang does not know it, or when want is given and differs. */
int eg_cli_elf_chip(const eg_chip **out, const eg_elf *elf, const char *path, const eg_chip *want);

/* The board's revision against the app's range [min, max] (max 0xFFFF: any), unless
 * --force; what names the app in messages ("the app", "'app.bin'"). */
int eg_cli_check_revision(const eg_args *a, const eg_board *b, uint16_t min, uint16_t max,
                          const char *what);

/* A usage error when any of the n option ids is given ("NAME: --OPT does not apply to
 * WHY"), returning EG_EXIT_USAGE; else 0. */
int eg_cli_refuse_opts(const eg_command *cmd, const eg_args *a, const int *ids, size_t n,
                       const char *why);

/* The image options checked before the board is touched (-f only when chip, or else
 * --chip, names the chip); prints a usage error and returns EG_EXIT_USAGE on a bad
 * value, else 0. */
int eg_cli_flash_opts_early(const eg_command *cmd, const eg_args *a, const eg_chip *chip);

#endif
