/* --app-output FILE: the lines a virtual board's application prints after each boot.
 *
 * One line of the file is one line the application prints (CR LF is added). A line
 * comes 100 ms after the one before (the first: 100 ms after the bootloader handed
 * over), unless it starts with `@MS ` (digits, then one space): then it comes MS ms
 * after the one before. `@MS` alone is a pause that prints nothing. A line starting
 * with `@@` prints from the second `@`. `{mac}` in a line becomes the board's MAC
 * (24:0a:c4:00:00:01). After the last line the application prints nothing more. */
#ifndef ESPSIM_APP_H
#define ESPSIM_APP_H

#include <stddef.h>

#define SIM_APP_LINE_MS   100
#define SIM_APP_DELAY_MAX 600000
#define SIM_APP_LINE_MAX  1024
#define SIM_APP_LINES_MAX 100000

typedef struct sim_app_line {
    unsigned delay_ms;
    char *text; /* owned; NULL for a pause */
} sim_app_line;

typedef struct sim_app_output {
    sim_app_line *lines;
    size_t n;
} sim_app_output;

/* Reads FILE into *out. EG_EINVAL with a message naming the file and line for a bad
 * delay or an over-long line, EG_EIO when it cannot be read. Release *out with
 * sim_app_output_free() either way. */
int sim_app_output_load(sim_app_output *out, const char *path);
void sim_app_output_free(sim_app_output *a);

/* Writes line's text with {mac} replaced into dst (always terminated). */
void sim_app_line_format(const sim_app_line *line, const char *mac, char *dst, size_t dstlen);

#endif
