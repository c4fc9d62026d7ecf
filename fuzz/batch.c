/*
 * batch.c - fuzz the batch decoder: sl_batch_header, the CRC check and
 * the record cursor (inflating a compressed payload) on arbitrary bytes.
 *
 * Input: one byte choosing the size limit and whether to repair the CRC,
 * then the would-be batch.  With the CRC repaired, the cursor runs on
 * bytes that pass verification, as a writer bug would produce them.
 * Invariants: nothing is read outside the batch; a header is accepted
 * only within the limit; every record the cursor returns lies inside the
 * payload, has offsets increasing within [base, base + last delta], and
 * there are at most count of them.
 */
#include <string.h>

#include "synclog.h"
#include "bytes.h"
#include "batch.h"
#include "fuzz.h"

static void
walk(const unsigned char *p, const struct sl_batch *b)
{
	struct sl_cursor c = { 0 };
	struct sl_record r;
	unsigned char *scratch = NULL;
	size_t scap = 0, n = 0;
	uint64_t prev = 0;
	int f;

	if (sl_cursor_start(&c, p, b, &scratch, &scap) < 0) {
		FUZZ_ASSERT(b->flags & SL_BATCH_DEFLATE,
		    "only inflating can fail to start");
		goto out;
	}
	while ((f = sl_cursor_next(&c, &r)) > 0) {
		FUZZ_ASSERT(n < b->count, "more records than the count");
		FUZZ_ASSERT(r.offset >= b->base &&
		    r.offset <= b->base + b->last_delta, "offset in range");
		FUZZ_ASSERT(n == 0 || r.offset > prev, "offsets increase");
		FUZZ_ASSERT(r.key != NULL || r.keylen == 0,
		    "an absent key has no length");
		FUZZ_ASSERT(r.value != NULL || r.valuelen == 0,
		    "a tombstone has no length");
		FUZZ_ASSERT(r.nheaders == 0 || r.headers != NULL, "headers");
		/* Touch every byte, so ASan sees any out-of-bounds one. */
		volatile unsigned sum = 0;
		for (size_t i = 0; r.key && i < r.keylen; i++)
			sum += r.key[i];
		for (size_t i = 0; r.value && i < r.valuelen; i++)
			sum += r.value[i];
		for (size_t h = 0; h < r.nheaders; h++) {
			for (size_t i = 0; i < r.headers[h].namelen; i++)
				sum += r.headers[h].name[i];
			for (size_t i = 0; i < r.headers[h].valuelen; i++)
				sum += r.headers[h].value[i];
		}
		(void)sum;
		prev = r.offset;
		n++;
	}
	if (f == 0)
		FUZZ_ASSERT(n == b->count, "a complete batch has count records");
out:
	sl_cursor_free(&c);
	free(scratch);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_batch b;
	unsigned char *p;
	size_t limit;

	if (size < 1)
		return 0;
	limit = data[0] & 1 ? sl_batch_limit(SL_DEFAULT_MAX_RECORD_BYTES) :
	    sl_batch_limit(4096);
	int fix = data[0] & 2;
	data++;
	size--;
	if (size < SL_BATCH_HDR)
		return 0;
	/* An exact copy, so ASan catches a read past the input. */
	if ((p = malloc(size)) == NULL)
		return 0;
	memcpy(p, data, size);
	if (sl_batch_header(p, limit, &b) == 0) {
		FUZZ_ASSERT(b.length >= SL_BATCH_HDR && b.length <= limit,
		    "length within the limit");
		FUZZ_ASSERT(b.count > 0 && b.last_delta >= b.count - 1,
		    "count and delta agree");
		if (b.length <= size) {
			if (fix)
				sl_put32(p + 48, sl_batch_crc(p, b.length));
			if (sl_batch_crc_ok(p, &b)) {
				/* Only the batch's own bytes, exactly. */
				unsigned char *q = malloc(b.length);

				if (q != NULL) {
					memcpy(q, p, b.length);
					walk(q, &b);
					free(q);
				}
			}
		}
	}
	free(p);
	return 0;
}
