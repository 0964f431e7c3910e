/* espflash 4's configuration files, read as espflash reads them.
 *
 * espflash.toml holds the project's settings:
 *
 *     baudrate = 460800
 *     [idf_format_args]            # or [idf]
 *     bootloader = "bootloader.bin"
 *     partition_table = "partitions.csv"
 *     partition_table_offset = 0x8000
 *     target_app_partition = "ota_0"
 *     [flash]
 *     mode = "dio"                 # qio, qout, dio, dout
 *     size = "4MB"                 # 256KB ... 256MB
 *     frequency = "80MHz"          # 12MHz ... 80MHz
 *
 * espflash_ports.toml holds the port: [connection] serial = "/dev/ttyUSB0", and any
 * number of [[usb_device]] tables with vid and pid as hex strings ("303a"). espflash
 * 3 kept both in espflash.toml; a ports file's absence makes them read from there.
 *
 * Each file is looked up on its own: in the current folder, then its parent, then
 * the global folder ($XDG_CONFIG_HOME/espflash, else ~/.config/espflash); the first
 * found is read, the others not. Paths in them are taken as written (relative ones
 * from the current folder, as espflash does).
 *
 * As espflash: a key of the idf or flash sections anywhere else is an error, as is a
 * bootloader that is not a .bin or a partition table neither .csv nor .bin; keys it
 * does not know are ignored (here each with a warning). Stricter than espflash: a
 * file that is not TOML, or a value of the wrong type or not among those espflash
 * takes, is an error ("FILE:LINE:COLUMN: ...") where espflash 4 would silently ignore
 * the whole espflash.toml. */
#ifndef EG_CONFIG_ESPFLASH_H
#define EG_CONFIG_ESPFLASH_H

#include <stddef.h>
#include <stdint.h>

#define EG_ESPFLASH_PROJECT_FILE "espflash.toml"
#define EG_ESPFLASH_PORTS_FILE   "espflash_ports.toml"

typedef struct eg_usb_id {
    uint16_t vid, pid;
    char at[4200]; /* "FILE:LINE" of its [[usb_device]] */
} eg_usb_id;

typedef struct eg_espflash_config {
    /* The files: the one read, or (none found) where the global one would be. */
    char project_path[4096];
    int project_found;
    char ports_path[4096];
    int ports_found;

    /* espflash.toml; a NULL string or a has_ flag of 0 when not set. */
    int has_baudrate;
    uint32_t baudrate;
    char baudrate_at[4200]; /* "FILE:LINE", for messages */
    char *bootloader;
    char *partition_table;
    int has_table_offset;
    uint32_t table_offset;
    char *target_app_partition;
    char *flash_mode;      /* "qio", "qout", "dio", "dout" */
    char *flash_size;      /* "256KB" ... "256MB" as espflash writes it */
    char *flash_frequency; /* "12MHz" ... "80MHz" */

    /* espflash_ports.toml (or espflash 3's espflash.toml). */
    char *serial;
    char serial_at[4200];
    eg_usb_id *usb_devices;
    size_t usb_count;

    /* Keys espflash ignores: "FILE:LINE:COLUMN: unknown key 'x' ..." each. */
    char **warnings;
    size_t warning_count;
} eg_espflash_config;

/* The global folder for espflash's files into dst: xdg_config_home/espflash when that
 * is an absolute path, else home/.config/espflash; "" when neither is known. */
void eg_espflash_global_dir(char *dst, size_t len, const char *xdg_config_home, const char *home);

/* Finds the file name: cwd/name, then the parent of cwd, then global_dir/name ("" or
 * NULL: no global folder). Returns 1 with its path in dst when found, 0 with the global
 * path (or "" without a global folder) when not. */
int eg_espflash_find(char *dst, size_t len, const char *name, const char *cwd,
                     const char *global_dir);

/* Finds and reads both files into a new *out (freed with eg_espflash_config_free);
 * neither need exist. EG_EINVAL "FILE:LINE:COLUMN: ..." for a file that is not valid;
 * EG_EIO naming a file that exists but cannot be read. *out is NULL on error. */
int eg_espflash_config_load(eg_espflash_config **out, const char *cwd, const char *global_dir);

void eg_espflash_config_free(eg_espflash_config *c);

/* Adds a [[usb_device]] with vid and pid to c's ports file (c->ports_path), keeping what
 * it holds; the file is replaced at once. When there is none yet it is made, with its
 * folders, and starts with the port settings c read from espflash.toml (espflash 3's
 * place for them, which the new file takes over, as espflash's migration does). A
 * file that is not valid is left alone (EG_EINVAL). */
int eg_espflash_remember_usb(const eg_espflash_config *c, uint16_t vid, uint16_t pid);

#endif
