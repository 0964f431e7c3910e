/* The monitor over a board's output: any bytes, in pieces the first byte sizes,
 * through the serial format; with the fixture ELF's symbols (EG_FUZZ_ELF) every
 * address-looking word is looked up too. */
#include "fuzz.h"
#include "monitor/monitor.h"

#include <stdlib.h>

static eg_symbols *symbols;

static int sink(void *ctx, eg_monitor_kind kind, const char *text, size_t len)
{
    (void)ctx;
    (void)kind;
    volatile char c = len ? text[len - 1] : 0;
    (void)c;
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    eg_symbols_open(&symbols, EG_FUZZ_ELF);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eg_monitor *m = NULL;
    eg_monitor_opts o = {NULL, symbols, size && (data[0] & 0x80), sink, NULL};
    size_t piece = size ? (size_t)(data[0] & 0x7F) + 1 : 1;

    if (eg_monitor_new(&m, &o) < 0)
        return 0;
    for (size_t at = 0; at < size; at += piece)
        eg_monitor_feed(m, data + at, size - at < piece ? size - at : piece);
    eg_monitor_finish(m);
    eg_monitor_free(m);
    return 0;
}
