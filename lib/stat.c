/*
 * stat.c - the figures logstat shows: bounds, record count, sizes, time
 * range.
 *
 * Counting records must not cost a read of every payload, so sealed
 * segments are walked by their batch headers alone (64 KiB reads, one per
 * batch when batches are large); the CRCs are logfsck's business.  The tail
 * of the last segment, from its last good index entry on, is scanned and
 * verified as a reader does, so that the end offset is the one logcat and
 * logseek see, and a torn tail under a writer is the end, not damage.
 * Segments must join (segment.c, sl_segment_chain): a lost segment is an
 * error, not a shorter log.
 *
 * Damage does not stop the walk: the batches it hides are not counted,
 * the next segment (or an index entry past the damage in the last one)
 * says where counting goes on, and only the figures the damage leaves
 * whole are given; the others are SL_STAT_UNKNOWN.
 */
#include <sys/stat.h>

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
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"
#include "log.h"

#define HOP_BUF		(64u << 10)

struct walk {
	struct sl_stat	*s;
	struct sl_logpath lp;
	size_t		 limit;
	uint64_t	 next;		/* least offset of the next batch;
					   SL_STAT_UNKNOWN after damage */
	int		 any;		/* a batch seen since damage hid any */
	uint64_t	 lastseg, lastpos;	/* the last batch seen */
	int		 lost;		/* damage hid batches */
	char		 damage[1024];	/* the first damage's message */
	unsigned char	*buf;
};

/* The file name of segment BASE (the lone file's own name). */
static void
seg_name(const struct walk *w, uint64_t base, char *buf, size_t len)
{
	if (w->lp.fd >= 0)
		snprintf(buf, len, "%s", w->lp.name);
	else
		sl_segment_name(buf, len, base, ".log");
}

/* Segment BASE's file: the lone one (a new descriptor), or in the log. */
static int
seg_open(const struct walk *w, uint64_t base)
{
	if (w->lp.fd >= 0)
		return fcntl(w->lp.fd, F_DUPFD_CLOEXEC, 0);
	return sl_segment_open(w->lp.dirfd, base, ".log", O_RDONLY);
}

static void
count(struct walk *w, uint64_t base, uint64_t pos, const struct sl_batch *b)
{
	struct sl_stat *s = w->s;

	w->next = sl_batch_end(b);
	if (b->count == 0)
		return;		/* a hole: no record, no time */
	if (s->begin == SL_STAT_UNKNOWN && !w->lost) {
		s->begin = b->base;
		s->first_ts = b->first_ts;
	}
	w->any = 1;
	s->records += b->count;
	if (b->max_ts > s->max_ts || s->max_ts == SL_NO_TIMESTAMP)
		s->max_ts = b->max_ts;
	w->lastseg = base;
	w->lastpos = pos;
}

/* Damage, its message in sl_error(): the first is the one sl_stat
 * fails with. */
static void
damaged(struct walk *w)
{
	if (w->damage[0] == '\0')
		snprintf(w->damage, sizeof w->damage, "%s", sl_error());
}

/* Damage that hid batches: the count is never whole again, the last batch
 * seen is not the last, and where the next one begins is unknown. */
static void
lost(struct walk *w)
{
	damaged(w);
	w->lost = 1;
	w->any = 0;
	w->next = SL_STAT_UNKNOWN;
}

/* Walk the headers of segment FD from byte 0 to STOP, a batch boundary. */
static int
hop(struct walk *w, int fd, uint64_t base, uint64_t stop)
{
	struct sl_batch b;
	uint64_t pos = 0, bpos = 0;
	size_t blen = 0;
	ssize_t n;
	char name[256];

	while (pos < stop) {
		if (blen == 0 || pos + SL_BATCH_HDR > bpos + blen) {
			if ((n = sl_pread_full(fd, w->buf, HOP_BUF, pos)) < 0)
				return sl_fail(errno, "%s", strerror(errno));
			bpos = pos;
			blen = n;
		}
		if (pos + SL_BATCH_HDR > bpos + blen ||
		    sl_batch_header(w->buf + (pos - bpos), w->limit, &b) < 0 ||
		    b.base < w->next || pos + b.length > stop) {
			seg_name(w, base, name, sizeof name);
			return sl_fail(EBADMSG, "%s: byte %" PRIu64
			    ": offset %" PRIu64 ": damaged batch; run logfsck",
			    name, pos, w->next);
		}
		count(w, base, pos, &b);
		pos += b.length;
	}
	return 0;
}

/* The last segment: headers up to its last good index entry, then a
 * verified scan to the end of the valid batches. */
static int
tail(struct walk *w, int fd, uint64_t base)
{
	struct sl_segscan sc;
	struct sl_ientry e;
	struct sl_ikey k;
	struct sl_batch b;
	const unsigned char *p;
	char name[256];
	uint64_t pos = 0, at = 0;
	int ifd, f;

	if (w->lp.fd < 0 && (ifd = sl_segment_open(w->lp.dirfd, base,
	    ".index", O_RDONLY)) >= 0) {
		sl_ikey_init(&k, base, w->s->id);
		if (sl_index_find_offset(ifd, fd, &k, w->limit, UINT64_MAX,
		    &e) > 0 && e.offset >= w->next) {
			pos = e.pos;
			at = e.offset;
		}
		close(ifd);
	}
	if (hop(w, fd, base, pos) < 0) {
		if (errno != EBADMSG)
			return -1;
		/* The index entry past the damage verified: go on there. */
		lost(w);
		w->next = at;
	}
	sl_segscan_init(&sc, fd, pos, w->next, w->limit);
	while ((f = sl_segscan_next(&sc, 1, &b, &p)) > 0)
		count(w, base, sc.pos - b.length, &b);
	sl_segscan_free(&sc);
	if (f < 0)
		return sl_fail(errno, "%s", strerror(errno));
	/* An incomplete tail is the end; damage before data is not. */
	if (sc.end.kind == SL_END_CORRUPT) {
		seg_name(w, base, name, sizeof name);
		sl_segend_fail(&sc.end, name);
		return sl_fail(EBADMSG, "%s", sl_error());
	}
	return 0;
}

/* The timestamp of the last record of the last batch. */
static int
last_ts(struct walk *w)
{
	struct sl_segscan sc;
	struct sl_cursor c = { 0 };
	struct sl_record rec;
	struct sl_batch b;
	const unsigned char *p;
	unsigned char *scratch = NULL;
	size_t scap = 0;
	char name[256];
	int fd, f, r = -1;

	seg_name(w, w->lastseg, name, sizeof name);
	if ((fd = seg_open(w, w->lastseg)) < 0)
		return sl_fail(errno, "%s: %s", name,
		    sl_open_strerror(errno));
	sl_segscan_init(&sc, fd, w->lastpos, 0, w->limit);
	if (sl_segscan_next(&sc, 1, &b, &p) <= 0 ||
	    sl_cursor_start(&c, p, &b, &scratch, &scap) < 0) {
		sl_fail(EBADMSG, "%s: byte %" PRIu64 ": %s; run logfsck",
		    name, w->lastpos, sc.end.why ? sc.end.why :
		    "bad compressed payload");
		goto out;
	}
	while ((f = sl_cursor_next(&c, &rec)) > 0)
		w->s->last_ts = rec.timestamp;
	if (f < 0) {
		sl_fail(EBADMSG, "%s: byte %" PRIu64 ": malformed record",
		    name, w->lastpos);
		goto out;
	}
	r = 0;
out:
	sl_cursor_free(&c);
	sl_segscan_free(&sc);
	free(scratch);
	close(fd);
	return r;
}

/* 1 when a segment was gone or the listing missed one: walk again. */
static int
walk_segments(struct walk *w, const uint64_t *bases, size_t n)
{
	struct sl_stat *s = w->s;
	struct stat st;
	char name[256], prev[256];
	int fd, r;

	for (size_t i = 0; i < n; i++) {
		seg_name(w, bases[i], name, sizeof name);
		if ((fd = seg_open(w, bases[i])) < 0) {
			if (errno == ENOENT)
				return 1;
			return sl_fail(errno, "%s: %s", name,
			    sl_open_strerror(errno));
		}
		if (fstat(fd, &st) < 0) {
			close(fd);
			return sl_fail(errno, "%s: %s", name, strerror(errno));
		}
		s->segments++;
		s->bytes += st.st_size;
		if (i > 0 && w->next != SL_STAT_UNKNOWN &&
		    (r = sl_segment_chain(w->lp.fd >= 0 ? -1 : w->lp.dirfd,
		    w->next, bases[i], prev, name)) != 0) {
			/* 1: the listing missed a segment renamed into place
			 * as it was read; walk again. */
			if (r > 0) {
				close(fd);
				return 1;
			}
			lost(w);
		}
		if (i == 0 || w->next == SL_STAT_UNKNOWN)
			w->next = bases[i];
		if (i + 1 < n)
			r = hop(w, fd, bases[i], st.st_size);
		else
			r = tail(w, fd, bases[i]);
		if (r < 0 && errno == EBADMSG) {
			lost(w);
			r = 0;
		}
		close(fd);
		if (r < 0)
			return -1;
		if (w->lp.fd < 0 && fstatat(w->lp.dirfd, (sl_segment_name(
		    name, sizeof name, bases[i], ".index"), name), &st,
		    AT_SYMLINK_NOFOLLOW) == 0)
			s->index_bytes += st.st_size;
		seg_name(w, bases[i], prev, sizeof prev);
	}
	return 0;
}

/* One walk over the log as it is now: 1 when it changed under the walk. */
static int
walk(struct walk *w)
{
	struct sl_stat *s = w->s;
	uint64_t *bases = NULL, one = w->lp.base;
	size_t n = 1;
	int r;

	memset(s, 0, sizeof *s);
	s->begin = SL_STAT_UNKNOWN;
	s->first_ts = s->last_ts = s->max_ts = SL_NO_TIMESTAMP;
	if (w->lp.fd < 0)
		memcpy(s->id, w->lp.set.id, sizeof s->id);
	w->next = 0;
	w->any = w->lost = 0;
	w->damage[0] = '\0';
	if (w->lp.fd < 0 && sl_segment_list(w->lp.dirfd, &bases, &n) < 0)
		return sl_fail(errno, "%s", strerror(errno));
	if ((r = walk_segments(w, w->lp.fd < 0 ? bases : &one, n)) == 0) {
		s->end = w->next;
		if (n > 0 && s->end < (w->lp.fd < 0 ? bases[n - 1] : one))
			s->end = w->lp.fd < 0 ? bases[n - 1] : one;
		if (s->begin == SL_STAT_UNKNOWN && !w->lost)
			s->begin = s->end;
		if (w->any && (r = last_ts(w)) < 0 && errno == EBADMSG) {
			s->last_ts = SL_NO_TIMESTAMP;
			damaged(w);
			r = 0;
		}
	}
	free(bases);
	if (r == 0 && w->damage[0] != '\0') {
		s->damaged = 1;
		if (w->lost) {
			s->records = SL_STAT_UNKNOWN;
			s->max_ts = SL_NO_TIMESTAMP;
		}
		r = sl_fail(EBADMSG, "%s", w->damage);
	}
	return r;
}

int
sl_stat(const char *path, struct sl_stat *s)
{
	struct walk w = { 0 };
	int r, tries = 0;

	memset(s, 0, sizeof *s);
	w.s = s;
	if (sl_logpath_open(path, &w.lp) < 0)
		return sl_fail(errno, "%s", sl_error());
	w.limit = sl_batch_limit(w.lp.set.max_record_bytes);
	if ((w.buf = malloc(HOP_BUF)) == NULL)
		r = sl_fail(errno, "%s", strerror(errno));
	else
		while ((r = walk(&w)) > 0 && ++tries < 10)
			;
	if (r > 0)
		r = sl_fail(EAGAIN, "segments keep disappearing under the walk");
	free(w.buf);
	sl_logpath_close(&w.lp);
	return r;
}
