/*
 * fsck.c - logfsck: verify every batch, record, offset and index entry of
 * a log, and optionally repair or salvage it.
 *
 * Invariants:
 * - Checking changes nothing.  It holds the maintenance lock shared (so a
 *   running logcompact finishes first and no file is swapped under the
 *   check) and the writer's lock shared only while it reads the last
 *   segment, so an append in progress is never taken for a torn tail.
 * - --repair holds both locks exclusively.  It only truncates an
 *   incomplete tail (nothing valid after it: what a writer would truncate
 *   anyway) and rewrites indexes, which are caches.  Damage followed by
 *   valid data is left for --salvage.
 * - --salvage never deletes: a damaged segment is first hard-linked to
 *   NNN.log.damaged[.N], then a copy of its intact batches, byte for byte
 *   and so with their offsets, replaces NNN.log atomically; the offsets
 *   that could not be copied are named.
 * - Every problem is reported with its file, byte position and offset.
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

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"
#include "rewrite.h"
#include "log.h"

#define NONE	SL_NO_OFFSET

struct fsck {
	const struct sl_fsck_opts *o;
	struct sl_fsck_result *res;
	const char	*dir;		/* the log, or the lone segment's dir */
	const char	*file;		/* the lone segment, or NULL */
	int		 dirfd;		/* the log, or the lone segment's dir */
	int		 filefd;	/* the lone segment, or -1 */
	struct sl_settings set;
	size_t		 limit;
	uint64_t	 next;		/* least offset of the next batch */
	int		 seeded;	/* a segment was checked: FLOOR holds */
	int64_t		 floor;		/* least seed of the next segment */
	struct sl_cursor cur;
	unsigned char	*scratch;
	size_t		 scap;
};

/* What one walk over a segment found. */
struct segwalk {
	const char	*name;		/* segment file name */
	const char	*iname;		/* its index's */
	int		 fd;
	uint64_t	 base, upper;	/* upper: next segment's base or NONE */
	int		 quiet;		/* salvage copy: no events */
	struct sl_newseg *ns;		/* good batches go here, or NULL */
	uint64_t	 next;
	uint64_t	 batches, records;
	uint64_t	 damaged;	/* batch-level problems */
	uint64_t	 tail;		/* NONE, or where an incomplete tail starts */
	int		 to_end;	/* sealed, and damaged to its end */
	int64_t		 maxts;		/* largest timestamp of its batches */
	/* index check */
	struct sl_ikey	 key;
	int64_t		 floor;		/* least seed it may have */
	int64_t		 seed;		/* the one it gets */
	int		 ifd;
	size_t		 nent, ei, badent;
	struct sl_ientry ent, firstbad;
	const char	*badwhy;
	uint64_t	 lastentpos;
};

static void
event(struct fsck *f, enum sl_fsck_kind kind, const char *file, uint64_t pos,
    uint64_t off, const struct sl_batch_info *bi, const char *fmt, ...)
{
	struct sl_fsck_event ev;
	char msg[512];
	va_list ap;

	if (kind == SL_FSCK_PROBLEM)
		f->res->problems++;
	if (f->o->report == NULL)
		return;
	msg[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	}
	ev.kind = kind;
	ev.file = file;
	ev.pos = pos;
	ev.offset = off;
	ev.msg = msg;
	ev.batch = bi;
	f->o->report(f->o->arg, &ev);
}

/* A system error on WHAT: -1, errno kept, the message in sl_error(). */
static int
sysfail(const char *what)
{
	int e = errno;

	sl_seterr("%s: %s", what, sl_open_strerror(e));
	errno = e;
	return -1;
}

/* ---- the index, checked alongside the batches ----------------------- */

static void
bad_entry(struct segwalk *w, const char *why)
{
	if (w->badent++ == 0) {
		w->firstbad = w->ent;
		w->badwhy = why;
	}
}

/* Load entry W->ei into W->ent, skipping (as bad) entries out of order;
 * 0 when there are no more. */
static int
load_entry(struct segwalk *w)
{
	for (; w->ifd >= 0 && w->ei < w->nent; w->ei++) {
		if (sl_index_get(w->ifd, &w->key, w->ei, &w->ent) < 0) {
			if (errno != EBADMSG)
				return -1;
			bad_entry(w, "checksum mismatch");
			continue;
		}
		if (w->ei == 0 || w->ent.pos > w->lastentpos)
			return 1;
		bad_entry(w, "entries out of order");
	}
	return 0;
}

/*
 * The batch at POS (base BASE, MAXTS before it) is valid: match entries.
 * A seed may be larger than the records before the segment (they may have
 * been removed since), never smaller than W->floor: the records left
 * before the segment and the seed of the segment before it.
 */
static int
index_batch(struct segwalk *w, uint64_t pos, uint64_t base, int64_t maxts)
{
	int r;

	while ((r = load_entry(w)) > 0 && w->ent.pos <= pos) {
		if (w->ent.pos < pos)
			bad_entry(w, "no batch at its byte position");
		else if (w->ent.offset != base)
			bad_entry(w, "wrong offset");
		else if (pos == 0 ? w->ent.maxts < w->floor :
		    w->ent.maxts != maxts)
			bad_entry(w, pos == 0 ? "seed too small" :
			    "wrong timestamp");
		w->lastentpos = w->ent.pos;
		w->ei++;
	}
	return r < 0 ? -1 : 0;
}

/* ---- one walk over a segment ----------------------------------------- */

static void
batch_info(struct sl_batch_info *bi, uint64_t pos, const struct sl_batch *b,
    const unsigned char *p, int valid)
{
	bi->pos = pos;
	bi->length = b->length;
	bi->first = b->base;
	bi->last = b->base + b->last_delta;
	bi->count = b->count;
	bi->payload = b->payload_len;
	bi->crc = sl_get32(p + 48);
	bi->compressed = (b->flags & SL_BATCH_DEFLATE) != 0;
	bi->valid = valid;
	bi->first_ts = b->first_ts;
	bi->max_ts = b->max_ts;
}

/* Decode every record of a verified batch; NULL or what is wrong. */
static const char *
records_ok(struct fsck *f, const unsigned char *p, const struct sl_batch *b)
{
	struct sl_record rec;
	int r;

	if (sl_cursor_start(&f->cur, p, b, &f->scratch, &f->scap) < 0)
		return errno == EBADMSG ? "bad compressed payload" :
		    strerror(errno);
	while ((r = sl_cursor_next(&f->cur, &rec)) > 0)
		;
	return r < 0 ? "malformed record" : NULL;
}

/* Show, for the dump, a header that parses at POS although the batch is
 * not valid. */
static void
dump_bad(struct fsck *f, struct segwalk *w, struct sl_window *win,
    uint64_t pos)
{
	struct sl_batch_info bi;
	struct sl_batch b;
	ssize_t n;

	if (!f->o->dump || w->quiet)
		return;
	if ((n = sl_window_get(win, w->fd, pos, SL_BATCH_HDR)) <
	    SL_BATCH_HDR)
		return;
	if (sl_batch_header(win->buf + (pos - win->pos), f->limit, &b) < 0)
		return;
	batch_info(&bi, pos, &b, win->buf + (pos - win->pos), 0);
	event(f, SL_FSCK_BATCH, w->name, pos, b.base, &bi, NULL);
}

/* The base offset of the valid batch at POS. */
static uint64_t
base_at(struct fsck *f, int fd, uint64_t pos)
{
	unsigned char h[SL_BATCH_HDR];
	struct sl_batch b;

	if (sl_pread_full(fd, h, sizeof h, pos) != SL_BATCH_HDR ||
	    sl_batch_header(h, f->limit, &b) < 0)
		return NONE;
	return b.base;
}

static void
lost(struct fsck *f, struct segwalk *w, uint64_t pos, uint64_t from,
    uint64_t to)
{
	if (!w->quiet || w->ns == NULL)
		return;
	if (to == NONE)
		event(f, SL_FSCK_FIXED, w->name, pos, from, NULL,
		    "offsets from %" PRIu64 " on lost", from);
	else if (to == from + 1)
		event(f, SL_FSCK_FIXED, w->name, pos, from, NULL,
		    "offset %" PRIu64 " lost", from);
	else if (to > from)
		event(f, SL_FSCK_FIXED, w->name, pos, from, NULL,
		    "offsets %" PRIu64 " to %" PRIu64 " lost", from, to - 1);
	else
		event(f, SL_FSCK_FIXED, w->name, pos, from, NULL,
		    "damaged bytes dropped, no offset lost");
}

/* A batch at POS whose checksum held: check its records, index it, copy
 * it for a rebuild or salvage.  0, or -1 on a system error. */
static int
good_batch(struct fsck *f, struct segwalk *w, uint64_t pos,
    const struct sl_batch *b, const unsigned char *p, int64_t *maxts)
{
	struct sl_batch_info bi;
	const char *bad;

	if (f->o->dump && !w->quiet) {
		batch_info(&bi, pos, b, p, 1);
		event(f, SL_FSCK_BATCH, w->name, pos, b->base, &bi, NULL);
	}
	if ((bad = records_ok(f, p, b)) != NULL) {
		w->damaged++;
		if (!w->quiet)
			event(f, SL_FSCK_PROBLEM, w->name, pos, b->base, NULL,
			    "%s", bad);
		lost(f, w, pos, b->base, sl_batch_end(b));
		return 0;
	}
	if (index_batch(w, pos, b->base, *maxts) < 0 ||
	    (w->ns != NULL && sl_newseg_batch(w->ns, p, b) < 0))
		return sysfail(w->name);
	w->batches++;
	w->records += b->count;
	if (b->max_ts > *maxts)
		*maxts = b->max_ts;
	w->maxts = *maxts;
	return 0;
}

/*
 * No valid batch at *POS (S, WHY): the one verdict (segment.c), reported.
 * fsck goes on past damage followed by valid data (*POS moves there: 1);
 * else the walk ends (0), at an incomplete tail or a sealed segment
 * damaged to its end.  -1 on a system error.
 */
static int
bad_batch(struct fsck *f, struct segwalk *w, struct sl_window *win,
    uint64_t *pos, enum sl_scan s, const char *why, int last)
{
	struct sl_segend end;

	dump_bad(f, w, win, *pos);
	sl_window_drop(win);
	if (sl_segend_judge(w->fd, s, why, *pos, w->next, f->limit, last,
	    &end) < 0)
		return sysfail(w->name);
	if (end.kind == SL_END_RETRY)
		return 1;	/* completed meanwhile: read it again */
	if (end.found != NONE) {
		w->damaged++;
		if (!w->quiet)
			event(f, SL_FSCK_PROBLEM, w->name, *pos, w->next, NULL,
			    "%s, followed by valid data at byte %" PRIu64, why,
			    end.found);
		lost(f, w, *pos, w->next, base_at(f, w->fd, end.found));
		*pos = end.found;
		return 1;
	}
	if (end.kind == SL_END_TORN) {
		w->tail = *pos;
		if (!w->quiet)
			event(f, SL_FSCK_PROBLEM, w->name, *pos, w->next, NULL,
			    "incomplete tail (%s)", why);
		return 0;
	}
	w->damaged++;
	w->to_end = 1;
	if (!w->quiet)
		event(f, SL_FSCK_PROBLEM, w->name, *pos, w->next, NULL,
		    "%s; the sealed segment is damaged to its end", why);
	lost(f, w, *pos, w->next, w->upper);
	return 0;
}

/* Walk segment W->fd from its start, verifying and reporting. */
static int
walk(struct fsck *f, struct segwalk *w, int last)
{
	struct sl_window win = { 0 };
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	uint64_t pos = 0;
	int64_t maxts = INT64_MIN;
	enum sl_scan s;
	int r = -1, f2;

	w->next = f->next > w->base ? f->next : w->base;
	w->tail = NONE;
	w->to_end = 0;
	w->maxts = INT64_MIN;
	for (;;) {
		s = sl_scan_batch(&win, w->fd, pos, f->limit, w->next, &b, &p,
		    &why);
		if (s == SL_SCAN_ERROR) {
			sysfail(w->name);
			goto out;
		}
		if (s == SL_SCAN_EOF)
			break;
		if (s == SL_SCAN_OK) {
			if (good_batch(f, w, pos, &b, p, &maxts) < 0)
				goto out;
			pos += b.length;
			w->next = sl_batch_end(&b);
			continue;
		}
		if ((f2 = bad_batch(f, w, &win, &pos, s, why, last)) < 0)
			goto out;
		if (f2 == 0)
			break;
	}
	/* Entries past the last valid batch. */
	if (index_batch(w, UINT64_MAX - 1, NONE, 0) < 0) {
		sysfail(w->name);
		goto out;
	}
	r = 0;
out:
	sl_window_free(&win);
	return r;
}

/* ---- one segment: check, then repair or salvage ---------------------- */

static void
index_report(struct fsck *f, struct segwalk *w, const char *iname,
    off_t isize)
{
	if (isize % SL_INDEX_ENTRY != 0)
		event(f, SL_FSCK_PROBLEM, iname, (uint64_t)isize -
		    isize % SL_INDEX_ENTRY, NONE, NULL,
		    "torn index: %d bytes after the last whole entry",
		    (int)(isize % SL_INDEX_ENTRY));
	if (w->badent > 0)
		event(f, SL_FSCK_PROBLEM, iname, w->firstbad.pos,
		    w->firstbad.offset, NULL, "stale index: %zu of %zu entries "
		    "wrong (first: entry %zu, %s)", w->badent, w->nent,
		    w->firstbad.index, w->badwhy);
}

static void
dump_index(struct fsck *f, struct segwalk *w, const char *iname)
{
	struct sl_ientry e;

	event(f, SL_FSCK_INDEX, iname, NONE, NONE, NULL, "%zu entries",
	    w->nent);
	for (size_t i = 0; i < w->nent; i++) {
		if (sl_index_get(w->ifd, &w->key, i, &e) < 0) {
			if (errno != EBADMSG)
				return;
			event(f, SL_FSCK_INDEX, iname, NONE, NONE, NULL,
			    "entry %zu: checksum mismatch", i);
			continue;
		}
		event(f, SL_FSCK_INDEX, iname, e.pos, e.offset, NULL,
		    "entry %zu: %s %" PRId64, i, e.pos == 0 ? "seed" :
		    "max-timestamp", e.maxts);
	}
}

/* A free name NAME.damaged[.N] for the damaged segment. */
static int
aside_name(struct fsck *f, const char *name, char *buf, size_t len)
{
	struct stat st;

	for (int i = 0; i < 1000; i++) {
		if (i == 0)
			snprintf(buf, len, "%s.damaged", name);
		else
			snprintf(buf, len, "%s.damaged.%d", name, i);
		if (fstatat(f->dirfd, buf, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			return 0;
	}
	errno = EEXIST;
	return -1;
}

/* Copy the intact batches of damaged segment W into a new NNN.log. */
static int
salvage(struct fsck *f, struct segwalk *w, int last, uint64_t problems)
{
	struct sl_newseg ns;
	struct segwalk c = *w;
	char aside[128];
	uint64_t next = f->next;

	if (sl_newseg_open(&ns, f->dirfd, f->set.id, w->base, 0) < 0)
		return sysfail(w->name);
	sl_newseg_seed(&ns, w->seed);
	c.quiet = 1;
	c.ns = &ns;
	c.ifd = -1;
	c.batches = c.records = c.damaged = 0;
	/* A sealed segment damaged to its end keeps its end, its lost tail
	 * as a hole, so that it still joins the next (segment.c,
	 * sl_segment_chain); a gap after a whole one is a lost segment,
	 * check_chain's to record. */
	if (walk(f, &c, last) < 0 || (!last && c.to_end && c.next < w->upper &&
	    sl_newseg_hole(&ns, c.next, w->upper - 1) < 0) ||
	    aside_name(f, w->name, aside, sizeof aside) < 0) {
		sl_newseg_abort(&ns);
		return sysfail(w->name);
	}
	f->next = next;
	/* The damaged file keeps a name of its own before the copy
	 * replaces it: at no moment is it gone. */
	if (linkat(f->dirfd, w->name, f->dirfd, aside, 0) < 0 ||
	    sl_sync_dirfd(f->dirfd) < 0) {
		sl_newseg_abort(&ns);
		return sysfail(aside);
	}
	if (sl_newseg_commit(&ns, 0) < 0)
		return sysfail(w->name);
	f->res->fixed += problems;
	event(f, SL_FSCK_FIXED, w->name, NONE, NONE, NULL,
	    "set aside as %s; %" PRIu64 " records in %" PRIu64 " batches "
	    "copied into a new %s", aside, c.records, c.batches, w->name);
	return 0;
}

/*
 * Open segment W->base and its index (W->ifd -1 when there is none, and
 * *IERR why it could not be read when that was not its absence).  1
 * opened, 0 gone (retention), -1 error.
 */
static int
open_segment(struct fsck *f, struct segwalk *w, int rw, off_t *size,
    off_t *isize, int *ierr)
{
	struct stat st;

	w->ifd = -1;
	w->fd = f->file != NULL ? fcntl(f->filefd, F_DUPFD_CLOEXEC, 0) :
	    sl_segment_open(f->dirfd, w->base, ".log", rw ? O_RDWR : O_RDONLY);
	if (w->fd < 0) {
		if (errno == ENOENT && f->file == NULL)
			return 0;	/* removed by retention meanwhile */
		return sysfail(w->name);
	}
	if (fstat(w->fd, &st) < 0)
		return sysfail(w->name);
	*size = st.st_size;
	if (f->file != NULL)
		return 1;
	if ((w->ifd = sl_segment_open(f->dirfd, w->base, ".index",
	    O_RDONLY)) >= 0) {
		if (fstat(w->ifd, &st) < 0)
			return sysfail(w->iname);
		*isize = st.st_size;
		w->nent = *isize / SL_INDEX_ENTRY;
	} else if (errno == ELOOP || errno == EINVAL) {
		/* Not followed, never read: reported with a missing one,
		 * and replaced by a repair (a rename replaces a link, not
		 * what it points to). */
		*ierr = errno;
	} else if (errno != ENOENT)
		return sysfail(w->iname);
	return 1;
}

/* Report what is wrong with W's index: the problems counted. */
static uint64_t
check_index(struct fsck *f, struct segwalk *w, off_t isize, int ierr)
{
	uint64_t before = f->res->problems;

	if (f->o->dump && w->ifd >= 0)
		dump_index(f, w, w->iname);
	if (f->file == NULL && w->ifd < 0)
		event(f, SL_FSCK_PROBLEM, w->iname, NONE, NONE, NULL, "%s",
		    ierr != 0 ? sl_open_strerror(ierr) : "missing index");
	else
		index_report(f, w, w->iname, isize);
	return f->res->problems - before;
}

/* --repair (or --salvage, when nothing is damaged): cut W's incomplete
 * tail, put the index NS rebuilt in place when it differs. */
static int
repair(struct fsck *f, struct segwalk *w, struct sl_newseg *ns,
    off_t size, uint64_t idxprob)
{
	if (w->tail != NONE) {
		if (ftruncate(w->fd, (off_t)w->tail) < 0 || fsync(w->fd) < 0) {
			sl_newseg_abort(ns);
			return sysfail(w->name);
		}
		f->res->fixed++;
		event(f, SL_FSCK_FIXED, w->name, w->tail, w->next, NULL,
		    "incomplete tail of %" PRIu64 " bytes truncated",
		    (uint64_t)size - w->tail);
	}
	switch (sl_newseg_commit(ns, 1)) {
	case -1:
		return sysfail(w->iname);
	case 1:
		f->res->fixed += idxprob;
		event(f, SL_FSCK_FIXED, w->iname, NONE, NONE, NULL,
		    "index rebuilt (%zu entries)", ns->ib.n);
		break;
	}
	return 0;
}

static int
check_segment(struct fsck *f, uint64_t base, uint64_t upper, int last)
{
	struct segwalk w = { 0 };
	struct sl_newseg ns;
	char name[256], iname[64];
	off_t size = 0, isize = 0;
	int64_t seed;
	uint64_t before = f->res->problems, idxprob;
	int rw = f->o->mode != SL_FSCK_CHECK && last, r = -1, ierr = 0;
	const char *slash;

	if (f->file != NULL) {
		slash = strrchr(f->file, '/');
		snprintf(name, sizeof name, "%s", slash ? slash + 1 : f->file);
	} else
		sl_segment_name(name, sizeof name, base, ".log");
	sl_segment_name(iname, sizeof iname, base, ".index");
	w.name = name;
	w.iname = iname;
	w.base = base;
	w.upper = upper;
	sl_ikey_init(&w.key, base, f->set.id);
	w.floor = w.seed = f->seeded ? f->floor : INT64_MIN;
	if ((r = open_segment(f, &w, rw, &size, &isize, &ierr)) <= 0)
		goto out;
	r = -1;
	f->res->segments++;
	if (f->o->dump)
		event(f, SL_FSCK_SEGMENT, name, size, base, NULL, NULL);
	/* A seed at least the floor stays; any other is replaced by it. */
	if (w.ifd >= 0 && sl_index_seed(w.ifd, &w.key, &seed) > 0 &&
	    seed >= w.floor)
		w.seed = seed;
	if (f->o->mode != SL_FSCK_CHECK) {
		if (sl_newseg_open(&ns, f->dirfd, f->set.id, base, 1) < 0) {
			sysfail(iname);
			goto out;
		}
		sl_newseg_seed(&ns, w.seed);
		w.ns = &ns;
	}
	if (walk(f, &w, last) < 0)
		goto out;
	f->seeded = 1;
	f->floor = w.maxts > w.seed ? w.maxts : w.seed;
	idxprob = check_index(f, &w, isize, ierr);
	f->res->batches += w.batches;
	f->res->records += w.records;
	if (w.ns != NULL) {
		w.ns = NULL;
		if (f->o->mode == SL_FSCK_SALVAGE && w.damaged > 0) {
			sl_newseg_abort(&ns);
			if (salvage(f, &w, last, f->res->problems - before) < 0)
				goto out;
		} else if (repair(f, &w, &ns, size, idxprob) < 0)
			goto out;
	}
	/* Damage that reaches the end of a sealed segment was named with
	 * the offsets up to the next (and salvage kept them as a hole):
	 * the chain goes on from there, not lost a second time. */
	if (!last && w.to_end && w.next < upper)
		w.next = upper;
	f->next = w.next;
	r = 0;
out:
	if (w.ns != NULL)
		sl_newseg_abort(w.ns);
	if (w.ifd >= 0)
		close(w.ifd);
	if (w.fd >= 0)
		close(w.fd);
	return r;
}

/* ---- the whole log --------------------------------------------------- */

/* Index files without a segment, and temporary files of a crashed
 * rewrite: caches and leftovers that --repair removes. */
static int
check_strays(struct fsck *f)
{
	DIR *d;
	struct dirent *de;
	char seg[64];
	struct stat st;
	uint64_t base;
	size_t len;
	int stray;

	if ((d = sl_dir_list(f->dirfd)) == NULL)
		return sysfail(f->dir);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		stray = 0;
		if (sl_maint_tmpname(de->d_name)) {
			stray = 1;
			event(f, SL_FSCK_PROBLEM, de->d_name, NONE, NONE, NULL,
			    "leftover temporary file of an interrupted "
			    "rewrite");
		} else if (len == SL_SEGMENT_DIGITS + 6 &&
		    strcmp(de->d_name + SL_SEGMENT_DIGITS, ".index") == 0) {
			memcpy(seg, de->d_name, SL_SEGMENT_DIGITS);
			memcpy(seg + SL_SEGMENT_DIGITS, ".log", 5);
			if (sl_segment_parse(seg, &base) == 0 &&
			    fstatat(f->dirfd, seg, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
				stray = 1;
				event(f, SL_FSCK_PROBLEM, de->d_name, NONE, NONE,
				    NULL, "index without a segment");
			}
		}
		if (!stray || f->o->mode == SL_FSCK_CHECK)
			continue;
		if (unlinkat(f->dirfd, de->d_name, 0) < 0 && errno != ENOENT) {
			closedir(d);
			return sysfail(de->d_name);
		}
		f->res->fixed++;
		event(f, SL_FSCK_FIXED, de->d_name, NONE, NONE, NULL,
		    "removed");
	}
	closedir(d);
	return 0;
}

/*
 * Segment BASE does not start where the one before ended (F->next): the
 * offsets between are in no segment, a segment deleted or renamed
 * (segment.c, sl_segment_chain).  --salvage makes a segment of nothing
 * but that hole, so that readers go on past it; the loss is named.
 */
static int
check_chain(struct fsck *f, uint64_t base)
{
	struct sl_newseg ns;
	char name[64], hole[64];

	if (f->next >= base)
		return 0;	/* joined, or an overlap the walk reports */
	sl_segment_name(name, sizeof name, base, ".log");
	event(f, SL_FSCK_PROBLEM, name, NONE, f->next, NULL,
	    "offsets %" PRIu64 " to %" PRIu64 " lost: no segment holds them "
	    "(a segment deleted, renamed or cut short)", f->next, base - 1);
	if (f->o->mode != SL_FSCK_SALVAGE)
		return 0;
	sl_segment_name(hole, sizeof hole, f->next, ".log");
	if (sl_newseg_open(&ns, f->dirfd, f->set.id, f->next, 0) < 0 ||
	    sl_newseg_hole(&ns, f->next, base - 1) < 0) {
		sl_newseg_abort(&ns);
		return sysfail(hole);
	}
	if (sl_newseg_commit(&ns, 0) < 0)
		return sysfail(hole);
	f->res->fixed++;
	event(f, SL_FSCK_FIXED, hole, NONE, f->next, NULL,
	    "offsets %" PRIu64 " to %" PRIu64 " recorded as lost in a new "
	    "%s, so that readers go on past them", f->next, base - 1, hole);
	f->next = base;
	return 0;
}

static void
check_consumers(struct fsck *f, uint64_t end)
{
	struct sl_checkpoint ck;
	char **names, file[256];

	if ((names = sl_checkpoint_list(f->dir)) == NULL) {
		event(f, SL_FSCK_PROBLEM, "consumers", NONE, NONE, NULL, "%s",
		    strerror(errno));
		return;
	}
	for (size_t i = 0; names[i] != NULL; i++) {
		snprintf(file, sizeof file, "consumers/%s", names[i]);
		if (sl_checkpoint_read(f->dir, names[i], f->set.id, &ck) < 0)
			event(f, SL_FSCK_PROBLEM, file, NONE, NONE, NULL, "%s",
			    sl_checkpoint_strerror(errno));
		else if (ck.offset > end)
			event(f, SL_FSCK_PROBLEM, file, NONE, ck.offset, NULL,
			    "checkpoint past the end of the log (%" PRIu64 ")",
			    end);
	}
	sl_checkpoint_list_free(names);
}

static int
check_log(struct fsck *f)
{
	uint64_t *bases;
	size_t n;
	int wfd = -1, r = -1, op;

	op = f->o->mode == SL_FSCK_CHECK ? LOCK_SH : LOCK_EX;
	if ((wfd = sl_openat(f->dirfd, "lock", O_RDONLY)) < 0 &&
	    errno != ENOENT)
		return sysfail("lock");
	/* Repairs list the segments under the lock: what is last then
	 * stays last. */
	if (wfd >= 0 && op == LOCK_EX && sl_lock(wfd, LOCK_EX) < 0) {
		sysfail("lock");
		close(wfd);
		return -1;
	}
	if (sl_segment_list(f->dirfd, &bases, &n) < 0) {
		sysfail(f->dir);
		if (wfd >= 0)
			close(wfd);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int last = i + 1 == n;

		/* Shared with writers' exclusive lock: no append is half
		 * done while the last segment is read. */
		if (last && wfd >= 0 && op == LOCK_SH &&
		    sl_lock(wfd, LOCK_SH) < 0) {
			sysfail("lock");
			goto out;
		}
		if ((i > 0 && check_chain(f, bases[i]) < 0) ||
		    check_segment(f, bases[i], last ? NONE : bases[i + 1],
		    last) < 0)
			goto out;
	}
	if (check_strays(f) < 0)
		goto out;
	check_consumers(f, n > 0 && f->next < bases[n - 1] ? bases[n - 1] :
	    f->next);
	r = 0;
out:
	if (wfd >= 0)
		close(wfd);
	free(bases);
	return r;
}

int
sl_fsck(const char *path, const struct sl_fsck_opts *o,
    struct sl_fsck_result *res)
{
	struct fsck f = { 0 };
	struct sl_logpath lp;
	struct stat st;
	int r = -1;

	memset(res, 0, sizeof *res);
	f.o = o;
	f.res = res;
	f.dirfd = f.filefd = -1;
	if (stat(path, &st) < 0) {
		sl_seterr("%s", strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		f.dir = path;
		if ((f.dirfd = sl_maint_lock(path, o->mode == SL_FSCK_CHECK ?
		    LOCK_SH : LOCK_EX)) < 0)
			return sysfail("lock");
		if (sl_settings_readat(f.dirfd, &f.set) < 0) {
			if (errno == ENOENT) {
				sl_seterr("not a synclog log (no settings file)");
				close(f.dirfd);
				errno = ENOENT;
				return -1;
			}
			event(&f, SL_FSCK_PROBLEM, "settings", NONE, NONE, NULL,
			    "%s", errno == EBADMSG ? "damaged settings file" :
			    sl_open_strerror(errno));
			memset(&f.set, 0, sizeof f.set);
		}
		f.limit = sl_batch_limit(f.set.max_record_bytes);
		r = check_log(&f);
		close(f.dirfd);
	} else {
		if (o->mode != SL_FSCK_CHECK) {
			sl_seterr("repair and salvage work on a log directory, "
			    "not a segment file");
			errno = EINVAL;
			return -1;
		}
		if (sl_logpath_open(path, &lp) < 0)
			return -1;
		f.file = path;
		f.dir = ".";
		f.dirfd = lp.dirfd;
		f.filefd = lp.fd;
		f.set = lp.set;
		f.limit = sl_batch_limit(f.set.max_record_bytes);
		r = check_segment(&f, lp.base, NONE, 1);
		sl_logpath_close(&lp);
	}
	sl_cursor_free(&f.cur);
	free(f.scratch);
	return r;
}
