/*
 * index.c - the sparse index beside each segment: one 16-byte entry per
 * SL_INDEX_INTERVAL bytes of batches, mapping an offset to the byte
 * position of the batch it starts, with the largest timestamp seen in the
 * segment before it (Kafka's time-index rule, so a time lookup is right
 * even when timestamps go backwards).  The index is a cache: every entry
 * is verified against the segment before it is used, and a torn, stale or
 * missing index only costs a scan.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>

#include "internal.h"

ssize_t
sl_index_count(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	return st.st_size / SL_INDEX_ENTRY;
}

int
sl_index_get(int fd, uint64_t segbase, size_t i, struct sl_ientry *e)
{
	unsigned char b[SL_INDEX_ENTRY];
	ssize_t n;

	n = sl_pread_full(fd, b, sizeof b, (off_t)i * SL_INDEX_ENTRY);
	if (n < 0)
		return -1;
	if (n != sizeof b) {
		errno = ENODATA;
		return -1;
	}
	e->index = i;
	e->offset = segbase + sl_get32(b);
	e->pos = sl_get32(b + 4);
	e->maxts = (int64_t)sl_get64(b + 8);
	return 0;
}

int
sl_index_put(int fd, uint64_t segbase, size_t i, const struct sl_ientry *e)
{
	unsigned char b[SL_INDEX_ENTRY];

	if (e->offset - segbase > UINT32_MAX || e->pos > UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	sl_put32(b, (uint32_t)(e->offset - segbase));
	sl_put32(b + 4, (uint32_t)e->pos);
	sl_put64(b + 8, (uint64_t)e->maxts);
	return sl_pwrite_full(fd, b, sizeof b, (off_t)i * SL_INDEX_ENTRY);
}

/*
 * Whether entry E names a valid batch starting at its offset.  Reads just
 * that batch: a lookup must not cost more than the batch it lands on.
 */
static int
verify(int sfd, size_t limit, const struct sl_ientry *e)
{
	unsigned char h[SL_BATCH_HDR], *p;
	struct sl_batch b;
	ssize_t n;
	int ok;

	if ((n = sl_pread_full(sfd, h, sizeof h, e->pos)) < 0)
		return -1;
	if (n != sizeof h || sl_batch_header(h, limit, &b) < 0 ||
	    b.base != e->offset)
		return 0;
	if ((p = malloc(b.length)) == NULL)
		return -1;
	if ((n = sl_pread_full(sfd, p, b.length, e->pos)) < 0) {
		free(p);
		return -1;
	}
	ok = (size_t)n == b.length && sl_batch_crc_ok(p, &b);
	free(p);
	return ok;
}

/*
 * Binary search for the last entry I with KEY(I) below the target, then
 * walk back past a few entries that do not verify.
 */
static int
find(int ifd, int sfd, uint64_t segbase, size_t limit, int bytime,
    uint64_t offset, int64_t ms, struct sl_ientry *out)
{
	ssize_t n = sl_index_count(ifd);
	size_t lo = 0, hi, mid;
	struct sl_ientry e;
	int v;

	if (n < 0)
		return -1;
	hi = n;
	/* Invariant: entries [0, lo) match, [hi, n) do not. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sl_index_get(ifd, segbase, mid, &e) < 0)
			return -1;
		if (bytime ? e.maxts < ms : e.offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A few bad entries in a row mean a stale index: scan instead. */
	for (int tries = 0; lo > 0 && tries < 8; tries++) {
		lo--;
		if (sl_index_get(ifd, segbase, lo, &e) < 0)
			return -1;
		if ((v = verify(sfd, limit, &e)) < 0)
			return -1;
		if (v) {
			*out = e;
			return 1;
		}
	}
	return 0;
}

int
sl_index_find_offset(int ifd, int sfd, uint64_t segbase, size_t limit,
    uint64_t offset, struct sl_ientry *out)
{
	return find(ifd, sfd, segbase, limit, 0, offset, 0, out);
}

int
sl_index_find_time(int ifd, int sfd, uint64_t segbase, size_t limit,
    int64_t ms, struct sl_ientry *out)
{
	return find(ifd, sfd, segbase, limit, 1, 0, ms, out);
}
