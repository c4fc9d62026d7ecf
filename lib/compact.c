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
#include "log.h"

#define ENTRY_BYTES	24	/* h1, h2, offset + 1 (0: empty slot) */

struct keymap {
	uint64_t	*slot;		/* 3 words per slot */
	size_t		 mask;		/* slots - 1 */
	size_t		 used, max;
};

/* An output batch of a rewritten segment: its records, and the offsets
 * of its first and last. */
struct obatch {
	struct sl_bbuild bb;
	uint64_t	 base, last;
};

struct run {
	const char	*dir;		/* for messages */
	int		 dirfd;		/* the log, flocked (maintenance) */
	const struct sl_compact_opts *o;
	struct sl_compact_result *res;
	struct sl_settings set;
	size_t		 limit;
	uint64_t	 minck;		/* lowest checkpoint, or UINT64_MAX */
	uint64_t	 tombck;	/* the same, for tombstones: always */
	uint64_t	 keepfrom;	/* retention dropped (or, in a dry run,
					   would drop) the segments below */
	struct keymap	 map;
	struct obatch	 ob;
	struct sl_cursor cur;
	unsigned char	*scratch;
	size_t		 scap;
};



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
		return sl_fail(errno, "%s", sl_error());
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
	sl_fail(errno, "%s%s", sl_error(), errno == EBADMSG ?
	    "; run logfsck" : "");
	sl_reader_close(r);
	return -1;
}

/* ---- writing compacted batches --------------------------------------- */

static int
ob_flush(struct run *c, struct sl_newseg *ns, int compress, uint64_t *bytes)
{
	struct obatch *ob = &c->ob;
	const unsigned char *p;
	struct sl_batch b;

	if (ob->bb.count == 0)
		return 0;
	if ((p = sl_bb_seal(&ob->bb, ob->base, SL_NO_OFFSET, compress,
	    &b)) == NULL)
		return -1;
	*bytes += b.length;
	sl_bb_reset(&ob->bb);
	return ns != NULL ? sl_newseg_batch(ns, p, &b) : 0;
}

static int
ob_add(struct run *c, struct sl_newseg *ns, int compress,
    const struct sl_record *r, uint64_t *bytes)
{
	struct obatch *ob = &c->ob;
	size_t size = sl_record_size(r);

	if (ob->bb.count > 0 && (ob->bb.paylen + size > SL_BATCH_TARGET ||
	    r->offset - ob->base >= UINT32_MAX ||
	    ob->bb.count == UINT32_MAX - 1) &&
	    ob_flush(c, ns, compress, bytes) < 0)
		return -1;
	if (sl_bb_add(&ob->bb, r, ob->bb.count == 0 ? 0 :
	    r->offset - ob->last - 1) < 0)
		return -1;
	if (ob->bb.count == 1)
		ob->base = r->offset;
	ob->last = r->offset;
	return 0;
}

/* ---- compaction of one sealed segment -------------------------------- */

/*
 * Whether record R stays.  A record goes when a later one of its key was
 * read by this run.  A latest record that is a tombstone goes when its
 * grace is over, as told by a clock the log controls: the time its
 * segment was last written (a producer's timestamp, which may be
 * anything, has no say), and only once every consumer has applied it, or
 * that consumer's store would keep the deleted key for ever.
 */
static int
keep(struct run *c, const struct sl_record *r, int64_t written)
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
	    written < c->o->now - c->o->grace && r->offset < c->tombck);
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
		f = sl_log_seed(c->dirfd, c->set.id, c->limit, base, seed);
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
	struct sl_segscan sc;
	struct sl_newseg ns;
	struct sl_batch b;
	const unsigned char *p;
	int f;

	if (sl_newseg_open(&ns, c->dirfd, c->set.id, base, 1) < 0)
		return -1;
	if (seeded)
		sl_newseg_seed(&ns, seed);
	sl_segscan_init(&sc, fd, 0, base, c->limit);
	while ((f = sl_segscan_next(&sc, 0, &b, &p)) > 0)
		if (sl_newseg_batch(&ns, p, &b) < 0) {
			f = -1;
			break;
		}
	sl_segscan_free(&sc);
	if (f < 0 || sc.end.kind != SL_END_CLEAN) {
		if (f == 0)
			errno = EBADMSG;
		sl_newseg_abort(&ns);
		return -1;
	}
	return sl_newseg_commit(&ns, 1) < 0 ? -1 : 0;
}

/*
 * End the rewritten segment where the old one ended, at offset LIMIT - 1
 * (the next segment's base less one), whatever was dropped at its end:
 * the last batch, or batches of no record, cover the hole (SL_BATCH_SPAN),
 * so that a segment deleted from the middle of the log can never be taken
 * for a hole compaction left (segment.c, sl_segment_chain).
 */
static int
ob_finish(struct run *c, struct sl_newseg *ns, int compress, uint64_t base,
    uint64_t limit, uint64_t *bytes)
{
	struct obatch *ob = &c->ob;
	const unsigned char *p;
	struct sl_batch b;
	uint64_t from = base;	/* nothing kept: one hole */

	if (ob->bb.count > 0 && limit - 1 - ob->base < UINT32_MAX) {
		if ((p = sl_bb_seal(&ob->bb, ob->base, limit - 1, compress,
		    &b)) == NULL)
			return -1;
		*bytes += b.length;
		sl_bb_reset(&ob->bb);
		return ns != NULL ? sl_newseg_batch(ns, p, &b) : 0;
	}
	if (ob->bb.count > 0) {
		from = ob->last + 1;
		if (ob_flush(c, ns, compress, bytes) < 0)
			return -1;
	}
	if (from >= limit)
		return 0;
	*bytes += (uint64_t)SL_BATCH_HDR * ((limit - 1 - from) / UINT32_MAX + 1);
	return ns != NULL ? sl_newseg_hole(ns, from, limit - 1) : 0;
}

/* What one segment's pass found. */
struct segpass {
	uint64_t	 records, kept, bytes, nbytes;
	int		 compress;
};

/*
 * The records of segment FD, kept or not, into NS (a dry run: NULL),
 * and its batches into OLD, the index the writer would have made.  0 when
 * every batch read clean, -1 (and the run's message) otherwise.
 */
static int
pass(struct run *c, int fd, const char *name, uint64_t base,
    struct sl_newseg *ns, struct sl_ibuild *old, int64_t written,
    struct segpass *sp)
{
	struct sl_segscan sc;
	struct sl_record rec;
	struct sl_batch b;
	const unsigned char *p;
	int f, g = 0, r = -1;

	sl_segscan_init(&sc, fd, 0, base, c->limit);
	while ((f = sl_segscan_next(&sc, 0, &b, &p)) > 0) {
		if (b.flags & SL_BATCH_DEFLATE)
			sp->compress = 1;
		if (ns != NULL && sl_ibuild_batch(old, sc.pos - b.length,
		    &b) < 0)
			goto sysfail;
		if (sl_cursor_start(&c->cur, p, &b, &c->scratch,
		    &c->scap) < 0) {
			sc.end.why = "bad compressed payload";
			break;
		}
		while ((g = sl_cursor_next(&c->cur, &rec)) > 0) {
			sp->records++;
			if (!keep(c, &rec, written))
				continue;
			sp->kept++;
			if (ob_add(c, ns, sp->compress, &rec, &sp->nbytes) < 0)
				goto sysfail;
		}
		if (g < 0) {
			sc.end.why = "malformed record";
			break;
		}
	}
	if (f < 0)
		goto sysfail;
	if (f > 0) {
		/* A batch whose CRC held but whose records do not read. */
		sc.end.kind = SL_END_CORRUPT;
		sc.end.pos = sc.pos - b.length;
		sc.end.next = b.base;
		sc.end.found = SL_NO_OFFSET;
	}
	sp->bytes = sc.pos;
	if (sc.end.kind != SL_END_CLEAN) {
		sl_segend_fail(&sc.end, name);
		sl_fail(EBADMSG, "%s; run logfsck", sl_error());
	} else
		r = 0;
	sl_segscan_free(&sc);
	return r;
sysfail:
	sl_fail(errno, "%s: %s", name, strerror(errno));
	sl_segscan_free(&sc);
	return -1;
}

/* Open segment BASE and its index (-1 when it has none). */
static int
open_segment(struct run *c, uint64_t base, int *ifd)
{
	*ifd = sl_segment_open(c->dirfd, base, ".index", O_RDONLY);
	return sl_segment_open(c->dirfd, base, ".log", O_RDONLY);
}

static int
compact_segment(struct run *c, uint64_t base, uint64_t limit)
{
	struct sl_newseg ns, *nsp = NULL;
	struct sl_ibuild old;
	struct sl_ikey k;
	struct segpass sp = { 0 };
	struct stat st;
	char name[64];
	int64_t seed = INT64_MIN;
	int fd, ifd, f, r = -1, seeded = 0;

	sl_segment_name(name, sizeof name, base, ".log");
	if ((fd = open_segment(c, base, &ifd)) < 0) {
		f = errno;
		if (ifd >= 0)
			close(ifd);
		return f == ENOENT ? 0 : sl_fail(f, "%s: %s", name,
		    sl_open_strerror(f));
	}
	if (fstat(fd, &st) < 0) {
		sl_fail(errno, "%s: %s", name, strerror(errno));
		goto out;
	}
	sl_ikey_init(&k, base, c->set.id);
	sl_ibuild_init(&old, ifd, &k);
	sl_ibuild_verify(&old);
	if (!c->o->dry_run) {
		if ((seeded = keep_seed(c, base, ifd, &seed)) < 0) {
			sl_fail(errno, "%s: seed: %s", name, strerror(errno));
			goto out;
		}
		if (seeded)
			sl_ibuild_seed(&old, seed);
		if (sl_newseg_open(&ns, c->dirfd, c->set.id, base, 0) < 0) {
			sl_fail(errno, "%s: %s", name, strerror(errno));
			goto out;
		}
		nsp = &ns;
		if (seeded)
			sl_newseg_seed(&ns, seed);
		/* The segment keeps the time it was written: a tombstone's
		 * grace counts from there, however often it is rewritten. */
		sl_newseg_mtime(&ns, &st.st_mtim);
	}
	sl_bb_reset(&c->ob.bb);
	if (pass(c, fd, name, base, nsp, &old, (int64_t)st.st_mtim.tv_sec *
	    1000 + st.st_mtim.tv_nsec / 1000000, &sp) < 0)
		goto out;
	r = 0;
	if (sp.kept == sp.records) {
		/* Nothing to drop: leave it be, but for a stale index. */
		if (nsp != NULL && (sl_ibuild_finish(&old) < 0 ||
		    (old.differs && reindex(c, base, fd, seeded, seed) < 0)))
			r = sl_fail(errno, "%s: index: %s", name,
			    strerror(errno));
		goto out;
	}
	if (ob_finish(c, nsp, sp.compress, base, limit, &sp.nbytes) < 0 ||
	    (nsp != NULL && sl_newseg_commit(nsp, 0) < 0)) {
		nsp = NULL;
		r = sl_fail(errno, "%s: %s", name, strerror(errno));
		goto out;
	}
	nsp = NULL;
	c->res->rewritten++;
	c->res->records += sp.records - sp.kept;
	c->res->bytes += sp.bytes > sp.nbytes ? sp.bytes - sp.nbytes : 0;
	report(c, SL_COMPACT_REWRITE, base, limit, sp.records, sp.kept,
	    sp.bytes, sp.nbytes, NULL);
out:
	if (nsp != NULL)
		sl_newseg_abort(nsp);
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
		return sl_fail(errno, "key map: %s", errno == EINVAL ?
		    "memory limit too small" : strerror(errno));
	if (sl_segment_list(c->dirfd, &bases, &n) < 0) {
		sl_fail(errno, "%s", strerror(errno));
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
			sl_fail(ENOBUFS, "key map: memory limit too small");
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
	struct sl_segscan sc;
	struct sl_batch b;
	const unsigned char *p;
	struct sl_ikey k;
	char name[64];
	int fd, ifd, f;

	sl_ikey_init(&k, base, c->set.id);
	sl_segment_name(name, sizeof name, base, ".log");
	if ((fd = open_segment(c, base, &ifd)) < 0) {
		f = errno;
		if (ifd >= 0)
			close(ifd);
		return sl_fail(f, "%s: %s", name, sl_open_strerror(f));
	}
	f = sl_index_segmax(ifd, fd, &k, upper, c->limit, max);
	if (ifd >= 0)
		close(ifd);
	if (f != 0) {
		close(fd);
		return f < 0 ? sl_fail(errno, "%s: %s", name, strerror(errno)) :
		    0;
	}
	/* No quick answer: scan, verifying every batch. */
	*max = INT64_MIN;
	sl_segscan_init(&sc, fd, 0, base, c->limit);
	while ((f = sl_segscan_next(&sc, 0, &b, &p)) > 0)
		if (b.max_ts > *max)
			*max = b.max_ts;
	sl_segscan_free(&sc);
	close(fd);
	if (f < 0)
		return sl_fail(errno, "%s: %s", name, strerror(errno));
	if (sc.end.kind != SL_END_CLEAN) {
		sl_segend_fail(&sc.end, name);
		return sl_fail(EBADMSG, "%s; run logfsck", sl_error());
	}
	return 0;
}

static int
retention(struct run *c, uint64_t end)
{
	const struct sl_compact_opts *o = c->o;
	uint64_t *bases, total = 0, *sizes = NULL;
	struct stat st;
	char name[64];
	size_t n, i, dropped = 0;
	int64_t max;
	int r = -1;

	if (sl_segment_list(c->dirfd, &bases, &n) < 0)
		return sl_fail(errno, "%s", strerror(errno));
	if (n > 0 && (sizes = calloc(n, sizeof *sizes)) == NULL) {
		sl_fail(errno, "%s", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		sl_segment_name(name, sizeof name, bases[i], ".log");
		if (fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			sizes[i] = st.st_size;
		else if (errno != ENOENT) {
			sl_fail(errno, "%s: %s", name, strerror(errno));
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
		if (!o->dry_run && sl_segment_remove(c->dirfd, bases[i]) < 0) {
			sl_segment_name(name, sizeof name, bases[i], ".log");
			sl_fail(errno, "%s: %s", name, strerror(errno));
			goto out;
		}
		total -= sizes[i];
		c->keepfrom = bases[i + 1];
		c->res->removed++;
		c->res->bytes += sizes[i];
		dropped++;
	}
	if (dropped > 0 && !o->dry_run && sl_sync_dirfd(c->dirfd) < 0) {
		sl_fail(errno, "%s: %s", c->dir, strerror(errno));
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

	c->tombck = UINT64_MAX;
	if ((names = sl_checkpoint_list(c->dir)) == NULL)
		return sl_fail(errno, "consumers: %s", strerror(errno));
	for (size_t i = 0; names[i] != NULL; i++) {
		if (sl_checkpoint_read(c->dir, names[i], c->set.id, &ck) < 0) {
			int e = errno;

			sl_fail(e == EBADMSG || e == ESTALE ? EBADMSG : e,
			    "consumer %s: %s; refusing to guess what it has "
			    "applied", names[i], sl_checkpoint_strerror(e));
			sl_checkpoint_list_free(names);
			return -1;
		}
		if (ck.offset < c->tombck)
			c->tombck = ck.offset;
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
	char seg[64];
	struct stat st;
	uint64_t base;
	int stray;

	if ((d = sl_dir_list(c->dirfd)) == NULL)
		return sl_fail(errno, "%s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		stray = sl_maint_tmpname(de->d_name);
		if (!stray && strlen(de->d_name) == SL_SEGMENT_DIGITS + 6 &&
		    strcmp(de->d_name + SL_SEGMENT_DIGITS, ".index") == 0) {
			memcpy(seg, de->d_name, SL_SEGMENT_DIGITS);
			memcpy(seg + SL_SEGMENT_DIGITS, ".log", 5);
			stray = sl_segment_parse(seg, &base) == 0 &&
			    fstatat(c->dirfd, seg, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
		}
		if (!stray || c->o->dry_run)
			continue;
		if (unlinkat(c->dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
			closedir(d);
			return sl_fail(errno, "%s: %s", de->d_name,
			    strerror(errno));
		}
	}
	closedir(d);
	return 0;
}

static int
last_base(struct run *c, uint64_t *end)
{
	uint64_t *bases;
	size_t n;

	if (sl_segment_list(c->dirfd, &bases, &n) < 0)
		return sl_fail(errno, "%s", strerror(errno));
	*end = n > 0 ? bases[n - 1] : 0;
	free(bases);
	return 0;
}

static int
log_end(struct run *c, uint64_t *end)
{
	sl_reader *r;

	if ((r = sl_reader_open(c->dir)) == NULL)
		return sl_fail(errno, "%s", sl_error());
	if (sl_reader_bounds(r, NULL, end) < 0) {
		int e = errno;

		sl_reader_close(r);
		if (e != EBADMSG)
			return sl_fail(e, "%s", sl_error());
		/* Damage in the last segment hides where the log ends: that
		 * segment's start is an end no later than the true one, so
		 * the run keeps at least what it would have kept. */
		return last_base(c, end);
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
	if ((lfd = sl_maint_lock(dir, LOCK_EX)) < 0)
		return sl_fail(errno, "%s", strerror(errno));
	c.dirfd = lfd;
	if (sl_settings_readat(lfd, &c.set) < 0) {
		sl_fail(errno, "%s", errno == ENOENT ?
		    "not a synclog log (no settings file)" : errno == EBADMSG ?
		    "damaged settings file" : sl_open_strerror(errno));
		goto out;
	}
	/* A replica's segments are its stream's (logmirror pull's). */
	if (c.set.replica[0] != '\0') {
		sl_fail(EPERM, "a replica of %s: only logmirror pull writes to "
		    "it", c.set.replica);
		goto out;
	}
	c.limit = sl_batch_limit(c.set.max_record_bytes);
	if (sweep(&c) < 0)
		goto out;
	/* Tombstones wait for every consumer; other records only with
	 * --keep-unconsumed. */
	c.minck = UINT64_MAX;
	if ((o->keep_unconsumed || o->compact) && lowest_checkpoint(&c) < 0)
		goto out;
	if (o->keep_unconsumed)
		c.minck = c.tombck;
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
	sl_bb_free(&c.ob.bb);
	return r;
}
