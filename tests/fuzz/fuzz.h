/*
 * fuzz.h - what every fuzz target and the replay driver share: the libFuzzer
 * entry point, and a check that aborts (so both libFuzzer and a plain replay
 * report the input) when an invariant of the code under test does not hold.
 */
#ifndef ACMPCA_FUZZ_H
#define ACMPCA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
        abort(); \
    } } while (0)

#endif
