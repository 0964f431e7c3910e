/* The flasher stubs espsim recognises. After MEM_END it compares what was uploaded
 * with them (SHA-256 of text and data at their addresses); a match makes the board
 * switch to the stub's personality, anything else is code it cannot run. espsim reads
 * the stub files itself (the same JSON espgang uploads from), never through espgang. */
#ifndef ESPSIM_STUBS_H
#define ESPSIM_STUBS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_stub_image {
    char name[32];
    uint32_t entry, text_start, data_start;
    uint32_t text_len, data_len;
    uint8_t text_sha[32], data_sha[32];
} sim_stub_image;

typedef struct sim_stubs {
    sim_stub_image img[16];
    size_t n;
} sim_stubs;

/* Adds dir/<chip_id>.json and dir/<chip_id>-rev1.json, when present, to the stubs in
 * out (zero it before the first directory). Finding none is not an error (the board
 * then runs no stub); a broken file, or more stubs than out holds, is. */
int sim_stubs_load(sim_stubs *out, const char *dir, const char *chip_id);

/* The stub whose text and data are at these addresses with these digests, or NULL. */
const sim_stub_image *sim_stubs_match(const sim_stubs *s, uint32_t entry, uint32_t text_start,
                                      const uint8_t *text, size_t text_len, uint32_t data_start,
                                      const uint8_t *data, size_t data_len);

#endif
