#include "cli/cmds.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EG_VERSION
#define EG_VERSION "0.0.0"
#endif

static const eg_opt json_opt[] = {
    {OPT_JSON, 0, "json", NULL, "print one JSON object instead of text"},
    EG_OPT_END,
};

static const eg_opt list_ports_opts[] = {
    {OPT_ALL, 0, "all", NULL,
     "every serial port, not only those of Espressif chips and known USB-UART bridges"},
    {OPT_ALL, 'a', "list-all-ports", NULL, "the same as --all (espflash's name)"},
    {OPT_NAME_ONLY, 'n', "name-only", NULL, "print only the ports' names, one a line"},
    {OPT_SLOTS, 0, "slots", "FILE", "show the fixture slot each port's USB location is"},
    {OPT_JSON, 0, "json", NULL, "print one JSON array instead of text"},
    EG_OPT_END,
};

/* Options several commands share, each spelled once. */
// clang-format off
#define WRITE_OPTS \
    {OPT_NO_COMPRESS, 'u', "no-compress", NULL, \
     "send the data as it is (FLASH_DATA) rather than compressed"}, \
    {OPT_NO_SKIP, 0, "no-skip", NULL, \
     "write every region, also those whose flash already holds the same bytes"}, \
    {OPT_NO_VERIFY, 0, "no-verify", NULL, "do not check each region's on-chip MD5 after writing"}

#define APP_IMAGE_OPTS \
    {OPT_MIN_CHIP_REV, 0, "min-chip-rev", "REV", \
     "oldest chip revision the app runs on, as major.minor (0.3, 1.0)"}, \
    {OPT_MMU_PAGE_SIZE, 0, "mmu-page-size", "SIZE", \
     "MMU page size the app is linked for (ESP32-C2, -C6, -H2; default: from the app descriptor)"}, \
    {OPT_IGNORE_APP_DESC, 0, "ignore-app-descriptor", NULL, \
     "accept an ELF without an app descriptor (.flash.appdesc)"}

/* The serial monitor's options (espflash's MonitorConfigArgs), for monitor and -M. */
#define MONITOR_CONFIG_OPTS \
    {OPT_MONITOR_BAUD, 'r', "monitor-baud", "BAUD", \
     "baud rate the board's output comes at (default: $MONITOR_BAUD, else 115200)"}, \
    {OPT_ELF, 0, "elf", "FILE", \
     "ELF whose debug information and symbols decode the code addresses the board prints"}, \
    {OPT_NO_RESET, 0, "no-reset", NULL, "do not reset the board when the monitor starts"}, \
    {OPT_LOG_FORMAT, 'L', "log-format", "FORMAT", \
     "how the board's output is encoded: serial or defmt (default: what the ELF says, else " \
     "serial)"}, \
    {OPT_OUTPUT_FORMAT, 'F', "output-format", "FORMAT", "how defmt messages are printed"}, \
    {OPT_NO_ADDRESSES, 0, "no-addresses", NULL, "do not decode addresses"}, \
    {OPT_ALL_ADDRESSES, 0, "all-addresses", NULL, \
     "decode every address the ELF knows (data too), on every line, not only code addresses"}

#define MONITOR_OPTS \
    {OPT_MONITOR, 'M', "monitor", NULL, \
     "then reset the board into its app and show its output, as monitor does"}, \
    MONITOR_CONFIG_OPTS

#define LAYOUT_OPTS \
    {OPT_PARTITION_TABLE, 0, "partition-table", "FILE", \
     "partition table, CSV or binary (default: nvs, phy_init and a factory app)"}, \
    {OPT_PARTITION_TABLE_OFFSET, 0, "partition-table-offset", "OFFSET", \
     "where the partition table goes (default 0x8000)"}, \
    {OPT_TARGET_APP_PARTITION, 0, "target-app-partition", "NAME", \
     "app partition the app goes to (default: factory, else ota_0)"}
// clang-format on

#define DB_OPT                                                                                     \
    {                                                                                              \
        OPT_DB, 0, "db", "PATH",                                                                   \
            "record the attempt in this records store, as a production run does"                   \
    }

static const eg_opt write_opts[] = {
    WRITE_OPTS,
    DB_OPT,
    MONITOR_OPTS,
    EG_OPT_END,
};

static const eg_opt monitor_opts[] = {
    MONITOR_CONFIG_OPTS,
    EG_OPT_END,
};

static const eg_opt image_opts[] = {
    {OPT_CHIP, 'c', "chip", "CHIP", "the chip the image is for"},
    {OPT_FLASH_MODE, 'm', "flash-mode", "MODE",
     "flash mode in the header: qio, qout, dio (default), dout"},
    {OPT_FLASH_SIZE, 's', "flash-size", "SIZE",
     "flash size in the header: 1MB ... 128MB (default 4MB)"},
    {OPT_FLASH_FREQ, 'f', "flash-freq", "FREQ",
     "flash frequency in the header: 80m, 40m, ... as the chip allows (default: the chip's)"},
    APP_IMAGE_OPTS,
    {OPT_MERGE, 0, "merge", NULL,
     "save bootloader, partition table and app at their offsets in one file, as the flash "
     "holds them from address 0"},
    {OPT_SKIP_PADDING, 0, "skip-padding", NULL,
     "with --merge: end the file after the app instead of padding it to the flash size"},
    {OPT_BOOTLOADER, 0, "bootloader", "FILE", "bootloader image (needed by --merge)"},
    LAYOUT_OPTS,
    EG_OPT_END,
};

static const eg_opt flash_opts[] = {
    {OPT_FLASH_MODE, 'm', "flash-mode", "MODE", "flash mode: qio, qout, dio (default), dout"},
    {OPT_FLASH_FREQ, 'f', "flash-freq", "FREQ",
     "flash frequency: 80m, 40m, ... as the chip allows (default: the chip's)"},
    {OPT_BOOTLOADER, 0, "bootloader", "FILE",
     "bootloader image to write (default: keep the board's, if valid for its chip)"},
    LAYOUT_OPTS,
    {OPT_ERASE_PARTS, 0, "erase-parts", "NAMES", "erase these partitions (comma-separated) first"},
    {OPT_ERASE_DATA_PARTS, 0, "erase-data-parts", "TYPES",
     "erase the data partitions of these subtypes (ota,nvs,...) first"},
    APP_IMAGE_OPTS,
    {OPT_FORCE, 0, "force", NULL, "flash even when the board's revision is outside the app's"},
    {OPT_RAM, 0, "ram", NULL,
     "load the ELF into RAM through the ROM loader and run it; the flash is left alone"},
    {OPT_IDF_BUILD, 0, "idf-build", "DIR",
     "flash what an ESP-IDF build directory lists (DIR/flasher_args.json) instead of an ELF"},
    WRITE_OPTS,
    DB_OPT,
    MONITOR_OPTS,
    EG_OPT_END,
};

static const eg_opt partition_table_opts[] = {
    {OPT_TO_CSV, 0, "to-csv", NULL, "convert to CSV"},
    {OPT_TO_BINARY, 0, "to-binary", NULL, "convert to the binary the flash holds"},
    {OPT_OUTPUT, 'o', "output", "OUT", "write to OUT instead of standard output"},
    {OPT_PARTITION_TABLE_OFFSET, 0, "partition-table-offset", "OFFSET",
     "where the table goes (default 0x8000)"},
    {OPT_FLASH_SIZE, 's', "flash-size", "SIZE", "check that the partitions fit this flash"},
    {OPT_CHIP, 'c', "chip", "CHIP", "the chip, for the bootloader offset of bootloader rows"},
    EG_OPT_END,
};

static const eg_opt erase_parts_opts[] = {
    {OPT_PARTITION_TABLE, 0, "partition-table", "FILE",
     "the table, CSV or binary (default: the one on the board)"},
    {OPT_PARTITION_TABLE_OFFSET, 0, "partition-table-offset", "OFFSET",
     "where the table is (default 0x8000)"},
    EG_OPT_END,
};

// clang-format off
/* What run and verify share. */
#define RUN_OPTS \
    {OPT_PORTS, 0, "ports", "P1,P2,...", \
     "the boards' ports, one board each (device paths, socket:// or rfc2217:// addresses); " \
     "slots follow their order"}, \
    {OPT_ALL, 0, "all", NULL, \
     "every USB serial port of an Espressif chip or a known USB-UART bridge"}, \
    {OPT_STATION, 0, "station", "ID", "this station's name, in every record"}, \
    {OPT_OPERATOR, 0, "operator", "NAME", "who runs it, in every record"}, \
    {OPT_LOT, 0, "lot", "LOT", "the production lot, in every record"}, \
    {OPT_DB, 0, "db", "PATH", "the records database (default: the profile's, else espgang.db)"}, \
    {OPT_JSON, 0, "json", NULL, "one JSON object per event on standard output"}, \
    {OPT_BAUD, 'B', "baud", "BAUD", "the rate after connecting (default: the profile's)"}, \
    {OPT_STUB_DIR, 0, "stub-dir", "DIR", \
     "read the flasher stubs from DIR (esptool-js's NAME.json files) instead of the built-in ones"}, \
    {OPT_SLOTS, 0, "slots", "FILE", \
     "which USB location is which fixture slot (YAML); without it slots follow the ports' order"}, \
    {OPT_WATCH, 0, "watch", NULL, \
     "run until Ctrl-C, taking each USB board as it is plugged in (known VID:PIDs; with --all " \
     "every USB serial port; with --slots the file's locations only); a slot shows its result " \
     "until the board is unplugged"}
// clang-format on

static const eg_opt run_opts[] = {
    {OPT_REFLASH, 0, "reflash", NULL,
     "write boards that passed this profile before too (by default they are left as they are)"},
    RUN_OPTS,
    EG_OPT_END,
};

static const eg_opt verify_opts[] = {
    {OPT_READBACK, 0, "readback", NULL, "also read every region back and compare it byte for byte"},
    RUN_OPTS,
    EG_OPT_END,
};

static const eg_opt profile_opts[] = {
    {OPT_STUB_DIR, 0, "stub-dir", "DIR",
     "where the flasher stubs are (default: next to espgang, then the install prefix)"},
    EG_OPT_END,
};

static const eg_opt output_opt[] = {
    {OPT_OUTPUT, 'o', "output", "FILE",
     "write to FILE (replaced once complete), not standard output"},
    EG_OPT_END,
};

static const eg_opt report_opts[] = {
    {OPT_DB, 0, "db", "PATH", "the records store (default: espgang.db here)"},
    {OPT_FORMAT, 0, "format", "FORMAT",
     "csv, json or html (required); with --device: text (the default), csv or json"},
    {OPT_DEVICE, 0, "device", "MAC", "the history of one device across runs"},
    {OPT_RUN, 0, "run", "ID", "only this run's attempts"},
    {OPT_LOT, 0, "lot", "LOT", "only attempts of runs of this lot"},
    {OPT_SINCE, 0, "since", "TIME",
     "only attempts started since TIME: a local date or time (2026-12-01, 2026-12-01T08:00) "
     "or a duration back from now (8h, 30m, 2d)"},
    {OPT_OUTPUT, 'o', "output", "FILE",
     "write to FILE (replaced once complete), not standard output"},
    {OPT_SUMMARY, 0, "summary", "FILE",
     "also write the counts, yield and failures by cause to FILE as CSV"},
    EG_OPT_END,
};

const eg_command eg_commands[] = {
    {"list-ports", "",
     "List the serial ports of this machine: name, USB VID:PID, manufacturer, product, "
     "serial number, USB location and slot.",
     "By default only the USB ports of Espressif chips and known USB-UART bridges (CP210x, "
     "CH34x/CH910x, FTDI, PL2303) are listed; --all lists every port. The USB location "
     "(1-2.3: bus 1, hub port 2, its port 3) is what a slots file maps to fixture slots.",
     0, 0, 0, list_ports_opts, cmd_list_ports},
    {"board-info", "",
     "Connect to a board and print its chip package and revision, crystal, features, MAC "
     "address, flash maker, device, size and id, and security settings.",
     NULL, 0, 0, EG_CMD_BOARD, json_opt, cmd_board_info},
    {"checksum-md5", "ADDR SIZE", "Print the MD5 of a flash region, computed on the chip.",
     "ADDR and SIZE take decimal, 0x hex, or sizes like 64k and 4MB.", 2, 2, EG_CMD_BOARD, NULL,
     cmd_checksum_md5},
    {"read-flash", "ADDR SIZE FILE", "Read a flash region into FILE.",
     "FILE is replaced only once the whole region has been read.", 3, 3, EG_CMD_BOARD, NULL,
     cmd_read_flash},
    {"write-bin", "ADDR FILE [ADDR FILE]...",
     "Write binary files to flash at the given addresses and verify each by its on-chip MD5.",
     "Addresses must be 4 KiB aligned; every region must fit the flash.", 2, -1, EG_CMD_BOARD,
     write_opts, cmd_write_bin},
    {"erase-flash", "", "Erase the whole flash.", NULL, 0, 0, EG_CMD_BOARD, NULL, cmd_erase_flash},
    {"erase-region", "ADDR SIZE", "Erase a flash region (4 KiB aligned).", NULL, 2, 2, EG_CMD_BOARD,
     NULL, cmd_erase_region},
    {"reset", "", "Reset the board into its application (pulses EN through RTS).", NULL, 0, 0,
     EG_CMD_BOARD, NULL, cmd_reset},
    {"hold-in-reset", "", "Hold the board in reset (EN low through RTS).", NULL, 0, 0, EG_CMD_BOARD,
     NULL, cmd_hold_in_reset},
    {"flash", "[ELF]",
     "Write an app (ELF), its partition table and bootloader to the board, and verify them.",
     "The chip named in the ELF and the app's minimum revision are checked against the board "
     "before anything is written; regions the flash already holds are skipped. With "
     "--idf-build DIR, the files an ESP-IDF build lists are written instead. The layout and "
     "flash options left out are taken from espflash.toml ([idf_format_args], [flash]) when "
     "one is found (not with --ram or --idf-build).",
     0, 1, EG_CMD_BOARD, flash_opts, cmd_flash},
    {"monitor", "",
     "Show the board's serial output, with the code addresses in it decoded, and send it "
     "what you type.",
     "The board is reset into its app first (unless --no-reset; a port without DTR/RTS "
     "lines, such as socket://, cannot reset it). With --elf, every code address the "
     "board prints (panic backtraces, register dumps, any 0x... word in the ELF's code) "
     "is decoded to its function and source line, printed under the line. On a "
     "terminal: Ctrl-R resets the board, Ctrl-C exits. With --non-interactive, or when "
     "standard input is not a terminal, the terminal is left as it is and the monitor "
     "runs until it is stopped (Ctrl-C, SIGTERM). Exits 1 when the port fails (the board "
     "unplugged), 0 when stopped.",
     0, 0, EG_CMD_BOARD, monitor_opts, cmd_monitor},
    {"erase-parts", "NAME[,NAME]...", "Erase partitions by name.",
     "The partitions are looked up in --partition-table FILE, or in the table on the board; "
     "every name must exist before anything is erased.",
     1, -1, EG_CMD_BOARD, erase_parts_opts, cmd_erase_parts},
    {"save-image", "ELF OUT", "Convert an ELF file into an app image and save it to OUT.",
     "The image is byte for byte what Espressif's elf2image (esptool v5.3.1) writes for the "
     "same ELF and options. The layout and flash options left out are taken from "
     "espflash.toml ([idf_format_args], [flash]) when one is found.",
     2, 2, 0, image_opts, cmd_save_image},
    {"partition-table", "FILE",
     "Check an ESP-IDF partition table (CSV or binary) and print it, or convert it.",
     "Printed as an aligned table by default. Exits 1 with the line of the offending row "
     "when the table is not valid.",
     1, 1, 0, partition_table_opts, cmd_partition_table},
    {"image-info", "FILE", "Print an app image's header, segments, checksum and digest.",
     "Exits 1 when the checksum or the SHA-256 does not match the contents.", 1, 1, 0, NULL,
     cmd_image_info},
    {"run", "PROFILE",
     "Flash every board of a fixture at once from a production profile, and record each "
     "one.",
     "One worker per port: connect, identify, check, erase, write, verify, finish, each "
     "step with the profile's retries and deadline; a failing, silent or unplugged board "
     "never stops or slows the others. Every attempt is recorded (--db) as it starts and "
     "when it ends. On a terminal a live table shows every board; otherwise one line per "
     "event (--json: one JSON object). Ctrl-C once: nothing new starts and running boards "
     "finish their current region; twice: stop now. Exit 0 when every board passed, 3 "
     "when some did not, 1 when the run could not start, 2 for a usage error.",
     1, 1, 0, run_opts, cmd_run},
    {"verify", "PROFILE",
     "Check boards against a production profile without writing: QA's verify-only run.",
     "The same identify and checks as run, then every region's MD5 computed on the chip "
     "against the profile's (--readback: the bytes themselves). Nothing is ever erased or "
     "written. Records say 'verify'. Exit codes as for run.",
     1, 1, 0, verify_opts, cmd_verify},
    {"profile", "check PROFILE",
     "Validate a production profile, check its pinned files and print the plan it makes.",
     "Prints every region with its offset, size, compressed size, MD5 and SHA-256. Exits 1 "
     "with FILE:LINE:COLUMN when the profile is not valid, or when a file does not match "
     "its pin.",
     1, 2, 0, profile_opts, cmd_profile},
    {"report", "",
     "Write the records of production runs as CSV, JSON or an HTML page, with the yield, "
     "failures and statistics; or one device's history.",
     "Every attempt the filters choose (all of them: --run, --lot and --since combine) with its "
     "run, slot, port, chip, MAC, serial number, result, failed step, error, boot check, log "
     "file and regions. The counts, the yield (pass / (pass + fail)) and the failures by cause "
     "go to standard error; the statistics (by cause, step, slot and hour, time per board, "
     "boards per hour) go with --summary to a CSV file, into JSON's summary, and onto the HTML "
     "page. --device MAC prints every attempt of one device with its run's station, lot and "
     "profile. Exits 1 when the store cannot be read or the device has no attempts.",
     0, 0, 0, report_opts, cmd_report},
    {"completions", "SHELL", "Print a completion script for bash, zsh, fish, elvish or powershell.",
     "Written from the command table, so it knows every command and option. Installed by "
     "'cmake --install' for bash, zsh and fish; by hand: source <(espgang completions bash), "
     "or write 'espgang completions zsh' to a file named _espgang in a folder of $fpath.",
     1, 1, 0, output_opt, cmd_completions},
    {"man", "", "Print espgang's manual page (roff), written from the command table.",
     "The build writes it to build/espgang.1; 'cmake --install' puts it in share/man/man1.", 0, 0,
     EG_CMD_HIDDEN, output_opt, cmd_man},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: espgang COMMAND [OPTIONS] [ARGS]\n\n"
               "Flash and inspect Espressif chips (ESP32, -S2, -S3, -C2, -C3, -C5, -C6, -H2, "
               "-P4) over serial.\n\nCommands:\n");
    for (const eg_command *c = eg_commands; c->name; c++) {
        const char *dot = strchr(c->summary, '.');
        if (c->flags & EG_CMD_HIDDEN)
            continue;
        fprintf(f, "  %-15s %.*s\n", c->name,
                dot ? (int)(dot - c->summary) : (int)strlen(c->summary), c->summary);
    }
    fprintf(f, "\nRun 'espgang COMMAND --help' for a command's options.\n"
               "Environment: ESPGANG_PORT (or ESPFLASH_PORT) and ESPGANG_BAUD (or ESPFLASH_BAUD)\n"
               "give --port and --baud defaults, before espflash_ports.toml and espflash.toml;\n"
               "MONITOR_BAUD the monitor's --monitor-baud.\n");
}

int main(int argc, char **argv)
{
    const eg_command *cmd;
    eg_args a;
    int rc;

    if (argc < 2) {
        usage(stderr);
        return EG_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return EG_EXIT_OK;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("espgang %s\n", EG_VERSION);
        return EG_EXIT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return EG_EXIT_OK;
        }
        cmd = eg_cli_find(argv[2]);
        if (!cmd) {
            const char *near = eg_cli_suggest_command(argv[2]);
            return eg_cli_usage(NULL, "unknown command '%s'%s%s%s", argv[2],
                                near ? " (did you mean '" : "", near ? near : "",
                                near ? "'?)" : "");
        }
        eg_cli_help(cmd, stdout);
        return EG_EXIT_OK;
    }
    cmd = eg_cli_find(argv[1]);
    if (!cmd) {
        const char *near = eg_cli_suggest_command(argv[1]);
        if (near) {
            fprintf(stderr, "espgang: unknown command '%s' (did you mean '%s'?)\n", argv[1], near);
            fprintf(stderr, "Try 'espgang --help'.\n");
            return EG_EXIT_USAGE;
        }
        fprintf(stderr, "espgang: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return EG_EXIT_USAGE;
    }
    rc = eg_cli_parse(&a, cmd, argc - 2, argv + 2);
    if (rc != 0) {
        free(a.pos);
        return rc;
    }
    if (a.count[OPT_HELP]) {
        eg_cli_help(cmd, stdout);
        free(a.pos);
        return EG_EXIT_OK;
    }
    rc = cmd->run(cmd, &a);
    free(a.pos);
    return rc;
}
