/*
 * fuzz.h - what the harnesses in fuzz/ share: the libFuzzer entry point,
 * and the checks that turn a broken invariant into a crash the fuzzer
 * (or the corpus replay of `make check`) reports.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of synclog does not hold for this input: report, abort. */
#define FUZZ_ASSERT(cond, what) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", \
		    __FILE__, __LINE__, (what), #cond); \
		abort(); \
	} \
} while (0)

#endif /* FUZZ_H */
