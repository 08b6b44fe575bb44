// SwiftPM links a debug executable with `--defsym main=<Module>_main` (so tests can import it),
// which leaves no room for libFuzzer's own `main`. This entry point takes that name and hands
// control to libFuzzer's driver, with the harness exported by VetoFuzz.swift.
#include <stddef.h>
#include <stdint.h>
#include "CFuzzEntry.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int VetoFuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
