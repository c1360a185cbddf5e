// libFuzzer's entry point for a program that has its own main (compiler-rt,
// FuzzerInterface.h). Declared only: the symbol comes from the libFuzzer runtime that
// -sanitize=fuzzer links, and only the STARLING_LIBFUZZER build refers to it.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
