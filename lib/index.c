/*
 * index.c - the sparse index beside each segment: an entry for the first
 * batch and one per SL_INDEX_INTERVAL bytes of batches after it, mapping an
 * offset to the byte position of the batch it starts.
 *
 * The timestamp column makes time lookups cheap at two scales:
 * - Within a segment, an entry for byte P > 0 holds the largest timestamp
 *   of the segment's records before P (Kafka's time-index rule, so a
 *   lookup is right even when timestamps go backwards).
 * - Across segments, the entry for byte 0 holds the segment's seed: the
 *   largest timestamp of every record of the log before the segment,
 *   earlier segments included.  Seeds never decrease from one segment to
 *   the next, so a time lookup finds by binary search over the segments
 *   the last one whose seed is below the time: nothing before it can hold
 *   the answer (reader.c).  A seed is the writer's running maximum when it
 *   rotates (or, after a crash, the previous segment's seed and largest
 *   timestamp: sl_log_seed); records only ever leave the part of the log
 *   before a segment (retention, compaction, salvage), so a seed can only
 *   become too large, which is safe, never too small.
 *
 * The index is a cache: every entry is verified against the segment before
 * it is used (a seed, which nothing in the segment can confirm, by its
 * checksum, which covers the segment's base and the log's id), and a torn,
 * stale, foreign or missing index only costs a scan.  An index written
 * before seeds existed has no entry for byte 0 and so lends no seed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"

ssize_t
sl_index_count(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	return st.st_size / SL_INDEX_ENTRY;
}

void
sl_ikey_init(struct sl_ikey *k, uint64_t base, const char *id)
{
	unsigned char bind[8 + 32] = { 0 };

	sl_put64(bind, base);
	if (id != NULL)
		memcpy(bind + 8, id, strnlen(id, 32));
	k->base = base;
	k->crc0 = sl_crc32(0, bind, sizeof bind);
}

/*
 * Each entry ends with a CRC-32 of the segment's base offset, the log's id
 * and its first 16 bytes: the offset and position are checked against the
 * batch they name, but nothing else can check the timestamp column, and a
 * flipped bit there, or another segment's seed, would mislead a time
 * lookup.  A damaged entry reads as EBADMSG and lookups then scan.
 */
static void
encode_entry(unsigned char *b, const struct sl_ikey *k, uint32_t rel,
    uint32_t pos, int64_t maxts)
{
	sl_put32(b, rel);
	sl_put32(b + 4, pos);
	sl_put64(b + 8, (uint64_t)maxts);
	sl_put32(b + 16, sl_crc32(k->crc0, b, 16));
}

static int
decode_entry(const unsigned char *b, const struct sl_ikey *k, size_t i,
    struct sl_ientry *e)
{
	if (sl_get32(b + 16) != sl_crc32(k->crc0, b, 16)) {
		errno = EBADMSG;
		return -1;
	}
	e->index = i;
	e->offset = k->base + sl_get32(b);
	e->pos = sl_get32(b + 4);
	e->maxts = (int64_t)sl_get64(b + 8);
	return 0;
}

/* The key a time search compares: the seed entry is about other segments,
 * and within its own segment nothing comes before byte 0. */
static int64_t
tkey(const struct sl_ientry *e)
{
	return e->pos == 0 ? INT64_MIN : e->maxts;
}

int
sl_index_get(int fd, const struct sl_ikey *k, size_t i, struct sl_ientry *e)
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
	return decode_entry(b, k, i, e);
}

int
sl_index_put(int fd, const struct sl_ikey *k, size_t i,
    const struct sl_ientry *e)
{
	unsigned char b[SL_INDEX_ENTRY];

	if (e->offset - k->base > UINT32_MAX || e->pos > UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	encode_entry(b, k, (uint32_t)(e->offset - k->base), (uint32_t)e->pos,
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
/*
 * Binary search: *LO is the number of leading entries at or before OFFSET
 * (or, BYTIME, whose time key is below MS).  1, or 0 when a damaged entry
 * got in the way, -1 on a read error.
 */
static int
bisect(int ifd, const struct sl_ikey *k, int bytime, uint64_t offset,
    int64_t ms, size_t *lop)
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
		if (sl_index_get(ifd, k, mid, &e) < 0)
			return errno == EBADMSG ? 0 : -1;
		if (bytime ? tkey(&e) < ms : e.offset <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	*lop = lo;
	return 1;
}

static int
find(int ifd, int sfd, const struct sl_ikey *k, size_t limit, int bytime,
    uint64_t offset, int64_t ms, struct sl_ientry *out)
{
	struct sl_ientry e;
	size_t lo;
	int v;

	if ((v = bisect(ifd, k, bytime, offset, ms, &lo)) <= 0)
		return v;
	/*
	 * A few bad entries in a row mean a stale index: scan instead.  A
	 * damaged entry may also have misled the search: only an entry that
	 * matches counts, or a seek would land past the offset asked for.
	 */
	for (int tries = 0; lo > 0 && tries < 8; tries++) {
		lo--;
		if (sl_index_get(ifd, k, lo, &e) < 0)
			return errno == EBADMSG ? 0 : -1;
		if (bytime ? tkey(&e) >= ms : e.offset > offset)
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
sl_index_search(int ifd, const struct sl_ikey *k, int bytime,
    uint64_t offset, int64_t ms, struct sl_ientry *out)
{
	size_t lo;
	int v;

	if ((v = bisect(ifd, k, bytime, offset, ms, &lo)) <= 0)
		return v;
	if (lo == 0)
		return 0;
	if (sl_index_get(ifd, k, lo - 1, out) < 0)
		return errno == EBADMSG ? 0 : -1;
	return 1;
}

int
sl_index_find_offset(int ifd, int sfd, const struct sl_ikey *k, size_t limit,
    uint64_t offset, struct sl_ientry *out)
{
	return find(ifd, sfd, k, limit, 0, offset, 0, out);
}

int
sl_index_find_time(int ifd, int sfd, const struct sl_ikey *k, size_t limit,
    int64_t ms, struct sl_ientry *out)
{
	return find(ifd, sfd, k, limit, 1, 0, ms, out);
}

int
sl_index_seed(int ifd, const struct sl_ikey *k, int64_t *seed)
{
	struct sl_ientry e;

	if (sl_index_get(ifd, k, 0, &e) < 0)
		return errno == EBADMSG || errno == ENODATA ? 0 : -1;
	if (e.pos != 0)
		return 0;
	*seed = e.maxts;
	return 1;
}

/*
 * Rebuilding: the same rule as the writer's (an entry with the seed for
 * the batch at byte 0, then one for the first batch at least
 * SL_INDEX_INTERVAL bytes after the previous entry's), so a rebuilt index
 * is the one a writer would have made.
 */
void
sl_ibuild_init(struct sl_ibuild *ib, int fd, const struct sl_ikey *k)
{
	ib->fd = fd;
	ib->key = *k;
	ib->seeded = 0;
	ib->seed = INT64_MIN;
	ib->verify = ib->update = ib->differs = 0;
	ib->lastpos = 0;
	ib->maxts = INT64_MIN;
	ib->n = 0;
	ib->blen = 0;
}

void
sl_ibuild_verify(struct sl_ibuild *ib)
{
	ib->verify = 1;
	ib->differs = ib->fd < 0;
}

void
sl_ibuild_update(struct sl_ibuild *ib)
{
	ib->update = 1;
}

int
sl_ibuild_flush(struct sl_ibuild *ib)
{
	unsigned char old[sizeof ib->buf];
	off_t at = (off_t)(ib->n * SL_INDEX_ENTRY - ib->blen);
	ssize_t n;

	if (ib->blen == 0 || ib->fd < 0)
		return 0;
	if (ib->update) {
		if ((n = sl_pread_full(ib->fd, old, ib->blen, at)) < 0)
			return -1;
		if (((size_t)n != ib->blen || memcmp(old, ib->buf,
		    ib->blen) != 0) &&
		    sl_pwrite_full(ib->fd, ib->buf, ib->blen, at) < 0)
			return -1;
	} else if (ib->verify) {
		if (!ib->differs) {
			if ((n = sl_pread_full(ib->fd, old, ib->blen, at)) < 0)
				return -1;
			if ((size_t)n != ib->blen ||
			    memcmp(old, ib->buf, ib->blen) != 0)
				ib->differs = 1;
		}
	} else if (sl_pwrite_full(ib->fd, ib->buf, ib->blen, at) < 0)
		return -1;
	ib->blen = 0;
	return 0;
}

void
sl_ibuild_seed(struct sl_ibuild *ib, int64_t seed)
{
	ib->seeded = 1;
	ib->seed = seed;
}

int
sl_ibuild_batch(struct sl_ibuild *ib, uint64_t pos, const struct sl_batch *b)
{
	unsigned char *p;

	if (pos == 0 ? ib->seeded : pos - ib->lastpos >= SL_INDEX_INTERVAL) {
		if (b->base - ib->key.base > UINT32_MAX || pos > UINT32_MAX) {
			errno = EOVERFLOW;
			return -1;
		}
		if (ib->blen + SL_INDEX_ENTRY > sizeof ib->buf &&
		    sl_ibuild_flush(ib) < 0)
			return -1;
		p = ib->buf + ib->blen;
		encode_entry(p, &ib->key, (uint32_t)(b->base - ib->key.base),
		    (uint32_t)pos, pos == 0 ? ib->seed : ib->maxts);
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
	ssize_t n;

	if (sl_ibuild_flush(ib) < 0)
		return -1;
	if (ib->update && ib->fd >= 0) {
		if ((n = sl_index_count(ib->fd)) < 0)
			return -1;
		if ((size_t)n > ib->n &&
		    ftruncate(ib->fd, (off_t)(ib->n * SL_INDEX_ENTRY)) < 0)
			return -1;
	} else if (ib->verify && !ib->differs) {
		if ((n = sl_index_count(ib->fd)) < 0)
			return -1;
		if ((size_t)n != ib->n)
			ib->differs = 1;
	}
	return 0;
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
last_entry(int ifd, const struct sl_ikey *k, struct sl_ientry *e)
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
		if (sl_index_get(ifd, k, n - 1, e) < 0)
			return errno == EBADMSG ? 0 : -1;
		return 1;
	}
	if ((n /= SL_INDEX_ENTRY) == 0)
		return 0;
	/* A damaged last entry: no entry, and the caller scans. */
	return decode_entry(buf + (n - 1) * SL_INDEX_ENTRY, k, n - 1, e) < 0 ?
	    0 : 1;
}

int
sl_index_segmax(int ifd, int sfd, const struct sl_ikey *k, uint64_t upper,
    size_t limit, int64_t *max)
{
	unsigned char buf[PROBE_BUF];
	struct sl_ientry e;
	struct sl_batch b;
	uint64_t pos = 0, next = k->base, bpos = 0;
	int64_t m = INT64_MIN;
	size_t blen = 0;
	ssize_t n;
	int checked = 1, f;

	if (ifd >= 0 && (f = last_entry(ifd, k, &e)) != 0) {
		if (f < 0)
			return -1;
		pos = e.pos;
		next = e.offset;
		m = tkey(&e);
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

int
sl_segment_maxts(int sfd, uint64_t base, size_t limit, int64_t *max)
{
	struct sl_window w = { 0 };
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	uint64_t pos = 0, next = base;
	enum sl_scan s;
	int64_t m = INT64_MIN;

	while ((s = sl_scan_batch(&w, sfd, pos, limit, next, &b, &p, &why)) ==
	    SL_SCAN_OK) {
		if (b.max_ts > m)
			m = b.max_ts;
		pos += b.length;
		next = b.base + b.last_delta + 1;
	}
	sl_window_free(&w);
	if (s == SL_SCAN_ERROR)
		return -1;
	if (s != SL_SCAN_EOF)
		return 0;
	*max = m;
	return 1;
}

/*
 * Segment BASE's largest timestamp into *ACC, and its seed into *SEED if
 * it has one: 1 seeded, 0 not, 2 damaged (unknown), -1 error.  A segment
 * gone meanwhile (retention) holds nothing.
 */
static int
seg_contrib(int dirfd, const char *id, size_t limit, uint64_t base,
    uint64_t upper, int64_t *acc, int64_t *seed)
{
	struct sl_ikey k;
	int64_t m;
	int ifd, sfd, s = 0, f, e;

	sl_ikey_init(&k, base, id);
	ifd = sl_segment_open(dirfd, base, ".index", O_RDONLY);
	if ((sfd = sl_segment_open(dirfd, base, ".log", O_RDONLY)) < 0) {
		e = errno;
		if (ifd >= 0)
			close(ifd);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	if (ifd >= 0)
		s = sl_index_seed(ifd, &k, seed);
	f = s < 0 ? -1 : sl_index_segmax(ifd, sfd, &k, upper, limit, &m);
	if (f == 0)
		f = sl_segment_maxts(sfd, base, limit, &m);
	e = errno;
	if (ifd >= 0)
		close(ifd);
	close(sfd);
	errno = e;
	if (f <= 0)
		return f < 0 ? -1 : 2;
	if (m > *acc)
		*acc = m;
	return s;
}

int
sl_log_seed(int dirfd, const char *id, size_t limit, uint64_t base,
    int64_t *seed)
{
	uint64_t *bases;
	int64_t acc = INT64_MIN, s = INT64_MIN;
	size_t n, i;
	int r = 1;

	if (sl_segment_list(dirfd, &bases, &n) < 0)
		return -1;
	for (i = 0; i < n && bases[i] < base; i++)
		;
	/* Back from the segment before BASE to the first with a seed. */
	while (i-- > 0) {
		r = seg_contrib(dirfd, id, limit, bases[i], i + 1 < n ?
		    bases[i + 1] : UINT64_MAX, &acc, &s);
		if (r != 0)
			break;
		r = 1;
	}
	free(bases);
	if (r < 0 || r == 2)
		return r < 0 ? -1 : 0;
	if (r == 1 && i != (size_t)-1 && s > acc)
		acc = s;
	*seed = acc;
	return 1;
}
