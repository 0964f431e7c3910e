/* ESP-IDF build directories: what `idf.py build` leaves in build/flasher_args.json (the
 * files to flash and where, the flash settings, the chip) read into one description,
 * with the files' bytes. */
#ifndef EG_IMAGE_IDF_BUILD_H
#define EG_IMAGE_IDF_BUILD_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

#define EG_IDF_MAX_FILES 32
#define EG_IDF_NONE      UINT32_MAX /* an offset the build does not name */

typedef struct eg_idf_file {
    uint32_t addr;
    char *path; /* as flasher_args.json lists it, relative to the build directory */
    eg_buf data;
} eg_idf_file;

typedef struct eg_idf_build {
    char *json_path;    /* DIR/flasher_args.json, for messages */
    eg_idf_file *files; /* flash_files, by address */
    size_t n_files;
    /* Offsets of the named entries "app", "bootloader", "partition-table". */
    uint32_t app_offset, bootloader_offset, table_offset;
    /* flash_settings (size may be "detect" or "keep") and extra_esptool_args; NULL
     * where absent. */
    char *flash_mode, *flash_size, *flash_freq;
    char *chip, *before, *after;
    int stub; /* -1 absent, else 0 or 1 */
} eg_idf_build;

/* Reads dir/flasher_args.json and every file it lists. Refuses (EG_EINVAL, naming the
 * file and the entry) JSON that is not what ESP-IDF writes: no flash_files, an offset
 * that is not a 4 KiB-aligned number, an entry that is not a string, a missing or
 * empty file, more than EG_IDF_MAX_FILES files; and (EG_EUNSUPPORTED) any entry to be
 * written encrypted. Flash mode and size are checked; the frequency, which depends on
 * the chip, is the caller's to check. */
int eg_idf_build_load(eg_idf_build **out, const char *dir);

void eg_idf_build_free(eg_idf_build *b);

#endif
