/* defmt frames from a board, decoded with the defmt fixture's table (EG_FUZZ_DEFMT_ELF)
 * and printed by the default format: garbage, cut frames and bad indices included. */
#include "core/buf.h"
#include "fuzz.h"
#include "monitor/defmt.h"

static eg_defmt_table *table;
static eg_defmt_format *format;

static void emit(void *ctx, const eg_defmt_line *line)
{
    eg_buf out = EG_BUF_INIT;
    (void)ctx;
    if (line->kind != EG_DEFMT_TEXT)
        eg_defmt_format_line(format, line, 0, &out);
    eg_buf_release(&out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (eg_defmt_table_load(&table, EG_FUZZ_DEFMT_ELF) == 0)
        eg_defmt_format_new(&format, "full", table);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eg_defmt_decoder *dec = NULL;

    if (!table || !format || eg_defmt_decoder_new(&dec, table, 0) < 0)
        return 0;
    eg_defmt_decoder_feed(dec, data, size, emit, NULL);
    eg_defmt_decoder_free(dec);
    return 0;
}
