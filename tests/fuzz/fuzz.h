/* One fuzz target per file: LLVMFuzzerTestOneInput takes any bytes and must neither
 * crash, hang nor leak, whatever they are. The same file builds two ways: with
 * libFuzzer (`make fuzz`, clang -fsanitize=fuzzer) to search for inputs, and with
 * replay.c (every build, run by ctest, under ASan+UBSan in `make check`) to run the
 * committed corpus: the seeds and every input that once found a bug. */
#ifndef EG_FUZZ_H
#define EG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer: a target that needs set-up (a table to load) defines it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#endif
