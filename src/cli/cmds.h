/* One function per subcommand, each in its own cmd_<name>.c. */
#ifndef EG_CLI_CMDS_H
#define EG_CLI_CMDS_H

#include "cli/cli.h"
#include "image/elf.h"
#include "image/image.h"
#include "image/region.h"
#include "monitor/format.h"
#include "monitor/symbols.h"
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
int cmd_run(const eg_command *cmd, eg_args *a);
int cmd_verify(const eg_command *cmd, eg_args *a);
int cmd_profile(const eg_command *cmd, eg_args *a);
int cmd_report(const eg_command *cmd, eg_args *a);
int cmd_completions(const eg_command *cmd, eg_args *a);
int cmd_man(const eg_command *cmd, eg_args *a);

/* Writes what gen writes to the file at path (replaced once complete), or to standard
 * output when path is NULL; an exit code (errors printed). */
int eg_cli_write_output(const char *path, int (*gen)(FILE *f, void *ctx), void *ctx);
int cmd_monitor(const eg_command *cmd, eg_args *a);
/* flash --idf-build DIR (idf_build.c). */
int eg_cli_flash_idf_build(const eg_command *cmd, eg_args *a);

/* -u/--no-compress, --no-verify, --no-skip into the job's plan options and policy. */
void eg_cli_write_opts(eg_cli_job *j, const eg_args *a);

/* The image options (-m/-s/-f, --min-chip-rev, --mmu-page-size,
 * --ignore-app-descriptor) for chip (NULL: -f is not checked); flash_size is the size to
 * put in the header when -s is not given. EG_EINVAL with a message on a bad value. */
int eg_cli_image_opts(eg_image_opts *out, const eg_args *a, const eg_chip *chip,
                      uint32_t flash_size);

/* --partition-table-offset (default 0x8000), checked to be 4 KiB aligned; prints a
 * usage error and returns EG_EINVAL on a bad value. */
int eg_cli_table_offset(uint32_t *out, const eg_command *cmd, const eg_args *a);

/* The chip the ELF's metadata names into *out (NULL when it names none); an error
 * naming path when espgang does not know it, or when want is given and differs. */
int eg_cli_elf_chip(const eg_chip **out, const eg_elf *elf, const char *path, const eg_chip *want);

/* A usage error when any of the n option ids is given ("NAME: --OPT does not apply to
 * WHY"), returning EG_EXIT_USAGE; else 0. */
int eg_cli_refuse_opts(const eg_command *cmd, const eg_args *a, const int *ids, size_t n,
                       const char *why);

/* The image options checked before the board is touched (-f only when chip, or else
 * --chip, names the chip); prints a usage error and returns EG_EXIT_USAGE on a bad
 * value, else 0. */
int eg_cli_flash_opts_early(const eg_command *cmd, const eg_args *a, const eg_chip *chip);

/* The serial monitor (cmd_monitor.c), for monitor and for flash / write-bin -M. */
typedef struct eg_cli_monitor {
    int enabled;     /* the monitor runs: the monitor command, or -M */
    uint32_t baud;   /* -r/--monitor-baud, $MONITOR_BAUD, 115200 */
    int interactive; /* raw terminal and keystrokes to the board */
    int reset;       /* reset the board when the monitor starts */
    int all_addresses;
    const char *elf_path; /* --elf, else the ELF just flashed; NULL: none */
    eg_elf *elf;
    eg_symbols *symbols;       /* NULL with --no-addresses or without an ELF */
    eg_monitor_format *format; /* -L, else what the ELF asks for */
} eg_cli_monitor;

/* Reads and checks the monitor's options before the board is touched: the baud rate,
 * the ELF (--elf, else flashed_elf, which may be NULL), the log format. With -M absent
 * (for flash and write-bin) out->enabled is 0 and monitor options only draw a warning.
 * Prints what is wrong: EG_EXIT_USAGE for a bad value, EG_EXIT_FAIL for an ELF that
 * cannot be read or a format that cannot run; else 0. Release with
 * eg_cli_monitor_release() either way. */
int eg_cli_monitor_setup(eg_cli_monitor *out, const eg_command *cmd, const eg_args *a,
                         const char *flashed_elf);

/* Opens port at the monitor's rate, resets the board (unless told not to), and shows
 * its output until Ctrl-C, a signal, or a port failure; the terminal is restored on
 * every way out. An exit code: 0 when stopped, 1 when the port failed. */
int eg_cli_monitor_run(eg_cli_monitor *m, const char *port);

void eg_cli_monitor_release(eg_cli_monitor *m);

/* For flash and write-bin: when their work ended with rc == EG_EXIT_OK and -M was given,
 * the monitor on the board options' port; releases m either way. An exit code. */
int eg_cli_monitor_after(eg_cli_monitor *m, const eg_command *cmd, const eg_args *a, int rc);

#endif
