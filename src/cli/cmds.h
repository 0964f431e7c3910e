/* One function per subcommand, each in its own cmd_<name>.c. */
#ifndef EG_CLI_CMDS_H
#define EG_CLI_CMDS_H

#include "cli/cli.h"
#include "image/image.h"

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

/* Runs work on the board the options name: opens it, attaches the flash when
 * need_flash, runs work, then leaves the board as --after says. Prints the error and
 * returns an exit code. */
int eg_cli_with_board(const eg_args *a, int need_flash, int (*work)(eg_board *b, void *ctx),
                      void *ctx);

/* Checks that [addr, addr+size) lies inside the board's flash. */
int eg_cli_check_range(const eg_board *b, uint32_t addr, uint64_t size);

/* A region to write: bytes owned by the caller, and what to call them in messages. */
typedef struct eg_cli_region {
    uint32_t addr;
    const char *label;
    const uint8_t *data;
    size_t len;
} eg_cli_region;

typedef struct eg_cli_write_opts {
    int level;  /* zlib level, or -1 for plain FLASH_DATA */
    int verify; /* check each region's on-chip MD5 after writing */
    int skip;   /* skip regions whose on-chip MD5 already matches */
} eg_cli_write_opts;

/* -u/--no-compress, --no-verify, --no-skip. */
void eg_cli_write_opts_from_args(eg_cli_write_opts *out, const eg_args *a);

/* EG_EINVAL naming both when two regions overlap. */
int eg_cli_regions_overlap(const eg_cli_region *r, int n);

/* Checks that every region fits the flash, then writes each (skipping, verifying as
 * opts say), printing one line per region. */
int eg_cli_write_regions(eg_board *b, const eg_cli_region *r, int n, const eg_cli_write_opts *opts);

/* The image options (-m/-s/-f, --min-chip-rev, --mmu-page-size,
 * --ignore-app-descriptor) for chip; flash_size is the size to put in the header when
 * -s is not given. Prints a usage error and returns EG_EINVAL on a bad value. */
int eg_cli_image_opts(eg_image_opts *out, const eg_command *cmd, const eg_args *a,
                      const eg_chip *chip, uint32_t flash_size);

#endif
