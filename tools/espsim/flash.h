/* espsim's NOR flash: an array of bytes that programming can only clear bits in,
 * and that only an erase (to 0xFF, a 4 KiB sector at a time) sets again.
 *
 * The array lives in memory, or in a file mapped MAP_SHARED so it persists across
 * runs and other processes (tests) can read it while espsim runs. */
#ifndef ESPSIM_FLASH_H
#define ESPSIM_FLASH_H

#include <stddef.h>
#include <stdint.h>

#define SIM_FLASH_SECTOR 0x1000u

typedef struct sim_flash {
    uint8_t *mem;
    uint32_t size;
    int mapped; /* mem is a mapping of the flash file, else malloc'd */
} sim_flash;

/* Opens a flash of size bytes: erased in memory when path is NULL, else the file at
 * path (created, or extended with 0xFF up to size). Sets a message on failure. */
int sim_flash_open(sim_flash *f, uint32_t size, const char *path);

/* Unmaps or frees the array; f may be zeroed or already closed. */
void sim_flash_close(sim_flash *f);

/* 1 when [off, off+len) lies inside the flash. */
int sim_flash_fits(const sim_flash *f, uint64_t off, uint64_t len);

/* Erases the sectors covering [off, off+len) (clipped to the flash); returns the end
 * of the erased range. */
uint32_t sim_flash_erase(sim_flash *f, uint32_t off, uint32_t len);

/* Programs len bytes at off with NOR semantics (flash &= data). The caller checks the
 * range with sim_flash_fits() first. */
void sim_flash_program(sim_flash *f, uint32_t off, const uint8_t *data, size_t len);

#endif
