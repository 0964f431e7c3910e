/* Partition tables: what begins as a binary table's first entry (0xAA 0x50) goes to
 * the binary reader, the rest to the CSV one; both readers for odd lengths. */
#include "fuzz.h"
#include "partition/partition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eg_partition_table *t = NULL;
    eg_partition_opts o;

    eg_partition_opts_default(&o);
    int binary = size >= 2 && data[0] == 0xAA && data[1] == 0x50;
    if ((binary || size % 2) && eg_partition_parse_bin(&t, data, size, "fuzz.bin", &o) == 0)
        eg_partition_table_free(t);
    t = NULL;
    if ((!binary || size % 2) &&
        eg_partition_parse_csv(&t, (const char *)data, size, "fuzz.csv", &o) == 0)
        eg_partition_table_free(t);
    return 0;
}
