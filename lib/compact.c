/*
 * compact.c - retention and compaction (logcompact).
 *
 * Retention drops whole sealed segments, oldest first: only a prefix of
 * the log ever goes, so what remains has no hole a reader did not expect.
 * Compaction keeps, in sealed segments, only the latest record of each key
 * (as of the log's end when the run started), drops a latest record that is
 * a tombstone once it is older than the grace period, keeps records
 * without a key, and never changes an offset.
 *
 * Invariants:
 * - The last segment, which a writer appends to, is never touched; a
 *   segment sealed after the run began is left for the next run.
 * - A record is dropped only on proof: a later record of its key, read by
 *   this run (or its own expired tombstone).  With --keep-unconsumed no
 *   record at or after the lowest consumer checkpoint is dropped.
 * - Each segment is replaced atomically (rewrite.c), so a crash leaves the
 *   old segment or the new one and readers and writers keep working.
 * - Memory is bounded: the key map is a fixed table of 24-byte entries (a
 *   128-bit hash of the key and its latest offset) within opts->memory.
 *   When it fills, the run compacts with what it has and starts another
 *   pass from where the map stopped; each pass is correct on its own.
 *   Two different keys with the same 128-bit hash would be taken for one
 *   key: with n keys the chance is about n^2 / 2^129.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"
#include "rewrite.h"

#define ENTRY_BYTES	24	/* h1, h2, offset + 1 (0: empty slot) */

struct keymap {
	uint64_t	*slot;		/* 3 words per slot */
	size_t		 mask;		/* slots - 1 */
	size_t		 used, max;
};

/* An output batch of a rewritten segment. */
struct obatch {
	unsigned char	*buf;		/* header room, then the payload */
	size_t		 cap, paylen;
	uint32_t	 count;
	uint64_t	 base, last;
	int64_t		 first_ts, max_ts;
	unsigned char	*zbuf;
	size_t		 zcap;
};

struct run {
	const char	*dir;
	const struct sl_compact_opts *o;
	struct sl_compact_result *res;
	struct sl_settings set;
	size_t		 limit;
	uint64_t	 minck;		/* lowest checkpoint, or UINT64_MAX */
	uint64_t	 keepfrom;	/* retention dropped (or, in a dry run,
					   would drop) the segments below */
	struct keymap	 map;
	struct obatch	 ob;
	struct sl_cursor cur;
	unsigned char	*scratch;
	size_t		 scap;
};

static int
fail(struct run *c, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->res->err, sizeof c->res->err, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static void
report(struct run *c, enum sl_compact_kind kind, uint64_t base,
    uint64_t limit, uint64_t records, uint64_t new_records, uint64_t bytes,
    uint64_t new_bytes, const char *why)
{
	struct sl_compact_event ev;
	char name[64];

	if (c->o->report == NULL)
		return;
	sl_segment_name(name, sizeof name, base, ".log");
	ev.kind = kind;
	ev.segment = name;
	ev.base = base;
	ev.limit = limit;
	ev.records = records;
	ev.new_records = new_records;
	ev.bytes = bytes;
	ev.new_bytes = new_bytes;
	ev.why = why;
	c->o->report(c->o->arg, &ev);
}

/* ---- the key map ----------------------------------------------------- */

static uint64_t
fmix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

/* Two 64-bit lanes, each fully mixed per word, crossed at the end. */
static void
keyhash(const unsigned char *p, size_t n, uint64_t h[2])
{
	uint64_t a = 0x243f6a8885a308d3ULL ^ n;
	uint64_t b = 0x13198a2e03707344ULL + n * 0x9e3779b97f4a7c15ULL;
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		w = sl_get64(p);
		a = fmix(a ^ w);
		b = rotl(b + w * 0x87c37b91114253d5ULL, 31) * 0x4cf5ad432745937fULL;
	}
	w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	a = fmix(a ^ w ^ (uint64_t)n << 59);
	b = fmix(b + w + n);
	h[0] = fmix(a ^ rotl(b, 17));
	h[1] = fmix(b ^ rotl(a, 41) ^ 0x452821e638d01377ULL);
}

static int
map_init(struct keymap *m, size_t memory)
{
	size_t slots = 1;

	while (slots * 2 * ENTRY_BYTES <= memory)
		slots *= 2;
	if (slots < 16) {
		errno = EINVAL;
		return -1;
	}
	if ((m->slot = malloc(slots * ENTRY_BYTES)) == NULL)
		return -1;
	m->mask = slots - 1;
	m->max = slots / 4 * 3;
	m->used = 0;
	return 0;
}

static void
map_clear(struct keymap *m)
{
	memset(m->slot, 0, (m->mask + 1) * ENTRY_BYTES);
	m->used = 0;
}

/* The slot for hash H: its entry, or the empty slot where it would go. */
static uint64_t *
map_find(struct keymap *m, const uint64_t h[2])
{
	for (size_t i = h[0] & m->mask;; i = (i + 1) & m->mask) {
		uint64_t *e = m->slot + 3 * i;

		if (e[2] == 0 || (e[0] == h[0] && e[1] == h[1]))
			return e;
	}
}

/* Note OFFSET as the latest of KEY; 0 when the map is full. */
static int
map_put(struct keymap *m, const unsigned char *key, size_t len,
    uint64_t offset)
{
	uint64_t h[2], *e;

	keyhash(key, len, h);
	e = map_find(m, h);
	if (e[2] == 0) {
		if (m->used == m->max)
			return 0;
		m->used++;
		e[0] = h[0];
		e[1] = h[1];
	}
	e[2] = offset + 1;
	return 1;
}

/* The latest offset of KEY, or UINT64_MAX when the map has none. */
static uint64_t
map_get(struct keymap *m, const unsigned char *key, size_t len)
{
	uint64_t h[2], *e;

	keyhash(key, len, h);
	e = map_find(m, h);
	return e[2] == 0 ? UINT64_MAX : e[2] - 1;
}

/*
 * Read records [FROM, END) into the map until it is full.  *STOP is the
 * first offset the map does not cover (END when it covers all).
 */
static int
map_build(struct run *c, uint64_t from, uint64_t end, uint64_t *stop)
{
	struct sl_record rec;
	sl_reader *r;
	int n;

	map_clear(&c->map);
	*stop = end;
	if ((r = sl_reader_open(c->dir)) == NULL)
		return fail(c, errno, "%s", sl_open_error());
	if (sl_reader_seek(r, from) < 0)
		goto fail;
	while ((n = sl_reader_next(r, &rec)) > 0 && rec.offset < end) {
		if (rec.key == NULL)
			continue;
		if (!map_put(&c->map, rec.key, rec.keylen, rec.offset)) {
			*stop = rec.offset;
			break;
		}
	}
	if (n < 0)
		goto fail;
	sl_reader_close(r);
	return 0;
fail:
	fail(c, errno, "%s%s", sl_reader_error(r), errno == EBADMSG ?
	    "; run logfsck" : "");
	sl_reader_close(r);
	return -1;
}

/* ---- writing compacted batches --------------------------------------- */

static int
ob_flush(struct run *c, struct sl_newseg *ns, int compress, uint64_t *bytes)
{
	struct obatch *ob = &c->ob;
	struct sl_batch b;
	unsigned char *p = ob->buf;
	size_t len = SL_BATCH_HDR + ob->paylen;
	int flags = 0;

	if (ob->count == 0)
		return 0;
	if (compress) {
		uLong bound = compressBound(ob->paylen);
		uLongf zlen = bound;

		if (SL_BATCH_HDR + bound > ob->zcap) {
			unsigned char *z = realloc(ob->zbuf, SL_BATCH_HDR + bound);

			if (z == NULL)
				return -1;
			ob->zbuf = z;
			ob->zcap = SL_BATCH_HDR + bound;
		}
		if (compress2(ob->zbuf + SL_BATCH_HDR, &zlen,
		    ob->buf + SL_BATCH_HDR, ob->paylen, Z_DEFAULT_COMPRESSION) ==
		    Z_OK && zlen < ob->paylen) {
			p = ob->zbuf;
			len = SL_BATCH_HDR + zlen;
			flags = SL_BATCH_DEFLATE;
		}
	}
	sl_batch_seal(p, len, ob->base, ob->count,
	    (uint32_t)(ob->last - ob->base), (uint32_t)ob->paylen, ob->first_ts,
	    ob->max_ts, flags);
	b.length = len;
	b.count = ob->count;
	b.base = ob->base;
	b.last_delta = (uint32_t)(ob->last - ob->base);
	b.payload_len = ob->paylen;
	b.first_ts = ob->first_ts;
	b.max_ts = ob->max_ts;
	b.flags = flags;
	*bytes += len;
	ob->count = 0;
	ob->paylen = 0;
	return ns != NULL ? sl_newseg_batch(ns, p, &b) : 0;
}

static int
ob_add(struct run *c, struct sl_newseg *ns, int compress,
    const struct sl_record *r, uint64_t *bytes)
{
	struct obatch *ob = &c->ob;
	size_t size = sl_record_size(r);

	if (ob->count > 0 && (ob->paylen + size > SL_BATCH_TARGET ||
	    r->offset - ob->base >= UINT32_MAX || ob->count == UINT32_MAX - 1) &&
	    ob_flush(c, ns, compress, bytes) < 0)
		return -1;
	if (sl_batch_reserve(&ob->buf, &ob->cap,
	    SL_BATCH_HDR + ob->paylen + size + SL_REC_SLACK) < 0)
		return -1;
	if (ob->count == 0) {
		ob->base = r->offset;
		ob->first_ts = ob->max_ts = r->timestamp;
	} else if (r->timestamp > ob->max_ts)
		ob->max_ts = r->timestamp;
	ob->paylen = (size_t)(sl_record_encode(ob->buf + SL_BATCH_HDR +
	    ob->paylen, r, ob->count == 0 ? 0 : r->offset - ob->last - 1,
	    ob->first_ts) - (ob->buf + SL_BATCH_HDR));
	ob->count++;
	ob->last = r->offset;
	return 0;
}

/* ---- compaction of one sealed segment -------------------------------- */

static int
keep(struct run *c, const struct sl_record *r)
{
	uint64_t latest;

	if (r->key == NULL || r->offset >= c->minck)
		return 1;
	latest = map_get(&c->map, r->key, r->keylen);
	if (latest == UINT64_MAX)
		return 1;
	if (latest > r->offset)
		return 0;
	return !(latest == r->offset && r->value == NULL &&
	    r->timestamp < c->o->now - c->o->grace);
}

/*
 * The rewritten segment keeps its seed: the records before it are the same
 * or fewer, so the old seed is still never too small.  Without one (an
 * old or damaged index), it is worked out from the segments before.
 */
static int
keep_seed(struct run *c, uint64_t base, int ifd, int64_t *seed)
{
	struct sl_ikey k;
	int f = 0;

	sl_ikey_init(&k, base, c->set.id);
	if (ifd >= 0)
		f = sl_index_seed(ifd, &k, seed);
	if (f == 0)
		f = sl_log_seed(c->dir, c->set.id, c->limit, base, seed);
	return f;
}

/*
 * A segment left as it is gets its index rebuilt when that is not the one
 * the writer would make: a run that crashed between renaming a rewritten
 * segment and its index left the old index, which the next run finishes.
 */
static int
reindex(struct run *c, uint64_t base, int fd, int seeded, int64_t seed)
{
	struct sl_window win = { 0 };
	struct sl_newseg ns;
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	uint64_t pos = 0, next = base;
	enum sl_scan s;

	if (sl_newseg_open(&ns, c->dir, c->set.id, base, 1) < 0)
		return -1;
	if (seeded)
		sl_newseg_seed(&ns, seed);
	while ((s = sl_scan_batch(&win, fd, pos, c->limit, next, &b, &p,
	    &why)) == SL_SCAN_OK) {
		if (sl_newseg_batch(&ns, p, &b) < 0)
			break;
		pos += b.length;
		next = b.base + b.last_delta + 1;
	}
	sl_window_free(&win);
	if (s != SL_SCAN_EOF) {
		if (s != SL_SCAN_ERROR)
			errno = s == SL_SCAN_OK ? errno : EBADMSG;
		sl_newseg_abort(&ns);
		return -1;
	}
	return sl_newseg_commit(&ns, 1) < 0 ? -1 : 0;
}

static int
compact_segment(struct run *c, uint64_t base, uint64_t limit)
{
	struct sl_window win = { 0 };
	struct sl_newseg ns, *nsp = NULL;
	struct sl_ibuild old;
	struct sl_ikey k;
	struct sl_record rec;
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	char name[64], path[PATH_MAX];
	uint64_t pos = 0, next = base, records = 0, kept = 0, nbytes = 0;
	enum sl_scan s;
	int64_t seed = INT64_MIN;
	int fd, ifd, f, compress = 0, r = -1, seeded = 0;

	sl_segment_name(name, sizeof name, base, ".index");
	snprintf(path, sizeof path, "%s/%s", c->dir, name);
	ifd = open(path, O_RDONLY | O_CLOEXEC);
	sl_segment_name(name, sizeof name, base, ".log");
	snprintf(path, sizeof path, "%s/%s", c->dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		f = errno;
		if (ifd >= 0)
			close(ifd);
		return f == ENOENT ? 0 : fail(c, f, "%s: %s", name,
		    strerror(f));
	}
	sl_ikey_init(&k, base, c->set.id);
	sl_ibuild_init(&old, ifd, &k);
	sl_ibuild_verify(&old);
	if (!c->o->dry_run) {
		if ((seeded = keep_seed(c, base, ifd, &seed)) < 0) {
			fail(c, errno, "%s: seed: %s", name, strerror(errno));
			goto out;
		}
		if (seeded)
			sl_ibuild_seed(&old, seed);
		if (sl_newseg_open(&ns, c->dir, c->set.id, base, 0) < 0) {
			fail(c, errno, "%s: %s", name, strerror(errno));
			goto out;
		}
		nsp = &ns;
		if (seeded)
			sl_newseg_seed(&ns, seed);
	}
	c->ob.count = 0;
	c->ob.paylen = 0;
	while ((s = sl_scan_batch(&win, fd, pos, c->limit, next, &b, &p,
	    &why)) == SL_SCAN_OK) {
		if (b.flags & SL_BATCH_DEFLATE)
			compress = 1;
		if (nsp != NULL && sl_ibuild_batch(&old, pos, &b) < 0) {
			fail(c, errno, "%s: index: %s", name, strerror(errno));
			goto out;
		}
		if (sl_cursor_start(&c->cur, p, &b, &c->scratch, &c->scap) < 0) {
			why = "bad compressed payload";
			s = SL_SCAN_BAD;
			break;
		}
		while ((f = sl_cursor_next(&c->cur, &rec)) > 0) {
			records++;
			if (!keep(c, &rec))
				continue;
			kept++;
			if (ob_add(c, nsp, compress, &rec, &nbytes) < 0) {
				fail(c, errno, "%s: %s", name, strerror(errno));
				goto out;
			}
		}
		if (f < 0) {
			why = "malformed record";
			s = SL_SCAN_BAD;
			break;
		}
		pos += b.length;
		next = b.base + b.last_delta + 1;
	}
	if (s == SL_SCAN_ERROR) {
		fail(c, errno, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (s != SL_SCAN_EOF) {
		fail(c, EBADMSG, "%s: byte %" PRIu64 ": offset %" PRIu64
		    ": %s; run logfsck", name, pos, next, why);
		goto out;
	}
	if (ob_flush(c, nsp, compress, &nbytes) < 0) {
		fail(c, errno, "%s: %s", name, strerror(errno));
		goto out;
	}
	r = 0;
	if (kept == records) {
		/* Nothing to drop: leave it be, but for a stale index. */
		if (nsp != NULL && (sl_ibuild_finish(&old) < 0 ||
		    (old.differs && reindex(c, base, fd, seeded, seed) < 0)))
			r = fail(c, errno, "%s: index: %s", name,
			    strerror(errno));
		goto out;
	}
	if (nsp != NULL) {
		nsp = NULL;
		if (kept == 0) {
			/* Nothing left: the segment goes, a gap remains. */
			sl_newseg_abort(&ns);
			if (sl_segment_remove(c->dir, base) < 0 ||
			    sl_sync_dir(c->dir) < 0) {
				r = fail(c, errno, "%s: %s", name,
				    strerror(errno));
				goto out;
			}
			nbytes = 0;
		} else if (sl_newseg_commit(&ns, 0) < 0) {
			r = fail(c, errno, "%s: %s", name, strerror(errno));
			goto out;
		}
	}
	c->res->rewritten++;
	c->res->records += records - kept;
	c->res->bytes += pos > nbytes ? pos - nbytes : 0;
	report(c, SL_COMPACT_REWRITE, base, limit, records, kept, pos, nbytes,
	    NULL);
out:
	if (nsp != NULL)
		sl_newseg_abort(nsp);
	sl_window_free(&win);
	if (ifd >= 0)
		close(ifd);
	close(fd);
	return r;
}

static int
compaction(struct run *c, uint64_t end)
{
	uint64_t *bases, from, stop;
	size_t n;
	int r = -1;

	if (map_init(&c->map, c->o->memory ? c->o->memory :
	    SL_COMPACT_MEMORY) < 0)
		return fail(c, errno, "key map: %s", errno == EINVAL ?
		    "memory limit too small" : strerror(errno));
	if (sl_segment_list(c->dir, &bases, &n) < 0) {
		fail(c, errno, "%s", strerror(errno));
		goto out;
	}
	/* In a dry run, what retention would drop is still there. */
	while (n > 0 && bases[0] < c->keepfrom)
		memmove(bases, bases + 1, --n * sizeof *bases);
	if (n < 2) {
		r = 0;
		goto out;
	}
	for (from = bases[0];; from = stop) {
		if (map_build(c, from, end, &stop) < 0)
			goto out;
		if (stop == from) {
			fail(c, ENOBUFS, "key map: memory limit too small");
			goto out;
		}
		c->res->passes++;
		/* Only records below STOP can have a later record in the
		 * map; the last segment is never touched. */
		for (size_t i = 0; i + 1 < n && bases[i] < stop; i++)
			if (compact_segment(c, bases[i], bases[i + 1]) < 0)
				goto out;
		if (stop >= end)
			break;
		report(c, SL_COMPACT_PASS, stop, end, c->map.used, 0, 0, 0,
		    NULL);
	}
	r = 0;
out:
	free(c->map.slot);
	free(bases);
	return r;
}

/* ---- retention ------------------------------------------------------- */

/* The largest timestamp in segment BASE (INT64_MIN when empty); the next
 * segment starts at UPPER. */
static int
segment_maxts(struct run *c, uint64_t base, uint64_t upper, int64_t *max)
{
	struct sl_window win = { 0 };
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	char name[64], path[PATH_MAX];
	uint64_t pos = 0, next = base;
	struct sl_ikey k;
	enum sl_scan s;
	int fd, ifd, f;

	sl_ikey_init(&k, base, c->set.id);
	sl_segment_name(name, sizeof name, base, ".index");
	snprintf(path, sizeof path, "%s/%s", c->dir, name);
	ifd = open(path, O_RDONLY | O_CLOEXEC);
	sl_segment_name(name, sizeof name, base, ".log");
	snprintf(path, sizeof path, "%s/%s", c->dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		f = errno;
		if (ifd >= 0)
			close(ifd);
		return fail(c, f, "%s: %s", name, strerror(f));
	}
	f = sl_index_segmax(ifd, fd, &k, upper, c->limit, max);
	if (ifd >= 0)
		close(ifd);
	if (f != 0) {
		close(fd);
		return f < 0 ? fail(c, errno, "%s: %s", name, strerror(errno)) :
		    0;
	}
	/* No quick answer: scan, verifying every batch. */
	*max = INT64_MIN;
	while ((s = sl_scan_batch(&win, fd, pos, c->limit, next, &b, &p,
	    &why)) == SL_SCAN_OK) {
		if (b.max_ts > *max)
			*max = b.max_ts;
		pos += b.length;
		next = b.base + b.last_delta + 1;
	}
	sl_window_free(&win);
	close(fd);
	if (s == SL_SCAN_ERROR)
		return fail(c, errno, "%s: %s", name, strerror(errno));
	if (s != SL_SCAN_EOF)
		return fail(c, EBADMSG, "%s: byte %" PRIu64 ": offset %"
		    PRIu64 ": %s; run logfsck", name, pos, next, why);
	return 0;
}

static int
retention(struct run *c, uint64_t end)
{
	const struct sl_compact_opts *o = c->o;
	uint64_t *bases, total = 0, *sizes = NULL;
	struct stat st;
	char name[64], path[PATH_MAX];
	size_t n, i, dropped = 0;
	int64_t max;
	int r = -1;

	if (sl_segment_list(c->dir, &bases, &n) < 0)
		return fail(c, errno, "%s", strerror(errno));
	if (n > 0 && (sizes = calloc(n, sizeof *sizes)) == NULL) {
		fail(c, errno, "%s", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		sl_segment_name(name, sizeof name, bases[i], ".log");
		snprintf(path, sizeof path, "%s/%s", c->dir, name);
		if (stat(path, &st) == 0)
			sizes[i] = st.st_size;
		else if (errno != ENOENT) {
			fail(c, errno, "%s: %s", name, strerror(errno));
			goto out;
		}
		total += sizes[i];
	}
	for (i = 0; i + 1 < n; i++) {
		const char *why = NULL;

		if (o->max_age >= 0) {
			if (segment_maxts(c, bases[i], bases[i + 1], &max) < 0)
				goto out;
			if (max < o->now - o->max_age)
				why = "age";
		}
		if (why == NULL && total > o->max_bytes)
			why = "bytes";
		if (why == NULL && end >= bases[i + 1] &&
		    end - bases[i + 1] >= o->max_records &&
		    o->max_records != UINT64_MAX)
			why = "records";
		if (why == NULL || bases[i + 1] > c->minck)
			break;
		report(c, SL_COMPACT_REMOVE, bases[i], bases[i + 1], 0, 0,
		    sizes[i], 0, why);
		if (!o->dry_run && sl_segment_remove(c->dir, bases[i]) < 0) {
			sl_segment_name(name, sizeof name, bases[i], ".log");
			fail(c, errno, "%s: %s", name, strerror(errno));
			goto out;
		}
		total -= sizes[i];
		c->keepfrom = bases[i + 1];
		c->res->removed++;
		c->res->bytes += sizes[i];
		dropped++;
	}
	if (dropped > 0 && !o->dry_run && sl_sync_dir(c->dir) < 0) {
		fail(c, errno, "%s: %s", c->dir, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(sizes);
	free(bases);
	return r;
}

/* ---- the run --------------------------------------------------------- */

/* The lowest checkpoint of the consumers (UINT64_MAX when none); a
 * checkpoint that cannot be read stops the run. */
static int
lowest_checkpoint(struct run *c)
{
	struct sl_checkpoint ck;
	char **names;

	c->minck = UINT64_MAX;
	if ((names = sl_checkpoint_list(c->dir)) == NULL)
		return fail(c, errno, "consumers: %s", strerror(errno));
	for (size_t i = 0; names[i] != NULL; i++) {
		if (sl_checkpoint_read(c->dir, names[i], c->set.id, &ck) < 0) {
			int e = errno;

			fail(c, e == EBADMSG || e == ESTALE ? EBADMSG : e,
			    "consumer %s: %s; refusing to guess what it has "
			    "applied", names[i], sl_checkpoint_strerror(e));
			sl_checkpoint_list_free(names);
			return -1;
		}
		if (ck.offset < c->minck)
			c->minck = ck.offset;
	}
	sl_checkpoint_list_free(names);
	return 0;
}

/* Remove what a crashed run or removal left: temporary files and indexes
 * whose segment is gone (a writer creates a segment before its index). */
static int
sweep(struct run *c)
{
	DIR *d;
	struct dirent *de;
	char seg[64], path[PATH_MAX];
	struct stat st;
	uint64_t base;
	int stray;

	if ((d = opendir(c->dir)) == NULL)
		return fail(c, errno, "%s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		stray = sl_maint_tmpname(de->d_name);
		if (!stray && strlen(de->d_name) == SL_SEGMENT_DIGITS + 6 &&
		    strcmp(de->d_name + SL_SEGMENT_DIGITS, ".index") == 0) {
			memcpy(seg, de->d_name, SL_SEGMENT_DIGITS);
			memcpy(seg + SL_SEGMENT_DIGITS, ".log", 5);
			snprintf(path, sizeof path, "%s/%s", c->dir, seg);
			stray = sl_segment_parse(seg, &base) == 0 &&
			    stat(path, &st) < 0 && errno == ENOENT;
		}
		if (!stray || c->o->dry_run)
			continue;
		snprintf(path, sizeof path, "%s/%s", c->dir, de->d_name);
		if (unlink(path) < 0 && errno != ENOENT) {
			closedir(d);
			return fail(c, errno, "%s: %s", de->d_name,
			    strerror(errno));
		}
	}
	closedir(d);
	return 0;
}

static int
log_end(struct run *c, uint64_t *end)
{
	sl_reader *r;

	if ((r = sl_reader_open(c->dir)) == NULL)
		return fail(c, errno, "%s", sl_open_error());
	if (sl_reader_bounds(r, NULL, end) < 0) {
		fail(c, errno, "%s", sl_reader_error(r));
		sl_reader_close(r);
		return -1;
	}
	sl_reader_close(r);
	return 0;
}

int
sl_compact(const char *dir, const struct sl_compact_opts *o,
    struct sl_compact_result *res)
{
	struct run c = { 0 };
	uint64_t end;
	int lfd, r = -1;

	memset(res, 0, sizeof *res);
	c.dir = dir;
	c.o = o;
	c.res = res;
	if (sl_settings_read(dir, &c.set) < 0)
		return fail(&c, errno, "%s", errno == ENOENT ?
		    "not a synclog log (no settings file)" : errno == EBADMSG ?
		    "damaged settings file" : strerror(errno));
	/* A replica's segments are its stream's (logmirror pull's). */
	if (c.set.replica[0] != '\0')
		return fail(&c, EPERM, "a replica of %s: only logmirror pull "
		    "writes to it", c.set.replica);
	c.limit = sl_batch_limit(c.set.max_record_bytes);
	if ((lfd = sl_maint_lock(dir, LOCK_EX)) < 0)
		return fail(&c, errno, "%s", strerror(errno));
	if (sweep(&c) < 0)
		goto out;
	c.minck = UINT64_MAX;
	if (o->keep_unconsumed && lowest_checkpoint(&c) < 0)
		goto out;
	if (log_end(&c, &end) < 0)
		goto out;
	if ((o->max_age >= 0 || o->max_bytes != UINT64_MAX ||
	    o->max_records != UINT64_MAX) && retention(&c, end) < 0)
		goto out;
	if (o->compact && compaction(&c, end) < 0)
		goto out;
	r = 0;
out:
	close(lfd);
	sl_cursor_free(&c.cur);
	free(c.scratch);
	free(c.ob.buf);
	free(c.ob.zbuf);
	return r;
}
