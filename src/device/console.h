/* A board's console read line by line: what the ROM, the bootloader and the app print
 * on the serial port once the board runs. ANSI colour codes (ESP-IDF's log colours) are
 * taken out; other control bytes and bytes outside ASCII show as '.', so a line is
 * plain text whatever came (noise at a wrong baud rate too). */
#ifndef EG_DEVICE_CONSOLE_H
#define EG_DEVICE_CONSOLE_H

#include "transport/transport.h"

#include <stddef.h>

#define EG_CONSOLE_LINE_MAX 512 /* longer lines are cut into pieces of this size */

typedef struct eg_console {
    eg_transport *t;
    char part[EG_CONSOLE_LINE_MAX]; /* the line so far */
    size_t n;
    int esc; /* inside an escape sequence: 1 after ESC, 2 inside "ESC [" */
    uint8_t buf[4096];
    size_t at, len; /* bytes read from t and not looked at yet */
} eg_console;

void eg_console_init(eg_console *c, eg_transport *t);

/* Bytes that came before the console was opened (what a session had read past its
 * last response: the start of a boot), read first. At most sizeof(buf) are kept (the
 * latest). */
void eg_console_feed(eg_console *c, const uint8_t *data, size_t len);

/* The next whole line (without its end) into line (len bytes with the NUL): 1; 0 when
 * none came within timeout_ms (what came of the next one is kept); a negative code
 * from the transport (EG_EGONE: the port went away). */
int eg_console_line(eg_console *c, char *line, size_t len, unsigned timeout_ms);

/* The line begun but not ended (a prompt), "" when none. */
const char *eg_console_partial(eg_console *c);

#endif
