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
#include <string.h>
#include <unistd.h>

#include "internal.h"

ssize_t
sl_index_count(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	return st.st_size / SL_INDEX_ENTRY;
}

/*
 * Each entry ends with the CRC-32 of its first 16 bytes: the offset and
 * position are checked against the batch they name, but nothing else can
 * check the timestamp column, and a flipped bit there would mislead a time
 * lookup.  A damaged entry reads as EBADMSG and lookups then scan.
 */
static void
encode_entry(unsigned char *b, uint32_t rel, uint32_t pos, int64_t maxts)
{
	sl_put32(b, rel);
	sl_put32(b + 4, pos);
	sl_put64(b + 8, (uint64_t)maxts);
	sl_put32(b + 16, sl_crc32(0, b, 16));
}

static int
decode_entry(const unsigned char *b, uint64_t segbase, size_t i,
    struct sl_ientry *e)
{
	if (sl_get32(b + 16) != sl_crc32(0, b, 16)) {
		errno = EBADMSG;
		return -1;
	}
	e->index = i;
	e->offset = segbase + sl_get32(b);
	e->pos = sl_get32(b + 4);
	e->maxts = (int64_t)sl_get64(b + 8);
	return 0;
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
	return decode_entry(b, segbase, i, e);
}

int
sl_index_put(int fd, uint64_t segbase, size_t i, const struct sl_ientry *e)
{
	unsigned char b[SL_INDEX_ENTRY];

	if (e->offset - segbase > UINT32_MAX || e->pos > UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	encode_entry(b, (uint32_t)(e->offset - segbase), (uint32_t)e->pos,
	    e->maxts);
	return sl_pwrite_full(fd, b, sizeof b, (off_t)i * SL_INDEX_ENTRY);
}

/*
 * Batches this thread has verified lately.  A lookup verifies an entry's
 * batch, scans from it, and the caller then seeks to the same entry:
 * without this each step would read and checksum the same megabyte.  The
 * key is the file's identity, the position and the whole header, CRC field
 * included, so a batch written anew at the same place is verified anew.
 */
#define KNOWN	8

static _Thread_local struct known {
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 pos;
	unsigned char	 hdr[SL_BATCH_HDR];
	int		 used;
} known[KNOWN];
static _Thread_local unsigned known_next;

int
sl_batch_known(int fd, uint64_t pos, const unsigned char *hdr)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	for (int i = 0; i < KNOWN; i++)
		if (known[i].used && known[i].pos == pos &&
		    known[i].ino == st.st_ino && known[i].dev == st.st_dev &&
		    memcmp(known[i].hdr, hdr, SL_BATCH_HDR) == 0)
			return 1;
	return 0;
}

void
sl_batch_known_add(int fd, uint64_t pos, const unsigned char *hdr)
{
	struct known *k = &known[known_next++ % KNOWN];
	struct stat st;

	if (fstat(fd, &st) < 0)
		return;
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->pos = pos;
	memcpy(k->hdr, hdr, SL_BATCH_HDR);
	k->used = 1;
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
	if (sl_batch_known(sfd, e->pos, h))
		return 1;
	if ((p = malloc(b.length)) == NULL)
		return -1;
	if ((n = sl_pread_full(sfd, p, b.length, e->pos)) < 0) {
		free(p);
		return -1;
	}
	ok = (size_t)n == b.length && sl_batch_crc_ok(p, &b);
	if (ok)
		sl_batch_known_add(sfd, e->pos, p);
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
			return errno == EBADMSG ? 0 : -1;
		if (bytime ? e.maxts < ms : e.offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * A few bad entries in a row mean a stale index: scan instead.  A
	 * damaged entry may also have misled the search: only an entry that
	 * matches counts, or a seek would land past the offset asked for.
	 */
	for (int tries = 0; lo > 0 && tries < 8; tries++) {
		lo--;
		if (sl_index_get(ifd, segbase, lo, &e) < 0)
			return errno == EBADMSG ? 0 : -1;
		if (bytime ? e.maxts >= ms : e.offset > offset)
			continue;
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
sl_index_search(int ifd, uint64_t segbase, int bytime, uint64_t offset,
    int64_t ms, struct sl_ientry *out)
{
	ssize_t n = sl_index_count(ifd);
	size_t lo = 0, hi, mid;
	struct sl_ientry e;

	if (n < 0)
		return -1;
	hi = n;
	/* Invariant: entries [0, lo) match, [hi, n) do not. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sl_index_get(ifd, segbase, mid, &e) < 0)
			return errno == EBADMSG ? 0 : -1;
		if (bytime ? e.maxts < ms : e.offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	if (sl_index_get(ifd, segbase, lo - 1, out) < 0)
		return errno == EBADMSG ? 0 : -1;
	return 1;
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

/*
 * Rebuilding: the same rule as the writer's (an entry for the first batch
 * at least SL_INDEX_INTERVAL bytes after the previous entry's, never for
 * byte 0), so a rebuilt index is the one a writer would have made.
 */
void
sl_ibuild_init(struct sl_ibuild *ib, int fd, uint64_t segbase)
{
	ib->fd = fd;
	ib->segbase = segbase;
	ib->lastpos = 0;
	ib->maxts = INT64_MIN;
	ib->n = 0;
	ib->blen = 0;
}

static int
ibuild_flush(struct sl_ibuild *ib)
{
	if (ib->blen == 0)
		return 0;
	if (sl_pwrite_full(ib->fd, ib->buf, ib->blen,
	    (off_t)(ib->n * SL_INDEX_ENTRY - ib->blen)) < 0)
		return -1;
	ib->blen = 0;
	return 0;
}

int
sl_ibuild_batch(struct sl_ibuild *ib, uint64_t pos, const struct sl_batch *b)
{
	unsigned char *p;

	if (pos != 0 && pos - ib->lastpos >= SL_INDEX_INTERVAL) {
		if (b->base - ib->segbase > UINT32_MAX || pos > UINT32_MAX) {
			errno = EOVERFLOW;
			return -1;
		}
		if (ib->blen + SL_INDEX_ENTRY > sizeof ib->buf &&
		    ibuild_flush(ib) < 0)
			return -1;
		p = ib->buf + ib->blen;
		encode_entry(p, (uint32_t)(b->base - ib->segbase),
		    (uint32_t)pos, ib->maxts);
		ib->blen += SL_INDEX_ENTRY;
		ib->n++;
		ib->lastpos = pos;
	}
	if (b->max_ts > ib->maxts)
		ib->maxts = b->max_ts;
	return 0;
}

int
sl_ibuild_finish(struct sl_ibuild *ib)
{
	return ibuild_flush(ib);
}

/*
 * The probe behind time lookups over many segments: the segment's largest
 * timestamp from its last index entry and the headers of the few batches
 * after it, without reading their payloads.  A "known" answer is exact
 * for a segment whose batches are intact (each header's max_timestamp is
 * covered by its CRC), so skipping a segment on it never skips a record;
 * anything unexpected makes it answer "unknown" and the caller scans.
 */
#define PROBE_BUF	8192
#define PROBE_HOPS	256

/* The last entry of index IFD: 1, 0 when it has none, -1 on error.  An
 * index of up to 256 entries (segments of large batches) takes one read. */
static int
last_entry(int ifd, uint64_t segbase, struct sl_ientry *e)
{
	unsigned char buf[256 * SL_INDEX_ENTRY];
	ssize_t n;

	/* One pread: a regular file returns less only at its end. */
	do
		n = pread(ifd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n == sizeof buf) {
		if ((n = sl_index_count(ifd)) < 0)
			return -1;
		if (n == 0)
			return 0;
		if (sl_index_get(ifd, segbase, n - 1, e) < 0)
			return errno == EBADMSG ? 0 : -1;
		return 1;
	}
	if ((n /= SL_INDEX_ENTRY) == 0)
		return 0;
	/* A damaged last entry: no entry, and the caller scans. */
	return decode_entry(buf + (n - 1) * SL_INDEX_ENTRY, segbase, n - 1,
	    e) < 0 ? 0 : 1;
}

int
sl_index_segmax(int ifd, int sfd, uint64_t segbase, uint64_t upper,
    size_t limit, int64_t *max)
{
	unsigned char buf[PROBE_BUF];
	struct sl_ientry e;
	struct sl_batch b;
	uint64_t pos = 0, next = segbase, bpos = 0;
	int64_t m = INT64_MIN;
	size_t blen = 0;
	ssize_t n;
	int checked = 1, f;

	if (ifd >= 0 && (f = last_entry(ifd, segbase, &e)) != 0) {
		if (f < 0)
			return -1;
		pos = e.pos;
		next = e.offset;
		m = e.maxts;
		checked = 0;	/* the entry's batch must be there */
	}
	/* Hop from header to header.  The batch that ends at the next
	 * segment's first offset is the last one; otherwise a short read is
	 * the end of the file: the few batches after the entry usually cost
	 * one read. */
	for (int hops = 0; next != upper; hops++) {
		if (hops == PROBE_HOPS)
			return 0;
		if (blen == 0 || pos + SL_BATCH_HDR > bpos + blen) {
			if (blen > 0 && blen < sizeof buf && pos == bpos + blen)
				break;		/* the short read ended here */
			if ((n = sl_pread_full(sfd, buf, sizeof buf, pos)) < 0)
				return -1;
			bpos = pos;
			blen = n;
			if (blen == 0)
				break;
			if (blen < SL_BATCH_HDR)
				return 0;
		}
		if (sl_batch_header(buf + (pos - bpos), limit, &b) < 0 ||
		    b.base < next || (!checked && b.base != e.offset))
			return 0;
		checked = 1;
		if (b.max_ts > m)
			m = b.max_ts;
		next = b.base + b.last_delta + 1;
		pos += b.length;
		/* A batch that runs past a short read is incomplete. */
		if (blen < sizeof buf && pos > bpos + blen)
			return 0;
	}
	if (!checked || next > upper)
		return 0;
	*max = m;
	return 1;
}
