/* What the defmt fixture application (tools/fixtures/defmt_app.cc, built as
 * BUILD/fixtures/esp32c3-meta-defmt.elf) sends over its serial port: defmt frames as
 * esp-println's defmt-espflash logger writes them (0xFF 0x00, the rzcobs-encoded frame,
 * 0x00; one more 0x00 before the first frame) and one line of plain text.
 *
 * This is espsim's own encoder, written apart from espgang's decoder
 * (src/monitor/defmt*.c) so that each checks the other: it reads the table from the
 * ELF (libelf, jansson), finds each format string by its tag and text, and encodes
 * the fixed sequence below. Timestamps (defmt::timestamp! "{=u64:us}") start at
 * 1000000 us and grow by 250000 us per frame.
 *
 *   #  level    decoded message (what `espgang monitor -L defmt` must show)
 *   1  println  defmt fixture for esp32c3, wire format 4
 *   2  TRACE    entering main loop
 *   3  DEBUG    u8=200 u16=65535 u32=4000000000 u64=18446744073709551615
 *   4  INFO     i8=-128 i16=-32768 i32=-2147483648 i64=-9223372036854775808
 *   5  WARN     flags true false, ratio 0.5, precise 3.141592653589793
 *   6  ERROR    code 0x002a mask 0b00000101 mode 10 id DEADBEEF
 *   7  INFO     bytes [1, 2, 3] head [0xde, 0xad, 0xbe, 0xef] ascii b"OK\r\n"
 *   8  INFO     reading Reading { celsius: 21.5, ok: true }
 *   9  INFO     state Some(7) / None
 *  10  WARN     hex ff 0x1000 debug -3 str "tab\there"
 *  11  INFO     samples [-1, 0, 1]
 *  12  INFO     char é usize 123456 isize -42
 *  13  INFO     uptime 01:02:03.004 elapsed 1.500
 *  14  DEBUG    config Config { retries: 3 }
 *      text     "esp_println::println! between frames\r\n" (no frame)
 *  15  INFO     status 1011 ready 1
 *  16  ERROR    ====================== PANIC ======================
 *  17  ERROR    panicked at src/main.rs:42:5
 *  18  ERROR    Backtrace:
 *  19  ERROR    0x42000a3c
 *  20  ERROR    0x42001b2e
 */
#ifndef ESPSIM_DEFMT_OUT_H
#define ESPSIM_DEFMT_OUT_H

#include "core/buf.h"

#include <stddef.h>

#define SIM_DEFMT_CALLS 21 /* 20 frames and the text line */

typedef struct sim_defmt_output {
    eg_buf bytes;                 /* everything the application writes, in order */
    size_t ends[SIM_DEFMT_CALLS]; /* where each log call's bytes end in bytes */
    size_t n;                     /* log calls (SIM_DEFMT_CALLS) */
} sim_defmt_output;

/* Encodes the sequence above with the table of the ELF at elf_path into *out (which
 * must be zeroed). EG_ENOTFOUND or EG_EIO when the file cannot be read, EG_EINVAL when it is no ELF
 * or lacks one of the format strings (the message names it: not the defmt fixture), or when its
 * defmt encoding is not rzcobs. Free with sim_defmt_output_free() either way. */
int sim_defmt_output_make(sim_defmt_output *out, const char *elf_path);

void sim_defmt_output_free(sim_defmt_output *out);

/* Appends the rzcobs encoding of the n bytes at p to out, as defmt's encoder writes a
 * frame between start_frame and end_frame, without the 0x00 that ends it. 0, or
 * EG_ENOMEM (without a message). */
int sim_defmt_rzcobs(eg_buf *out, const uint8_t *p, size_t n);

#endif
