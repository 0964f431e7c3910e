#define _POSIX_C_SOURCE 200809L
#include "flash.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_file(sim_flash *f, uint32_t size, const char *path)
{
    struct stat st;
    int fd, rc = 0;
    void *mem;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return eg_error_set(EG_EIO, "cannot open flash file '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) < 0) {
        rc = eg_error_set(EG_EIO, "cannot stat flash file '%s': %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = eg_error_set(EG_EINVAL, "flash file '%s' is not a regular file", path);
        goto done;
    }
    if ((uint64_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0) {
        rc = eg_error_set(EG_EIO, "cannot extend flash file '%s': %s", path, strerror(errno));
        goto done;
    }
    mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) {
        rc = eg_error_set(EG_EIO, "cannot map flash file '%s': %s", path, strerror(errno));
        goto done;
    }
    f->mem = mem;
    f->size = size;
    f->mapped = 1;
    /* The bytes ftruncate() added read 0: a new flash is erased. */
    if ((uint64_t)st.st_size < size)
        memset(f->mem + st.st_size, 0xFF, size - (size_t)st.st_size);
done:
    close(fd);
    return rc;
}

int sim_flash_open(sim_flash *f, uint32_t size, const char *path)
{
    memset(f, 0, sizeof(*f));
    if (path)
        return open_file(f, size, path);
    f->mem = malloc(size);
    if (!f->mem)
        return eg_error_set(EG_ENOMEM, "out of memory for a %u-byte flash", (unsigned)size);
    memset(f->mem, 0xFF, size);
    f->size = size;
    return 0;
}

void sim_flash_close(sim_flash *f)
{
    if (f->mem) {
        if (f->mapped)
            munmap(f->mem, f->size);
        else
            free(f->mem);
    }
    memset(f, 0, sizeof(*f));
}

int sim_flash_fits(const sim_flash *f, uint64_t off, uint64_t len)
{
    return off <= f->size && len <= f->size - off;
}

uint32_t sim_flash_erase(sim_flash *f, uint32_t off, uint32_t len)
{
    uint64_t start = off & ~(uint64_t)(SIM_FLASH_SECTOR - 1);
    uint64_t end = ((uint64_t)off + len + SIM_FLASH_SECTOR - 1) & ~(uint64_t)(SIM_FLASH_SECTOR - 1);

    if (len == 0)
        return off;
    if (end > f->size)
        end = f->size;
    if (start < end)
        memset(f->mem + start, 0xFF, (size_t)(end - start));
    return (uint32_t)end;
}

void sim_flash_program(sim_flash *f, uint32_t off, const uint8_t *data, size_t len)
{
    uint8_t *p = f->mem + off;
    for (size_t i = 0; i < len; i++)
        p[i] &= data[i];
}
